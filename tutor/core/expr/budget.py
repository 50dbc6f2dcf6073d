"""One work budget per evaluation: elements made, operations done and CPU time, cancellable from any thread."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from tutor.core.errors import LimitExceeded, TutorError

# An element is one number a tensor holds (8 bytes in float64); a Python list of floats costs 4 per number.
MAX_ELEMENTS = 40_000_000
# An operation is one multiply-add of a matmul or convolution, or one element of an elementwise result.
MAX_OPS = 4_000_000_000
SECONDS = 10.0         # of the evaluating thread's CPU time: work, however busy the machine is
WALL_SECONDS = 30.0    # of wall time, for checks made from another thread, which cannot read that CPU time
# How to get under any of these limits, said with each (the same words as docs/lesson-authoring.md).
HOW = ("use smaller sizes or fewer steps, or ask only for shapes and costs (shape, numel, bytes, flops), "
       "which are computed without running the layers")

_local = threading.local()  # this thread's running budget and ceilings


class BudgetExceeded(LimitExceeded):
    """An evaluation that would do more work than one evaluation may; says what and how much."""


class Cancelled(TutorError):
    """An evaluation stopped because someone asked it to (the learner left the screen, or quit)."""

    def __init__(self, message: str = "the evaluation was cancelled"):
        super().__init__(message)
        self.message = message


class Budget:
    """Counts what one evaluation has spent; `charge` refuses before the limit is crossed."""

    def __init__(self, max_elements: int = MAX_ELEMENTS, max_ops: int = MAX_OPS, seconds: float = SECONDS):
        self.max_elements = max_elements
        self.max_ops = max_ops
        self.seconds = seconds
        self.elements = 0
        self.ops = 0
        self._started = time.monotonic()
        self._thread = threading.get_ident()
        self._cpu_started = time.thread_time()
        self._cancelled = threading.Event()
        # the ceilings over many evaluations that this thread is working under now (see Ceiling)
        self._ceilings: tuple[Ceiling, ...] = tuple(getattr(_local, "ceilings", ()))

    def charge(self, ops: int, elements: int = 0, what: str = "") -> None:
        """Adds work about to be done; raises BudgetExceeded (before doing it) or Cancelled."""
        self.check()
        ops, elements = int(ops), int(elements)
        label = what or "this evaluation"
        if self.ops + ops > self.max_ops:
            raise BudgetExceeded(f"{label} would take {self.ops + ops:,} operations in all; "
                                 f"one evaluation may take {self.max_ops:,}: {HOW}")
        if self.elements + elements > self.max_elements:
            raise BudgetExceeded(f"{label} would make {self.elements + elements:,} numbers in all; "
                                 f"one evaluation may make {self.max_elements:,}: {HOW}")
        self.ops += ops
        self.elements += elements

    def check(self) -> None:
        """Raises Cancelled after cancel(), BudgetExceeded once the evaluation has used up its time."""
        if self._cancelled.is_set():
            raise Cancelled()
        for ceiling in self._ceilings:
            ceiling.check()
        if self._thread == threading.get_ident():
            # The evaluating thread's own CPU time measures its work: on a busy machine the evaluation
            # takes longer by the clock but does no more work, so the clock never stops it here.
            if time.thread_time() - self._cpu_started > self.seconds:
                raise BudgetExceeded(f"the evaluation took more than {self.seconds:g} seconds of work "
                                     f"and was stopped: {HOW}")
            return
        if time.monotonic() - self._started > max(WALL_SECONDS, self.seconds):
            raise BudgetExceeded(f"the evaluation took longer than {max(WALL_SECONDS, self.seconds):g} seconds "
                                 f"and was stopped: {HOW}")

    def cancel(self) -> None:
        """Safe from any thread: the next charge or check in the evaluating thread raises Cancelled."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()


class CeilingReached(BudgetExceeded):
    """A ceiling over many evaluations was reached; `ceiling` says which."""

    def __init__(self, ceiling: Ceiling):
        super().__init__(ceiling.message)
        self.ceiling = ceiling


class Ceiling:
    """A limit over many evaluations done by one thread: `tutor check` of one file (every drill seed
    and redraw) or of a whole run, all the redraws of one drill seed. Every Budget made in the thread
    while the ceiling is active (see `ceiling()`) stops too once the ceiling's CPU seconds are spent,
    or as soon as `stop` is set (a learner who quits during a drill's draw)."""

    def __init__(self, seconds: float | None, message: str, stop: threading.Event | None = None):
        self.seconds = seconds
        self.message = message
        self.stop = stop
        self._thread = threading.get_ident()
        self._cpu_started = time.thread_time()
        self.reached = False

    def check(self) -> None:
        """Raises Cancelled once `stop` is set, CeilingReached once the seconds are spent (and after)."""
        if self.stop is not None and self.stop.is_set():
            raise Cancelled()
        if self.reached:
            raise CeilingReached(self)
        if (self.seconds is not None and self._thread == threading.get_ident()
                and time.thread_time() - self._cpu_started > self.seconds):
            self.reached = True
            raise CeilingReached(self)

    def spent(self) -> float:
        return time.thread_time() - self._cpu_started


@contextlib.contextmanager
def ceiling(c: Ceiling) -> Iterator[Ceiling]:
    """Makes `c` a ceiling over every evaluation this thread starts in the block (ceilings nest)."""
    outer = getattr(_local, "ceilings", ())
    _local.ceilings = (*outer, c)
    try:
        yield c
    finally:
        _local.ceilings = outer


def check_ceilings() -> None:
    """Raises as Ceiling.check does for every ceiling active in this thread (between evaluations)."""
    for c in getattr(_local, "ceilings", ()):
        c.check()


class _Unmetered(Budget):
    """The budget outside any evaluation: per-operation limits still apply, totals are not kept."""

    def __init__(self) -> None:
        super().__init__()

    def charge(self, ops: int, elements: int = 0, what: str = "") -> None:
        return None

    def check(self) -> None:
        return None

    def cancel(self) -> None:
        return None


_UNMETERED = _Unmetered()


def current() -> Budget:
    """The budget of the evaluation running in this thread, or a harmless one that counts nothing."""
    return getattr(_local, "budget", None) or _UNMETERED


@contextlib.contextmanager
def running(b: Budget) -> Iterator[Budget]:
    """Makes `b` the current budget of this thread for the block (nesting restores the outer one)."""
    outer, outer_meta = getattr(_local, "budget", None), getattr(_local, "meta", False)
    _local.budget = b
    _local.meta = getattr(b, "meta", False)
    try:
        yield b
    finally:
        _local.budget, _local.meta = outer, outer_meta


def shapes_only() -> bool:
    """Whether this thread's evaluation makes tensors on the meta device (shapes only; one attribute read, as
    every operation asks)."""
    return getattr(_local, "meta", False)


@contextlib.contextmanager
def numbers_for_real() -> Iterator[None]:
    """Inside an evaluation on meta tensors, arithmetic on plain numbers runs for real."""
    outer = getattr(_local, "meta", False)
    _local.meta = False
    try:
        yield
    finally:
        _local.meta = outer


def charge(ops: int, elements: int = 0, what: str = "") -> None:
    """Charges the current budget."""
    current().charge(ops, elements, what)
