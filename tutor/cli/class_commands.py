"""`tutor review` and `tutor class ...`: reviews of what is due, and a class on PostgreSQL."""

from __future__ import annotations

import json
import sys

from tutor.app import run_app
from tutor.core.progress.review import memories
from tutor.core.progress.store import ProgressStore
from tutor.core.vocabulary import ExitCode


def add_commands(sub, common) -> None:
    p = sub.add_parser("review", parents=[common],
                       help="what is due for review; without --json, a run of fresh variants of it")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("class", parents=[common], help="a class on PostgreSQL: set it up, report on it")
    actions = p.add_subparsers(dest="class_command", metavar="ACTION", required=True)
    init = actions.add_parser("init", parents=[common],
                              help="create the tables, roles and row-level security (run once, as the database owner)")
    init.add_argument("--student", action="append", default=[], metavar="ROLE",
                      help="a student's login (created if missing; repeatable)")
    init.add_argument("--teacher", action="append", default=[], metavar="ROLE",
                      help="a teacher's login, who reads the whole class (repeatable)")
    report = actions.add_parser("report", parents=[common],
                                help="one table: student x lesson, solved, attempts, reveals, mistakes, reviews due")
    report.add_argument("--export", choices=["csv", "json"])


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
    from tutor.core.progress import class_db  # lazy: psycopg, only for a class

    if args.class_command == "init":
        return class_db.cmd_init(args)
    return class_db.cmd_report(args, extra)
