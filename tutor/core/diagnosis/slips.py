"""Functions that compute what a common slip gives: forward values kept, the slip in the backward pass or the size."""

from __future__ import annotations

import ast
import math
from typing import Any

import torch
import torch.nn.functional as F

from tutor.core.expr import limits, special
from tutor.core.expr.compile import Scope, Value
from tutor.core.expr.functions import plain, tensor

# Activations and other one-input functions whose local derivative a learner may forget: the slip passes the
# gradient straight through (value as computed, derivative 1). Extra arguments (leaky_relu's slope, softmax's
# dim) are passed on.
ACTIVATIONS = ("sigmoid", "tanh", "relu", "sin", "cos", "exp", "log", "sqrt", "leaky_relu", "elu", "gelu",
               "softplus", "softmax", "log_softmax")


def _straight_through(value: torch.Tensor, slipped: torch.Tensor) -> torch.Tensor:
    """`value` forward, but gradients flow as they would through `slipped`."""
    return slipped - slipped.detach() + value.detach()


def _no_derivative(name: str):
    def run(s: Scope, x: Value, *rest: Value, **kw: Value) -> torch.Tensor:
        t = tensor(s, x)
        return _straight_through(_call(name, s, t, *rest, **kw), t)

    return run


def _power_no_factor(s: Scope, x: Value, n: Value) -> torch.Tensor:
    """x ** n forward; its derivative taken as x^(n-1), the power rule's factor n left out."""
    t = tensor(s, x)
    exponent = float(n)
    return _straight_through(t ** exponent, t ** exponent / exponent)


def _cross_entropy_sum(s: Scope, z: Value, target: Value) -> torch.Tensor:
    """cross_entropy summed over the batch instead of averaged (no 1/N)."""
    logits = tensor(s, z)
    out = _call("cross_entropy", s, logits, target)
    batch = logits.shape[0] if logits.dim() >= 2 and tensor(s, target).dim() >= 1 else 1
    return out * batch


def _reduce_other(name: str):
    """sum, mean, var, std, max or min of a matrix along the other axis (dim=0 for dim=1 and back)."""
    def run(s: Scope, x: Value, dim: Value = None, *rest: Value, **kw: Value) -> torch.Tensor:
        t = tensor(s, x)
        if t.dim() != 2 or dim is None or isinstance(dim, tuple):
            raise ValueError("only a matrix reduced along one axis has another axis")
        other = 1 - limits.as_int(dim, "dim") % 2
        return _call(name, s, t, other, *rest, **kw)

    return run


def _unbiased_norm(name: str):
    """layer_norm or batch_norm that divides by the unbiased standard deviation (n − 1)."""
    def run(s: Scope, x: Value, *args: Value, **kw: Value) -> torch.Tensor:
        t = tensor(s, x)
        if name == "layer_norm":
            shape = args[0] if args else kw.get("normalized_shape")
            k = len(shape) if isinstance(shape, tuple) else 1
            dims = tuple(range(t.dim() - k, t.dim()))
            weight = args[1] if len(args) > 1 else kw.get("weight")
            bias = args[2] if len(args) > 2 else kw.get("bias")
            eps = args[3] if len(args) > 3 else kw.get("eps", 1e-5)
        else:
            dims = tuple(d for d in range(t.dim()) if d != 1)
            weight, bias, eps = kw.get("weight"), kw.get("bias"), kw.get("eps", 1e-5)
        mean = t.mean(dim=dims, keepdim=True)
        var = t.var(dim=dims, keepdim=True, correction=1)
        out = (t - mean) / torch.sqrt(var + float(eps))
        shape_of = (lambda v: tensor(s, v).reshape((1, -1) + (1,) * (t.dim() - 2))) if name == "batch_norm" \
            else (lambda v: tensor(s, v))
        if weight is not None:
            out = out * shape_of(weight)
        if bias is not None:
            out = out + shape_of(bias)
        return out

    return run


class _OverwritingLookup(torch.autograd.Function):
    """C[X] whose backward writes each position's gradient into its row instead of adding it: a row picked at
    several positions keeps the last one's gradient, as `dC[ix] = demb[k, j]` in a loop would."""

    @staticmethod
    def forward(ctx, table, index):
        ctx.save_for_backward(index)
        ctx.table_shape = table.shape
        return table[index]

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        out = torch.zeros(ctx.table_shape, dtype=grad.dtype)
        rows = grad.reshape((index.numel(),) + tuple(ctx.table_shape[1:]))
        for position, row in enumerate(index.reshape(-1).tolist()):
            out[row] = rows[position]
        return out, None


MAX_LOOKUP_LOOP = 10_000  # positions a slip walks one by one; a bigger lookup is no hand computation


