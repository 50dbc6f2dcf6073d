"""The `tutor` command: opens the app, or lists, solves, grades and validates lessons without it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from tutor import _start_time  # noqa: F401  (first: start-up is measured from here)
from tutor.app import run_app
from tutor.cli import class_commands as cli_class
from tutor.cli import import_command as cli_import
from tutor.cli.lesson_commands import (
    check_paths,
    grade_folder,
    grade_lesson,
    lesson_rows,
    print_check,
    print_folder_grade,
    print_grade,
    print_lesson_table,
    print_solution,
    read_answers,
    solution_json,
    solve_steps,
    validate_paths,
    write_grade_csv,
)
from tutor.cli.progress_table import format_progress
from tutor.core.drill.variants import DrillError, emit_variant, pick_lesson, resolve_topic
from tutor.core.errors import LessonErrors, TutorError
from tutor.core.lesson.catalog import Catalog, UnknownLesson, lesson_dirs
from tutor.core.progress.store import ProgressStore, replay_left_over
from tutor.core.text.safe import CleanWriter, one_line, unexpected
from tutor.core.vocabulary import ExitCode

MAX_SEED = 2**53 - 1  # drill seeds stay exact in JSON and fit the progress database after any run


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if not 0 <= seed <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed is a whole number from 0 to {MAX_SEED}")
    return seed


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--lessons", action="append", metavar="DIR", default=argparse.SUPPRESS,
                        help="an extra folder of lesson files (repeatable; also TUTOR_LESSONS, ':'-separated)")
    common.add_argument("--no-mouse", action="store_true", default=argparse.SUPPRESS,
                        help="turn mouse reporting off (for terminals and multiplexers that garble it)")
    common.add_argument("--database", metavar="URL", default=argparse.SUPPRESS,
                        help="keep progress in a class's PostgreSQL database (also TUTOR_DATABASE_URL)")
    parser = argparse.ArgumentParser(
        prog="tutor", parents=[common],
        description="Learn the math under deep learning by hand, checked live against PyTorch.",
        epilog="Without a command, opens the app on the lesson list.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("open", parents=[common], help="open the app straight in a lesson")
    p.add_argument("lesson", metavar="LESSON", help="a lesson id or a path to a lesson file")
    p.add_argument("--watch", action="store_true",
                   help="reload the lesson whenever its file changes (for authors)")
    p = sub.add_parser("lessons", parents=[common], help="list lessons and your progress")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("solve", parents=[common], help="print a lesson's worked solution, computed live")
    p.add_argument("lesson", metavar="LESSON")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("grade", parents=[common],
                       help="grade a TOML file of answers, or a folder of them (never recorded as anyone's progress)",
                       description="Grades answers files against a lesson, computed live. Grading never writes"
                                   " anyone's progress: not yours, not a student's, and no grade goes to a class"
                                   " database; a student's progress is only what they answer in the app.")
    p.add_argument("lesson", metavar="LESSON")
    p.add_argument("--answers", required=True, metavar="FILE|DIR",
                   help="TOML: step_id = \"answer as typed\"; a folder grades every *.toml in it")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--csv", action="store_true", help="one row per answers file, for a spreadsheet")
    p = sub.add_parser("validate", parents=[common], help="check lesson files or folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("check", parents=[common],
                       help="validate lessons, then solve them and their drill variants and check their mistakes")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="lesson files or folders (default: the built-in lessons and any --lessons folders)")
    p.add_argument("--seeds", type=int, default=5, metavar="N", help="drill variants to check per lesson (default 5)")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("drill", parents=[common], help="endless fresh variants of a topic's lessons")
    p.add_argument("topic", metavar="TOPIC", help="a topic (`tutor lessons` shows them) or a lesson id")
    p.add_argument("--seed", type=_seed, metavar="N", help="reproduce a run or a variant")
    p.add_argument("--emit", action="store_true", help="print the variant for --seed as a lesson file")
    p = sub.add_parser("progress", parents=[common],
                       help="your own progress (a teacher's too: `tutor class report` is the class's);"
                            " export every attempt")
    p.add_argument("--export", choices=["csv", "json"])
    cli_class.add_commands(sub, common)
    cli_import.add_command(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    extra = tuple(getattr(args, "lessons", ()) or ())
    command = args.command or "app"
    if getattr(args, "database", None):  # every store this command opens uses the class database
        os.environ["TUTOR_DATABASE_URL"] = args.database
    if (command in ("app", "open") or (command == "drill" and not args.emit)
            or cli_class.opens_the_app(command, args)):
        return _run(command, args, extra)  # the app draws the terminal itself

    # Lesson and answers text is cleaned when read; this catches anything else (file names, messages).
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = CleanWriter(sys.stdout), CleanWriter(sys.stderr)
    try:
        return _run(command, args, extra)
    finally:
        sys.stdout, sys.stderr = saved


def _run(command: str, args, extra: tuple[str, ...]) -> int:
    try:
        if command not in STORE_COMMANDS:
            _replay_left_over()
        return COMMANDS[command](args, extra)
    except TutorError as err:
        print(f"tutor: {err}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as err:  # noqa: BLE001  never a traceback: one line, and an exit code of the contract

        print(f"tutor: {command} stopped: {unexpected(err)}", file=sys.stderr)
        return ExitCode.PROBLEMS if command == "validate" else ExitCode.BAD_INPUT


def _catalog(extra: tuple[str, ...]):

    return Catalog.load(extra)


def _print_errors(errs: LessonErrors) -> None:

    for e in errs.errors:
        print(f"tutor: {one_line(str(e), 4000)}", file=sys.stderr)  # a file name may hold a newline


def cmd_app(args, extra) -> int:

    return run_app(extra_dirs=extra, mouse=not getattr(args, "no_mouse", False), exit_process=True)


def cmd_open(args, extra) -> int:

    catalog = _catalog(extra)
    try:
        entry = catalog.find(args.lesson)
    except UnknownLesson as err:
        print(f"tutor: {err}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    if entry.lesson is None:
        _print_errors(LessonErrors(list(entry.errors)))
        return ExitCode.BAD_INPUT

    return run_app(lesson_ref=args.lesson, extra_dirs=extra, mouse=not getattr(args, "no_mouse", False),
                   watch=args.watch, exit_process=True)


def cmd_lessons(args, extra) -> int:

    catalog = _catalog(extra)
    rows = lesson_rows(catalog)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_lesson_table(rows)
    for problem in catalog.problems:
        print(f"tutor: {problem}", file=sys.stderr)
    return ExitCode.OK


def _load(ref: str, extra: tuple[str, ...]):
    """The lesson for an id or path, or an exit status after printing why not."""

    try:
        return _catalog(extra).lesson(ref)
    except UnknownLesson as err:
        print(f"tutor: {err}", file=sys.stderr)
    except LessonErrors as errs:
        _print_errors(errs)
    return None


def cmd_solve(args, extra) -> int:
    lesson = _load(args.lesson, extra)
    if lesson is None:
        return ExitCode.BAD_INPUT

    prose: dict = {}
    results, errors = solve_steps(lesson, prose)
    if errors:
        _print_errors(LessonErrors(errors))
        return ExitCode.BAD_INPUT
    if args.json:
        print(json.dumps(solution_json(lesson, results, prose)))
    else:
        print_solution(lesson, results, prose)
    return ExitCode.OK


def cmd_grade(args, extra) -> int:
    lesson = _load(args.lesson, extra)
    if lesson is None:
        return ExitCode.BAD_INPUT

    if Path(args.answers).is_dir():
        return _grade_folder(lesson, Path(args.answers), args)
    try:
        answers = read_answers(Path(args.answers))
    except TutorError as err:
        print(f"tutor: {err}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    try:
        report = grade_lesson(lesson, answers)
    except LessonErrors as errs:
        _print_errors(errs)
        return ExitCode.BAD_INPUT
    if args.json:
        print(json.dumps(report))
    elif args.csv:
        write_grade_csv(lesson, [{"file": Path(args.answers).name, **report}], sys.stdout)
    else:
        print_grade(lesson, report, unknown=sorted(set(answers) - {s.id for s in lesson.steps}))
    return ExitCode.OK if report["correct"] == report["total"] else ExitCode.PROBLEMS


def _grade_folder(lesson, folder: Path, args) -> int:

    try:
        report = grade_folder(lesson, folder)
    except LessonErrors as errs:
        _print_errors(errs)
        return ExitCode.BAD_INPUT
    if args.json:
        print(json.dumps(report))
    elif args.csv:
        write_grade_csv(lesson, report["files"], sys.stdout)
    else:
        print_folder_grade(lesson, report)
    perfect = all("error" not in r and r["correct"] == r["total"] for r in report["files"])
    return ExitCode.OK if perfect else ExitCode.PROBLEMS


def cmd_validate(args, extra) -> int:

    problems, checked, invalid = validate_paths([Path(p) for p in args.paths])
    if args.json:
        print(json.dumps({"files": checked, "errors": [
            {"file": e.file, "where": e.where, "reason": e.reason} for e in problems]}))
    else:

        for e in problems:
            print(one_line(str(e), 4000))
        print(f"{checked} lesson file{'s' if checked != 1 else ''} checked: "
              f"{checked - invalid} valid, {invalid} invalid" if checked else "no lesson files found")
    return ExitCode.PROBLEMS if problems or not checked else ExitCode.OK


def cmd_check(args, extra) -> int:

    if not 0 <= args.seeds <= MAX_CHECK_SEEDS:
        print(f"tutor: --seeds must be a whole number from 0 to {MAX_CHECK_SEEDS}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    if args.paths:
        paths = [Path(p) for p in args.paths]
    else:  # an author's whole curriculum: the built-in lessons and their own folders

        paths = [d for d in lesson_dirs(extra) if d.is_dir()]
    report = check_paths(paths, args.seeds)
    if args.json:
        print(json.dumps(report))
    else:
        print_check(report)
    return ExitCode.PROBLEMS if report["problems"] or not report["files"] else ExitCode.OK


MAX_CHECK_SEEDS = 1000


def cmd_drill(args, extra) -> int:

    catalog = _catalog(extra)
    try:
        lessons = resolve_topic(catalog, args.topic)
    except DrillError as err:
        print(f"tutor: {err}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    if args.emit:
        if args.seed is None:
            print("tutor: --emit needs --seed N (the variant to print)", file=sys.stderr)
            return ExitCode.BAD_INPUT
        try:
            text = emit_variant(lessons, args.seed)
        except (ArithmeticError, ValueError, TypeError, IndexError, RecursionError, MemoryError) as err:

            lesson = pick_lesson(lessons, args.seed)
            print(f"tutor: {lesson.path or lesson.id}: [drill] seed {args.seed}: {unexpected(err)}", file=sys.stderr)
            return ExitCode.BAD_INPUT
        sys.stdout.write(text)
        return ExitCode.OK

    return run_app(extra_dirs=extra, drill_topic=args.topic, drill_seed=args.seed,
                   mouse=not getattr(args, "no_mouse", False), exit_process=True)


def cmd_progress(args, extra) -> int:
    with ProgressStore.open() as store:
        found = store.link.check_now() if store.link is not None else None  # said now, not by a thread later
        if store.warning and args.export:  # the summary's footer shows it; an export must stay clean
            print(f"tutor: {store.warning}", file=sys.stderr)
        if args.export and (found is not None and found.kind == "setup" or not store.persistent):
            return ExitCode.BAD_INPUT  # a class that cannot be used, or no progress file: no export passes for one
        if args.export == "csv":
            store.export_csv(sys.stdout)
        elif args.export == "json":
            store.export_json(sys.stdout)
        else:
            catalog = _catalog(extra)
            rows = [(e.id, e.topic, e.title, len(e.lesson.steps)) for e in catalog.entries if e.lesson]
            print(format_progress(store, rows))
    return ExitCode.OK


# These open the progress store, which saves whatever an earlier session left in the journal.
STORE_COMMANDS = ("app", "open", "drill", "progress", "review", "lessons")


def _replay_left_over() -> None:
    """Answers an earlier session could not save (a signal, a dropped connection, a server that was
    down) are saved by the next tutor command, whichever it is."""
    for notice in replay_left_over():
        print(f"tutor: {notice}", file=sys.stderr)


COMMANDS = {
    "app": cmd_app, "open": cmd_open, "lessons": cmd_lessons, "solve": cmd_solve, "grade": cmd_grade,
    "validate": cmd_validate, "check": cmd_check, "drill": cmd_drill, "progress": cmd_progress,
    "review": cli_class.cmd_review, "class": cli_class.cmd_class, "import": cli_import.cmd_import,
}
