"""The terminal app; `run_app` is what the CLI calls, and Textual is imported only inside it."""

from __future__ import annotations

import sys


def run_app(
    *,
    lesson_ref: str | None = None,
    extra_dirs: tuple[str, ...] = (),
    drill_topic: str | None = None,
    drill_seed: int | None = None,
    review_skills: list[str] | None = None,
    mouse: bool = True,
) -> int:
    """Opens the app (the lesson list, or a lesson); 2 if the lesson or topic asked for does not exist."""
    from tutor.core.catalog import Catalog, UnknownLesson
    from tutor.core.drill import DrillError, resolve_topic
    from tutor.core.errors import LessonErrors

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
        return 2

    from tutor.app.app import TutorApp

    app = TutorApp(catalog, start=start, drill_seed=drill_seed, drill_topic=drill_topic,
                   review_skills=review_skills)
    app.run(mouse=mouse)
    for line in app.exit_notices:  # the terminal is the learner's again: say what was not saved
        print(f"tutor: {line}", file=sys.stderr)
    return app.return_code or 0

