"""`tutor check` for one lesson: its own numbers, its drill variants' fairness, and what its text claims."""

from __future__ import annotations

from tutor.core.drill.fairness import lesson_problems
from tutor.core.drill.lint import lint
from tutor.core.drill.variants import MAX_DRAWS, DrillError, UnfairDrill, accepted
from tutor.core.errors import LessonErrors, TutorError
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.load import read_lesson_text
from tutor.core.lesson.prose import lesson_texts, own_spans


def check_lesson(lesson, seeds: int) -> list[dict]:
    """`tutor check` for one loaded lesson: its own numbers, then drill variants 0..seeds-1, then what its prose
    and named mistakes claim (tutor.core.drill.lint).

    Each problem is {"file", "step", "seed", "reason", "line"}; seed is None for the lesson's own numbers, line
    the file's line where the problem is typed, when it is known.
    """
    file = str(lesson.path or lesson.id)
    try:
        live = LiveLesson(lesson)
    except LessonErrors as errs:
        return [_problem(file, e.where, None, e.reason) for e in errs.errors]
    except (TutorError, ArithmeticError, ValueError, RuntimeError) as err:
        return [_problem(file, None, None, str(err) or type(err).__name__)]
    found = [_problem(file, where, None, reason) for where, reason in lesson_problems(lesson, live)]
    variants = []
    lives: dict = {}
    for seed in range(seeds if lesson.drill else 0):
        try:
            _, drawn, _ = accepted(lesson, seed, lives)
        except UnfairDrill as err:
            found += [_problem(file, where, seed, f"every one of {MAX_DRAWS} draws is unfair; the first: {reason}")
                      for where, reason in err.problems]
            continue
        except DrillError as err:
            found.append(_problem(file, None, seed, str(err).removeprefix(f"{file}: ")))
            continue
        variants.append((seed, drawn, lives.get(seed)))
        for where, text in lesson_texts(drawn):
            if own_spans(text):
                found.append(_problem(file, where, seed, "text marked {% own %} would be shown on a variant"))
    try:
        source = read_lesson_text(lesson.path) if lesson.path else ""
    except LessonErrors:
        source = ""
    found += [_problem(file, f.where, f.seed, f.reason, f.line) for f in lint(lesson, live, variants, source)]
    return found


def _problem(file: str, where: str | None, seed: int | None, reason: str, line: int | None = None) -> dict:
    step = None
    if where and where.startswith("step '"):
        step = where.split("'")[1]
        rest = where.split("'", 2)[2].strip()
        reason = f"{rest}: {reason}" if rest else reason
    elif where:
        reason = f"{where}: {reason}"
    return {"file": file, "step": step, "seed": seed, "reason": reason, "line": line}
