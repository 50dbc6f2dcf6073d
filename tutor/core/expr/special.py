"""Ask-only functions that differentiate, train or measure the graph: grad, jacobian, sgd, flops..."""

from __future__ import annotations

import ast

import torch
from torch.utils.flop_counter import FlopCounterMode

from tutor.core.errors import ExprError
from tutor.core.expr import limits
from tutor.core.expr.compile import Compiled, Compiler, Scope, Value
from tutor.core.expr.functions import FUNCTIONS, Builder, plain, tensor


def _args(node: ast.Call, count: int, name: str, usage: str) -> None:
    if len(node.args) != count:
        raise ExprError(f"{name}() is written {usage}", node.col_offset)


def _gradient(f: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if not f.requires_grad or not x.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(f, x, retain_graph=True, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


def _build_grad(compiler: Compiler, node: ast.Call) -> Compiled:
    _args(node, 2, "grad", "grad(f, x): the gradient of a scalar f with respect to x")
    f, x = compiler.compile(node.args[0]), compiler.compile(node.args[1])

    def run(s: Scope) -> torch.Tensor:
        fv, xv = tensor(s, f(s)), tensor(s, x(s))
        if fv.numel() != 1:
            raise ExprError(f"grad(f, x) needs a scalar f, but f has shape {tuple(fv.shape)}; use jacobian(f, x)")
        return _gradient(fv.reshape(()), xv)

    return run


def _build_jacobian(compiler: Compiler, node: ast.Call) -> Compiled:
    _args(node, 2, "jacobian", "jacobian(f, x)")
    f, x = compiler.compile(node.args[0]), compiler.compile(node.args[1])

    def run(s: Scope) -> torch.Tensor:
        fv, xv = tensor(s, f(s)), tensor(s, x(s))
        rows, cols = fv.numel(), xv.numel()
        if rows > limits.MAX_JACOBIAN_ROWS:
            raise ExprError(f"jacobian: f has {rows:,} entries; the limit is {limits.MAX_JACOBIAN_ROWS:,}")
        limits.check_numel((rows, cols), "jacobian")
        flat = fv.reshape(-1)
        # Numerator layout: row i is the gradient of the i-th entry of f, flattened.
        return torch.stack([_gradient(flat[i], xv).reshape(-1) for i in range(rows)]) if rows else \
            torch.zeros(0, cols, dtype=fv.dtype)

    return run


def _build_shape(compiler: Compiler, node: ast.Call) -> Compiled:
    _args(node, 1, "shape", "shape(expr)")
    inner = compiler.compile(node.args[0])

    def run(s: Scope) -> tuple[int, ...]:
        value = inner(s)
        return tuple(int(n) for n in value.shape) if isinstance(value, torch.Tensor) else ()

    return run


def _build_sgd(compiler: Compiler, node: ast.Call) -> Compiled:
    if not 2 <= len(node.args) <= 3:
        raise ExprError("sgd() is written sgd(f, lr, steps=1)", node.col_offset)
    f, lr = compiler.compile(node.args[0]), compiler.compile(node.args[1])
    steps_node = node.args[2] if len(node.args) == 3 else next(
        (k.value for k in node.keywords if k.arg == "steps"), None)
    steps = compiler.compile(steps_node) if steps_node is not None else (lambda s: 1)

    def run(s: Scope) -> Value:
        if s.lesson is None:
            raise ExprError("sgd() can only be used in a lesson's ask")
        n = limits.as_int(steps(s), "steps")
        if not 0 <= n <= limits.MAX_SGD_STEPS:
            raise ExprError(f"sgd(): steps must be from 0 to {limits.MAX_SGD_STEPS}")
        rate = float(tensor(s, lr(s)).item())
        return f(s.lesson.scope_after_sgd(rate, n))

    return run


def _build_flops(compiler: Compiler, node: ast.Call) -> Compiled:
    _args(node, 1, "flops", "flops(expr)")
    arg = node.args[0]
    inner = compiler.compile(arg)
    graph_name = arg.id if isinstance(arg, ast.Name) else None

    def run(s: Scope) -> int:
        # A graph name is counted by re-running the line that computes it.
        target = inner
        if graph_name is not None and s.lesson is not None:
            target = s.lesson.line_for(graph_name) or inner
        with FlopCounterMode(display=False) as counter:
            target(s)
        return int(counter.get_total_flops())

    return run


def _bytes(s: Scope, x: Value) -> int:
    t = tensor(s, x)
    return int(t.numel() * t.element_size())


ASK_FUNCTIONS: dict[str, Builder] = {
    "grad": _build_grad, "jacobian": _build_jacobian, "shape": _build_shape,
    "sgd": _build_sgd, "flops": _build_flops, "bytes": plain(_bytes),
}

ALL_FUNCTIONS: dict[str, Builder] = {**FUNCTIONS, **ASK_FUNCTIONS}


def compiler() -> Compiler:
    return Compiler(ALL_FUNCTIONS)
