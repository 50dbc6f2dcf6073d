"""The one graph runner: compiles expressions and runs a graph's lines from the original givens."""

from __future__ import annotations

import ast
import contextlib
from typing import Any

import torch

from tutor.core.errors import ExprError, LessonError, LessonErrors, LimitExceeded
from tutor.core.expr import budget as budgets
from tutor.core.expr import limits
from tutor.core.expr.compile import CONTAINED, Compiled, Scope, binary
from tutor.core.expr.special import compiler
from tutor.core.expr.syntax import Assignment, Expr

_COMPILER = compiler()
_AUG = {"+=": "Add", "-=": "Sub", "*=": "Mult", "/=": "Div"}


def compile_expr(expr: Expr) -> Compiled:
    return _COMPILER.compile(expr.tree)


def plain_data(value: Any) -> tuple[tuple[int, ...], Any]:
    """A tensor or number as (shape, float or nested list of floats)."""
    if isinstance(value, torch.Tensor):
        t = value.detach()
        size = limits.listed_size(t.shape)
        budgets.charge(size, 4 * size, "turning the result into numbers")
        if t.is_floating_point() or t.dtype == torch.int64:
            return tuple(t.shape), t.double().tolist() if t.dim() else float(t.item())
    if isinstance(value, (int, float)):
        return (), float(value)
    raise ExprError(f"expected a number or a tensor, got {type(value).__name__}")


def run_graph(lines: list[tuple[Assignment, Compiled]], start_values: dict[str, Any], dtype: torch.dtype,
              budget: Any = None, pinned: dict[str, Any] | None = None, *, lesson: Any = None,
              file: str = "lesson", meta: bool = False) -> Scope:
    """Runs a graph's lines from the original givens: the one way any graph is executed.

    `pinned` maps node names to values used instead of computing that node (a learner's own numbers,
    an error carried forward); each becomes a fresh differentiable leaf. `budget` (a tutor.core.expr.budget
    Budget) is activated for the run when given. `lesson` is the LiveLesson that sgd() and flops() ask.
    """
    with _running(budget):
        leaves = {name: _leaf(value, dtype) for name, value in (pinned or {}).items()}
        scope = Scope(dtype, {**start_values, **leaves}, lesson, meta=meta)
        for assignment, fn in lines:
            target = assignment.target
            if target in leaves:
                scope.env[target] = leaves[target]
                continue
            try:
                value = fn(scope)
                if assignment.op != "=":
                    op = getattr(ast, _AUG[assignment.op])
                    value = binary(op, scope.env[target], value, dtype)
            except ExprError as err:
                raise LessonErrors([LessonError(file, f"graph line {assignment.line}", str(err))],
                                   over_limit=isinstance(err, LimitExceeded)) from None
            except (*CONTAINED, KeyError) as err:
                reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise LessonErrors([LessonError(file, f"graph line {assignment.line}", reason)]) from None
            if isinstance(value, torch.Tensor) and value.is_floating_point() and not value.requires_grad:
                # built from constants only (x = ones(3, 1)): an input in all but name, so it is a leaf
                # that gradients can be taken with respect to, like a given
                value = value.detach().requires_grad_(True)
            scope.env[target] = value
        return scope


def _leaf(value: Any, dtype: torch.dtype) -> torch.Tensor:
    tensor = value if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=dtype)
    tensor = tensor.detach().to(dtype).clone()
    return tensor.requires_grad_(True) if tensor.is_floating_point() else tensor


def _running(budget: Any):
    """The budget's activation context, or a no-op when there is none."""
    if budget is None:
        return contextlib.nullcontext()
    return budgets.running(budget)
