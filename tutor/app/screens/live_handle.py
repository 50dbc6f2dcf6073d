"""One LiveLesson per open lesson, built and run in daemon threads that quitting never waits for."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from tutor.core.lesson.model import Lesson
from tutor.core.lesson.prose import has_template, placeholder

if TYPE_CHECKING:
    from tutor.core.check.step import StepChecker
    from tutor.core.evaluate.live import LiveLesson  # imports torch: never at run time here

T = TypeVar("T")
POLL_SECONDS = 0.05  # how often a waiting worker looks for a cancel (quit, back, a newer run)


class LiveUnavailable(Exception):
    """The lesson could not be evaluated (torch missing, or the lesson's math fails)."""


class LiveCancelled(Exception):
    """The learner left (quit, back, another lesson) before the evaluation finished."""


def run_cancellable(job: Callable[[], T], cancelled: Callable[[], bool],
                    on_cancel: Callable[[], None] = lambda: None) -> T:
    """Runs job in a daemon thread and waits for it here, giving up as soon as `cancelled()`.

    Textual's thread workers run in asyncio's default executor, which is joined when the app
    exits: a worker stuck in a long PyTorch call would keep the process (and a core) busy long
    after the screen closed. The work itself runs in a daemon thread instead; the worker only
    waits, so it can stop waiting at once, and the process can exit while the work is abandoned
    (`on_cancel` asks it to stop too: the evaluation's budget is cancelled).
    """
    outcome: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = job()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread as is
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, name="tutor-live", daemon=True).start()
    while not done.wait(POLL_SECONDS):
        if cancelled():
            on_cancel()
            raise LiveCancelled()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def checker(live: LiveLesson) -> StepChecker:
    """The live lesson's step checker; imports torch, so it is only ever called in a worker thread."""
    # lazy: torch, in a worker thread, never on the first screen's path
    from tutor.core.check.step import checker_for

    return checker_for(live)


def worker_cancelled() -> bool:
    """True when the Textual worker this thread runs has been cancelled (its screen went away)."""
    from textual.worker import NoActiveWorker, get_current_worker

    try:
        return get_current_worker().is_cancelled
    except NoActiveWorker:
        return False


class LiveHandle:
    def __init__(self, lesson: Lesson):
        self.lesson = lesson
        self.live: LiveLesson | None = None
        self.error: str | None = None
        self.prose: dict[str, str] = {}  # templated prose -> rendered with the live numbers (core-made)
        self._ready = threading.Event()
        self._cancelled = threading.Event()
        # LiveLesson keeps autograd state, so two evaluations must not use it at once.
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def text(self, raw: str) -> str:
        """Lesson prose as shown: its {{ }} quotes filled in once computed, '…' until then."""

        if not has_template(raw):
            return raw
        return self.prose.get(raw) or placeholder(raw)

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def build(self) -> None:
        """Imports torch and evaluates the lesson; call it in a worker thread, never on the UI thread."""
        try:
            self.live = run_cancellable(self._new_live, self._should_stop)
        except LiveCancelled:
            self.error = "cancelled"
        except Exception as error:  # noqa: BLE001 - shown to the learner instead of ending the app
            self.error = str(error) or type(error).__name__
        finally:
            self._ready.set()

    def _new_live(self) -> LiveLesson:
        # lazy: torch, in a worker thread, never on the first screen's path
        from tutor.core.evaluate.live import LiveLesson

        return LiveLesson(self.lesson)

    def call(self, job: Callable[[LiveLesson], T]) -> T:
        """Waits until built, then runs job(live) alone; raises LiveUnavailable if it could not be
        built, LiveCancelled if the learner left (or the worker was cancelled) first."""
        while not self._ready.wait(POLL_SECONDS):
            if self._should_stop():
                raise LiveCancelled()
        if self.live is None:
            raise LiveUnavailable(self.error or "the lesson could not be evaluated")
        live = self.live

        def locked() -> T:
            with self._lock:
                if self.cancelled:
                    raise LiveCancelled()
                return job(live)

        return run_cancellable(locked, self._should_stop, self._cancel_running)

    def cancel(self) -> None:
        """Stops whatever this lesson is evaluating, from any thread; later calls are refused."""
        self._cancelled.set()
        self._cancel_running()

    def _should_stop(self) -> bool:
        return self.cancelled or worker_cancelled()

    def _cancel_running(self) -> None:
        # LiveLesson.cancel() makes the evaluation's budget raise at its next charge; a LiveLesson
        # without one (or not yet built) is simply abandoned in its daemon thread.
        cancel = getattr(self.live, "cancel", None)
        if callable(cancel):
            try:
                cancel()
            except Exception:  # noqa: BLE001 - cancelling must never raise into the UI
                pass
