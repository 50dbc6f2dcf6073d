"""Drills: endless fresh variants of a topic's lessons, reproducible from a seed, with running stats."""

from __future__ import annotations

from pathlib import Path

from tutor.core.drill import emit as toml_variant
from tutor.core.drill.draw import draw_givens, rng_for
from tutor.core.drill.fairness import lesson_problems
from tutor.core.errors import ExprError, LessonErrors, TutorError
from tutor.core.expr import budget
from tutor.core.lesson.load import parse_lesson, read_lesson_text  # bounded, regular files only
from tutor.core.lesson.model import Lesson


class DrillError(TutorError):
    """No drillable lessons for that topic, or a [drill] section that cannot draw."""


class SlowDrill(DrillError):
    """The draws of one seed took more work than one seed may; `problems` are the first draw's, if any."""

    def __init__(self, message: str, problems: list[tuple[str | None, str]]):
        super().__init__(message)
        self.problems = problems


class UnfairDrill(DrillError):
    """Every draw allowed for a seed was unfair; `problems` are the first draw's (where, reason)."""

    def __init__(self, message: str, problems: list[tuple[str | None, str]]):
        super().__init__(message)
        self.problems = problems


def resolve_topic(catalog, topic: str) -> list[Lesson]:
    """The lessons with a [drill] section in a topic (or the one lesson with that id)."""
    lessons = [e.lesson for e in catalog.entries if e.lesson and e.topic == topic and e.lesson.drill]
    if not lessons:
        lessons = [e.lesson for e in catalog.entries if e.lesson and e.id == topic and e.lesson.drill]
    if not lessons:
        topics = sorted({e.topic for e in catalog.entries if e.lesson and e.lesson.drill})
        raise DrillError(f"no drills for {topic!r}; topics with drills: {', '.join(topics) or 'none'}")
    return sorted(lessons, key=lambda l: (l.order, l.id))


def pick_lesson(lessons: list[Lesson], seed: int) -> Lesson:
    if len(lessons) == 1:
        return lessons[0]
    rng = rng_for("|".join(l.id for l in lessons), seed)
    return lessons[rng.randrange(len(lessons))]


MAX_DRAWS = 50  # redraws allowed for one seed before a lesson's [drill] is called unusable
SEED_SECONDS = 10.0  # of work for all the draws of one seed (a built-in lesson's take under 0.2 s)
# Small draw spaces repeat the same numbers under many seeds: judge each set of numbers once per process.
_JUDGED: dict[tuple, list] = {}


def draw_for(lesson: Lesson, seed: int, attempt: int = 0) -> dict:
    """The givens drawn for `seed`; attempt n > 0 is the n-th redraw (deterministic too)."""
    rng = rng_for(lesson.id, seed if attempt == 0 else f"{seed}/redraw-{attempt}")
    try:
        return draw_givens(lesson.drill, rng)
    except ExprError as err:
        raise DrillError(f"{lesson.path}: [drill]: {err}") from None


def variant_text(lesson: Lesson, seed: int, attempt: int = 0) -> str:
    """The author's own file with the givens redrawn, [drill] and own-numbers text removed, re-validated."""
    return _variant(lesson, seed, attempt)[0]


def _variant(lesson: Lesson, seed: int, attempt: int) -> tuple[str, Lesson]:
    """The variant's text and the lesson parsed from it (parsed once: a seed may take several draws)."""
    path = _lesson_file(lesson)
    header = f"Drill variant {seed} of {lesson.id!r}: tutor drill {lesson.topic} --seed {seed} --emit"
    try:
        text = toml_variant.rewrite(read_lesson_text(path), draw_for(lesson, seed, attempt),
                                    id=f"{lesson.id}-drill-{seed}", title=f"{lesson.title} (drill {seed})",
                                    topic=lesson.topic, header=header)
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as err:
        raise DrillError(f"{lesson.path}: cannot write variant {seed}: {err}") from None
    return text, _parse(text, lesson, seed)  # never hand out a file that does not validate