def _lookup_overwrite(s: Scope, table: Value, index: Value) -> torch.Tensor:
    t, idx = tensor(s, table), tensor(s, index)
    if t.is_meta or idx.is_meta or idx.numel() > MAX_LOOKUP_LOOP or idx.dim() == 0:
        raise ValueError("only a small lookup is walked position by position")
    whole = idx.round().long()
    return _OverwritingLookup.apply(t, whole)


def _spatial(w: torch.Tensor, conv: str) -> int:
    return 2 if conv == "conv2d" else 1




def _flip(t: torch.Tensor, spatial: int) -> torch.Tensor:
    return torch.flip(t, dims=list(range(t.dim() - spatial, t.dim())))


def _unflipped_backward(conv: str):
    """conv forward as written; its gradients taken as if the kernel were flipped (the backward-pass slip)."""
    def run(s: Scope, x: Value, w: Value, *rest, **kw) -> torch.Tensor:
        wt = tensor(s, w)
        flipped = _flip(wt, _spatial(wt, conv))
        return _straight_through(_call(conv, s, x, wt, *rest, **kw), _call(conv, s, x, flipped, *rest, **kw))

    return run


def _pads(node_value: Value, spatial: int) -> tuple[int, ...]:
    p = node_value if isinstance(node_value, (tuple, list)) else (node_value,) * spatial
    return tuple(limits.as_int(v, "padding") for v in p)


def _conv_one_side(conv: str):
    """Padding added at the start of each spatial axis only."""
    def run(s: Scope, x: Value, w: Value, bias: Value = None, stride: Value = 1, padding: Value = 0,
            dilation: Value = 1) -> torch.Tensor:
        spatial = 2 if conv == "conv2d" else 1
        xt = tensor(s, x)
        pads = _pads(padding, spatial)
        flat = []
        for p in reversed(pads):
            flat += [p, 0]
        return _call(conv, s, F.pad(xt, flat), w, bias, stride=stride, padding=0, dilation=dilation)

    return run


def _conv_ceil(conv: str):
    """The output size rounded up: a last window that runs past the edge is kept (zeros beyond it)."""
    def run(s: Scope, x: Value, w: Value, bias: Value = None, stride: Value = 1, padding: Value = 0,
            dilation: Value = 1) -> torch.Tensor:
        spatial = 2 if conv == "conv2d" else 1
        xt, wt = tensor(s, x), tensor(s, w)
        pads, strides = _pads(padding, spatial), _pads(stride, spatial)
        dilations = _pads(dilation, spatial)
        flat = []
        for axis in reversed(range(spatial)):
            n, k = xt.shape[xt.dim() - spatial + axis], wt.shape[wt.dim() - spatial + axis]
            reach = n + 2 * pads[axis] - dilations[axis] * (k - 1) - 1
            flat += [pads[axis], pads[axis] + (-reach) % strides[axis]]
        return _call(conv, s, F.pad(xt, flat), wt, bias, stride=stride, padding=0, dilation=dilation)

    return run


def _without_last(name: str):
    """The output size without the +1: the last window along each spatial axis dropped."""
    def run(s: Scope, *args, **kw) -> torch.Tensor:
        out = _call(name, s, *args, **kw)
        spatial = 2 if name.endswith("2d") else 1
        index = (Ellipsis,) + (slice(0, -1),) * spatial
        return out[index] if out.dim() >= spatial else out

    return run


def _pool_ceil(name: str):
    def run(s: Scope, x: Value, kernel: Value, stride: Value = None, padding: Value = 0) -> torch.Tensor:
        fn = F.max_pool2d if name.endswith("2d") else F.max_pool1d
        spatial = 2 if name.endswith("2d") else 1
        t = tensor(s, x)
        squeeze = t.dim() == spatial
        t = t.reshape((1,) + tuple(t.shape)) if squeeze else t
        k = _pads(kernel, spatial)
        st = k if stride is None else _pads(stride, spatial)
        out = fn(t, k, st, _pads(padding, spatial), ceil_mode=True)
        return out[0] if squeeze else out

    return run


def _max_to(name: str, kind: str):
    """Max-pooling replaced: by the average ("avg"), or by a max that routes gradients to the smallest ("min")."""
    def run(s: Scope, x: Value, *rest, **kw) -> torch.Tensor:
        t = tensor(s, x)
        if kind == "avg":
            return _call(name.replace("max", "avg"), s, t, *rest, **kw)
        value = _call(name, s, t, *rest, **kw)
        return _straight_through(value, -_call(name, s, -t, *rest, **kw))

    return run


