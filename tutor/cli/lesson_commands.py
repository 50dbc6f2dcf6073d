"""What the command line prints: lesson tables, worked solutions, grades and validation reports."""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path
from typing import IO, Any

from rich.text import Text

from tutor.cli.tables import Column, terminal_width, text_table
from tutor.core.answer.judge import missing_verdict
from tutor.core.errors import LessonError, LessonErrors, TutorError
from tutor.core.expr import budget
from tutor.core.expr.budget import CeilingReached
from tutor.core.lesson.catalog import load_file, toml_files
from tutor.core.lesson.model import Lesson
from tutor.core.lesson.prose import placeholder, render_lesson
from tutor.core.progress.store import ProgressStore
from tutor.core.text.files import MAX_ANSWERS_BYTES, FileRefused, loads_toml, read_text
from tutor.core.text.latex import plain_text
from tutor.core.text.safe import clean, csv_cell, one_line, unexpected, visible
from tutor.core.vocabulary import Kind, StepState

MAX_ANSWERS_FILES = 2000
# what checking a strange answer or lesson can raise beyond TutorError; each stays in its step
CONTAINED = (ArithmeticError, ValueError, TypeError, IndexError, KeyError, RecursionError, MemoryError)


def _progress_states() -> Any:
    """The learner's step states per lesson, or None when progress cannot be read."""
    try:

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
            row["solved"] = sum(1 for s in e.lesson.steps if states.get(s.id) == StepState.SOLVED)
        else:
            row["error"] = e.error
        row["path"] = str(e.path)
        rows.append(row)
    if store:
        store.close()
    return rows


LESSON_COLUMNS = (Column("lesson"), Column("solved", "right"), Column("title", flex="ellipsis", min_width=20))


def print_lesson_table(rows: list[dict]) -> None:
    """`tutor lessons`: each topic's lessons with this learner's progress, as wide as the terminal."""
    if not rows:
        print("no lessons found")
        return
    table: list[list[object] | str] = []
    topic = None
    for r in rows:
        if r["topic"] != topic:
            topic = r["topic"]
            table.append(topic)
        if "error" in r:
            # a title may be cut; why a file does not load never is: it wraps
            table.append([f"  {r['id']}", "✗", Text(f"failed to load: {r['error']}", overflow="fold")])
        else:
            table.append([f"  {r['id']}", f"{r['solved']}/{r['steps']}", r["title"]])
    print("\n".join(text_table(LESSON_COLUMNS, table, terminal_width())))


