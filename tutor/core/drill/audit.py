"""`tutor check` for one lesson: its own numbers, its drill variants' fairness, and what its text claims."""

from __future__ import annotations

from tutor.core.drill.fairness import lesson_problems
from tutor.core.drill.lint import lint
from tutor.core.drill.variants import MAX_DRAWS, DrillError, UnfairDrill, accepted
from tutor.core.errors import LessonErrors, TutorError
from tutor.core.evaluate.live import LiveLesson
from tutor.core.expr import budget
from tutor.core.expr.budget import CeilingReached
from tutor.core.lesson.load import read_lesson_text
from tutor.core.lesson.prose import lesson_texts, own_spans, unclosed


def check_lesson(lesson, seeds: int) -> list[dict]:
    """`tutor check` for one loaded lesson: its own numbers, then drill variants 0..seeds-1, then what its prose
    and named mistakes claim (tutor.core.drill.lint).

    Each problem is {"file", "step", "seed", "reason", "line"}; seed is None for the lesson's own numbers, line
    the file's line where the problem is typed, when it is known. Under a ceiling (`tutor check` puts one
    over each file and one over the run) the check stops when the ceiling is reached, saying what was
    not checked.
    """
    file = str(lesson.path or lesson.id)
    found = [_problem(file, where, None, reason) for where, text in lesson_texts(lesson)
             if (reason := unclosed(text)) is not None]
    try:
        live = LiveLesson(lesson)
    except LessonErrors as errs:
        return found + [_problem(file, e.where, None, e.reason) for e in errs.errors]
    except (TutorError, ArithmeticError, ValueError, RuntimeError) as err:
        return found + [_problem(file, None, None, str(err) or type(err).__name__)]
    try:
        found += [_problem(file, where, None, reason) for where, reason in lesson_problems(lesson, live)]
        budget.check_ceilings()
    except CeilingReached as err:
        return _stopped(found, err, _problem(file, None, None, f"{err}; the rest of the file was not checked"))
    variants = []
    lives: dict = {}
    for seed in range(seeds if lesson.drill else 0):
        try:
            _, drawn, _ = accepted(lesson, seed, lives)
        except CeilingReached as err:
            which = f"seed {seed}" if seed == seeds - 1 else f"seeds {seed} to {seeds - 1}"
            return _stopped(found, err, _problem(file, None, seed, f"{err}; {which} not checked"))
        except UnfairDrill as err:
            found += [_problem(file, where, seed, f"every one of {MAX_DRAWS} draws is unfair; the first: {reason}")
                      for where, reason in err.problems]
            continue
        except DrillError as err:  # SlowDrill among them: its message says how far it got
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
    try:
        found += [_problem(file, f.where, f.seed, f.reason, f.line) for f in lint(lesson, live, variants, source)]
        budget.check_ceilings()
    except CeilingReached as err:
        return _stopped(found, err, _problem(file, None, None, f"{err}; what its text claims was not all checked"))
    return found


def _stopped(found: list[dict], err: CeilingReached, last: dict) -> list[dict]:
    """The problems found before a ceiling was reached, without the ones it caused (each evaluation it
    cut short says so), and one that says where the check stopped."""
    return [p for p in found if str(err) not in p["reason"]] + [last]


def _problem(file: str, where: str | None, seed: int | None, reason: str, line: int | None = None) -> dict:
    step = None
    if where and where.startswith("step '"):
        step = where.split("'")[1]
        rest = where.split("'", 2)[2].strip()
        reason = f"{rest}: {reason}" if rest else reason
    elif where:
        reason = f"{where}: {reason}"
    return {"file": file, "step": step, "seed": seed, "reason": reason, "line": line}
