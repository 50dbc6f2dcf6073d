"""The language's functions with PyTorch's semantics, plus the exercises' 1-D/2-D conventions."""

from __future__ import annotations

import ast
import math
from typing import Any, Callable

import torch
import torch.nn.functional as F

from tutor.core.errors import ExprError
from tutor.core.expr import limits
from tutor.core.expr.compile import DTYPES, Compiled, Compiler, Scope, Value, to_tensor

Builder = Callable[[Compiler, ast.Call], Compiled]


def plain(fn: Callable[..., Value], min_args: int = 1, max_args: int = 1) -> Builder:
    """A function whose arguments are evaluated first, then passed on with the scope."""

    def build(compiler: Compiler, node: ast.Call) -> Compiled:
        name = node.func.id
        if not min_args <= len(node.args) <= max_args:
            want = str(min_args) if min_args == max_args else f"{min_args} to {max_args}"
            raise ExprError(f"{name}() takes {want} argument{'s' if max_args != 1 else ''}, got {len(node.args)}",
                            node.col_offset)
        args = [compiler.compile(a) for a in node.args]
        kwargs = {k.arg: _keyword(compiler, k) for k in node.keywords}
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


def _dim(v: Value | None) -> int | None:
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
    return plain(lambda s, x: fn(tensor(s, x)))


# ---- reductions and shape -------------------------------------------------------------

def _reduce(fn: Callable, name: str) -> Builder:
    def run(s: Scope, x: Value, dim: Value = None, keepdim: Value = 0) -> torch.Tensor:
        t = tensor(s, x)
        d = _dim(dim)
        if d is None:
            return fn(t)
        out = fn(t, dim=d, keepdim=bool(keepdim))
        return out if isinstance(out, torch.Tensor) else out.values  # max/min(dim=) give (values, indices)

    return plain(run, 1, 2)


def _numel(s: Scope, x: Value) -> int:
    return int(x.numel()) if isinstance(x, torch.Tensor) else 1


def _reshape(s: Scope, x: Value, *shape: Value) -> torch.Tensor:
    t = tensor(s, x)
    if len(shape) == 1 and isinstance(shape[0], (tuple, torch.Tensor)):
        items = list(shape[0]) if isinstance(shape[0], tuple) else shape[0].reshape(-1).tolist()
    else:
        items = list(shape)
    sizes = tuple(limits.as_int(v, "reshape size") for v in items)
    return t.reshape(sizes)


def _vec(s: Scope, x: Value) -> torch.Tensor:
    """Column-major vectorisation: the columns of a matrix stacked into one vector."""
    t = tensor(s, x)
    return t.permute(*reversed(range(t.dim()))).reshape(-1) if t.dim() > 1 else t.reshape(-1)


def _unvec(s: Scope, w: Value, shape: Value) -> torch.Tensor:
    """The inverse of vec: a vector refilled column by column into a matrix of `shape`."""
    rows, cols = _sizes((shape,), "unvec")
    t = tensor(s, w)
    if t.numel() != rows * cols:
        raise ExprError(f"unvec: {t.numel()} values cannot fill a {rows}×{cols} matrix")
    return t.reshape(cols, rows).T


def _hom(s: Scope, x: Value) -> torch.Tensor:
    """Homogeneous coordinates: append a 1 (a row of ones for column vectors and point matrices)."""
    t = tensor(s, x)
    if t.dim() == 0:
        t = t.reshape(1)
    if t.dim() == 1:
        return torch.cat([t, torch.ones(1, dtype=t.dtype)])
    if t.dim() == 2 and t.shape[0] == 1 and t.shape[1] > 1:
        return torch.cat([t, torch.ones(1, 1, dtype=t.dtype)], dim=1)
    if t.dim() == 2:
        return torch.cat([t, torch.ones(1, t.shape[1], dtype=t.dtype)], dim=0)
    raise ExprError("hom() takes a vector or a matrix of column points")


def _sequence(fn: Callable, name: str) -> Builder:
    """cat(a, b, dim=0) or cat([a, b], dim=0): list items are kept apart, not stacked first."""

    def build(compiler: Compiler, node: ast.Call) -> Compiled:
        items = node.args[0].elts if len(node.args) == 1 and isinstance(node.args[0], ast.List) else node.args
        if not items:
            raise ExprError(f"{name}() needs tensors to join", node.col_offset)
        parts = [compiler.compile(i) for i in items]
        dim = next((compiler.compile(k.value) for k in node.keywords if k.arg == "dim"), None)

        def run(s: Scope) -> torch.Tensor:
            tensors = [tensor(s, p(s)) for p in parts]
            tensors = [t.reshape(1) if t.dim() == 0 and name == "cat" else t for t in tensors]
            d = 0 if dim is None else limits.as_int(dim(s), "dim")
            limits.check_numel((sum(t.numel() for t in tensors),), name)
            return fn(tensors, dim=d)

        return run

    return build


