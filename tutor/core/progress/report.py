"""What the progress says: step and lesson states, topic mastery, exports, the progress table."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, fields
from typing import IO, NamedTuple

from tutor.core.text.latex import plain_text
from tutor.core.text.safe import csv_cell
from tutor.core.vocabulary import LessonState


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


def status_from_counts(solved: int, revealed: int, touched: int, total_steps: int) -> LessonState:
    """A lesson's word in the lesson list, from how many of its steps reached each state."""
    if total_steps and solved >= total_steps:
        return LessonState.SOLVED
    if total_steps and revealed and solved + revealed >= total_steps:
        return LessonState.REVEALED
    return LessonState.IN_PROGRESS if touched else LessonState.NOT_STARTED


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
