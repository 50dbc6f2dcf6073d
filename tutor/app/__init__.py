"""The terminal app; `run_app` is what the CLI calls, and Textual is imported only inside it."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

from tutor.core.drill.variants import DrillError, resolve_topic
from tutor.core.errors import LessonErrors
from tutor.core.lesson.catalog import Catalog, UnknownLesson
from tutor.core.vocabulary import ExitCode


def run_app(
    *,
    lesson_ref: str | None = None,
    extra_dirs: tuple[str, ...] = (),
    drill_topic: str | None = None,
    drill_seed: int | None = None,
    review_skills: list[str] | None = None,
    mouse: bool = True,
    exit_process: bool = False,
    watch: bool = False,
) -> int:
    """Opens the app (the lesson list, or a lesson); 2 if the lesson or topic asked for does not exist.

    With `exit_process` (the `tutor` command itself), the process ends as soon as the app has
    closed and saved: see leave_now.
    """

    catalog = Catalog.load(extra_dirs)
    start = None
    try:
        if lesson_ref is not None:
            start = catalog.find(lesson_ref)
            catalog.lesson(lesson_ref)  # raises if the file does not load
        elif drill_topic is not None:
            resolve_topic(catalog, drill_topic)  # raises for a topic without drills
    except (UnknownLesson, LessonErrors, DrillError) as error:
        print(f"tutor: {error}", file=sys.stderr)
        return ExitCode.BAD_INPUT

    from tutor.app.app import TutorApp  # lazy: Textual, loaded only once the arguments are known to be good
    from tutor.app.driver import ending_driver  # lazy: Textual too

    app = TutorApp(catalog, start=start, drill_seed=drill_seed, drill_topic=drill_topic,
                   review_skills=review_skills, watch=watch)
    ending = _Ending(app)
    app.driver_class = ending_driver(app.driver_class, lambda: ending.begin(signal.SIGHUP))
    previous = {sig: signal.signal(sig, ending.on_signal) for sig in (signal.SIGHUP, signal.SIGTERM)}
    try:
        app.run(mouse=mouse)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    code = app.return_code
    if ending.signum is not None:
        code = 128 + ending.signum
    for line in app.exit_notices:  # the terminal is the learner's again: say what was not saved
        with contextlib.suppress(OSError, ValueError):
            print(f"tutor: {line}", file=sys.stderr)
    if (exit_process or ending.signum is not None) and code is not None:
        leave_now(code)
    return code or 0


class _Ending:
    """Ends the app when its terminal goes: SIGHUP (a dropped SSH connection), SIGTERM, or the
    end of its input (a terminal that vanished without a SIGHUP). Within a second the process
    is gone: the app is asked to close (the progress store gets a moment to save what waits),
    and a watchdog ends the process if that has not happened by then. Every answer shown is in
    the journal on disk already, so nothing is lost either way; the next tutor command saves it."""

    STORE_SECONDS = 0.3   # what the store may still take to save waiting answers
    DEADLINE_SECONDS = 0.9

    def __init__(self, app):
        self.app = app
        self.signum: int | None = None
        self._lock = threading.Lock()

    def on_signal(self, signum, frame) -> None:
        self.begin(signum)

    def begin(self, signum: int) -> None:
        with self._lock:
            if self.signum is not None:
                return
            self.signum = signum
        with contextlib.suppress(Exception):
            self.app.store.leave_soon(self.STORE_SECONDS)
        threading.Thread(target=self._close, name="tutor-ending", daemon=True).start()

    def _close(self) -> None:
        deadline = time.monotonic() + self.DEADLINE_SECONDS
        asked = threading.Thread(target=self._ask_app_to_exit, daemon=True)
        asked.start()
        asked.join(max(0.0, deadline - time.monotonic()))
        time.sleep(max(0.0, deadline - time.monotonic()))
        # still here: the app could not close in time (a terminal that is gone may block its
        # writes); the journal has every answer, so the process simply ends
        with contextlib.suppress(Exception):
            self.app.store.close(wait=0)
        leave_now(128 + (self.signum or signal.SIGTERM))

    def _ask_app_to_exit(self) -> None:
        with contextlib.suppress(Exception):
            self.app.call_from_thread(self.app.exit)


def leave_now(code: int) -> None:
    """Ends the process without Python's clean-up, which with PyTorch loaded takes one to two
    seconds of CPU on a busy machine (freeing torch's modules and thread pools), and would also
    wait for any evaluation abandoned in a thread. Progress is already saved by then: the app
    closes the progress store when it unmounts. Only the standard streams need flushing."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)