class _OverwritingMaxPool(torch.autograd.Function):
    """Max-pooling whose backward writes each window's gradient instead of adding it: overlapping windows
    that share a winner give it one window's gradient, not the sum."""

    @staticmethod
    def forward(ctx, t, kernel, stride, padding, spatial):
        fn = F.max_pool2d if spatial == 2 else F.max_pool1d
        out, index = fn(t, kernel, stride, padding, return_indices=True)
        ctx.save_for_backward(index)
        ctx.input_shape, ctx.spatial = t.shape, spatial
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        shape, spatial = ctx.input_shape, ctx.spatial
        lead = shape[: len(shape) - spatial]
        flat = torch.zeros(tuple(lead) + (math.prod(shape[len(shape) - spatial:]),), dtype=grad.dtype)
        flat.scatter_(-1, index.flatten(-spatial), grad.flatten(-spatial))
        return flat.reshape(shape), None, None, None, None


def _not_accumulated(name: str):
    def run(s: Scope, x: Value, kernel: Value, stride: Value = None, padding: Value = 0) -> torch.Tensor:
        spatial = 2 if name.endswith("2d") else 1
        t = tensor(s, x)
        squeeze = t.dim() == spatial
        t = t.reshape((1,) + tuple(t.shape)) if squeeze else t
        k = _pads(kernel, spatial)
        st = k if stride is None else _pads(stride, spatial)
        out = _OverwritingMaxPool.apply(t, k, st, _pads(padding, spatial), spatial)
        return out[0] if squeeze else out

    return run


def _numel_with_bias(s: Scope, w: Value) -> int:
    t = tensor(s, w)
    return int(t.numel() + (t.shape[0] if t.dim() else 1))


def _softmax_other_axis(s: Scope, x: Value, dim: Value = -1) -> torch.Tensor:
    t = tensor(s, x)
    if t.dim() != 2:
        return torch.softmax(t, dim=limits.as_int(dim, "dim"))
    d = limits.as_int(dim, "dim") % 2
    return torch.softmax(t, dim=1 - d)


def _numel_without_batch(s: Scope, x: Value) -> int:
    t = tensor(s, x)
    return int(math.prod(t.shape[1:])) if t.dim() >= 2 else int(t.numel())


_RUNNERS = ("conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d")
_CALLS: dict[tuple, Any] = {}


def _call(name: str, s: Scope, *args: Value, **kw: Value) -> torch.Tensor:
    """The language's own `name` applied to already evaluated arguments (compiled once per call pattern)."""
    key = (name, len(args), tuple(sorted(kw)))
    fn = _CALLS.get(key)
    if fn is None:
        node = ast.Call(ast.Name(name, ast.Load()), [ast.Name(f"_a{i}", ast.Load()) for i in range(len(args))],
                        [ast.keyword(k, ast.Name(f"_k_{k}", ast.Load())) for k in sorted(kw)])
        fn = _CALLS[key] = special.compiler().compile(ast.fix_missing_locations(node))
    env = {**{f"_a{i}": v for i, v in enumerate(args)}, **{f"_k_{k}": v for k, v in kw.items()}}
    return fn(Scope(s.dtype, env, s.lesson, meta=s.meta))


SLIP_FUNCTIONS = {
    **{f"_no_d_{a}": plain(_no_derivative(a), 1, 3) for a in ACTIVATIONS},
    "_power_no_factor": plain(_power_no_factor, 2, 2),
    "_cross_entropy_sum": plain(_cross_entropy_sum, 2, 2),
    **{f"_other_axis_{r}": plain(_reduce_other(r), 1, 3) for r in ("sum", "mean", "var", "std", "max", "min")},
    **{f"_unbiased_{n}": plain(_unbiased_norm(n), 1, 5) for n in ("layer_norm", "batch_norm")},
    "_lookup_overwrite": plain(_lookup_overwrite, 2, 2),
    **{f"_unflipped_back_{c}": plain(_unflipped_backward(c), 2, 3) for c in ("conv1d", "conv2d")},
    **{f"_one_side_{c}": plain(_conv_one_side(c), 2, 3) for c in ("conv1d", "conv2d")},
    **{f"_ceil_{c}": plain(_conv_ceil(c), 2, 3) for c in ("conv1d", "conv2d")},
    **{f"_ceil_{p}": plain(_pool_ceil(p), 2, 4) for p in ("max_pool1d", "max_pool2d")},
    **{f"_no_plus_one_{n}": plain(_without_last(n), 2, 4) for n in _RUNNERS},
    **{f"_avg_for_{p}": plain(_max_to(p, "avg"), 2, 4) for p in ("max_pool1d", "max_pool2d")},
    **{f"_min_route_{p}": plain(_max_to(p, "min"), 2, 4) for p in ("max_pool1d", "max_pool2d")},
    "_softmax_other_axis": plain(_softmax_other_axis, 1, 2),
    "_numel_without_batch": plain(_numel_without_batch),
    "_numel_with_bias": plain(_numel_with_bias),
    **{f"_not_accumulated_{p}": plain(_not_accumulated(p), 2, 4) for p in ("max_pool1d", "max_pool2d")},
}
