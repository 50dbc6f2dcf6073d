"""`tutor import FILE`: a teacher's notebook becomes a lesson file, checked by solving it before it is written."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from tutor.cli.lesson_commands import solve_steps
from tutor.core.errors import LessonErrors
from tutor.core.lesson.load import parse_lesson
from tutor.core.notebook import NotebookRefused, import_notebook, needed
from tutor.core.text.files import MAX_LESSON_BYTES
from tutor.core.text.safe import one_line
from tutor.core.vocabulary import ExitCode

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
MAX_ROUNDS = 6   # each round leaves out the steps that cannot be computed and solves the rest again


def add_command(sub, common) -> None:
    p = sub.add_parser("import", parents=[common],
                       help="turn a notebook (.ipynb, .py, or an 'In [n]:' text export) into a lesson")
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--output", metavar="LESSON.toml", help="write the lesson here (default: standard output)")
    p.add_argument("--id", dest="lesson_id", metavar="ID", help="the lesson's id (default: from the file name)")


def _say(line: str) -> None:
    print(f"tutor: {one_line(line, 4000)}", file=sys.stderr)


def cmd_import(args, extra) -> int:
    source = Path(args.file)
    if args.lesson_id is not None and not _ID.match(args.lesson_id):
        _say("--id must be at most 80 letters, digits, '-', '_' or '.', starting with a letter or digit")
        return ExitCode.BAD_INPUT
    try:
        imported = import_notebook(source, args.lesson_id)
    except NotebookRefused as err:
        _say(f"{source}: {err}")
        return ExitCode.BAD_INPUT
    drop: dict[str, str] = {}
    text = None
    for _ in range(MAX_ROUNDS):
        if len(drop) == len(imported.program.steps):
            break
        text = imported.text(drop)
        failing = _failing_steps(imported, text, args.output or f"{imported.lesson_id}.toml", drop)
        if not failing:
            break
        drop.update(failing)
    for line in imported.left_out(drop):
        _say(line)
    if len(drop) == len(imported.program.steps) or text is None:
        _say(f"{source}: nothing in it could be imported (no value it shows is part of the lesson language)")
        return ExitCode.PROBLEMS
    if len(text.encode("utf-8")) > MAX_LESSON_BYTES:
        _say(f"{source}: the lesson would be larger than {MAX_LESSON_BYTES // 1024} KB, more than a lesson file holds")
        return ExitCode.BAD_INPUT
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as err:
            _say(f"cannot write {args.output}: {err.strerror or err}")
            return ExitCode.BAD_INPUT
    else:
        sys.stdout.write(text)
    return ExitCode.OK


def _failing_steps(imported, text: str, path: str, drop: dict) -> dict[str, str]:
    """Steps of the written lesson that do not load or cannot be computed, with why."""
    steps = [s for s in imported.program.steps if s.id not in drop]
    try:
        lesson = parse_lesson(text, Path(path))
        _, errors = solve_steps(lesson)
    except LessonErrors as errs:
        errors = list(errs.errors)
    failing: dict[str, str] = {}
    for err in errors:
        where = err.where or ""
        if where.startswith("step '"):
            failing[where.split("'")[1]] = f"cannot be computed: {err.reason}"
            continue
        match = re.match(r"graph line (\d+)", where)
        culprits = steps
        if match:
            lines, _ = needed(imported.program, steps)
            number = int(match.group(1))
            names = [line.name for line in lines]
            if 0 < number <= len(names):
                bad = names[number - 1]
                culprits = [s for s in steps if bad in needed(imported.program, [s])[1]]
        for s in culprits:
            failing.setdefault(s.id, f"cannot be computed: {err.reason}")
    return failing
