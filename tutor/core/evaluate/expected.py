"""A value torch computed for a step, turned into the plain Expected data the checker and the app read."""

from __future__ import annotations

import math
from typing import Any

import torch

from tutor.core.errors import ExprError
from tutor.core.evaluate.results import Expected
from tutor.core.evaluate.run import plain_data
from tutor.core.vocabulary import Kind


def as_expected(kind: str, value: Any) -> Expected:
    """`value` (a tensor, a number or a shape tuple) as the Expected of a step of this kind."""
    if kind == Kind.SHAPE:
        if not isinstance(value, tuple):
            raise ExprError("a shape ask must be written shape(expr)")
        return Expected(Kind.SHAPE, [int(v) for v in value], (len(value),))
    if kind == Kind.INTEGER:
        number = value.item() if isinstance(value, torch.Tensor) and value.numel() == 1 else value
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number) \
                or number != round(number):
            raise ExprError("this ask should give a whole number")
        return Expected(Kind.INTEGER, int(round(number)), ())
    if isinstance(value, tuple):
        raise ExprError("this ask gives a shape; write it as shape(...)")
    shape, data = plain_data(value)
    flat = [data] if not shape else _flatten(data)
    if not all(math.isfinite(v) for v in flat):
        raise ExprError("the answer is not a finite number (inf or nan)")
    single = isinstance(value, torch.Tensor) and value.dtype in (torch.float32, torch.float16, torch.bfloat16)
    # round-off forgiven around an exact value typed by hand: float32's, or float64's (far smaller)
    return Expected(Kind.VALUE, data, shape, noise=1e-6 if single else 1e-12)


def whole_scalar(value: Any) -> bool:
    """A single whole number (a tensor of one entry, or a Python number)."""
    number = value.item() if isinstance(value, torch.Tensor) and value.numel() == 1 else value
    return isinstance(number, (int, float)) and not isinstance(number, bool) and math.isfinite(number) \
        and float(number).is_integer()


def _flatten(data: Any) -> list[float]:
    if isinstance(data, list):
        return [v for item in data for v in _flatten(item)]
    return [data]
