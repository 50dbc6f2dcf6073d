"""One comparison of computed values: equal up to the rounding of the dtype they were computed in.

Tensors, numbers, nested lists, shapes (tuples) and Expected values all compare here. What a
learner typed is judged elsewhere (answer/judge.py), by the pen-and-paper rules of the contract.
Imports no torch: a tensor arrives only once torch is loaded.
"""

from __future__ import annotations

import math
from typing import Any

from tutor.core.evaluate.results import Expected
from tutor.core.vocabulary import Kind

# (rtol, atol) by the dtype the values were computed in: float32 carries about 7 digits.
TOLERANCES = {"float64": (1e-6, 1e-9), "float32": (1e-4, 1e-5)}


def flat_values(value: Any) -> tuple[bool, tuple[int, ...], list[float]] | None:
    """(is a shape, shape, numbers in order) of a computed value; None when it is not made of numbers."""
    if isinstance(value, Expected):
        if value.kind == Kind.SHAPE:
            return True, (len(value.value),), [float(v) for v in value.value]
        value = value.value
    if isinstance(value, tuple):  # a shape, as shape() gives it
        return True, (len(value),), [float(v) for v in value]
    if hasattr(value, "detach"):  # a tensor
        t = value.detach()
        return False, tuple(t.shape), t.double().reshape(-1).tolist()
    numbers: list[float] = []
    shape = _nested(value, numbers)
    return None if shape is None else (False, shape, numbers)


def _nested(value: Any, out: list[float]) -> tuple[int, ...] | None:
    """The shape of a number or a nested list of numbers, appending its numbers to `out`; None if ragged."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        out.append(float(value))
        return ()
    if not isinstance(value, list):
        return None
    parts = [_nested(item, out) for item in value]
    if any(p is None for p in parts) or len(set(parts)) > 1:
        return None
    return (len(value), *(parts[0] or ())) if parts else (0,)


def finite(value: Any) -> bool:
    """Whether a computed value is made of finite numbers (a shape always is)."""
    flat = flat_values(value)
    return flat is not None and all(math.isfinite(x) for x in flat[2])


def _vector_like(shape: tuple[int, ...]) -> bool:
    return sum(1 for d in shape if d != 1) <= 1


def same_value(a: Any, b: Any, dtype: str = "float64") -> bool:
    """Equal up to the dtype's rounding. A flat vector matches however it is held ((n,), (n, 1), (1, n));
    a shape matches only a shape, exactly; values that are not finite numbers match nothing."""
    if hasattr(a, "detach") and hasattr(b, "detach") and a.is_floating_point() and b.is_floating_point():
        return _same_tensors(a, b, dtype)
    fa, fb = flat_values(a), flat_values(b)
    if fa is None or fb is None or fa[0] != fb[0] or len(fa[2]) != len(fb[2]):
        return False
    if fa[1] != fb[1] and not (_vector_like(fa[1]) and _vector_like(fb[1])):
        return False
    if fa[0]:
        return fa[2] == fb[2]
    rtol, atol = TOLERANCES.get(str(dtype).removeprefix("torch."), TOLERANCES["float64"])
    return all(math.isfinite(x) and math.isfinite(y) and abs(x - y) <= atol + rtol * max(abs(x), abs(y))
               for x, y in zip(fa[2], fb[2], strict=True))


def _same_tensors(a: Any, b: Any, dtype: str) -> bool:
    """The same rule on two tensors, without turning big ones into lists."""
    import torch  # already loaded: these are tensors

    x, y = a.detach().double(), b.detach().double()
    if x.shape != y.shape:
        if not (_vector_like(tuple(x.shape)) and _vector_like(tuple(y.shape))) or x.numel() != y.numel():
            return False
        x, y = x.reshape(-1), y.reshape(-1)
    rtol, atol = TOLERANCES.get(str(dtype).removeprefix("torch."), TOLERANCES["float64"])
    if not (bool(torch.isfinite(x).all()) and bool(torch.isfinite(y).all())):
        return False
    return bool((torch.abs(x - y) <= atol + rtol * torch.maximum(torch.abs(x), torch.abs(y))).all())
