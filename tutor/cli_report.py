"""What the command line prints: lesson tables, worked solutions, grades and validation reports."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

from tutor.core.errors import LessonError, LessonErrors, TutorError
from tutor.core.lesson import Lesson


def _progress_states() -> Any:
    """The learner's step states per lesson, or None when progress cannot be read."""
    try:
        from tutor.core.progress import ProgressStore

        return ProgressStore.open()
    except Exception:  # progress is a nicety for listing; never block the list on it
        return None


def lesson_rows(catalog) -> list[dict]:
    store = _progress_states()
    rows = []
    for e in catalog.entries:
        row: dict[str, Any] = {"id": e.id, "topic": e.topic, "title": e.title}
        if e.lesson is not None:
            states = store.step_states(e.id) if store else {}
            row["steps"] = len(e.lesson.steps)
            row["solved"] = sum(1 for s in e.lesson.steps if states.get(s.id) == "solved")
        else:
            row["error"] = e.error
        row["path"] = str(e.path)
        rows.append(row)
    if store:
        store.close()
    return rows


def print_lesson_table(rows: list[dict]) -> None:
    width = max([len(r["id"]) for r in rows] + [2])
    topic = None
    for r in rows:
        if r["topic"] != topic:
            topic = r["topic"]
            print(f"\n{topic}")
        if "error" in r:
            print(f"  {r['id']:<{width}}  ✗ failed to load: {r['error']}")
        else:
            print(f"  {r['id']:<{width}}  {r['solved']:>2}/{r['steps']:<2} {r['title']}")
    if not rows:
        print("no lessons found")


def format_number(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def format_expected(value: Any, kind: str) -> str:
    if kind == "shape":
        return "×".join(str(v) for v in value) if value else "scalar (1×1)"
    if kind == "graph":
        return "\n            ".join(value.splitlines())
    if kind == "integer":
        return f"{value:,}".replace(",", " ") if abs(value) >= 10000 else str(value)
    if isinstance(value, list):
        if value and isinstance(value[0], list) and not isinstance(value[0][0], list):
            return "; ".join(" ".join(format_number(v) for v in row) for row in value).join("[]")
        return str(_rounded(value)).replace("'", "")
    return format_number(value)


def _rounded(value: Any) -> Any:
    return [_rounded(v) for v in value] if isinstance(value, list) else format_number(value)


def _prose(text: str) -> str:
    """Lesson prose for a plain terminal: LaTeX as Unicode, Markdown emphasis and code marks dropped."""
    from tutor.core.latex import to_unicode

    return to_unicode(text).replace("**", "").replace("`", "")


def print_solution(lesson: Lesson, results: dict) -> None:
    print(f"{lesson.title}  [{lesson.id}]")
    for step in lesson.steps:
        exp = results[step.id]
        print(f"\n{step.id}: {_prose(step.prompt).strip()}")
        print(f"  ask:      {step.ask.text}")
        print(f"  expected: {format_expected(exp.value, exp.kind)}")


def solution_json(lesson: Lesson, results: dict) -> dict:
    return {"lesson": lesson.id, "steps": [
        {"id": s.id, "prompt": s.prompt, "expected": results[s.id].value, "kind": results[s.id].kind}
        for s in lesson.steps]}


def read_answers(path: Path) -> dict[str, str]:
    """An answers file: TOML, step_id = "answer as typed"; numbers and lists are accepted too."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise TutorError(f"cannot read answers file {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise TutorError(f"answers file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise TutorError(f"answers file {path} is not valid TOML: {err}") from None
    answers = {}
    for key, value in data.items():
        if isinstance(value, bool) or isinstance(value, dict):
            raise TutorError(f"answers file {path}: {key!r} must be a string such as \"[2, 1]\"")
        answers[key] = value if isinstance(value, str) else str(value)
    return answers


def grade_lesson(lesson: Lesson, answers: dict[str, str]) -> dict:
    from tutor.core.check import missing_verdict
    from tutor.core.live import LiveLesson

    live = LiveLesson(lesson)
    steps = []
    for step in lesson.steps:
        live.expected(step.id)  # a lesson error surfaces here, before any verdict
        verdict = live.check(step.id, answers[step.id], earlier=answers) if step.id in answers else missing_verdict()
        entry = {"id": step.id, "verdict": verdict.status, "message": verdict.message}
        if verdict.mistake:
            entry["mistake"] = verdict.mistake
        if getattr(verdict, "carried_from", ()):
            entry["carried_from"] = list(verdict.carried_from)
        steps.append(entry)
    correct = sum(1 for s in steps if s["verdict"] == "correct")
    return {"lesson": lesson.id, "correct": correct, "total": len(steps), "steps": steps}


_MARK = {"correct": "✓", "imprecise": "~", "missing": "·", "unparsed": "?"}


def print_grade(lesson: Lesson, report: dict, unknown: list[str]) -> None:
    print(f"{lesson.title}  [{lesson.id}]")
    width = max(len(s["id"]) for s in report["steps"])
    for s in report["steps"]:
        print(f"  {_MARK.get(s['verdict'], '✗')} {s['id']:<{width}}  {s['verdict']:<11} {_prose(s['message'])}")
    print(f"{report['correct']}/{report['total']} correct")
    for key in unknown:
        print(f"tutor: note: the answers file has {key!r}, which is not a step of this lesson", file=sys.stderr)


def validate_paths(paths: list[Path]) -> tuple[list[LessonError], int, int]:
    """Loads and live-solves every lesson file under `paths`: every problem, files checked, files invalid."""
    files: list[Path] = []
    problems: list[LessonError] = []
    for p in paths:
        if p.is_dir():
            found = sorted(p.rglob("*.toml"))
            if not found:
                problems.append(LessonError(str(p), None, "no lesson files (*.toml) in this folder"))
            files += found
        elif p.is_file():
            files.append(p)
        else:
            problems.append(LessonError(str(p), None, "no such file or folder"))
    invalid = 0
    for f in files:
        found = validate_file(f)
        invalid += bool(found)
        problems += found
    return problems, len(files), invalid


def validate_file(path: Path) -> list[LessonError]:
    from tutor.core.catalog import load_file

    entry = load_file(path)
    if entry.lesson is None:
        return list(entry.errors)
    from tutor.core.live import solve

    try:
        _, errors = solve(entry.lesson)
    except LessonErrors as errs:
        return list(errs.errors)
    return errors
