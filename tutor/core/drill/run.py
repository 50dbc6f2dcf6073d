"""A drill run: variant after variant of a topic's lessons, with a streak, accuracy and what went wrong."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from tutor.core.drill.variants import variant
from tutor.core.lesson.model import Lesson
from tutor.core.text.latex import plain_text
from tutor.core.vocabulary import NOT_ATTEMPTS, Status, StepState


@dataclass
class DrillRun:
    """An endless run: variant seed, seed+1, ...; a streak, accuracy, time per item, what went wrong."""

    lessons: list[Lesson]
    seed: int
    index: int = 0
    attempts: int = 0
    correct: int = 0
    streak: int = 0
    best_streak: int = 0
    item_seconds: list[float] = field(default_factory=list)   # per variant answered, not skipped
    skipped: int = 0                                           # variants left without an answer
    reveals: int = 0
    misses: Counter = field(default_factory=Counter)
    _answered: set = field(default_factory=set)                # seeds with an answer or a reveal
    _item_started: float = field(default_factory=time.monotonic)
    _drawn: dict = field(default_factory=dict)

    @property
    def current_seed(self) -> int:
        return self.seed + self.index

    def current(self) -> Lesson:
        """The variant for the current seed (drawing it evaluates the lesson: call it off the UI thread once)."""
        seed = self.current_seed
        if seed not in self._drawn:
            self._drawn = {seed: self.draw()}
        return self._drawn[seed]

    def draw(self) -> Lesson:
        """Draws the current seed's variant (a run over other lessons overrides this)."""
        return variant(self.lessons, self.current_seed)

    def advance(self) -> None:
        """On to the next seed, without drawing it yet; one left without an answer counts as skipped."""
        if self.current_seed in self._answered:
            self.item_seconds.append(time.monotonic() - self._item_started)
        else:
            self.skipped += 1
        self.index += 1
        self._item_started = time.monotonic()

    def next_item(self) -> Lesson:
        self.advance()
        return self.current()

    @property
    def variants(self) -> int:
        """Variants answered (at least one answer or reveal), the current one included."""
        return len(self._answered)

    def record(self, lesson: Lesson, step_id: str, status: str, mistake: str | None = None) -> None:
        """An answer (counted as the progress store counts attempts) or a reveal (not an answer: it
        ends the streak and shows in what went wrong)."""
        if status in NOT_ATTEMPTS:
            return
        self._answered.add(self.current_seed)
        if status == StepState.REVEALED:
            self.reveals += 1
            self.streak = 0
            self.misses[f"{lesson.id.rsplit('-drill-', 1)[0]}: {step_id} (revealed)"] += 1
            return
        self.attempts += 1
        if status == Status.CORRECT:
            self.correct += 1
            self.streak += 1
            self.best_streak = max(self.best_streak, self.streak)
            return
        self.streak = 0
        base = lesson.id.rsplit("-drill-", 1)[0]
        label = f"{base}: {step_id}"
        self.misses[label] += 1
        if mistake:
            self.misses[f"mistake: {plain_text(mistake)}"] += 1

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.attempts if self.attempts else None

    @property
    def seconds_per_item(self) -> float | None:
        return sum(self.item_seconds) / len(self.item_seconds) if self.item_seconds else None

    def summary(self) -> list[tuple[str, int]]:
        """What went wrong most, most first."""
        return self.misses.most_common()
