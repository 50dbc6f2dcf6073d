"""The language's functions with PyTorch's semantics, plus the exercises' 1-D/2-D conventions."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from tutor.core.errors import ExprError
from tutor.core.expr import budget, limits
from tutor.core.expr.compile import (
    DTYPES,
    Compiled,
    Compiler,
    Scope,
    Value,
    as_index,
    as_meta,
    computing_numbers,
    is_number,
    meta_mode,
    tally_flops,
    to_tensor,
)
from tutor.core.expr.signatures import TABLE
from tutor.core.expr.syntax import call_name, check_call, keyword_name

Builder = Callable[[Compiler, ast.Call], Compiled]


def plain(fn: Callable[..., Value], min_args: int | None = None, max_args: int | None = None) -> Builder:
    """A function whose arguments are evaluated first, then passed on with the scope.

    Arity and keywords come from the signature table (checked when the lesson loads); `min_args` and
    `max_args` are for the few private functions outside the table.
    """

    def build(compiler: Compiler, node: ast.Call) -> Compiled:
        name = call_name(node)
        sig = TABLE.get(name)
        if sig is not None:

            check_call(node)
        else:
            low, high = min_args or 1, max_args or min_args or 1
            if not low <= len(node.args) <= high:
                raise ExprError(f"{name}() takes {low} to {high} arguments, got {len(node.args)}", node.col_offset)
        args = [compiler.compile(a) for a in node.args]
        kwargs = {keyword_name(k, node.col_offset): _keyword(compiler, k) for k in node.keywords}
        return lambda s: fn(s, *(a(s) for a in args), **{k: v(s) for k, v in kwargs.items()})

    return build


def _keyword(compiler: Compiler, kw: ast.keyword) -> Compiled:
    """`dtype=float32` names the dtype even when the lesson has a value called float32."""
    if kw.arg == "dtype" and isinstance(kw.value, ast.Name) and kw.value.id in DTYPES:
        dtype = DTYPES[kw.value.id]
        return lambda s: dtype
    return compiler.compile(kw.value)


def tensor(s: Scope, v: Value) -> torch.Tensor:
    return to_tensor(v, s.dtype)


def _device() -> str | None:
    return "meta" if meta_mode() else None


def _number(v: Value, what: str) -> float:
    """A plain number for a keyword such as negative_slope, eps or lr."""
    if isinstance(v, torch.Tensor):
        if v.numel() != 1:
            raise ExprError(f"{what} must be a single number, not a tensor of shape {tuple(v.shape)}")
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ExprError(f"{what} must be a number")
    v = float(v)
    if not math.isfinite(v):
        raise ExprError(f"{what} must be finite")
    return v


def _dim(v: Value | None) -> int | tuple[int, ...] | None:
    if isinstance(v, tuple):
        return tuple(limits.as_int(d, "dim") for d in v)
    return None if v is None else limits.as_int(v, "dim")


def _sizes(args: tuple[Value, ...], what: str) -> tuple[int, ...]:
    """zeros(2, 3), zeros((2, 3)) and zeros([2, 3]) all mean the shape (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, torch.Tensor)):
        items = list(args[0]) if isinstance(args[0], tuple) else args[0].reshape(-1).tolist()
    else:
        items = list(args)
    sizes = tuple(limits.as_int(v, f"{what} size") for v in items)
    if any(n < 0 for n in sizes):
        raise ExprError(f"{what} sizes must not be negative")
    limits.check_numel(sizes, what)
    return sizes


def _elementwise(fn: Callable[[torch.Tensor], torch.Tensor]) -> Builder:
    def run(s: Scope, input: Value) -> torch.Tensor:
        if meta_mode() and is_number(input):  # 1 / sqrt(d_k) stays a number that scale= can read
            with computing_numbers():
                return fn(tensor(s, input))
        return fn(tensor(s, input))

    return plain(run)


# ---- reductions and shape -------------------------------------------------------------

