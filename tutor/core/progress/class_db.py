"""`tutor class init` (tables, roles, row-level security) and `tutor class report` (the gradebook)."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from tutor.core.progress.postgres import STUDENT_ROLE, TEACHER_ROLE, _redacted
from tutor.core.progress.review import memories_from_rows
from tutor.core.text.safe import csv_cell
from tutor.core.vocabulary import ExitCode, Status

# Every student writes rows stamped with their own login (current_user) and reads only those;
# teachers read the whole class. Nobody but the owner may change or delete a row.
SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student text NOT NULL DEFAULT current_user,
    at text NOT NULL, lesson_id text NOT NULL, topic text, step_id text NOT NULL,
    step_kind text, answer text NOT NULL, verdict text NOT NULL, message text NOT NULL,
    mistake text, skills text, seconds double precision, drill_seed bigint,
    session_id text NOT NULL, write_id text NOT NULL,
    UNIQUE (student, write_id));
CREATE INDEX IF NOT EXISTS attempts_by_student ON attempts (student, lesson_id, step_id);
CREATE TABLE IF NOT EXISTS reveals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student text NOT NULL DEFAULT current_user,
    lesson_id text NOT NULL, step_id text NOT NULL, at text NOT NULL, write_id text NOT NULL,
    UNIQUE (student, write_id));
ALTER TABLE reveals ADD COLUMN IF NOT EXISTS skills text;
CREATE TABLE IF NOT EXISTS position (
    student text PRIMARY KEY DEFAULT current_user,
    lesson_id text NOT NULL, step_id text NOT NULL, at text NOT NULL);
"""
POLICIES = """
ALTER TABLE attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE reveals ENABLE ROW LEVEL SECURITY;
ALTER TABLE position ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS own_rows ON attempts;
DROP POLICY IF EXISTS own_rows ON reveals;
DROP POLICY IF EXISTS own_rows ON position;
DROP POLICY IF EXISTS class_reads ON attempts;
DROP POLICY IF EXISTS class_reads ON reveals;
CREATE POLICY own_rows ON attempts TO tutor_student
    USING (student = current_user) WITH CHECK (student = current_user);
CREATE POLICY own_rows ON reveals TO tutor_student
    USING (student = current_user) WITH CHECK (student = current_user);
CREATE POLICY own_rows ON position TO tutor_student
    USING (student = current_user) WITH CHECK (student = current_user);
CREATE POLICY class_reads ON attempts FOR SELECT TO tutor_teacher USING (true);
CREATE POLICY class_reads ON reveals FOR SELECT TO tutor_teacher USING (true);
REVOKE ALL ON attempts, reveals, position FROM PUBLIC;
GRANT SELECT, INSERT ON attempts, reveals TO tutor_student;
GRANT SELECT, INSERT, UPDATE ON position TO tutor_student;
GRANT SELECT ON attempts, reveals TO tutor_teacher;
"""


def _url() -> str | None:
    return os.environ.get("TUTOR_DATABASE_URL")


def _fail(message: str) -> int:
    print(f"tutor: {message}", file=sys.stderr)
    return ExitCode.BAD_INPUT


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def init(url: str, students: list[str] = (), teachers: list[str] = ()) -> list[str]:
    """Creates (or brings up to date) the tables, group roles, policies and given logins."""
    done = []
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn, conn.transaction():
        for group in (STUDENT_ROLE, TEACHER_ROLE):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)))
                done.append(f"created role {group}")
        conn.execute(SCHEMA)
        conn.execute(POLICIES)
        done.append("tables attempts, reveals, position with row-level security")
        for group, logins in ((STUDENT_ROLE, students), (TEACHER_ROLE, teachers)):
            for login in logins:
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone():
                    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group),
                                                            sql.Identifier(login)))
                done.append(f"{login} is a {group.removeprefix('tutor_')}")
    return done


def cmd_init(args) -> int:
    url = _url()
    if not url:
        return _fail("class init needs the database: --database URL or TUTOR_DATABASE_URL")
    try:
        done = init(url, args.student, args.teacher)
    except psycopg.Error as error:
        return _fail(f"cannot set up the class in {_redacted(url)}: {_first_line(error)}")
    print(f"Class database {_redacted(url)} is ready:")
    for line in done:
        print(f"  {line}")
    return ExitCode.OK


@dataclass(frozen=True)
class ClassRow:
    """One student in one lesson (drill variants counted with their lesson)."""

    student: str
    lesson_id: str
    solved_steps: int
    answers: int
    reveals: int
    mistakes: str      # the mistakes made most, "label ×n; ..."
    reviews_due: int   # skills of this lesson due for review now


