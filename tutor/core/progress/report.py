"""What the progress says: step and lesson states, topic mastery, exports, the progress table."""

from __future__ import annotations

import csv
import json
import textwrap
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import IO, TYPE_CHECKING, NamedTuple

from tutor.core.text.latex import plain_text
from tutor.core.text.safe import csv_cell

if TYPE_CHECKING:
    from tutor.core.progress.store import ProgressStore


@dataclass(frozen=True)
class Attempt:
    """One answer a learner submitted, as the teacher's export shows it."""

    id: int
    at: str
    lesson_id: str
    topic: str | None
    step_id: str
    step_kind: str | None
    answer: str
    verdict: str
    message: str
    mistake: str | None
    skills: str | None
    seconds: float | None
    drill_seed: int | None
    session_id: str


ATTEMPT_COLUMNS = tuple(f.name for f in fields(Attempt))


@dataclass(frozen=True)
class LessonProgress:
    """How far a learner got in one lesson, drills left out."""

    lesson_id: str
    solved: int
    revealed: int
    attempted: int
    attempts: int
    correct: int
    last_activity: str | None

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.attempts if self.attempts else None


@dataclass(frozen=True)
class Mastery:
    """How often a learner is right in one topic, with the drill share kept apart too."""

    topic: str
    attempts: int
    correct: int
    drill_attempts: int
    drill_correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.attempts if self.attempts else 0.0

    @property
    def drill_accuracy(self) -> float | None:
        return self.drill_correct / self.drill_attempts if self.drill_attempts else None


class Missed(NamedTuple):
    """A step (drill variants share step ids) and how many times it was not answered right."""

    topic: str
    step_id: str
    misses: int


def status_from_counts(solved: int, revealed: int, touched: int, total_steps: int) -> str:
    """A lesson's word in the lesson list, from how many of its steps reached each state."""
    if total_steps and solved >= total_steps:
        return "solved"
    if total_steps and revealed and solved + revealed >= total_steps:
        return "revealed"
    return "in progress" if touched else "not started"


# Portable SQL (SQLite and PostgreSQL): no summing of booleans.
_CORRECT = "SUM(CASE WHEN verdict = 'correct' THEN 1 ELSE 0 END)"


class ProgressReports:
    """Read-only views over the store's tables; ProgressStore supplies `_query`."""

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        raise NotImplementedError

    def pending_writes(self) -> list[tuple[str, dict]]:
        return []

    def attempts(self) -> list[Attempt]:
        rows = self._query(f"SELECT {', '.join(ATTEMPT_COLUMNS)} FROM attempts ORDER BY id")
        return [Attempt(*row) for row in rows]

    def skill_rows(self) -> list[tuple]:
        """(at, verdict, skills, mistake) of every attempt and reveal naming skills, for reviews."""
        rows = self._query("SELECT at, verdict, skills, mistake FROM attempts"
                           " WHERE skills IS NOT NULL UNION ALL"
                           " SELECT at, 'revealed', skills, NULL FROM reveals WHERE skills IS NOT NULL")
        for kind, v in self.pending_writes():
            if kind == "attempts" and v["skills"]:
                rows.append((v["at"], v["verdict"], v["skills"], v["mistake"]))
            elif kind == "reveals" and v.get("skills"):
                rows.append((v["at"], "revealed", v["skills"], None))
        return rows

    def step_states(self, lesson_id: str) -> dict[str, str]:
        """Per step: 'solved', 'revealed' or 'attempted'; steps never touched are absent.

        Writes still waiting for the database count too, so the screen agrees with the learner.
        """
        states = {step: state for (_, step), state in self._states(lesson_id).items()}
        for kind, values in self.pending_writes():
            if values.get("lesson_id") != lesson_id or kind == "position":
                continue
            step, now = values["step_id"], states.get(values["step_id"])
            if kind == "reveals" and now != "solved":
                states[step] = "revealed"
            elif kind == "attempts" and values.get("drill_seed") is None:
                if values["verdict"] == "correct" and now != "revealed":
                    states[step] = "solved"
                elif now is None:
                    states[step] = "attempted"
        return states

    def _states(self, lesson_id: str | None = None) -> dict[tuple[str, str], str]:
        where, params = ("AND lesson_id = ?", (lesson_id,)) if lesson_id is not None else ("", ())
        first_correct = {(lesson, step): at for lesson, step, at in self._query(
            "SELECT lesson_id, step_id, MIN(CASE WHEN verdict = 'correct' THEN at END)"
            f" FROM attempts WHERE drill_seed IS NULL {where} GROUP BY lesson_id, step_id",
            params)}
        first_reveal = {(lesson, step): at for lesson, step, at in self._query(
            f"SELECT lesson_id, step_id, MIN(at) FROM reveals WHERE TRUE {where}"
            " GROUP BY lesson_id, step_id", params)}
        states = {}
        for key in first_correct.keys() | first_reveal.keys():
            correct_at, reveal_at = first_correct.get(key), first_reveal.get(key)
            if correct_at is not None and (reveal_at is None or correct_at < reveal_at):
                states[key] = "solved"
            else:
                states[key] = "revealed" if reveal_at is not None else "attempted"
        return states

    def lesson_states(self) -> dict[str, LessonProgress]:
        counts: dict[str, dict[str, int]] = {}
        for (lesson, _), state in self._states().items():
            counts.setdefault(lesson, {"solved": 0, "revealed": 0, "attempted": 0})[state] += 1
        activity = {lesson: (attempts, correct, last) for lesson, attempts, correct, last in
                    self._query(f"SELECT lesson_id, COUNT(*), {_CORRECT}, MAX(at)"
                                " FROM attempts WHERE drill_seed IS NULL GROUP BY lesson_id")}
        for lesson, last_reveal in self._query(
                "SELECT lesson_id, MAX(at) FROM reveals GROUP BY lesson_id"):
            attempts, correct, last = activity.get(lesson, (0, 0, None))
            activity[lesson] = (attempts, correct, max(last_reveal, last or ""))
        return {lesson: LessonProgress(lesson, **counts[lesson], attempts=attempts,
                                       correct=correct, last_activity=last)
                for lesson, (attempts, correct, last) in activity.items()}

    def lesson_status(self, lesson_id: str, total_steps: int) -> str:
        """'solved', 'revealed', 'in progress' or 'not started', for the lesson list."""
        states = list(self.step_states(lesson_id).values())
        solved, revealed = states.count("solved"), states.count("revealed")
        return status_from_counts(solved, revealed, len(states), total_steps)

    def topic_mastery(self) -> dict[str, Mastery]:
        """Accuracy per topic over every attempt, drills included (attempts need a topic)."""
        rows = self._query(
            f"SELECT topic, COUNT(*), {_CORRECT},"
            " SUM(CASE WHEN drill_seed IS NOT NULL THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN drill_seed IS NOT NULL AND verdict = 'correct' THEN 1 ELSE 0 END)"
            " FROM attempts WHERE topic IS NOT NULL GROUP BY topic ORDER BY topic")
        return {row[0]: Mastery(*row) for row in rows}

    def most_missed(self, limit: int = 5) -> list[Missed]:
        """The steps answered wrong most often, drills included; on a tie the latest miss first."""
        rows = self._query(
            "SELECT topic, step_id, COUNT(*) AS misses FROM attempts"
            " WHERE verdict != 'correct' AND topic IS NOT NULL GROUP BY topic, step_id"
            " ORDER BY misses DESC, MAX(at) DESC, topic, step_id LIMIT ?", (limit,))
        return [Missed(*row) for row in rows]

    def export_csv(self, stream: IO[str]) -> None:
        writer = csv.writer(stream)
        writer.writerow(ATTEMPT_COLUMNS)
        for attempt in self.attempts():
            # a cell such as "=HYPERLINK(...)" from an answer or lesson id must stay text in a spreadsheet
            writer.writerow([csv_cell("" if value is None else value) for value in _plain_row(attempt).values()])

    def export_json(self, stream: IO[str]) -> None:
        json.dump([_plain_row(attempt) for attempt in self.attempts()], stream, indent=1)
        stream.write("\n")


