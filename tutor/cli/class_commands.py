"""`tutor review` and `tutor class ...`: reviews of what is due, and a class on PostgreSQL."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import textwrap
from datetime import datetime
from typing import Literal

from tutor.app import run_app
from tutor.cli.tables import Column, terminal_width, text_table
from tutor.core.lesson.catalog import Catalog, UnknownLesson
from tutor.core.progress.review import memories
from tutor.core.progress.store import ProgressStore
from tutor.core.text.safe import csv_cell
from tutor.core.vocabulary import ExitCode


def add_commands(sub, common) -> None:
    p = sub.add_parser("review", parents=[common],
                       help="what is due for review; without --json, a run of fresh variants of it")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("class", parents=[common], help="a class on PostgreSQL: set it up, publish lessons, report")
    actions = p.add_subparsers(dest="class_command", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init", parents=[common],
        help="create the tables, roles and rules, publish the lessons (run as the database owner; safe to rerun)")
    init.add_argument("--student", action="append", default=[], metavar="ROLE",
                      help="a student's login (created if missing; repeatable)")
    init.add_argument("--teacher", action="append", default=[], metavar="ROLE",
                      help="a teacher's login, who reads the whole class (repeatable)")
    publish = actions.add_parser(
        "publish", parents=[common],
        help="publish lessons to the class (default: every lesson tutor finds); answers are graded against them")
    publish.add_argument("lessons_to_publish", nargs="*", metavar="LESSON", help="lesson ids or lesson files")
    report = actions.add_parser(
        "report", parents=[common],
        help="the gradebook: every enrolled student, each answer re-graded by tutor itself")
    report.add_argument("--export", choices=["csv", "json", "wide-csv"],
                        help="csv/json: one row per student and lesson; wide-csv: one row per student,"
                             " one column per lesson (for a gradebook)")
    report.add_argument("--since", metavar="DATE", type=_date, help="only answers from DATE (YYYY-MM-DD) on")
    report.add_argument("--by", choices=["student", "step"], default="student",
                        help="step: the class in each step (tried, right first time, commonest mistake)")


def _date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").astimezone()  # local midnight
    except ValueError:
        raise argparse.ArgumentTypeError("a date is written YYYY-MM-DD, e.g. 2026-09-01") from None


def opens_the_app(command: str, args) -> bool:
    return command == "review" and not args.json


def cmd_review(args, extra) -> int:
    with ProgressStore.open() as store:
        now = store.now()
        found = memories(store, now)
        warning = store.warning
    due = [m for m in found if m.is_due(now)]  # soonest due first: the most overdue leads
    upcoming = [m for m in found if not m.is_due(now)]
    if warning:
        print(f"tutor: {warning}", file=sys.stderr)
    if args.json:
        json.dump({"now": now.isoformat(), "due": [m.as_json(now) for m in due],
                   "upcoming": [m.as_json(now) for m in upcoming]}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return ExitCode.OK
    if not due:
        if upcoming:
            nxt = upcoming[0]
            print(f"Nothing is due for review. Next: {nxt.title}, {nxt.due.astimezone():%a %d %b %H:%M}.")
        else:
            print("Nothing to review yet: reviews come from the skills you answer in lessons.")
        return ExitCode.OK
    return run_app(extra_dirs=extra, review_skills=[m.skill for m in due],
                   mouse=not getattr(args, "no_mouse", False))


def cmd_class(args, extra) -> int:
    url = os.environ.get("TUTOR_DATABASE_URL")
    if not url:
        return _fail(f"class {args.class_command} needs the database: --database URL or TUTOR_DATABASE_URL")
    if args.class_command == "init":
        return _init(url, args, extra)
    if args.class_command == "publish":
        return _publish(url, args, extra)
    return _report(url, args)


def _fail(message: str) -> int:
    print(f"tutor: {message}", file=sys.stderr)
    return ExitCode.BAD_INPUT


def _lessons(extra, refs=()) -> tuple[list, list[str]]:
    """What `class init`/`publish` publish: the lessons named, else every lesson tutor finds."""
    from tutor.core.progress.class_db import publishable  # lazy: psycopg, only for a class

    catalog = Catalog.load(extra)
    if refs:
        entries, problems = [], []
        for ref in refs:
            try:
                entries.append(catalog.find(ref))
            except UnknownLesson as error:
                problems.append(str(error))
    else:
        entries, problems = [e for e in catalog.entries if not e.not_a_lesson], []
    found = [publishable(entry) for entry in entries]
    return [f for f in found if not isinstance(f, str)], problems + [f for f in found if isinstance(f, str)]


def _init(url: str, args, extra) -> int:
    import psycopg  # lazy: psycopg, only for a class

    from tutor.core.progress.class_db import init, trust_warning  # lazy: psycopg, only for a class
    from tutor.core.progress.postgres import first_line, redact  # lazy: psycopg, only for a class

    lessons, problems = _lessons(extra)
    try:
        done = init(url, args.student, args.teacher, lessons)
    except psycopg.Error as error:
        return _fail(f"cannot set up the class in {redact(url, url)}: {first_line(error, url)}")
    print(f"Class database {redact(url, url)} is ready:")
    for line in done:
        print(f"  {line}")
    for problem in problems:
        print(f"tutor: not published: {problem}", file=sys.stderr)
    warning = trust_warning(url)
    if warning:
        print(f"tutor: {warning}", file=sys.stderr)
    return ExitCode.OK


def _publish(url: str, args, extra) -> int:
    import psycopg  # lazy: psycopg, only for a class

    from tutor.core.progress.class_db import publish_to  # lazy: psycopg, only for a class
    from tutor.core.progress.postgres import first_line, redact  # lazy: psycopg, only for a class

    lessons, problems = _lessons(extra, args.lessons_to_publish)
    for problem in problems:
        print(f"tutor: not published: {problem}", file=sys.stderr)
    if not lessons:
        return _fail("no lesson to publish")
    try:
        done = publish_to(url, lessons)
    except psycopg.Error as error:
        return _fail(f"cannot publish to {redact(url, url)}: {first_line(error, url)}")
    for line in done:
        print(line)
    return ExitCode.PROBLEMS if problems else ExitCode.OK


def _report(url: str, args) -> int:
    import psycopg  # lazy: psycopg, only for a class

    from tutor.core.progress.gradebook import gradebook  # lazy: psycopg, only for a class
    from tutor.core.progress.postgres import first_line, redact  # lazy: psycopg, only for a class

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            book = gradebook(conn, since=args.since)
    except psycopg.Error as error:
        return _fail(f"cannot read the class from {redact(url, url)}: {first_line(error, url)}")
    for note in book.notes:
        print(f"tutor: {note}", file=sys.stderr)
    if args.export == "json":
        json.dump(_as_json(book, args.by), sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.export == "csv":
        _write_csv(_long_rows(book) if args.by == "student" else _step_rows(book), sys.stdout)
    elif args.export == "wide-csv":
        _write_csv(_wide_rows(book), sys.stdout)
    else:
        print(format_steps(book) if args.by == "step" else format_class(book))
    return ExitCode.OK


# ---- the gradebook as text, CSV and JSON -------------------------------------------------------

def _spent(seconds: int) -> str:
    if seconds < 60:
        return "-" if not seconds else "<1m"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours}h{minutes:02d}" if hours else f"{minutes}m"


def _when(at) -> str:
    if at is None:
        return "-"
    local = at.astimezone()
    this_year = local.year == datetime.now().astimezone().year
    return f"{local.day} {local:%b} " + (f"{local:%H:%M}" if this_year else f"{local.year}")


def _mistakes(made) -> str:
    return "; ".join(f"{label} ×{n}" for label, n in made) or "-"


def _table(columns: list[tuple[str, Literal["left", "right"]]], rows: list[list[str]], width: int) -> str:
    """Rows as a plain-text table: the last column wraps to the room the others leave; the others keep
    their cells whole."""
    laid_out = [Column(name, justify, flex="fold" if n == len(columns) - 1 else None)
                for n, (name, justify) in enumerate(columns)]
    return "\n".join(text_table(laid_out, rows, width))


def format_class(book, width: int | None = None) -> str:
    width = width or terminal_width()
    who = [[s.student + ("" if s.enrolled else " (not enrolled)"),
            str(s.lessons_started) if s.lessons_started else "not started",
            str(s.solved_steps), str(s.answers), _spent(s.seconds_spent), _when(s.last_active),
            str(s.unverified) if s.unverified else "-"] for s in book.students]
    parts = [_table([("student", "left"), ("lessons", "right"), ("solved", "right"), ("answers", "right"),
                     ("time", "right"), ("last active", "left"), ("unverified", "right")], who, width)]
    if book.lessons:
        rows, previous = [], None
        for line in book.lessons:
            rows.append([line.student if line.student != previous else "", line.lesson_id,
                         f"{line.solved_steps}/{line.total_steps}", str(line.answers), str(line.revealed_steps),
                         str(line.reviews_due), str(line.unverified) if line.unverified else "-"])
            previous = line.student
        parts += ["", _table([("student", "left"), ("lesson", "left"), ("solved", "right"),
                              ("answers", "right"), ("revealed", "right"), ("due", "right"),
                              ("unverified", "right")], rows, width)]
        made = [line for line in book.lessons if line.mistakes]
        if made:  # names in full, on lines of their own: they are long
            parts += ["", "Mistakes made most:"]
            parts += [textwrap.fill(f"{line.student}, {line.lesson_id}: {_mistakes(line.mistakes)}", width,
                                    initial_indent="  ", subsequent_indent="    ", break_long_words=False)
                      for line in made]
    n = sum(1 for s in book.students if s.enrolled)
    since = f" since {book.since:%Y-%m-%d}" if book.since else ""
    parts += ["", f"{n} student{'s' if n != 1 else ''} enrolled{since}. Every answer is re-graded by tutor"
                  " against the published lesson; unverified: answers that could not be re-graded (a step"
                  " the lesson lacks, beyond the limits, or not yet). Answers include drill variants;"
                  " time: between answers in a session, gaps over 5 minutes counted as 5; due: skills of the"
                  " lesson due for review now."]
    return _wrap_last(parts, width)


def format_steps(book, width: int | None = None) -> str:
    width = width or terminal_width()
    rows = [[line.lesson_id, line.step_id, str(line.tried), str(line.right_first_time),
             f"{line.mistake} ({line.mistake_students})" if line.mistake else "-"]
            for line in book.steps if line.tried]
    if not rows:
        return "Nobody has answered a published lesson yet."
    parts = [_table([("lesson", "left"), ("step", "left"), ("tried", "right"), ("right 1st", "right"),
                     ("commonest named mistake (students)", "left")], rows, width),
             "", "tried: students who answered the step in its lesson (drill variants aside); right 1st: whose"
                 " first answer was right, as tutor re-grades it."]
    return _wrap_last(parts, width)


def _wrap_last(parts: list[str], width: int) -> str:
    return "\n".join([*parts[:-1], textwrap.fill(parts[-1], width)])


def _iso(at) -> str:
    return at.isoformat() if at is not None else ""


def _long_rows(book) -> list[list[object]]:
    spent = {s.student: s for s in book.students}
    rows: list[list[object]] = [["student", "lesson_id", "title", "solved_steps", "total_steps", "answers", "revealed_steps",
             "reviews_due", "unverified", "mistakes", "minutes_spent", "last_active"]]
    for line in book.lessons:
        who = spent.get(line.student)
        rows.append([line.student, line.lesson_id, line.title, line.solved_steps, line.total_steps, line.answers,
                     line.revealed_steps, line.reviews_due, line.unverified, _mistakes(line.mistakes).strip("-"),
                     round((who.seconds_spent if who else 0) / 60), _iso(who.last_active if who else None)])
    for s in book.students:
        if not s.lessons_started:
            rows.append([s.student, "", "", 0, "", 0, 0, 0, 0, "", 0, _iso(s.last_active)])
    return rows


def _wide_rows(book) -> list[list[object]]:
    lessons = book.published
    header: list[object] = ["student", "solved_steps", "minutes_spent", "last_active"]
    header += [f"{p.lesson_id} (of {len(p.steps)})" for p in lessons]
    solved = {(line.student, line.lesson_id): line.solved_steps for line in book.lessons}
    rows = [header]
    for s in book.students:
        rows.append([s.student, s.solved_steps, round(s.seconds_spent / 60), _iso(s.last_active)]
                    + [solved.get((s.student, p.lesson_id), 0) for p in lessons])
    return rows


def _step_rows(book) -> list[list[object]]:
    return [["lesson_id", "step_id", "tried", "right_first_time", "commonest_mistake", "mistake_students"]] + [
        [s.lesson_id, s.step_id, s.tried, s.right_first_time, s.mistake or "", s.mistake_students]
        for s in book.steps]


def _write_csv(rows: list[list[object]], stream) -> None:
    writer = csv.writer(stream)
    writer.writerow(rows[0])
    for row in rows[1:]:
        writer.writerow([csv_cell(value) for value in row])


def _as_json(book, by: str) -> dict:
    if by == "step":
        return {"since": _iso(book.since) or None, "steps": [s.__dict__ for s in book.steps]}
    return {
        "since": _iso(book.since) or None,
        "students": [{**s.__dict__, "last_active": _iso(s.last_active) or None} for s in book.students],
        "lessons": [{**line.__dict__, "mistakes": [{"mistake": m, "count": n} for m, n in line.mistakes]}
                    for line in book.lessons],
        "unverified_waiting": book.waiting,
    }
