"""Ask-only functions that differentiate, train or measure the graph: grad, jacobian, sgd, flops..."""

from __future__ import annotations

import ast
from collections.abc import Callable

import torch

from tutor.core.errors import ExprError, LimitExceeded
from tutor.core.expr import budget, limits
from tutor.core.expr.compile import Compiled, Compiler, Scope, Value
from tutor.core.expr.functions import FUNCTIONS, Builder, tensor
from tutor.core.expr.meta import count_flops, shapes_first
from tutor.core.expr.optimize import optimizer_settings
from tutor.core.expr.signatures import TABLE
from tutor.core.expr.syntax import check_call, keyword_name


def _args(node: ast.Call, count: int, name: str, usage: str) -> None:
    if len(node.args) != count:
        raise ExprError(f"{name}() is written {usage}", node.col_offset)


def _gradient(f: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if not f.requires_grad or not x.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(f, x, retain_graph=True, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


def _backward_cost(s: Scope, f_cost: int) -> int:
    """A backward pass costs about what the forward work did: f's own, or the lesson's whole graph."""
    return max(f_cost, getattr(s.lesson, "graph_ops", 0), 1)


def _measured(fn: Compiled, s: Scope) -> tuple[Value, int]:
    before = budget.current().ops
    value = fn(s)
    return value, budget.current().ops - before


def _build_grad(compiler: Compiler, node: ast.Call) -> Compiled:
    _args(node, 2, "grad", "grad(f, x): the gradient of a scalar f with respect to x")
    f, x = compiler.compile(node.args[0]), compiler.compile(node.args[1])

    def run(s: Scope) -> torch.Tensor:
        fv, cost = _measured(f, s)
        fv, xv = tensor(s, fv), tensor(s, x(s))
        if fv.numel() != 1:
            raise ExprError(f"grad(f, x) needs a scalar f, but f has shape {tuple(fv.shape)}; use jacobian(f, x)")
        budget.charge(_backward_cost(s, cost), xv.numel(), "grad()")
        return _gradient(fv.reshape(()), xv)

    return run


def _build_jacobian(compiler: Compiler, node: ast.Call) -> Compiled:
    _args(node, 2, "jacobian", "jacobian(f, x)")
    f, x = compiler.compile(node.args[0]), compiler.compile(node.args[1])

    def run(s: Scope) -> torch.Tensor:
        fv, cost = _measured(f, s)
        fv, xv = tensor(s, fv), tensor(s, x(s))
        rows, cols = fv.numel(), xv.numel()
        if rows > limits.MAX_JACOBIAN_ROWS:
            raise LimitExceeded(f"jacobian: f has {rows:,} entries; the limit is {limits.MAX_JACOBIAN_ROWS:,} "
                                "rows (one backward pass each): ask for the Jacobian of a slice of f, or its shape")
        limits.check_numel((rows, cols), "jacobian")
        per_row = _backward_cost(s, cost) + cols
        budget.charge(rows * per_row, rows * cols, f"jacobian() with {rows:,} rows")  # refused before any row
        if s.meta:
            return torch.empty(rows, cols, dtype=fv.dtype, device="meta")
        flat = fv.reshape(-1)
        out = []
        for i in range(rows):  # numerator layout: row i is the gradient of the i-th entry of f, flattened
            budget.current().check()
            out.append(_gradient(flat[i], xv).reshape(-1))
        return torch.stack(out) if rows else torch.zeros(0, cols, dtype=fv.dtype)

    return run


def _shape_of(value: Value) -> tuple[int, ...]:
    return tuple(int(n) for n in value.shape) if isinstance(value, torch.Tensor) else ()


def _build_shape(compiler: Compiler, node: ast.Call) -> Compiled:
    _args(node, 1, "shape", "shape(expr)")
    inner = compiler.compile(node.args[0])
    return lambda s: _shape_of(shapes_first(inner, s))


def _build_counting(count: Callable[[Scope, Value], int]) -> Builder:
    """numel(x) and bytes(x) need only x's shape and dtype: x is evaluated on meta tensors when it can be."""

    def build(compiler: Compiler, node: ast.Call) -> Compiled:
        check_call(node)
        inner = compiler.compile(node.args[0])
        return lambda s: count(s, shapes_first(inner, s))

    return build


def _numel(s: Scope, value: Value) -> int:
    return int(value.numel()) if isinstance(value, torch.Tensor) else 1


def _bytes(s: Scope, value: Value) -> int:
    t = tensor(s, value)
    return int(t.numel() * t.element_size())


def _build_optimizer(kind: str, ascent: bool = False) -> Builder:
    """sgd(), adam() or rmsprop(); with `ascent`, the same steps taken up the gradient (a slip diagnosis computes,
    as torch.optim's maximize=True does)."""
    def build(compiler: Compiler, node: ast.Call) -> Compiled:
        if not ascent:
            check_call(node)
        sig = TABLE[kind]
        f = compiler.compile(node.args[0])
        given = {sig.params[i]: compiler.compile(a) for i, a in enumerate(node.args[1:], start=1)}
        given |= {keyword_name(k, node.col_offset): compiler.compile(k.value) for k in node.keywords}

        def run(s: Scope) -> Value:
            if s.lesson is None:
                raise ExprError(f"{kind}() can only be used in a lesson's ask")
            options = {k: v(s) for k, v in given.items()}
            lr = options.pop("lr")
            n = limits.as_int(options.pop("steps", 1), "steps")
            if not 0 <= n <= limits.MAX_SGD_STEPS:
                raise LimitExceeded(f"{kind}(): steps must be from 0 to {limits.MAX_SGD_STEPS:,}")
            settings = optimizer_settings(kind, lr, options) | {"maximize": ascent}
            return f(s.lesson.scope_after_training(kind, settings, n))

        return run

    return build


def _build_flops(compiler: Compiler, node: ast.Call) -> Compiled:
    _args(node, 1, "flops", "flops(expr)")
    arg = node.args[0]
    inner = compiler.compile(arg)
    graph_name = arg.id if isinstance(arg, ast.Name) else None

    def run(s: Scope) -> int:
        # A graph name is counted by re-running the line that computes it (on meta tensors when it can be).
        target = inner
        if graph_name is not None and s.lesson is not None:
            target = s.lesson.line_for(graph_name) or inner

        return shapes_first(lambda scope: count_flops(target, scope), s)

    return run


ASK_FUNCTIONS: dict[str, Builder] = {
    "grad": _build_grad, "jacobian": _build_jacobian, "shape": _build_shape,
    "sgd": _build_optimizer("sgd"), "adam": _build_optimizer("adam"), "rmsprop": _build_optimizer("rmsprop"),
    "flops": _build_flops,
    "bytes": _build_counting(_bytes),
}

ALL_FUNCTIONS: dict[str, Builder] = {**FUNCTIONS, "numel": _build_counting(_numel), **ASK_FUNCTIONS}
# Steps up the gradient, for diagnosis (not part of the language: names starting with _ cannot be written).
ASCENT_FUNCTIONS: dict[str, Builder] = {f"_ascent_{k}": _build_optimizer(k, ascent=True)
                                        for k in ("sgd", "adam", "rmsprop")}


def compiler() -> Compiler:
    return Compiler(ALL_FUNCTIONS)
