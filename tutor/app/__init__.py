"""The terminal app; `run_app` is what the CLI calls, and Textual is imported only inside it."""

from __future__ import annotations

import contextlib
import os
import sys

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

    app = TutorApp(catalog, start=start, drill_seed=drill_seed, drill_topic=drill_topic,
                   review_skills=review_skills, watch=watch)
    app.run(mouse=mouse)
    for line in app.exit_notices:  # the terminal is the learner's again: say what was not saved
        print(f"tutor: {line}", file=sys.stderr)
    if exit_process and app.return_code is not None:
        leave_now(app.return_code)
    return app.return_code or 0


def leave_now(code: int) -> None:
    """Ends the process without Python's clean-up, which with PyTorch loaded takes one to two
    seconds of CPU on a busy machine (freeing torch's modules and thread pools), and would also
    wait for any evaluation abandoned in a thread. Progress is already saved by then: the app
    closes the progress store when it unmounts. Only the standard streams need flushing."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)