def _plain_row(attempt) -> dict:
    """An attempt for an export: its message and mistake as plain text (no LaTeX, Markdown or $)."""

    row = asdict(attempt)
    for key in ("message", "mistake"):
        if isinstance(row.get(key), str):
            row[key] = plain_text(row[key])
    return row


# Each topic on a line of its own, then its lessons: lesson, status, solved/total, attempts,
# accuracy, last activity. The lesson column takes whatever the terminal's width leaves; every
# other column is as wide as its longest entry needs.
_COLUMNS = (("lesson", 0, "<"), ("status", 11, "<"), ("solved", 6, ">"),
            ("tries", 5, ">"), ("right", 5, ">"), ("last activity", 13, "<"))
_WIDTH = 79
_LESSON_MIN = 20
ELLIPSIS = "…"


def _cell(text: str, width: int, align: str) -> str:
    if len(text) > width:
        text = text[: width - 1] + ELLIPSIS  # cut anywhere, it says so
    return f"{text:{align}{width}}"


_INDENT = "  "  # lessons under their topic's line


def _table(rows: list[list[str] | str], width: int) -> list[str]:
    """Rows laid out in `width` columns (a plain string is a topic's line): the lesson titles get
    all the room the other columns leave."""
    cells = [r for r in rows if not isinstance(r, str)]
    widths = [min(cap, max(len(row[n]) for row in cells)) if cap else 0
              for n, (_, cap, _) in enumerate(_COLUMNS)]
    room = width - len(_INDENT) - sum(widths) - (len(_COLUMNS) - 1)
    widths[0] = max(_LESSON_MIN, min(room, max(len(row[0]) for row in cells)))
    return [_cell(row, width, "<").rstrip() if isinstance(row, str) else _INDENT + " ".join(
        _cell(text, w, align) for text, w, (_, _, align) in zip(row, widths, _COLUMNS, strict=False)).rstrip()
        for row in rows]


def _terminal_width() -> int:
    import shutil

    return max(_WIDTH, shutil.get_terminal_size((_WIDTH + 1, 24)).columns - 1)


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


def format_progress(store: ProgressStore, lessons: list[tuple[str, str, str, int]],
                    width: int | None = None) -> str:
    """The plain-text `tutor progress` table for (lesson_id, topic, title, total_steps) rows, as
    wide as the terminal (`width` columns if given)."""
    width = width or _terminal_width()
    progress = store.lesson_states()
    rows = [[name for name, _, _ in _COLUMNS]]
    previous_topic = None
    for lesson_id, topic, title, total in lessons:
        done = progress.get(lesson_id) or LessonProgress(lesson_id, 0, 0, 0, 0, 0, None)
        touched = done.solved + done.revealed + done.attempted
        word = status_from_counts(done.solved, done.revealed, touched, total)
        solved = min(done.solved, total)  # a step renamed since it was solved is not counted twice
        if topic != previous_topic:
            rows.append(topic)
        rows.append([
            title or lesson_id, word,
            f"{solved}/{total}", str(done.attempts), _percent(done.accuracy),
            _local_time(done.last_activity)])
        previous_topic = topic
    lines = _table(rows, width)
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
        lines.append(textwrap.fill(store.warning, width, break_long_words=False,
                                   break_on_hyphens=False))
    return "\n".join(lines)
