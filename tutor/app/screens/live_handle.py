"""One LiveLesson per open lesson, built in a worker thread; other workers wait for it and take turns."""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

from tutor.core.lesson import Lesson

T = TypeVar("T")


class LiveUnavailable(Exception):
    """The lesson could not be evaluated (torch missing, or the lesson's math fails)."""


class LiveHandle:
    def __init__(self, lesson: Lesson):
        self.lesson = lesson
        self.live = None
        self.error: str | None = None
        self._ready = threading.Event()
        # LiveLesson keeps autograd state, so two workers must not use it at once.
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def build(self) -> None:
        """Imports torch and evaluates the lesson; call it in a worker thread, never on the UI thread."""
        try:
            from tutor.core.live import LiveLesson

            self.live = LiveLesson(self.lesson)
        except Exception as error:  # noqa: BLE001 - shown to the learner instead of ending the app
            self.error = str(error) or type(error).__name__
        finally:
            self._ready.set()

    def call(self, job: Callable[[object], T]) -> T:
        """Waits until built, then runs job(live) alone; raises LiveUnavailable if it could not be built."""
        self._ready.wait()
        if self.live is None:
            raise LiveUnavailable(self.error or "the lesson could not be evaluated")
        with self._lock:
            return job(self.live)