def _reduce(fn: Callable, name: str) -> Builder:
    def run(s: Scope, input: Value, dim: Value = None, keepdim: Value = 0) -> torch.Tensor:
        t = tensor(s, input)
        budget.charge(t.numel(), 0, f"{name}()")
        d, keep = _dim(dim), _flag(keepdim, "keepdim")
        if d is None:
            out = fn(t)
            return out.reshape((1,) * t.dim()) if keep else out
        if isinstance(d, tuple) and name in ("max", "min"):
            raise ExprError(f"{name}() takes one dim")
        out = fn(t, dim=d, keepdim=keep)
        return out if isinstance(out, torch.Tensor) else out.values  # max/min(dim=) give (values, indices)

    return plain(run)


def _flag(v: Value, what: str) -> bool:
    n = limits.as_int(v, what)
    if n not in (0, 1):
        raise ExprError(f"{what} must be 0 or 1")
    return bool(n)


def _spread(fn: Callable) -> Callable[..., torch.Tensor]:
    """var and std with PyTorch's `correction` (1: divide by n − 1, 0: divide by n)."""

    def run(s: Scope, input: Value, dim: Value = None, correction: Value = 1, keepdim: Value = 0) -> torch.Tensor:
        t = tensor(s, input)
        budget.charge(2 * t.numel(), 0, "var()")
        c = limits.as_int(correction, "correction")
        if c < 0:
            raise ExprError("correction must be 0 or more")
        return fn(t, dim=_dim(dim), correction=c, keepdim=_flag(keepdim, "keepdim"))

    return run


def _numel(s: Scope, input: Value) -> int:
    return int(input.numel()) if isinstance(input, torch.Tensor) else 1


def _reshape(s: Scope, input: Value, *shape: Value) -> torch.Tensor:
    t = tensor(s, input)
    if len(shape) == 1 and isinstance(shape[0], (tuple, torch.Tensor)):
        items = list(shape[0]) if isinstance(shape[0], tuple) else shape[0].reshape(-1).tolist()
    else:
        items = list(shape)
    sizes = tuple(limits.as_int(v, "reshape size") for v in items)
    if any(n < -1 for n in sizes):
        raise ExprError("reshape sizes must be -1 or more")
    return t.reshape(sizes)


def _vec(s: Scope, input: Value) -> torch.Tensor:
    """Column-major vectorisation: the columns of a matrix stacked into one vector."""
    t = tensor(s, input)
    return t.permute(*reversed(range(t.dim()))).reshape(-1) if t.dim() > 1 else t.reshape(-1)


def _unvec(s: Scope, input: Value, shape: Value) -> torch.Tensor:
    """The inverse of vec: a vector refilled column by column into a matrix of `shape`."""
    rows, cols = _sizes((shape,), "unvec")
    t = tensor(s, input)
    if t.numel() != rows * cols:
        raise ExprError(f"unvec: {t.numel()} values cannot fill a {rows}×{cols} matrix")
    return t.reshape(cols, rows).T


def _hom(s: Scope, input: Value) -> torch.Tensor:
    """Homogeneous coordinates: append a 1 (a row of ones for column vectors and point matrices)."""
    t = tensor(s, input)
    if t.dim() == 0:
        t = t.reshape(1)
    if t.dim() == 1:
        return torch.cat([t, torch.ones(1, dtype=t.dtype, device=t.device)])
    if t.dim() == 2 and t.shape[0] == 1 and t.shape[1] > 1:
        return torch.cat([t, torch.ones(1, 1, dtype=t.dtype, device=t.device)], dim=1)
    if t.dim() == 2:
        return torch.cat([t, torch.ones(1, t.shape[1], dtype=t.dtype, device=t.device)], dim=0)
    raise ExprError("hom() takes a vector or a matrix of column points")


def _sequence(fn: Callable, name: str) -> Builder:
    """cat(a, b, dim=0) or cat([a, b], dim=0): list items are kept apart, not stacked first."""

    def build(compiler: Compiler, node: ast.Call) -> Compiled:

        check_call(node)
        items = node.args[0].elts if len(node.args) == 1 and isinstance(node.args[0], ast.List) else node.args
        if not items:
            raise ExprError(f"{name}() needs tensors to join", node.col_offset)
        parts = [compiler.compile(i) for i in items]
        dim = next((compiler.compile(k.value) for k in node.keywords if k.arg == "dim"), None)

        def run(s: Scope) -> torch.Tensor:
            tensors = [tensor(s, p(s)) for p in parts]
            tensors = [t.reshape(1) if t.dim() == 0 and name == "cat" else t for t in tensors]
            d = 0 if dim is None else limits.as_int(dim(s), "dim")
            total = sum(t.numel() for t in tensors)
            limits.check_numel((total,), name)
            budget.charge(total, total, f"{name}()")
            return fn(tensors, dim=d)

        return run

    return build


