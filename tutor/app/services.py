"""What the screens and the palette ask of the app. The app imports the screens, so they know it
only by this protocol (tutor.app.app.TutorApp provides it; the type checker holds it to that)."""

from __future__ import annotations

from typing import Protocol

from tutor.core.drill.run import DrillRun
from tutor.core.lesson.catalog import Catalog, Entry
from tutor.core.progress.drafts import Drafts
from tutor.core.progress.store import ProgressStore


class TutorServices(Protocol):
    catalog: Catalog
    store: ProgressStore
    drafts: Drafts        # typed, unchecked work
    drill_seed: int | None  # the variant being drilled, stored with each drill attempt

    def status_text(self) -> str: ...

    def resume_point(self) -> tuple[Entry, str] | None: ...

    def in_catalog(self, lesson_id: str) -> bool: ...

    def next_entry(self, entry: Entry) -> Entry | None: ...

    def continue_learning(self) -> None: ...

    def open_lesson(self, lesson_id: str, step_id: str | None = None, *, entry: Entry | None = None) -> None: ...

    def back_to_list(self, lesson_id: str | None = None) -> None: ...

    def start_drill(self, topic: str, seed: int | None = None) -> None: ...

    def show_drill(self, run: DrillRun, topic: str, replace: bool = False) -> None: ...

    def reviews_due(self) -> list[str]: ...

    def start_review(self, skills: list[str] | None = None) -> None: ...
