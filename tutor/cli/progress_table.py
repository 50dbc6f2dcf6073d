"""`tutor progress`: the learner's lessons by topic, as wide as the terminal, then drills and where it is saved."""

from __future__ import annotations

import textwrap
from datetime import datetime

from tutor.cli.tables import Column, terminal_width, text_table
from tutor.core.progress.report import LessonProgress, status_from_counts
from tutor.core.progress.store import ProgressStore

# Each topic on a line of its own, then its lessons (indented). The lesson column takes whatever
# room the others leave and cuts a title only where it must, with …; the others keep every cell whole.
COLUMNS = (Column("lesson", flex="ellipsis", min_width=20), Column("status"), Column("solved", "right"),
           Column("tries", "right"), Column("right", "right"), Column("last activity"))
INDENT = "  "


def format_progress(store: ProgressStore, lessons: list[tuple[str, str, str, int]],
                    width: int | None = None) -> str:
    """The `tutor progress` table for (lesson_id, topic, title, total_steps) rows, as wide as the
    terminal (`width` columns if given)."""
    width = width or terminal_width()
    progress = store.lesson_states()
    rows: list[list[object] | str] = []
    previous_topic = None
    for lesson_id, topic, title, total in lessons:
        done = progress.get(lesson_id) or LessonProgress(lesson_id, 0, 0, 0, 0, 0, None)
        touched = done.solved + done.revealed + done.attempted
        word = status_from_counts(done.solved, done.revealed, touched, total)
        solved = min(done.solved, total)  # a step renamed since it was solved is not counted twice
        if topic != previous_topic:
            rows.append(topic)
        rows.append([INDENT + (title or lesson_id), word, f"{solved}/{total}", done.attempts,
                     _percent(done.accuracy), _local_time(done.last_activity)])
        previous_topic = topic
    lines = text_table(COLUMNS, rows, width)
    drilled = [m for m in store.topic_mastery().values() if m.drill_attempts]
    if drilled:
        lines += ["", "Drills:"]
        lines += [f"  {m.topic}: {m.drill_attempts} answered, {_percent(m.drill_accuracy)} right"
                  for m in drilled]
    lines.append("")
    if store.path is not None:
        lines += ["Progress is saved in:", f"  {store.path}"]  # own line: paths are long
    if getattr(store, "in_class", False):
        lines += ["Answers are also sent to the class database:", f"  {store.where}"]
    skipped = getattr(store, "skipped_rows", 0)
    if skipped and not store.warning:
        lines.append(f"{skipped} row(s) with a time tutor never writes are left out.")
    if store.warning:
        # Paths stay whole so they can be copied; only the prose wraps.
        lines.append(textwrap.fill(store.warning, width, break_long_words=False, break_on_hyphens=False))
    return "\n".join(lines)


def _local_time(at: str | None) -> str:
    try:
        if not at:
            return "-"
        when = datetime.fromisoformat(at).astimezone()
        # short, so titles keep the room: the time this year, the year otherwise (exports have all)
        this_year = when.year == datetime.now().astimezone().year
        return f"{when.day} {when:%b} " + (f"{when:%H:%M}" if this_year else f"{when.year}")
    except (TypeError, ValueError, OverflowError):  # a copied-in row with a broken time: unknown
        return "?"


def _percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{round(ratio * 100)}%"