def _creator(fill: Callable) -> Callable[..., torch.Tensor]:
    def run(s: Scope, *size: Value, dtype: Value = None) -> torch.Tensor:
        dt = dtype if isinstance(dtype, torch.dtype) else s.dtype
        sizes = _sizes(size, "tensor")
        budget.charge(math.prod(sizes), math.prod(sizes), "a new tensor")
        return fill(sizes, dtype=dt, device=_device())

    return run


def _eye(s: Scope, n: Value, m: Value = None, dtype: Value = None) -> torch.Tensor:
    rows = limits.as_int(n, "eye size")
    cols = rows if m is None else limits.as_int(m, "eye size")
    if rows < 0 or cols < 0:
        raise ExprError("eye sizes must not be negative")
    limits.check_numel((rows, cols), "eye")
    budget.charge(rows * cols, rows * cols, "eye()")
    return torch.eye(rows, cols, dtype=dtype if isinstance(dtype, torch.dtype) else s.dtype, device=_device())


def _indices(v: Value, what: str) -> torch.Tensor:
    """A tensor of whole numbers as int64 indices (a single number is a 0-d tensor)."""
    idx = as_index(v, what)
    return idx if isinstance(idx, torch.Tensor) else torch.tensor(idx, device=_device())


def _one_hot(s: Scope, input: Value, num_classes: Value = -1) -> torch.Tensor:
    """F.one_hot in the lesson's dtype: a row of zeros with a 1 at each index."""
    idx = _indices(input, "one_hot")
    n = limits.as_int(num_classes, "num_classes")
    if n == -1:
        if idx.is_meta:
            raise ExprError("one_hot(): give num_classes when the indices are not known yet")
        n = int(idx.max().item()) + 1 if idx.numel() else 0
    if n < 1:
        raise ExprError("one_hot(): num_classes must be at least 1 (or -1: the largest index + 1)")
    if not idx.is_meta and idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise ExprError(f"one_hot(): indices must be whole numbers from 0 to {n - 1}")
    limits.check_numel((*idx.shape, n), "one_hot")
    budget.charge(idx.numel() * n, idx.numel() * n, "one_hot()")
    return F.one_hot(idx, n).to(s.dtype)


def _gather(s: Scope, input: Value, dim: Value, index: Value) -> torch.Tensor:
    """torch.gather: out[i][j] = input[index[i][j]][j] for dim=0, input[i][index[i][j]] for dim=1."""
    t = tensor(s, input)
    idx = _indices(index, "gather")
    if idx.dim() != t.dim():
        raise ExprError(f"gather(): the index has {idx.dim()} axes but the input has {t.dim()}; "
                        "they must have the same number")
    budget.charge(idx.numel(), idx.numel(), "gather()")
    return torch.gather(t, limits.as_int(dim, "dim"), idx)


def _argmax(s: Scope, input: Value) -> int:
    return int(torch.argmax(tensor(s, input)).item())


def _dot(s: Scope, input: Value, other: Value) -> torch.Tensor:
    a, b = tensor(s, input).reshape(-1), tensor(s, other).reshape(-1)
    if a.numel() != b.numel():
        raise ExprError(f"dot: vectors of {a.numel()} and {b.numel()} entries")
    return torch.dot(a, b)


def _outer(s: Scope, input: Value, other: Value) -> torch.Tensor:
    a, b = tensor(s, input).reshape(-1), tensor(s, other).reshape(-1)
    limits.check_numel((a.numel(), b.numel()), "outer")
    return torch.outer(a, b)


def _arange(s: Scope, start: Value, end: Value = None, step: Value = 1) -> torch.Tensor:
    a, b = (0.0, _number(start, "end")) if end is None else (_number(start, "start"), _number(end, "end"))
    st = _number(step, "step")
    if st == 0:
        raise ExprError("arange(): step must not be 0")
    count = max(0, math.ceil((b - a) / st))
    limits.check_numel((count,), "arange")
    budget.charge(count, count, "arange()")
    return torch.arange(a, b, st, dtype=s.dtype, device=_device())


