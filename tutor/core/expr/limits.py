"""Bounds on the work an expression may ask for, checked before torch allocates or computes."""

from __future__ import annotations

import math

from tutor.core.errors import ExprError, LimitExceeded
from tutor.core.expr import budget

MAX_ELEMENTS = 5_000_000        # per tensor: 40 MB in float64
MAX_WORK = 300_000_000          # multiply-adds for one matmul or convolution
MAX_JACOBIAN_ROWS = 20_000      # one backward pass per row
MAX_SGD_STEPS = 100_000         # the evaluation's budget is what really bounds a run
MAX_INT = 2**53                 # integers stay exact in a float64
# How to get under the per-tensor and per-operation limits (the same words as docs/lesson-authoring.md).
HOW_SMALLER = ("use smaller sizes, or ask only for its shape, numel, bytes or flops, which are computed "
               "without making it")


def _shapes_only() -> bool:
    """On meta tensors nothing is allocated or computed, so only the evaluation's budget applies."""

    return getattr(budget.current(), "meta", False)


def listed_size(shape) -> int:
    """The numbers a shape costs as nested lists: an empty axis still lists every row (eye(10**8, 0))."""
    return math.prod(max(1, int(s)) for s in shape)


def check_numel(shape, what: str = "result") -> None:
    n = listed_size(shape)
    if n > MAX_ELEMENTS and _shapes_only():
        return
    if n > MAX_ELEMENTS:
        dims = "×".join(str(int(s)) for s in shape)
        raise LimitExceeded(f"{what} would have {n:,} elements ({dims}); the limit is {MAX_ELEMENTS:,} per tensor: "
                            f"{HOW_SMALLER}")


def check_work(work: int, what: str) -> None:
    if work > MAX_WORK and not _shapes_only():
        raise LimitExceeded(f"{what} would take {work:,} multiply-adds; the limit is {MAX_WORK:,} per operation: "
                            f"{HOW_SMALLER}")


def as_int(value, what: str) -> int:
    """A whole number for a size, index, stride or count; refuses fractions and huge values."""
    import torch

    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ExprError(f"{what} must be a single whole number, not a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExprError(f"{what} must be a whole number")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise ExprError(f"{what} must be a whole number, not {value:g}")
        value = int(value)
    if abs(value) > MAX_INT:
        raise ExprError(f"{what} is too large ({value:.3g}); whole numbers are at most 2**53 = {MAX_INT:,}")
    return value