def _lesson_file(lesson: Lesson) -> Path:
    if lesson.path is None:
        raise DrillError(f"lesson {lesson.id!r} has no file to draw a variant from")
    return lesson.path


def _parse(text: str, lesson: Lesson, seed: int) -> Lesson:
    try:
        return parse_lesson(text, _lesson_file(lesson).with_name(f"{lesson.id}-drill-{seed}.toml"), lesson.topic)
    except LessonErrors as errs:
        raise DrillError(f"variant {seed} of {lesson.id!r} is not a valid lesson: {errs}") from None


def accepted(lesson: Lesson, seed: int, lives: dict | None = None) -> tuple[str, Lesson, int]:
    """The first draw for `seed` whose numbers make a fair exercise: (text, lesson, redraws needed).

    A draw is redrawn when a step cannot be computed (a division by a drawn zero), when a step's named
    mistake gives the right answer or another named mistake's value, or when quoted prose fails. All
    the draws of one seed together may take SEED_SECONDS of work (MAX_DRAWS redraws of a step that
    takes seconds would otherwise take minutes).
    `lives`, when given, receives the accepted variant's LiveLesson under `seed` if one was built here.
    """
    from tutor.core.evaluate.live import LiveLesson  # lazy: torch; listing a drill's topics needs none

    first: list[tuple[str | None, str]] = []
    source = _source_key(lesson)
    limit = budget.Ceiling(SEED_SECONDS, f"drawing variant {seed} took more than {SEED_SECONDS:g} s of work")
    attempt = 0
    try:
        with budget.ceiling(limit):
            for attempt in range(MAX_DRAWS):
                budget.check_ceilings()
                text, candidate = _variant(lesson, seed, attempt)
                key = (source, repr(sorted(candidate.given.items(), key=lambda kv: kv[0])))
                problems = _JUDGED.get(key)
                live = None
                if problems is None:
                    try:
                        live = LiveLesson(candidate)
                    except (LessonErrors, TutorError, ArithmeticError, ValueError, RuntimeError):
                        live = None
                    problems = lesson_problems(candidate, live)
                    budget.check_ceilings()  # a draw cut short by a ceiling is not judged unfair
                    if len(_JUDGED) >= 4096:
                        _JUDGED.clear()
                    _JUDGED[key] = problems
                if not problems:
                    if lives is not None and live is not None:
                        lives[seed] = live
                    return text, candidate, attempt
                first = first or problems
    except budget.CeilingReached as err:
        if err.ceiling is not limit:
            raise  # an outer ceiling (`tutor check` of the whole file or run) says so itself
        tried = f"; {attempt} draw{'s' if attempt != 1 else ''} before it were unfair, the first because " \
            f"{_first_reason(first)}" if first else ""
        raise SlowDrill(f"{lesson.path}: {err}{tried}", first) from None
    raise UnfairDrill(f"{lesson.path}: no fair variant for seed {seed} in {MAX_DRAWS} draws; the first was "
                      f"refused because {_first_reason(first)}", first)


def _first_reason(problems: list[tuple[str | None, str]]) -> str:
    where, reason = problems[0]
    return f"{where + ': ' if where else ''}{reason}"


def _source_key(lesson: Lesson) -> tuple:
    import hashlib

    try:
        digest = hashlib.sha256(read_lesson_text(_lesson_file(lesson)).encode()).hexdigest()
    except (OSError, TutorError, LessonErrors):
        digest = ""
    return (str(lesson.path), lesson.id, digest)


def emit_variant(lessons: list[Lesson], seed: int) -> str:
    """The variant for `seed` as lesson-file text: the same bytes for the same seed on any machine."""
    return accepted(pick_lesson(lessons, seed), seed)[0]


def variant(lessons: list[Lesson], seed: int) -> Lesson:
    """The variant for `seed`, loaded and validated like any lesson file (evaluates it: imports torch)."""
    return accepted(pick_lesson(lessons, seed), seed)[1]