def _linspace(s: Scope, start: Value, end: Value, steps: Value) -> torch.Tensor:
    n = limits.as_int(steps, "steps")
    if n < 0:
        raise ExprError("linspace(): steps must not be negative")
    limits.check_numel((n,), "linspace")
    budget.charge(n, n, "linspace()")
    return torch.linspace(_number(start, "start"), _number(end, "end"), n, dtype=s.dtype, device=_device())


# ---- elementwise with parameters ----------------------------------------------------------

def _leaky_relu(s: Scope, input: Value, negative_slope: Value = 0.01) -> torch.Tensor:
    return F.leaky_relu(tensor(s, input), _number(negative_slope, "negative_slope"))


def _elu(s: Scope, input: Value, alpha: Value = 1.0) -> torch.Tensor:
    return F.elu(tensor(s, input), _number(alpha, "alpha"))


def _softplus(s: Scope, input: Value, beta: Value = 1, threshold: Value = 20) -> torch.Tensor:
    return F.softplus(tensor(s, input), _number(beta, "beta"), _number(threshold, "threshold"))


def _clamp(s: Scope, input: Value, min: Value = None, max: Value = None) -> torch.Tensor:  # noqa: A002
    t = tensor(s, input)
    if min is None and max is None:
        raise ExprError("clamp() needs min, max or both")
    low = None if min is None else tensor(s, min)
    high = None if max is None else tensor(s, max)
    return torch.clamp(t, low, high)


def _where(s: Scope, condition: Value, input: Value, other: Value) -> torch.Tensor:
    c, a, b = tensor(s, condition), tensor(s, input), tensor(s, other)
    size = math.prod(torch.broadcast_shapes(c.shape, a.shape, b.shape))
    limits.check_numel((size,), "where")
    budget.charge(size, size, "where()")
    return torch.where(c != 0, a, b)


# ---- layers ---------------------------------------------------------------------------

def _tuple_arg(v: Value, what: str, low: int = 0) -> int | tuple[int, ...]:
    """An int or a tuple of ints for stride/padding/dilation/kernel, each at least `low`."""
    items = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    numbers = tuple(limits.as_int(i, what) for i in items)
    if not numbers or any(n < low for n in numbers):
        raise ExprError(f"{what} must be {'at least ' + str(low) if low else '0 or more'}, not "
                        f"{numbers[0] if len(numbers) == 1 else numbers}")
    return numbers if isinstance(v, (tuple, list)) else numbers[0]


def _exercise_layout(x: torch.Tensor, w: torch.Tensor | None, spatial: int) -> tuple:
    """A plain 1-D (or 2-D for the 2-D ops) x and w are one sample with one channel."""
    squeeze = x.dim() == spatial
    if squeeze:
        x = x.reshape((1, 1) + tuple(x.shape))
    if w is not None and w.dim() == spatial:
        w = w.reshape((1, 1) + tuple(w.shape))
    return x, w, squeeze


def predicted(fn: Callable[..., torch.Tensor], args: tuple, kwargs: dict, work: Callable[[torch.Tensor], int],
              what: str, macs: Callable[[torch.Tensor], int] | None = None) -> torch.Tensor:
    """Runs `fn` on meta tensors first: the result's size and work are refused before anything is allocated.

    `work(result)` is the exact count of operations (result size × work per result element); `macs(result)`
    the multiply-adds PyTorch's FLOP counter counts (twice) for it, when that differs from the work.
    """
    if meta_mode() or any(isinstance(a, torch.Tensor) and a.is_meta for a in args):
        out = fn(*args, **kwargs)
        budget.charge(work(out), out.numel(), what)
        tally_flops(2 * (macs or work)(out))
        return out
    shadow = tuple(as_meta(a) if isinstance(a, torch.Tensor) else a for a in args)
    with torch.no_grad(), _uncounted():
        out = fn(*shadow, **kwargs)
    limits.check_numel(tuple(out.shape), what)
    ops = work(out)
    limits.check_work(ops, what)
    budget.charge(ops, out.numel(), what)
    tally_flops(2 * (macs or work)(out))
    return fn(*args, **kwargs)


