"""Hostile mutations of a real lesson and its answers, and a check that runs one through every output path."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE = (ROOT / "lessons" / "autograd" / "chain-rule-scalar.toml").read_text()
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# TOML values a teacher's file might hold by mistake or by design
VALUES = [
    "9" * 400, "-" + "9" * 400, str(2**63), str(-(2**63) - 1), str(2**53 + 1), "1e308", "-1e308",
    "5e-324", "-0.0", "inf", "-inf", "nan", "0", "true", "1979-05-27T07:32:00Z", "07:32:00",
    "[]", "[[]]", "[[], []]", "[[[]]]", "[1, [2]]", "[1, \"pi\"]", "[\"1e999\"]", "{}", "{a = 1}",
    '"\\u001b]0;owned\\u0007"', '"\\u001b[2J\\u001b[H"', '"\\u001b]52;c;ZXZpbA==\\u001b\\\\"',
    '"\\u009b31m"', '"\\u202eevil"', '"=HYPERLINK(\\"x\\")"', '""', '"' + "x" * 5000 + '"',
    "[" + ", ".join(["1"] * 3000) + "]", '"' + "(" * 300 + "1" + ")" * 300 + '"',
]
# expressions in asks, givens, graph lines, mistakes and drills
EXPRESSIONS = [
    "zeros(0, 3)", "zeros(3, 0)", "zeros(0)", "ones(2, 0, 2)", "shape(zeros(0, 3))", "1 / 0", "-1 / 0",
    "0 / 0", "log(0)", "sqrt(-1)", "(-8) ** 0.5", "2 ** 1023 * 2", "10 ** 308 * 10", "9 ** 9 ** 9",
    "2 ** 63", "2 ** 64 - 1", "-(2 ** 63)", "1e308 + 1e308", "exp(1000)", "sum(zeros(0))",
    "mean(zeros(0))", "max(zeros(0))", "softmax(zeros(0), dim=0)", "conv1d(ones(1,1,4), ones(1,1,2), stride=0)",
    "max_pool2d(ones(1,1,2,2), 3)", "reshape(ones(6), (-1, -1))", "shape(ones(2))[7]", "ones(2) @ ones(3)",
    "zeros(3, 0) @ zeros(0, 3)", "grad(v, v)", "a" * 3000, "v" + " + v" * 900, "[" * 200 + "1" + "]" * 200,
    "\x1b]0;x\x07v", "v\u202e", "pi" * 10, "randint(0, 9)", "numel(zeros(10**6, 10**6))",
]
ANSWERS = [
    "9" * 400, "1e999", "-1e999", "nan", "inf", "[]", "[[]]", "[" * 2000, "(" * 1000 + "1" + ")" * 1000,
    "1 " * 900, "0x10", "1_000", "٣", "５", "=1+1", "\x1b]0;owned\x07 5", "5\x00", "\u202e5", "", " ",
    "2**63", "10**400", "1/0", "0/0", "sqrt(-1)", "5" * 1999, "[1, [2]]", "3x4x" * 100, "5; 5; 5",
]
PLACES = {
    "title": 'title = "The chain rule on a scalar graph"',
    "order": "order = 10",
    "a": "a = 2\n",
    "x": "x = 3\n",
    "eta": "eta = 0.05\n",
    "lr": "lr = 0.02",
    "steps": "steps = 30",
}


def value_cases() -> list[tuple[str, str]]:
    out = []
    for place, old in PLACES.items():
        key = old.split("=")[0].strip()
        for value in VALUES:
            end = "\n" if old.endswith("\n") else ""
            out.append((f"{place} = {value[:30]}", BASE.replace(old, f"{key} = {value}{end}", 1)))
    tolerance = "[given]"
    for value in VALUES:
        out.append((f"tolerance = {value[:30]}", BASE.replace(tolerance, f"tolerance = {{rtol = {value}}}\n[given]", 1)))
    return out


def expression_cases() -> list[tuple[str, str]]:
    out = []
    for expr in EXPRESSIONS:
        quoted = expr.replace("\\", "\\\\").replace('"', '\\"')
        quoted = quoted.replace("\x1b", "\\u001b").replace("\x07", "\\u0007").replace("\u202e", "\\u202e")
        out.append((f"ask {expr[:30]}", BASE.replace('ask = "v"', f'ask = "{quoted}"', 1)))
        out.append((f"given {expr[:30]}", BASE.replace("a = 2\n", f'a = "{quoted}"\n', 1)))
        out.append((f"graph {expr[:30]}", BASE.replace("v = u + b\n", f"v = u + b + 0 * ({quoted})\n", 1)))
        out.append((f"mistake {expr[:30]}", BASE.replace('when = "v"', f'when = "{quoted}"', 1)))
        out.append((f"drill {expr[:30]}", BASE.replace('a = "randint(-3, 3)"', f'a = "{quoted}"', 1)))
    return out


def all_cases() -> list[tuple[str, str]]:
    return value_cases() + expression_cases()


def sample(count: int, seed: int = 12) -> list[tuple[str, str]]:
    cases = all_cases()
    return random.Random(seed).sample(cases, min(count, len(cases)))


def run_case(text: str, tmp: Path, answers: list[str]) -> list[str]:
    """Every output path for one lesson text; returns what went wrong (empty if nothing)."""
    from tutor.cli import lesson_commands as cli_report
    from tutor.core.lesson.catalog import load_file

    problems: list[str] = []
    path = tmp / "case.toml"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            entry = load_file(path)
            if entry.error and "\n" in entry.error:
                problems.append("error message spans lines")
            cli_report.print_lesson_table([{"id": entry.id, "topic": entry.topic, "title": entry.title,
                                            **({"error": entry.error} if entry.error else {"solved": 0, "steps": 1})}])
            if entry.lesson is not None:
                lesson = entry.lesson
                results, errors = cli_report.solve_steps(lesson)
                if not errors:
                    cli_report.print_solution(lesson, results)
                    json.dumps(cli_report.solution_json(lesson, results))
                    by_step = {s.id: answers[i % len(answers)] for i, s in enumerate(lesson.steps)}
                    report = cli_report.grade_lesson(lesson, by_step)
                    cli_report.print_grade(lesson, report, unknown=[])
                    cli_report.write_grade_csv(lesson, [{"file": "=x.toml", **report}], out)
                    json.dumps(report)
    except Exception as err:  # noqa: BLE001  that is what this pass looks for
        problems.append(f"{type(err).__name__}: {str(err)[:120]}")
    text_out = out.getvalue()
    if CONTROL.search(text_out.replace("\r\n", "\n")):
        problems.append("control character in output: " + repr(CONTROL.search(text_out).group()))
    for row in csv.reader(io.StringIO(text_out)):
        if row and row[0] == "'=x.toml" and any(c.startswith(("=", "+", "-", "@")) for c in row):
            problems.append("active CSV cell")
    return problems


ANSWER_VALUES = VALUES + [
    '"' + a.replace("\\", "\\\\").replace('"', '\\"').replace("\x1b", "\\u001b").replace("\x07", "\\u0007")
    .replace("\x00", "\\u0000").replace("\u202e", "\\u202e") + '"' for a in ANSWERS
]


def answers_cases() -> list[tuple[str, str]]:
    """Answers files for chain-rule-scalar: each hostile value under a real step id and under a hostile key."""
    out = []
    for value in ANSWER_VALUES:
        out.append((f"forward = {value[:30]}", f'loss = "25"\nforward = {value}\n'))
        out.append((f"hostile key = {value[:30]}", f'"\\u001b[2J=cmd" = {value}\nforward = "5"\n'))
    out.append(("nested 5000", "forward = " + "[" * 5000 + "]" * 5000))
    out.append(("tables 5000", "forward = " + "{a = " * 5000 + "1" + "}" * 5000))
    out.append(("digits 5000", "forward = " + "9" * 5000))
    out.append(("not UTF-8", "forward = \"\xff\""))
    out.append(("BOM", "\ufeffforward = \"5\""))
    return out


@functools.lru_cache(maxsize=1)
def _chain_rule():
    from tutor.core.lesson.load import load_lesson

    return load_lesson(ROOT / "lessons" / "autograd" / "chain-rule-scalar.toml")


def run_answers_case(text: str, tmp: Path) -> list[str]:
    """Grades one hostile answers file for chain-rule-scalar as `grade` and `grade --answers DIR` would."""
    from tutor.cli import lesson_commands as cli_report
    from tutor.core.errors import TutorError

    problems: list[str] = []
    folder = tmp / "answers"
    folder.mkdir(exist_ok=True)
    path = folder / "=student.toml"
    path.write_bytes(text.encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff"))
    lesson = _chain_rule()
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                answers = cli_report.read_answers(path)
            except TutorError as err:
                if "\n" in str(err):
                    problems.append("error message spans lines")
            else:
                report = cli_report.grade_lesson(lesson, answers)
                cli_report.print_grade(lesson, report, unknown=sorted(set(answers) - {s.id for s in lesson.steps}))
                json.dumps(report)
            folder_report = cli_report.grade_folder(lesson, folder)
            cli_report.print_folder_grade(lesson, folder_report)
            cli_report.write_grade_csv(lesson, folder_report["files"], out)
    except Exception as err:  # noqa: BLE001  that is what this pass looks for
        problems.append(f"{type(err).__name__}: {str(err)[:120]}")
    text_out = out.getvalue()
    if found := CONTROL.search(text_out.replace("\r\n", "\n")):
        problems.append("control character in output: " + repr(found.group()))
    for row in csv.reader(io.StringIO(text_out)):
        if row and row[0].endswith("student.toml") and any(c.startswith(("=", "+", "-", "@")) for c in row):
            problems.append("active CSV cell")
    return problems


def run_progress_case(answer: str, tmp: Path) -> list[str]:
    """An attempt with hostile text in the progress database, then every way progress is shown."""
    from tutor.cli.progress_table import format_progress
    from tutor.core.progress.store import ProgressStore

    problems: list[str] = []
    out = io.StringIO()
    try:
        with ProgressStore.open(tmp / "progress.sqlite3") as store:
            store.record_attempt("=HYPERLINK(\"x\")\x1b]0;t\x07", "-step\x9b2J", answer, "wrong", "msg\x1b[2J",
                                 topic="@topic", mistake="+m")
            store.export_csv(out)
            rows = list(csv.reader(io.StringIO(out.getvalue())))
            if any(cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row):
                problems.append("active CSV cell")
            format_progress(store, [("=HYPERLINK(\"x\")\x1b]0;t\x07", "@topic", "title", 1)])
    except Exception as err:  # noqa: BLE001
        problems.append(f"{type(err).__name__}: {str(err)[:120]}")
    return problems