def format_number(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def format_expected(value: Any, kind: str) -> str:
    if kind == Kind.SHAPE:
        return "×".join(str(v) for v in value) if value else "scalar (1×1)"
    if kind == Kind.GRAPH:
        return "\n            ".join(value.splitlines())
    if kind == Kind.INTEGER:
        return f"{value:,}".replace(",", " ") if abs(value) >= 10000 else str(value)
    if isinstance(value, list):
        if value and isinstance(value[0], list) and value[0] and not isinstance(value[0][0], list):
            return "; ".join(" ".join(format_number(v) for v in row) for row in value).join("[]")
        return str(_rounded(value)).replace("'", "")
    return format_number(value)


def _rounded(value: Any) -> Any:
    return [_rounded(v) for v in value] if isinstance(value, list) else format_number(value)


def _prose(text: str, prose: dict | None = None) -> str:
    """Lesson prose for a plain terminal or JSON: quoted values filled in, no LaTeX or Markdown marks left."""

    return clean(plain_text((prose or {}).get(text) or placeholder(text)))


def print_solution(lesson: Lesson, results: dict, prose: dict | None = None) -> None:
    print(f"{lesson.title}  [{lesson.id}]")
    for step in lesson.steps:
        exp = results[step.id]
        print(f"\n{step.id}: {_prose(step.prompt, prose).strip()}")
        print(f"  ask:      {step.ask.text}")
        print(f"  expected: {format_expected(exp.value, exp.kind)}")


def solution_json(lesson: Lesson, results: dict, prose: dict | None = None) -> dict:
    return {"lesson": lesson.id, "steps": [
        {"id": s.id, "prompt": _prose(s.prompt, prose).strip(), "expected": results[s.id].value, "kind": results[s.id].kind}
        for s in lesson.steps]}


def read_answers(path: Path) -> dict[str, str]:
    """An answers file: TOML, step_id = "answer as typed"; numbers and lists are accepted too."""
    try:
        data = loads_toml(read_text(path, MAX_ANSWERS_BYTES))
    except FileRefused as err:
        raise TutorError(f"answers file {path}: {err.reason}") from None
    answers = {}
    for key, value in data.items():
        if isinstance(value, (bool, dict)):
            raise TutorError(f"answers file {path}: {clean(key)!r} must be a string such as \"[2, 1]\"")
        try:
            text = value if isinstance(value, str) else str(value)
        except ValueError:  # a whole number too long to write out
            raise TutorError(f"answers file {path}: {clean(key)!r} is too long a number") from None
        # answers are echoed in messages and exports: no escape sequences or control characters
        answers[clean(key)] = clean(text)
    return answers


def _step_error(lesson: Lesson, step_id: str, err: BaseException) -> LessonError:
    return LessonError(str(lesson.path or lesson.id), f"step {step_id!r}", unexpected(err))


def solve_steps(lesson: Lesson, prose: dict | None = None) -> tuple[dict, list[LessonError]]:
    """Every step's expected value; a step that fails says so with file and step, and the rest still solve.

    `prose`, when given, is filled with the lesson's templated prose rendered with its numbers.
    """
    from tutor.core.check.step import checker_for  # lazy: torch, not needed to list or validate
    from tutor.core.evaluate.live import LiveLesson  # lazy: torch, not needed to list or validate

    try:
        live = LiveLesson(lesson)
    except LessonErrors as errs:  # a given or graph line fails: every step would say the same
        return {}, list(errs.errors)
    except CONTAINED as err:
        return {}, [LessonError(str(lesson.path or lesson.id), "[given]", unexpected(err))]
    results: dict = {}
    errors: list[LessonError] = []
    if prose is not None:

        try:
            prose.update(render_lesson(lesson, live))
        except CONTAINED:  # quoted values then show as '…'; the solution itself still prints
            pass
    checker = checker_for(live)
    for step in lesson.steps:
        try:
            results[step.id] = checker.expected(step.id)
        except LessonError as err:
            errors.append(err)
        except LessonErrors as errs:  # the graph itself fails: every step would say the same
            return results, errors + list(errs.errors)
        except CONTAINED as err:
            errors.append(_step_error(lesson, step.id, err))
    return results, errors


def grade_lesson(lesson: Lesson, answers: dict[str, str]) -> dict:
    from tutor.core.check.step import checker_for  # lazy: torch, not needed to list or validate
    from tutor.core.evaluate.live import LiveLesson  # lazy: torch, not needed to list or validate

    try:
        checker = checker_for(LiveLesson(lesson))
    except CONTAINED as err:
        raise LessonErrors([LessonError(str(lesson.path or lesson.id), "[given]", unexpected(err))]) from None
    steps = []
    for step in lesson.steps:
        try:
            checker.expected(step.id)  # a lesson error surfaces here, before any verdict
        except CONTAINED as err:
            raise LessonErrors([_step_error(lesson, step.id, err)]) from None
        if step.id not in answers:
            verdict = missing_verdict()
        else:
            try:
                verdict = checker.check(step.id, answers[step.id], earlier=answers)
            except LessonErrors:
                raise
            except (TutorError, *CONTAINED) as err:  # an answer nobody could check is not a crash
                reason = str(err) if isinstance(err, TutorError) else unexpected(err)
                steps.append({"id": step.id, "verdict": "unparsed",
                              "message": one_line(f"this answer could not be checked: {reason}")})
                continue
        entry: dict[str, Any] = {"id": step.id, "verdict": verdict.status,
                                 "message": clean(plain_text(verdict.message))}
        if verdict.mistake:
            entry["mistake"] = clean(plain_text(verdict.mistake))
        if verdict.carried_from:
            entry["carried_from"] = list(verdict.carried_from)
        steps.append(entry)
    correct = sum(1 for s in steps if s["verdict"] == "correct")
    return {"lesson": lesson.id, "correct": correct, "total": len(steps), "steps": steps}


def answers_files(folder: Path) -> list[Path]:
    """The answers files of a class: every *.toml directly in `folder`, in name order."""
    try:
        found = sorted(p for p in folder.iterdir() if p.suffix == ".toml")
    except OSError as err:
        raise TutorError(f"cannot read answers folder {folder}: {err.strerror or err}") from None
    if not found:
        raise TutorError(f"no answers files (*.toml) in {folder}")
    if len(found) > MAX_ANSWERS_FILES:
        raise TutorError(f"too many answers files in {folder} ({len(found)}; at most {MAX_ANSWERS_FILES})")
    return found


def grade_folder(lesson: Lesson, folder: Path) -> dict:
    """One row per answers file, graded as `grade` grades one file; an unreadable file is a row with its error."""
    rows = []
    for path in answers_files(folder):
        row: dict[str, Any] = {"file": clean(path.name)}
        try:
            report = grade_lesson(lesson, read_answers(path))
        except LessonErrors:
            raise
        except TutorError as err:
            row["error"] = one_line(str(err).removeprefix(f"answers file {path}: "))
        else:
            row.update(correct=report["correct"], total=report["total"], steps=report["steps"])
        rows.append(row)
    return {"lesson": lesson.id, "total": len(lesson.steps), "files": rows}


def print_folder_grade(lesson: Lesson, report: dict) -> None:
    print(f"{lesson.title}  [{lesson.id}]")
    ids = [s.id for s in lesson.steps]
    print("steps: " + " ".join(f"{n}={sid}" for n, sid in enumerate(ids, start=1)))
    rows: list[list[object]] = []
    for r in report["files"]:
        name = visible(r["file"])  # one row per file, whatever its name holds
        if "error" in r:
            rows.append([name, "", f"✗ {one_line(r['error'])}"])
        else:
            rows.append([name, f"{r['correct']}/{r['total']}", " ".join(_MARK.get(s["verdict"], "✗") for s in r["steps"])])
    columns = [Column("answers file", flex="ellipsis", min_width=12), Column("right", justify="right"),
               Column("steps", flex="fold", min_width=2 * len(ids))]
    for line in text_table(columns, rows, terminal_width() - 2):
        print(f"  {line}")
    graded = [r for r in report["files"] if "error" not in r]
    perfect = sum(1 for r in graded if r["correct"] == r["total"])
    print(f"{len(report['files'])} answers files: {perfect} all correct, "
          f"{len(graded) - perfect} not, {len(report['files']) - len(graded)} unreadable")


def write_grade_csv(lesson: Lesson, rows: list[dict], stream: IO[str]) -> None:
    """One row per answers file: file, correct, total, error, then each step's verdict."""
    ids = [s.id for s in lesson.steps]
    writer = csv.writer(stream)
    writer.writerow([csv_cell(c) for c in ["file", "correct", "total", "error", *ids]])
    for r in rows:
        verdicts = {s["id"]: s["verdict"] for s in r.get("steps", [])}
        cells = [r["file"], r.get("correct", ""), r.get("total", ""), r.get("error", "")]
        writer.writerow([csv_cell(c) for c in cells + [verdicts.get(i, "") for i in ids]])


_MARK = {"correct": "✓", "imprecise": "~", "missing": "·", "unparsed": "?"}


def print_grade(lesson: Lesson, report: dict, unknown: list[str]) -> None:
    print(f"{lesson.title}  [{lesson.id}]")
    width = max(len(s["id"]) for s in report["steps"])
    for s in report["steps"]:
        print(f"  {_MARK.get(s['verdict'], '✗')} {s['id']:<{width}}  {s['verdict']:<11} {_prose(s['message'])}")
    print(f"{report['correct']}/{report['total']} correct")
    if unknown:  # one line, however many: an answers file can hold thousands of keys
        shown = ", ".join(repr(k[:40]) for k in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        which = "which is not a step" if len(unknown) == 1 else "which are not steps"
        print(f"tutor: note: the answers file has {shown}, {which} of this lesson", file=sys.stderr)


def validate_paths(paths: list[Path]) -> tuple[list[LessonError], int, int]:
    """Loads and live-solves every lesson file under `paths`: every problem, files checked, files invalid."""
    files: list[tuple[Path, bool]] = []  # (file, named on the command line)
    problems: list[LessonError] = []
    for p in paths:
        if p.is_dir():

            found, problem = toml_files(p)
            if problem:
                problems.append(LessonError(str(p), None, problem.removeprefix(f"{p}: ")))
            if not found:
                problems.append(LessonError(str(p), None, "no lesson files (*.toml) in this folder"))
            files += [(f, False) for f in found]
        elif p.exists() or p.is_symlink():
            files.append((p, True))  # a FIFO or device is named and refused, not called missing
        else:
            problems.append(LessonError(str(p), None, "no such file or folder"))
    invalid = checked = 0
    for f, named in files:
        errors = validate_file(f, skip_non_lessons=not named)
        if errors is None:
            continue
        checked += 1
        invalid += bool(errors)
        problems += errors
    return problems, checked, invalid


def validate_file(path: Path, skip_non_lessons: bool = False) -> list[LessonError] | None:
    """Every problem of one lesson file; None for a file without [[steps]] found in a folder."""

    entry = load_file(path)
    if entry.not_a_lesson and skip_non_lessons:
        return None
    if entry.lesson is None:
        return list(entry.errors)
    try:
        _, errors = solve_steps(entry.lesson)
    except LessonErrors as errs:
        return list(errs.errors)
    except Exception as err:  # noqa: BLE001  one file's failure is that file's error, not the run's
        return [LessonError(str(path), None, unexpected(err))]
    return errors


CHECK_RUN_SECONDS = 3600.0  # of work for a whole `tutor check` run


def check_file_seconds(seeds: int) -> float:
    """The work one file may take under `tutor check`: its own numbers and every drill seed, redraws
    included (a built-in lesson takes about 0.2 s a seed at most)."""
    return 10.0 + 0.5 * seeds


def _path_problem(path: Path, reason: str) -> dict:
    return {"file": str(path), "step": None, "seed": None, "reason": reason, "line": None}


def check_paths(paths: list[Path], seeds: int) -> dict:
    """`tutor check`: validate, then solve each lesson and `seeds` drill variants and check their mistakes.

    Folders are searched as `validate` searches them (links to folders are not followed, at most
    MAX_ENTRIES entries and MAX_FILES lesson files); a folder too big to search is named and skipped,
    so `tutor check /` ends at once. Each file may take check_file_seconds(seeds) of work and the run
    CHECK_RUN_SECONDS; a file or run that reaches its limit says so and what was not checked."""
    problems: list[dict] = []
    todo: list[tuple[Path, bool]] = []  # (file, found in a folder)
    for p in paths:
        if not (p.exists() or p.is_symlink()):
            problems.append(_path_problem(p, "no such file or folder"))
            continue
        if not p.is_dir():
            todo.append((p, False))
            continue
        found, problem = toml_files(p)
        if problem:
            problems.append(_path_problem(p, problem.removeprefix(f"{p}: ")))
            if "stopped looking" in problem:  # too big a folder to search: check none of it
                problems[-1]["reason"] += "; nothing in it was checked (name a smaller folder)"
                continue
        if not found:
            problems.append(_path_problem(p, "no lesson files (*.toml) in this folder"))
        todo += [(f, True) for f in found]
    files = drilled = 0
    run = budget.Ceiling(CHECK_RUN_SECONDS, f"the check took more than {CHECK_RUN_SECONDS:g} s of work in all")
    per_file = check_file_seconds(seeds)
    with budget.ceiling(run):
        for n, (f, in_folder) in enumerate(todo):
            if run.reached:
                problems.append(_path_problem(f, f"{run.message}; this file and {len(todo) - n - 1} more "
                                                 "were not checked"))
                break
            limit = budget.Ceiling(per_file, f"checking this file took more than {per_file:g} s of work")
            with budget.ceiling(limit):
                file_problems, is_lesson, has_drill = _check_file(f, in_folder, seeds)
            problems += file_problems
            files += is_lesson
            drilled += has_drill
    return {"files": files, "drilled": drilled, "seeds": seeds, "problems": problems}


def _check_file(f: Path, in_folder: bool, seeds: int) -> tuple[list[dict], bool, bool]:
    """One file's problems under `tutor check`; whether it is a lesson file, and one with a [drill]."""
    from tutor.core.drill.audit import check_lesson  # lazy: torch, not needed to list or validate

    try:
        errors = validate_file(f, skip_non_lessons=in_folder)
    except CeilingReached as err:
        return [_path_problem(f, f"{err}; it was not checked further")], True, False
    if errors is None:
        return [], False, False
    if errors:
        return [{"file": e.file, "step": _step_of(e.where), "seed": None, "line": None,
                 "reason": e.reason if _step_of(e.where) else f"{e.where}: {e.reason}" if e.where
                 else e.reason} for e in errors], True, False
    lesson = load_file(f).lesson  # never raises: a failure is the entry's errors
    if lesson is None:  # valid a moment ago: the file changed while it was being checked
        return [_path_problem(f, "the file changed while it was being checked; check it again")], True, False
    try:
        return check_lesson(lesson, seeds), True, bool(lesson.drill)
    except Exception as err:  # noqa: BLE001  one file's failure is that file's problem, not the run's
        return [_path_problem(f, unexpected(err))], True, bool(lesson.drill)


def _step_of(where: str | None) -> str | None:
    if where and where.startswith("step '") and where.count("'") >= 2:
        return where.split("'")[1]
    return None


def print_check(report: dict) -> None:
    for p in report["problems"]:
        place = ", ".join(part for part in (
            f"step {p['step']!r}" if p["step"] else "",
            f"seed {p['seed']}" if p["seed"] is not None else "the lesson's own numbers") if part)
        where = f"{p['file']}:{p['line']}" if p.get("line") else p["file"]
        if p["step"] is None and p["seed"] is None and (Path(p["file"]).is_dir() or not Path(p["file"]).exists()):
            print(one_line(f"{where}: {p['reason']}", 4000))  # a folder's or a missing path's, no lesson's
            continue
        print(one_line(f"{where}: {place}: {p['reason']}", 4000))  # a file name may hold a newline
    files, count = report["files"], len(report["problems"])
    bad = len({p["file"] for p in report["problems"]})
    verdict = f"{count} problem{'s' if count != 1 else ''} in {bad} file{'s' if bad != 1 else ''}" \
        if count else "no problems"
    if files:
        print(f"{_files(files)} checked{_variants(files, report.get('drilled', files), report['seeds'])}: {verdict}")
    else:
        print("no lesson files found")


def _files(n: int) -> str:
    return f"{n} lesson file{'s' if n != 1 else ''}"


def _variants(files: int, drilled: int, seeds: int) -> str:
    """How many drill variants each file was checked with: only files with a [drill] section have any."""
    each = f"{seeds} drill variant{'s' if seeds != 1 else ''} each"
    if not drilled:
        return " on their own numbers (no [drill], so no variants)" if files != 1 else \
            " on its own numbers (no [drill], so no variants)"
    if seeds == 0:
        return " on their own numbers only (--seeds 0)" if files != 1 else " on its own numbers only (--seeds 0)"
    if drilled == files:
        return f" with {each}"
    return f", {drilled} of them with {each}"