def _conv(spatial: int, fn: Callable) -> Callable[..., torch.Tensor]:
    name = f"conv{spatial}d"

    def run(s: Scope, input: Value, weight: Value, bias: Value = None, stride: Value = 1,
            padding: Value = 0, dilation: Value = 1, groups: Value = 1) -> torch.Tensor:
        xt, wt, squeeze = _exercise_layout(tensor(s, input), tensor(s, weight), spatial)
        b = None if bias is None else tensor(s, bias).reshape(-1)
        g = _tuple_arg(groups, "groups", 1)
        kw = dict(stride=_tuple_arg(stride, "stride", 1), padding=_tuple_arg(padding, "padding"),
                  dilation=_tuple_arg(dilation, "dilation", 1), groups=g)
        per_output = math.prod(wt.shape[1:]) if wt.dim() > 1 else 1  # in-channels/groups × kernel window
        out = predicted(fn, (xt, wt, b), kw, lambda o: o.numel() * per_output, f"{name}()")
        return out[0, 0] if squeeze and out.shape[0] == 1 and out.shape[1] == 1 else out

    return run


def _conv_transpose(spatial: int, fn: Callable) -> Callable[..., torch.Tensor]:
    name = f"conv_transpose{spatial}d"

    def run(s: Scope, input: Value, weight: Value, bias: Value = None, stride: Value = 1, padding: Value = 0,
            output_padding: Value = 0, groups: Value = 1, dilation: Value = 1) -> torch.Tensor:
        xt, wt, squeeze = _exercise_layout(tensor(s, input), tensor(s, weight), spatial)
        b = None if bias is None else tensor(s, bias).reshape(-1)
        kw = dict(stride=_tuple_arg(stride, "stride", 1), padding=_tuple_arg(padding, "padding"),
                  output_padding=_tuple_arg(output_padding, "output_padding"),
                  groups=_tuple_arg(groups, "groups", 1), dilation=_tuple_arg(dilation, "dilation", 1))
        # every input element is spread over out-channels/groups × kernel window outputs
        per_input = math.prod(wt.shape[1:]) if wt.dim() > 1 else 1
        out = predicted(fn, (xt, wt, b), kw, lambda o: xt.numel() * per_input + o.numel(), f"{name}()",
                        macs=lambda o: xt.numel() * per_input)
        return out[0, 0] if squeeze and out.shape[0] == 1 and out.shape[1] == 1 else out

    return run


def _pool(spatial: int, fn: Callable, name: str) -> Callable[..., torch.Tensor]:
    def run(s: Scope, input: Value, kernel_size: Value, stride: Value = None, padding: Value = 0) -> torch.Tensor:
        t = tensor(s, input)
        squeeze = t.dim() == spatial
        if squeeze:
            t = t.reshape((1,) + tuple(t.shape))
        k = _tuple_arg(kernel_size, "kernel size", 1)
        st = k if stride is None else _tuple_arg(stride, "stride", 1)
        window = math.prod(k) if isinstance(k, tuple) else k ** spatial
        out = predicted(fn, (t, k, st, _tuple_arg(padding, "padding")), {},
                        lambda o: o.numel() * window, f"{name}()", macs=lambda o: 0)
        return out[0] if squeeze else out

    return run


