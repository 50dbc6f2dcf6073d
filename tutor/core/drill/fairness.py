"""Whether a lesson's numbers make a fair exercise: every step computes, named mistakes stay apart, prose renders."""

from __future__ import annotations

from typing import Any

from tutor.core.errors import LessonError, LessonErrors, TutorError
from tutor.core.evaluate.compare import finite, same_value
from tutor.core.lesson.prose import evaluator, has_template, lesson_texts, render_checked
from tutor.core.text.latex import plain_text


def lesson_problems(lesson, live=None) -> list[tuple[str | None, str]]:
    """(where, reason) for each thing wrong with this lesson at its numbers; [] when it is a fair exercise.

    Builds the LiveLesson (imports torch) unless one is given.
    """
    from tutor.core.check.step import checker_for  # lazy: torch; drawing a drill's numbers needs none
    from tutor.core.evaluate.live import LiveLesson  # lazy: torch; drawing a drill's numbers needs none

    if live is None:
        try:
            live = LiveLesson(lesson)
        except LessonErrors as errs:
            return [(e.where, e.reason) for e in errs.errors]
        except (TutorError, ArithmeticError, ValueError, RuntimeError) as err:
            return [(None, str(err) or type(err).__name__)]
    problems: list[tuple[str | None, str]] = []
    for step in lesson.steps:
        where = f"step {step.id!r}"
        try:
            expected = checker_for(live).expected(step.id)
        except LessonError as err:
            problems.append((where, err.reason))
            continue
        except (TutorError, ArithmeticError, ValueError, RuntimeError) as err:
            problems.append((where, str(err) or type(err).__name__))
            continue
        problems += [(where, reason) for reason in _mistake_problems(live, step, expected)]
    evaluate = evaluator(live)
    for where, text in lesson_texts(lesson):
        if has_template(text):
            problems += [(where, f"cannot quote {error}") for error in render_checked(text, evaluate)[1]]
    return problems


def _mistake_problems(live, step, expected) -> list[str]:
    """A lesson's named mistakes must differ from the right answer and from each other."""
    values: list[tuple[int, str, Any]] = []   # (number, label, value) of the mistakes seen so far
    out = []
    for number, mistake in enumerate(step.mistakes, start=1):
        label = f"named mistake #{number} ({first_sentence(mistake.say)!r}, when = {mistake.when.text!r})"
        try:
            value = live.evaluate(mistake.when)
        except Exception as err:  # noqa: BLE001 - any failure is reported, with the mistake named
            out.append(f"{label} cannot be computed: {str(err) or type(err).__name__}")
            continue
        if not finite(value):
            continue
        if same_value(value, expected):
            out.append(f"{label} gives the right answer, so it can never be named")
            continue
        for other_number, _, other in values:
            if same_value(value, other):
                out.append(f"{label} gives the same value as named mistake #{other_number}, "
                           "so neither can be named")
        values.append((number, label, value))
    return out


def first_sentence(say: str, limit: int = 60) -> str:
    import re

    text = plain_text(say.strip())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"
