"""Reviews: each skill's memory, replayed with FSRS from the learner's attempts, and what is due."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from fsrs import Card, Rating, Scheduler

from tutor.core.drill.run import DrillRun
from tutor.core.drill.variants import variant
from tutor.core.progress.skills import missed_skills, prerequisites, skills_for, title
from tutor.core.vocabulary import NOT_ATTEMPTS, Status

# No same-day learning steps: an answer is not a flash card flipped twice in ten minutes, so
# the first answer already schedules a review days ahead. No fuzz: the same answers, the same dates.
SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


@dataclass(frozen=True)
class Memory:
    """What FSRS believes about one skill now."""

    skill: str
    title: str
    due: datetime
    recall: float        # the probability of recalling it now
    reviews: int
    misses: int

    def is_due(self, now: datetime) -> bool:
        return self.due <= now

    def as_json(self, now: datetime) -> dict:
        return {"skill": self.skill, "title": self.title, "due": self.due.isoformat(),
                "due_now": self.is_due(now), "recall": round(self.recall, 3),
                "reviews": self.reviews, "misses": self.misses}


def _when(at: str | datetime) -> datetime | None:
    try:
        when = at if isinstance(at, datetime) else datetime.fromisoformat(at)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC)
    except (TypeError, ValueError, OverflowError):  # a time no date can hold: not a review
        return None


def replay(rows: Iterable[tuple[str | datetime, str, str | None, str | None]]) -> dict[str, tuple[Card, int, int]]:
    """(at, verdict, skills, mistake) rows, in any order -> per skill (card, reviews, misses).

    `at` is ISO text, or a datetime as a database driver may hand it back.

    A right answer is rated Good for its skills and for the prerequisites already learned
    underneath them; a wrong one Again, for the skill its named mistake belongs to if it has one;
    a reveal ("revealed") Again for the step's skills: the learner did not recall them.
    """
    cards: dict[str, tuple[Card, int, int]] = {}

    def rate(skill: str, rating: Rating, when: datetime) -> None:
        card, reviews, misses = cards.get(skill) or (Card(card_id=len(cards) + 1, due=when), 0, 0)
        card, _ = SCHEDULER.review_card(card, rating, when)
        cards[skill] = (card, reviews + 1, misses + (rating == Rating.Again))

    timed = [(when, verdict, skills, mistake) for at, verdict, skills, mistake in rows
             if (when := _when(at)) is not None]
    for when, verdict, skills, mistake in sorted(timed, key=lambda r: r[0]):
        named = tuple((skills or "").split())
        if not named or verdict in NOT_ATTEMPTS:
            continue
        if verdict == Status.CORRECT:
            for skill in named:
                rate(skill, Rating.Good, when)
            for skill in prerequisites(named):
                if skill in cards:  # credit only what was learned before, as Math Academy does
                    rate(skill, Rating.Good, when)
        else:
            for skill in missed_skills(named, mistake):
                rate(skill, Rating.Again, when)
    return cards


def memories_from_rows(rows, now: datetime) -> list[Memory]:
    """Every skill practised, soonest due first."""
    found = [Memory(skill, title(skill), card.due, SCHEDULER.get_card_retrievability(card, now),
                    reviews, misses)
             for skill, (card, reviews, misses) in replay(rows).items()]
    return sorted(found, key=lambda m: (m.due, m.skill))


def memories(store, now: datetime | None = None) -> list[Memory]:
    now = now or store.now()
    return memories_from_rows(store.skill_rows(), now)


def due(store, now: datetime | None = None) -> list[Memory]:
    """The skills due for review now, most overdue first."""
    now = now or store.now()
    return [m for m in memories(store, now) if m.is_due(now)]


def review_lessons(lessons, due_skills: list[str]):
    """Drillable lessons that exercise the due skills, the most overdue skill's lessons first."""

    rank = {skill: n for n, skill in enumerate(due_skills)}
    chosen = []
    for lesson in lessons:
        if not lesson.drill:
            continue
        touched = {s for step in lesson.steps for s in skills_for(lesson, step)} & rank.keys()
        if touched:
            chosen.append((min(rank[s] for s in touched), lesson.order, lesson.id, lesson))
    return [lesson for *_, lesson in sorted(chosen, key=lambda c: c[:3])]


def review_run(lessons, due_skills: list[str], seed: int):
    """A drill run over fresh variants of the lessons that exercise the due skills, in that order."""

    class ReviewRun(DrillRun):
        replayable = False

        def draw(self):
            return variant([self.lessons[self.index % len(self.lessons)]], self.current_seed)

    return ReviewRun(review_lessons(lessons, due_skills), seed)