def _creator(fill: Callable) -> Callable[..., torch.Tensor]:
    def run(s: Scope, *size: Value, dtype: Value = None) -> torch.Tensor:
        dt = dtype if isinstance(dtype, torch.dtype) else s.dtype
        return fill(_sizes(size, "tensor"), dtype=dt)

    return run


def _eye(s: Scope, n: Value, m: Value = None, dtype: Value = None) -> torch.Tensor:
    rows = limits.as_int(n, "eye size")
    cols = rows if m is None else limits.as_int(m, "eye size")
    limits.check_numel((rows, cols), "eye")
    return torch.eye(rows, cols, dtype=dtype if isinstance(dtype, torch.dtype) else s.dtype)


def _argmax(s: Scope, x: Value) -> int:
    return int(torch.argmax(tensor(s, x)).item())


def _dot(s: Scope, a: Value, b: Value) -> torch.Tensor:
    a, b = tensor(s, a).reshape(-1), tensor(s, b).reshape(-1)
    if a.numel() != b.numel():
        raise ExprError(f"dot: vectors of {a.numel()} and {b.numel()} entries")
    return torch.dot(a, b)


def _outer(s: Scope, a: Value, b: Value) -> torch.Tensor:
    a, b = tensor(s, a).reshape(-1), tensor(s, b).reshape(-1)
    limits.check_numel((a.numel(), b.numel()), "outer")
    return torch.outer(a, b)


# ---- layers ---------------------------------------------------------------------------

def _tuple_arg(v: Value, what: str) -> int | tuple[int, ...]:
    if isinstance(v, (tuple, list)):
        return tuple(limits.as_int(i, what) for i in v)
    return limits.as_int(v, what)


def _exercise_layout(x: torch.Tensor, w: torch.Tensor | None, spatial: int) -> tuple:
    """A plain 1-D (or 2-D for the 2-D ops) x and w are one sample with one channel."""
    squeeze = x.dim() == spatial
    if squeeze:
        x = x.reshape((1, 1) + tuple(x.shape))
    if w is not None and w.dim() == spatial:
        w = w.reshape((1, 1) + tuple(w.shape))
    return x, w, squeeze


def _conv(spatial: int, fn: Callable) -> Callable[..., torch.Tensor]:
    def run(s: Scope, x: Value, w: Value, bias: Value = None, stride: Value = 1,
            padding: Value = 0, dilation: Value = 1) -> torch.Tensor:
        xt, wt, squeeze = _exercise_layout(tensor(s, x), tensor(s, w), spatial)
        b = None if bias is None else tensor(s, bias).reshape(-1)
        kernel = math.prod(wt.shape[1:]) if wt.dim() > 1 else 1
        limits.check_work(xt.numel() * max(1, wt.shape[0]) * kernel, f"conv{spatial}d")
        out = fn(xt, wt, b, stride=_tuple_arg(stride, "stride"), padding=_tuple_arg(padding, "padding"),
                 dilation=_tuple_arg(dilation, "dilation"))
        return out[0, 0] if squeeze and out.shape[0] == 1 and out.shape[1] == 1 else out

    return run


def _pool(spatial: int, fn: Callable) -> Callable[..., torch.Tensor]:
    def run(s: Scope, x: Value, kernel: Value, stride: Value = None, padding: Value = 0) -> torch.Tensor:
        t = tensor(s, x)
        squeeze = t.dim() == spatial
        if squeeze:
            t = t.reshape((1,) + tuple(t.shape))
        k = _tuple_arg(kernel, "kernel size")
        st = k if stride is None else _tuple_arg(stride, "stride")
        out = fn(t, k, st, _tuple_arg(padding, "padding"))
        return out[0] if squeeze else out

    return run


