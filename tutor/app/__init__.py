"""The terminal app; `run_app` is what the CLI calls, and Textual is imported only inside it."""

from __future__ import annotations

import sys


def run_app(
    *,
    lesson_ref: str | None = None,
    extra_dirs: tuple[str, ...] = (),
    drill_topic: str | None = None,
    drill_seed: int | None = None,
    mouse: bool = True,
) -> int:
    """Opens the app (the lesson list, or a lesson); 2 if the lesson or topic asked for does not exist."""
    from tutor.core.catalog import Catalog, UnknownLesson
    from tutor.core.errors import LessonErrors

    catalog = Catalog.load(extra_dirs)
    start = None
    try:
        if lesson_ref is not None:
            start = catalog.find(lesson_ref)
            catalog.lesson(lesson_ref)  # raises if the file does not load
        elif drill_topic is not None:
            # TODO(lead): open the drill screen (fresh variants from tutor.core drills) instead of
            # the topic's first lesson, once drills land; drill_seed is kept for it.
            start = _first_in_topic(catalog, drill_topic)
    except (UnknownLesson, LessonErrors) as error:
        print(f"tutor: {error}", file=sys.stderr)
        return 2

    from tutor.app.app import TutorApp

    app = TutorApp(catalog, start=start, drill_seed=drill_seed)
    app.run(mouse=mouse)
    return app.return_code or 0


def _first_in_topic(catalog, topic: str):
    from tutor.core.catalog import UnknownLesson

    entries = [e for e in catalog.in_topic(topic) if e.lesson is not None]
    if not entries:
        topics = ", ".join(catalog.topics()) or "none"
        raise UnknownLesson(f"no lessons in topic {topic!r} (topics: {topics})")
    return entries[0]
