"""Shapes and costs without computing: an expression evaluated on meta tensors, under a counting budget."""

from __future__ import annotations

from collections.abc import Callable

from tutor.core.errors import ExprError
from tutor.core.expr import budget
from tutor.core.expr.budget import Budget, Cancelled
from tutor.core.expr.compile import CONTAINED, Scope, Value, counting_flops


class ShapesOnly(Budget):
    """Counts the work an evaluation would take without limiting it; cancel and wall time still stop it."""

    meta = True

    def __init__(self, outer: Budget):
        super().__init__()
        self.outer = outer

    def charge(self, ops: int, elements: int = 0, what: str = "") -> None:
        self.outer.check()
        self.ops += int(ops)
        self.elements += int(elements)

    def check(self) -> None:
        self.outer.check()


class Trial(Budget):
    """A small budget for trying the real computation first; cancel and wall time come from the outer one."""

    def __init__(self, outer: Budget):
        super().__init__(max_elements=2_000_000, max_ops=20_000_000, seconds=outer.seconds)
        self.outer = outer

    def check(self) -> None:
        super().check()
        self.outer.check()


def meta_scope(s: Scope) -> Scope:
    """The same names on the meta device (converted when first read); the lesson's own values are untouched."""
    return Scope(s.dtype, dict(s.env), s.lesson, meta=True)


def on_meta(fn: Callable[[Scope], Value], s: Scope) -> tuple[Value, int]:
    """fn evaluated on meta tensors, and the operations it would have taken."""
    counter = ShapesOnly(budget.current())
    with budget.running(counter):
        value = fn(s if s.meta else meta_scope(s))
    return value, counter.ops


def shapes_first(fn: Callable[[Scope], Value], s: Scope) -> Value:
    """fn on meta tensors when that can answer it (shapes, sizes, counts); the real values otherwise.

    Falls back for anything that needs numbers (an index read from a tensor, argmax); a real error shows
    up again in the real run, which the evaluation's budget guards.
    """
    if s.meta:
        return on_meta(fn, s)[0]  # counted, not limited: a real-size layer's shape costs nothing
    outer = budget.current()
    trial = Trial(outer)
    try:  # small work runs for real: torch's meta kernels for small ops load torch._dynamo (seconds)
        with budget.running(trial):
            value = fn(s)
    except Cancelled:
        raise
    except (ExprError, *CONTAINED) as err:
        if outer.cancelled:
            raise Cancelled() from None
        real_error = err
    else:
        outer.charge(trial.ops, trial.elements)
        return value
    try:
        return on_meta(fn, s)[0]
    except Cancelled:
        raise
    except (ExprError, *CONTAINED):
        raise real_error from None


def count_flops(fn: Callable[[Scope], Value], s: Scope) -> int:
    """PyTorch's FLOP count of evaluating fn: 2 per multiply-add of matmul, linear, conv and attention.

    The same formulas as torch.utils.flop_counter (a test checks each against FlopCounterMode), tallied by
    the operations themselves: FlopCounterMode imports torch._dynamo on first use, which takes seconds.
    """
    with counting_flops() as counts:
        fn(s)
    return sum(counts)