def _base(lesson_id: str) -> str:
    return lesson_id.split("-drill-", 1)[0]


def class_rows(conn, now: datetime | None = None) -> list[ClassRow]:
    """The gradebook from every attempt and reveal this role may read."""
    now = now or datetime.now(UTC)
    attempts = conn.execute("SELECT student, lesson_id, step_id, at, verdict, mistake, skills,"
                            " drill_seed FROM attempts ORDER BY at").fetchall()
    reveals = conn.execute("SELECT student, lesson_id, step_id, MIN(at) FROM reveals"
                           " GROUP BY student, lesson_id, step_id").fetchall()
    revealed_skills = conn.execute("SELECT student, at, skills FROM reveals"
                                   " WHERE skills IS NOT NULL").fetchall()
    first_reveal = {(s, l, st): at for s, l, st, at in reveals}
    first_right: dict[tuple, str] = {}
    answers: Counter = Counter()
    mistakes: dict[tuple, Counter] = defaultdict(Counter)
    lesson_skills: dict[tuple, set] = defaultdict(set)
    skill_rows: dict[str, list] = defaultdict(list)
    for student, lesson, step, at, verdict, mistake, skills, seed in attempts:
        key = (student, _base(lesson))
        answers[key] += 1
        if mistake:
            mistakes[key][mistake] += 1
        lesson_skills[key] |= set((skills or "").split())
        skill_rows[student].append((at, verdict, skills, mistake))
        if verdict == Status.CORRECT and seed is None:
            first_right.setdefault((student, lesson, step), at)
    for student, at, skills in revealed_skills:
        skill_rows[student].append((at, "revealed", skills, None))
    solved: Counter = Counter()
    for (student, lesson, step), at in first_right.items():
        revealed = first_reveal.get((student, lesson, step))
        if revealed is None or at < revealed:
            solved[(student, lesson)] += 1
    revealed_count = Counter((s, l) for s, l, _ in first_reveal)
    due = {student: {m.skill for m in memories_from_rows(rows, now) if m.is_due(now)}
           for student, rows in skill_rows.items()}
    keys = sorted(answers.keys() | revealed_count.keys())
    return [ClassRow(student, lesson, solved[(student, lesson)], answers[(student, lesson)],
                     revealed_count[(student, lesson)],
                     "; ".join(f"{label} ×{n}" for label, n in mistakes[(student, lesson)].most_common(2)),
                     len(lesson_skills[(student, lesson)] & due.get(student, set())))
            for student, lesson in keys]


# student, lesson, solved, answers, reveals, due, mistakes: 79 columns with gaps.
_COLUMNS = (("student", 10, "<"), ("lesson", 22, "<"), ("solved", 6, ">"), ("answers", 7, ">"),
            ("reveals", 7, ">"), ("due", 3, ">"), ("mistakes made most", 18, "<"))


def _cell(text: str, width: int, align: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    if len(text) > width:
        text = text[: width - 1] + "~"
    return f"{text:{align}{width}}"


def format_class(rows: list[ClassRow]) -> str:
    lines = [" ".join(_cell(name, w, a) for name, w, a in _COLUMNS).rstrip()]
    previous = None
    for row in rows:
        cells = [row.student if row.student != previous else "", row.lesson_id, row.solved_steps,
                 row.answers, row.reveals, row.reviews_due, row.mistakes or "-"]
        lines.append(" ".join(_cell(c, w, a) for c, (_, w, a) in zip(cells, _COLUMNS, strict=False)).rstrip())
        previous = row.student
    students = len({row.student for row in rows})
    lines += ["", f"{students} student{'s' if students != 1 else ''}. Answers include drill variants;",
              "due: skills of the lesson due for review now."]
    return "\n".join(lines)


def cmd_report(args, extra) -> int:
    url = _url()
    if not url:
        return _fail("class report needs the database: --database URL or TUTOR_DATABASE_URL")
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            rows = class_rows(conn)
    except psycopg.Error as error:
        return _fail(f"cannot read the class from {_redacted(url)}: {_first_line(error)}")
    if args.export == "json":
        json.dump([asdict(row) for row in rows], sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.export == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow([name for name in ClassRow.__dataclass_fields__])
        for row in rows:
            writer.writerow([csv_cell(value) for value in asdict(row).values()])
    else:
        print(format_class(rows))
    return ExitCode.OK