def _same_padding(s: Scope, input: Value, weight: Value, stride: Value = 1, dilation: Value = 1) -> int:
    """The smallest symmetric padding for which PyTorch's convolution keeps the spatial size.

    Solved from PyTorch's output-size formula, L_out = floor((L + 2p − d(k − 1) − 1) / s) + 1, so a huge
    dilation costs nothing to answer.
    """
    xt, wt = tensor(s, input), tensor(s, weight)
    spatial = 2 if wt.dim() in (2, 4) else 1
    xt, wt, _ = _exercise_layout(xt, wt, spatial)
    st, dl = _tuple_arg(stride, "stride", 1), _tuple_arg(dilation, "dilation", 1)
    if isinstance(st, tuple) or isinstance(dl, tuple):
        raise ExprError("same_padding(): stride and dilation are single numbers")
    budget.charge(1, 0, "same_padding()")
    low, high = 0, None
    for size, k in zip(xt.shape[-spatial:], wt.shape[-spatial:], strict=False):
        reach = dl * (k - 1) + 1
        # need (size − 1)·st <= size + 2p − reach < size·st
        low = max(low, -(-((size - 1) * st - size + reach) // 2))
        top = (size * st - size + reach - 1) // 2  # largest p with size + 2p − reach < size·st
        high = top if high is None else min(high, top)
    if high is None or low > high:
        raise ExprError("same_padding: no symmetric padding keeps the size with this stride")
    return int(low)


def _uncounted():
    """Suspends dispatch modes such as the FLOP counter; a no-op if torch moves the helper."""
    try:
        from torch.utils._python_dispatch import _disable_current_modes

        return _disable_current_modes()
    except ImportError:  # pragma: no cover - depends on the torch version
        import contextlib

        return contextlib.nullcontext()


def _class_indices(t: torch.Tensor, classes: int) -> torch.Tensor:
    if not t.is_meta:
        whole = torch.all(t == t.round()) and torch.all((t >= 0) & (t < classes))
        if not bool(whole):
            raise ExprError(f"cross_entropy: class indices must be whole numbers from 0 to {classes - 1}")
    return t.round().long().detach()


def _cross_entropy(s: Scope, input: Value, target: Value) -> torch.Tensor:
    z, t = tensor(s, input), tensor(s, target)
    classes = z.shape[-1] if z.dim() == 1 else (z.shape[1] if z.dim() > 1 else 1)
    if t.numel() == 1 and z.numel() > 1 and z.dim() <= 2 and (z.dim() == 1 or z.shape[0] == 1):
        index = t.reshape(()) if z.dim() == 1 else t.reshape(1)
        return F.cross_entropy(z, _class_indices(index, classes))
    if z.dim() >= 2 and t.dim() == z.dim() - 1 and t.shape[0] == z.shape[0] and t.shape[1:] == z.shape[2:]:
        return F.cross_entropy(z, _class_indices(t, classes))  # one class index per row (a batch)
    if t.shape != z.shape:
        raise ExprError(f"cross_entropy: target {tuple(t.shape)} must be a class index, one index per row, "
                        f"or probabilities shaped like the logits {tuple(z.shape)}")
    return F.cross_entropy(z, t)


def _binary_target(s: Scope, input: Value, target: Value) -> tuple[torch.Tensor, torch.Tensor]:
    p, y = tensor(s, input), tensor(s, target)
    if p.shape != y.shape:
        if y.numel() != p.numel():
            raise ExprError(f"target {tuple(y.shape)} must be shaped like the input {tuple(p.shape)}")
        y = y.reshape(p.shape)
    return p, y


def _bce(s: Scope, input: Value, target: Value) -> torch.Tensor:
    return F.binary_cross_entropy(*_binary_target(s, input, target))


def _bce_logits(s: Scope, input: Value, target: Value) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(*_binary_target(s, input, target))


def _linear(s: Scope, input: Value, weight: Value, bias: Value = None) -> torch.Tensor:
    x, w = tensor(s, input), tensor(s, weight)
    b = None if bias is None else tensor(s, bias)
    inner = x.shape[-1] if x.dim() else 1
    return predicted(F.linear, (x, w, b), {}, lambda o: o.numel() * inner, "linear()")


def _softmax(fn: Callable) -> Callable[..., torch.Tensor]:
    return lambda s, input, dim=-1: fn(tensor(s, input), dim=limits.as_int(dim, "dim"))


def _mse(s: Scope, input: Value, target: Value) -> torch.Tensor:
    return F.mse_loss(tensor(s, input), tensor(s, target).expand_as(tensor(s, input)))


def _layer_norm(s: Scope, input: Value, normalized_shape: Value, weight: Value = None, bias: Value = None,
                eps: Value = 1e-5) -> torch.Tensor:
    t = tensor(s, input)
    shape = _tuple_arg(normalized_shape, "normalized_shape", 1)
    shape = shape if isinstance(shape, tuple) else (shape,)
    w = None if weight is None else tensor(s, weight)
    b = None if bias is None else tensor(s, bias)
    return F.layer_norm(t, shape, w, b, _number(eps, "eps"))


def _batch_norm(s: Scope, input: Value, weight: Value = None, bias: Value = None, eps: Value = 1e-5) -> torch.Tensor:
    t = tensor(s, input)
    if t.dim() < 2:
        raise ExprError("batch_norm: input is (batch, channels) or (batch, channels, ...)")
    w = None if weight is None else tensor(s, weight).reshape(-1)
    b = None if bias is None else tensor(s, bias).reshape(-1)
    return F.batch_norm(t, None, None, w, b, training=True, eps=_number(eps, "eps"))


def _attention(s: Scope, query: Value, key: Value, value: Value, is_causal: Value = 0,
               scale: Value = None) -> torch.Tensor:
    q, k, v = tensor(s, query), tensor(s, key), tensor(s, value)
    if min(q.dim(), k.dim(), v.dim()) < 2:
        raise ExprError("scaled_dot_product_attention: query, key and value are (..., length, size)")
    kw = dict(is_causal=_flag(is_causal, "is_causal"), scale=None if scale is None else _number(scale, "scale"))
    keys = k.shape[-2]
    return predicted(F.scaled_dot_product_attention, (q, k, v), kw,
                     lambda o: (o.numel() // max(1, o.shape[-1])) * keys * (q.shape[-1] + o.shape[-1]),
                     "scaled_dot_product_attention()")


FUNCTIONS: dict[str, Builder] = {
    "sin": _elementwise(torch.sin), "cos": _elementwise(torch.cos), "tan": _elementwise(torch.tan),
    "exp": _elementwise(torch.exp), "log": _elementwise(torch.log), "sqrt": _elementwise(torch.sqrt),
    "abs": _elementwise(torch.abs), "tanh": _elementwise(torch.tanh),
    "sigmoid": _elementwise(torch.sigmoid), "relu": _elementwise(torch.relu),
    "gelu": _elementwise(F.gelu), "leaky_relu": plain(_leaky_relu), "elu": plain(_elu),
    "softplus": plain(_softplus), "clamp": plain(_clamp), "where": plain(_where),
    "sum": _reduce(torch.sum, "sum"), "mean": _reduce(torch.mean, "mean"),
    "max": _reduce(torch.max, "max"), "min": _reduce(torch.min, "min"),
    "var": plain(_spread(torch.var)), "std": plain(_spread(torch.std)),
    "numel": plain(_numel), "reshape": plain(_reshape),
    "flatten": plain(lambda s, input: tensor(s, input).reshape(-1)),
    "vec": plain(_vec), "unvec": plain(_unvec), "hom": plain(_hom),
    "cat": _sequence(torch.cat, "cat"), "stack": _sequence(torch.stack, "stack"),
    "zeros": plain(_creator(torch.zeros)), "ones": plain(_creator(torch.ones)),
    "eye": plain(_eye), "arange": plain(_arange), "linspace": plain(_linspace),
    "argmax": plain(_argmax), "dot": plain(_dot), "outer": plain(_outer),
    "one_hot": plain(_one_hot), "gather": plain(_gather),
    "linear": plain(_linear),
    "softmax": plain(_softmax(torch.softmax)), "log_softmax": plain(_softmax(torch.log_softmax)),
    "cross_entropy": plain(_cross_entropy), "mse_loss": plain(_mse),
    "binary_cross_entropy": plain(_bce), "binary_cross_entropy_with_logits": plain(_bce_logits),
    "layer_norm": plain(_layer_norm), "batch_norm": plain(_batch_norm),
    "conv1d": plain(_conv(1, F.conv1d)), "conv2d": plain(_conv(2, F.conv2d)),
    "conv_transpose1d": plain(_conv_transpose(1, F.conv_transpose1d)),
    "conv_transpose2d": plain(_conv_transpose(2, F.conv_transpose2d)),
    "max_pool1d": plain(_pool(1, F.max_pool1d, "max_pool1d")), "max_pool2d": plain(_pool(2, F.max_pool2d, "max_pool2d")),
    "avg_pool1d": plain(_pool(1, F.avg_pool1d, "avg_pool1d")), "avg_pool2d": plain(_pool(2, F.avg_pool2d, "avg_pool2d")),
    "same_padding": plain(_same_padding),
    "scaled_dot_product_attention": plain(_attention),
}
