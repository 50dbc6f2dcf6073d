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

# d/dz of each activation, so a slip that forgets it can pass the gradient straight through
ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "sin": torch.sin,
               "cos": torch.cos, "exp": torch.exp}


def _straight_through(value: torch.Tensor, slipped: torch.Tensor) -> torch.Tensor:
    """`value` forward, but gradients flow as they would through `slipped`."""
    return slipped - slipped.detach() + value.detach()


def _no_derivative(name: str):
    def run(s: Scope, x: Value) -> torch.Tensor:
        t = tensor(s, x)
        return _straight_through(ACTIVATIONS[name](t), t)

    return run


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
    **{f"_no_d_{a}": plain(_no_derivative(a)) for a in ACTIVATIONS},
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