def _same_padding(s: Scope, x: Value, w: Value, stride: Value = 1, dilation: Value = 1) -> int:
    """The smallest symmetric padding for which PyTorch's convolution keeps the spatial size."""
    xt, wt = tensor(s, x), tensor(s, w)
    spatial = 2 if wt.dim() in (2, 4) else 1
    xt, wt, _ = _exercise_layout(xt, wt, spatial)
    conv = F.conv2d if spatial == 2 else F.conv1d
    st, dl = limits.as_int(stride, "stride"), limits.as_int(dilation, "dilation")
    reach = max(wt.shape[-spatial:]) * dl
    with _uncounted():  # trial shapes are not part of the layer: flops() must not count them
        xm, wm = torch.empty(xt.shape, device="meta"), torch.empty(wt.shape, device="meta")
        for pad in range(reach + 1):
            out = conv(xm, wm, stride=st, padding=pad, dilation=dl)
            if tuple(out.shape[-spatial:]) == tuple(xt.shape[-spatial:]):
                return pad
    raise ExprError("same_padding: no symmetric padding keeps the size with this stride")


def _uncounted():
    """Suspends dispatch modes such as the FLOP counter; a no-op if torch moves the helper."""
    try:
        from torch.utils._python_dispatch import _disable_current_modes

        return _disable_current_modes()
    except ImportError:  # pragma: no cover - depends on the torch version
        import contextlib

        return contextlib.nullcontext()


def _cross_entropy(s: Scope, logits: Value, target: Value) -> torch.Tensor:
    z, t = tensor(s, logits), tensor(s, target)
    if t.numel() == 1 and z.numel() > 1:
        index = t.reshape(()) if z.dim() == 1 else t.reshape(1)
        return F.cross_entropy(z, index.round().long().detach())
    if t.shape != z.shape:
        raise ExprError(f"cross_entropy: target {tuple(t.shape)} must be a class index or shaped like the logits {tuple(z.shape)}")
    return F.cross_entropy(z, t)


def _linear(s: Scope, x: Value, w: Value, b: Value = None) -> torch.Tensor:
    return F.linear(tensor(s, x), tensor(s, w), None if b is None else tensor(s, b))


def _softmax(fn: Callable) -> Callable[..., torch.Tensor]:
    return lambda s, x, dim=-1: fn(tensor(s, x), dim=limits.as_int(dim, "dim"))


def _mse(s: Scope, a: Value, b: Value) -> torch.Tensor:
    return F.mse_loss(tensor(s, a), tensor(s, b).expand_as(tensor(s, a)))


FUNCTIONS: dict[str, Builder] = {
    "sin": _elementwise(torch.sin), "cos": _elementwise(torch.cos), "tan": _elementwise(torch.tan),
    "exp": _elementwise(torch.exp), "log": _elementwise(torch.log), "sqrt": _elementwise(torch.sqrt),
    "abs": _elementwise(torch.abs), "tanh": _elementwise(torch.tanh),
    "sigmoid": _elementwise(torch.sigmoid), "relu": _elementwise(torch.relu),
    "sum": _reduce(torch.sum, "sum"), "mean": _reduce(torch.mean, "mean"),
    "max": _reduce(torch.max, "max"), "min": _reduce(torch.min, "min"),
    "numel": plain(_numel), "reshape": plain(_reshape, 2, 8), "flatten": plain(lambda s, x: tensor(s, x).reshape(-1)),
    "vec": plain(_vec), "unvec": plain(_unvec, 2, 2), "hom": plain(_hom),
    "cat": _sequence(torch.cat, "cat"), "stack": _sequence(torch.stack, "stack"),
    "zeros": plain(_creator(torch.zeros), 1, 8), "ones": plain(_creator(torch.ones), 1, 8),
    "eye": plain(_eye, 1, 2), "argmax": plain(_argmax), "dot": plain(_dot, 2, 2), "outer": plain(_outer, 2, 2),
    "linear": plain(_linear, 2, 3),
    "softmax": plain(_softmax(torch.softmax), 1, 2), "log_softmax": plain(_softmax(torch.log_softmax), 1, 2),
    "cross_entropy": plain(_cross_entropy, 2, 2), "mse_loss": plain(_mse, 2, 2),
    "conv1d": plain(_conv(1, F.conv1d), 2, 3), "conv2d": plain(_conv(2, F.conv2d), 2, 3),
    "max_pool1d": plain(_pool(1, F.max_pool1d), 2, 4), "max_pool2d": plain(_pool(2, F.max_pool2d), 2, 4),
    "avg_pool1d": plain(_pool(1, F.avg_pool1d), 2, 4), "avg_pool2d": plain(_pool(2, F.avg_pool2d), 2, 4),
    "same_padding": plain(_same_padding, 2, 4),
}

