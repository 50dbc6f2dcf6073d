"""A class's PostgreSQL database: its tables, roles and rules (`tutor class init`), and the lessons
the teacher publishes to it (`tutor class init` and `tutor class publish`).

The rules, enforced by the database itself, not by tutor:
- a student may only add answers and reveals, naming the lesson, step, drill variant, the answer
  as typed, the session and a write id; the server sets the time (`now()`) and the student (their
  login: `session_user`, so a row written after `SET ROLE tutor_student` is refused);
- an answer must be to a lesson the teacher published; an answer is at most MAX_ANSWER characters,
  and a student can add at most MAX_ROWS answers and MAX_ROWS reveals;
- nobody but the owner changes or deletes a row; a student reads only their own rows, a teacher
  reads the whole class. Nothing a student sends is a verdict: the gradebook re-grades each
  answer against the published lesson (see gradebook.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from tutor.core.errors import LessonErrors
from tutor.core.lesson.load import read_lesson_text
from tutor.core.progress.postgres import SCHEMA_VERSION, STUDENT_ROLE, TEACHER_ROLE, first_line, redact

MAX_ANSWER = 20_000          # characters; a 500-node graph typed in full is about this
MAX_ROWS = 20_000            # answers (and reveals) one student may add: years of honest work
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS tutor_schema (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS lessons (
    lesson_id text PRIMARY KEY, content_hash text NOT NULL, content text NOT NULL,
    title text NOT NULL, topic text NOT NULL, steps text[] NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(), published_by text NOT NULL DEFAULT session_user);
CREATE TABLE IF NOT EXISTS attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student text NOT NULL DEFAULT session_user,
    at timestamptz NOT NULL DEFAULT now() CHECK (at > '1970-01-02' AND at < '2200-01-01'),
    lesson_id text NOT NULL REFERENCES lessons ON UPDATE CASCADE,
    step_id text NOT NULL CHECK (length(step_id) <= 200),
    drill_seed bigint CHECK (drill_seed >= 0),
    answer text NOT NULL CHECK (length(answer) <= {MAX_ANSWER}),
    session_id text NOT NULL CHECK (length(session_id) <= 64),
    write_id text NOT NULL CHECK (length(write_id) <= 64),
    UNIQUE (student, write_id));
CREATE INDEX IF NOT EXISTS attempts_by_student ON attempts (student, lesson_id, step_id, at);
CREATE INDEX IF NOT EXISTS attempts_by_time ON attempts (at);
CREATE TABLE IF NOT EXISTS reveals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student text NOT NULL DEFAULT session_user,
    at timestamptz NOT NULL DEFAULT now() CHECK (at > '1970-01-02' AND at < '2200-01-01'),
    lesson_id text NOT NULL REFERENCES lessons ON UPDATE CASCADE,
    step_id text NOT NULL CHECK (length(step_id) <= 200),
    drill_seed bigint CHECK (drill_seed >= 0),
    session_id text NOT NULL CHECK (length(session_id) <= 64),
    write_id text NOT NULL CHECK (length(write_id) <= 64),
    UNIQUE (student, write_id));
CREATE INDEX IF NOT EXISTS reveals_by_student ON reveals (student, lesson_id, step_id, at);
-- The gradebook's re-grades, one per distinct (lesson version, variant, step, answer).
CREATE TABLE IF NOT EXISTS grades (
    lesson_hash text NOT NULL, seed bigint NOT NULL, step_id text NOT NULL, answer_md5 text NOT NULL,
    status text, mistake text, error text,
    PRIMARY KEY (lesson_hash, seed, step_id, answer_md5));
-- How many rows each student added: the limit is checked here, not by counting on every insert.
CREATE TABLE IF NOT EXISTS tutor_quota (
    student text NOT NULL, kind text NOT NULL, n bigint NOT NULL, PRIMARY KEY (student, kind));
"""

QUOTA = f"""
CREATE OR REPLACE FUNCTION tutor_count_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE added bigint;
BEGIN
    INSERT INTO tutor_quota AS q (student, kind, n) VALUES (NEW.student, TG_TABLE_NAME, 1)
    ON CONFLICT (student, kind) DO UPDATE SET n = q.n + 1 RETURNING n INTO added;
    IF added > {MAX_ROWS} THEN
        RAISE EXCEPTION 'the class takes at most {MAX_ROWS} % from one student', TG_TABLE_NAME
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION tutor_count_row() FROM PUBLIC;
CREATE OR REPLACE TRIGGER tutor_quota AFTER INSERT ON attempts FOR EACH ROW EXECUTE FUNCTION tutor_count_row();
CREATE OR REPLACE TRIGGER tutor_quota AFTER INSERT ON reveals FOR EACH ROW EXECUTE FUNCTION tutor_count_row();
"""

POLICIES = """
ALTER TABLE attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE reveals ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS own_rows ON attempts;
DROP POLICY IF EXISTS own_rows ON reveals;
DROP POLICY IF EXISTS own_inserts ON attempts;
DROP POLICY IF EXISTS own_inserts ON reveals;
DROP POLICY IF EXISTS class_reads ON attempts;
DROP POLICY IF EXISTS class_reads ON reveals;
CREATE POLICY own_rows ON attempts FOR SELECT TO tutor_student USING (student = session_user);
CREATE POLICY own_rows ON reveals FOR SELECT TO tutor_student USING (student = session_user);
CREATE POLICY own_inserts ON attempts FOR INSERT TO tutor_student
    WITH CHECK (student = session_user AND current_user = session_user);
CREATE POLICY own_inserts ON reveals FOR INSERT TO tutor_student
    WITH CHECK (student = session_user AND current_user = session_user);
CREATE POLICY class_reads ON attempts FOR SELECT TO tutor_teacher USING (true);
CREATE POLICY class_reads ON reveals FOR SELECT TO tutor_teacher USING (true);
REVOKE ALL ON attempts, reveals, lessons, grades, tutor_quota, tutor_schema FROM PUBLIC;
GRANT SELECT ON tutor_schema TO PUBLIC;
GRANT SELECT (id, student, at, lesson_id, step_id, drill_seed, answer, session_id, write_id),
      INSERT (lesson_id, step_id, drill_seed, answer, session_id, write_id) ON attempts TO tutor_student;
GRANT SELECT (id, student, at, lesson_id, step_id, drill_seed, session_id, write_id),
      INSERT (lesson_id, step_id, drill_seed, session_id, write_id) ON reveals TO tutor_student;
GRANT SELECT (lesson_id, content_hash, content, title, topic, steps, published_at) ON lessons TO tutor_student;
GRANT SELECT ON attempts, reveals, tutor_quota TO tutor_teacher;
GRANT SELECT, INSERT, UPDATE ON lessons TO tutor_teacher;
GRANT SELECT, INSERT ON grades TO tutor_teacher;
"""

# A class set up by an earlier tutor kept whatever its students' side sent (verdicts, times):
# those tables are renamed *_v1 and kept for the teacher; their answers to published lessons
# are copied into the new tables with their times where a time can be read.
V1_TIME = """
CREATE FUNCTION pg_temp.tutor_v1_time(t text) RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE parsed timestamptz;
BEGIN
    parsed := t::timestamptz;
    IF parsed > '1970-01-02' AND parsed < now() + interval '1 day' THEN RETURN parsed; END IF;
    RETURN NULL;
EXCEPTION WHEN others THEN RETURN NULL;
END $$;
"""


@dataclass(frozen=True)
class Publishable:
    """A lesson as the teacher has it: its id, file text, title, topic and step ids."""

    lesson_id: str
    content: str
    title: str
    topic: str
    steps: tuple[str, ...]

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.content.encode()).hexdigest()


def publishable(entry) -> Publishable | str:
    """A catalog entry as it would be published, or why it cannot be."""
    if entry.lesson is None:
        return f"{entry.id}: does not load ({entry.error})"
    if not SAFE_ID.match(entry.id):
        return f"{entry.id!r}: a lesson id of letters, digits, '.', '_' and '-' can be published; this one cannot"
    try:
        content = read_lesson_text(entry.path)
    except LessonErrors as errors:
        return f"{entry.id}: {errors}"
    return Publishable(entry.id, content, entry.lesson.title, entry.lesson.topic,
                       tuple(step.id for step in entry.lesson.steps))


def _role_exists(conn, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is not None


def _has_table(conn, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def _is_v1(conn) -> bool:
    return bool(conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = 'attempts' AND column_name = 'verdict'").fetchone())


def init(url: str, students: Sequence[str] = (), teachers: Sequence[str] = (),
         lessons: Sequence[Publishable] = ()) -> list[str]:
    """Creates (or brings up to date) the tables, group roles, rules and given logins, and
    publishes `lessons`; what was done, one line each."""
    done = []
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn, conn.transaction():
        for group in (STUDENT_ROLE, TEACHER_ROLE):
            if not _role_exists(conn, group):
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)))
                done.append(f"created role {group}")
        migrating = _is_v1(conn)
        if migrating:
            for table in ("attempts", "reveals", "position"):
                if _has_table(conn, table):
                    conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                        sql.Identifier(table), sql.Identifier(f"{table}_v1")))
            conn.execute("ALTER INDEX IF EXISTS attempts_by_student RENAME TO attempts_v1_by_student")
            for table in ("attempts_v1", "reveals_v1", "position_v1"):
                if _has_table(conn, table):
                    conn.execute(sql.SQL("REVOKE ALL ON {} FROM PUBLIC, {}").format(
                        sql.Identifier(table), sql.Identifier(STUDENT_ROLE)))
        conn.execute(SCHEMA)
        conn.execute(POLICIES)
        conn.execute("DELETE FROM tutor_schema")
        conn.execute("INSERT INTO tutor_schema (version) VALUES (%s)", (SCHEMA_VERSION,))
        done.append("tables lessons, attempts, reveals, grades with row-level security;"
                    " the server sets every time")
        done += publish(conn, lessons)
        if migrating:
            done += _copy_v1(conn)
        conn.execute(QUOTA)
        for group, logins in ((STUDENT_ROLE, students), (TEACHER_ROLE, teachers)):
            for login in logins:
                if not _role_exists(conn, login):
                    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group),
                                                            sql.Identifier(login)))
                done.append(f"{login} is a {group.removeprefix('tutor_')}")
    return done


def _copy_v1(conn) -> list[str]:
    conn.execute(V1_TIME)
    copied = conn.execute(
        "INSERT INTO attempts (student, at, lesson_id, step_id, drill_seed, answer, session_id, write_id)"
        " SELECT student, t, base, step_id, seed, left(answer, %s), left(session_id, 64), left(write_id, 64)"
        " FROM (SELECT *, pg_temp.tutor_v1_time(at) AS t, regexp_replace(lesson_id, '-drill-[0-9]+$', '') AS base,"
        "              COALESCE(drill_seed, substring(lesson_id FROM '-drill-([0-9]{1,15})$')::bigint) AS seed"
        "       FROM attempts_v1) old"
        " WHERE t IS NOT NULL AND base IN (SELECT lesson_id FROM lessons) AND length(step_id) <= 200"
        " AND (seed IS NULL OR seed >= 0) ORDER BY id"
        " ON CONFLICT DO NOTHING", (MAX_ANSWER,)).rowcount
    total = conn.execute("SELECT count(*) FROM attempts_v1").fetchone()[0]
    conn.execute("INSERT INTO tutor_quota (student, kind, n) SELECT student, 'attempts', count(*)"
                 " FROM attempts GROUP BY student ON CONFLICT (student, kind) DO UPDATE SET n = excluded.n")
    return [f"an earlier tutor's tables were renamed attempts_v1, reveals_v1 and position_v1 and kept;"
            f" {copied} of their {total} answers (those to published lessons, with a readable time)"
            " were copied, to be re-graded like every other"]


def publish(conn, lessons: Sequence[Publishable]) -> list[str]:
    """Adds or updates each lesson; an answer is re-graded against the version published last."""
    done = []
    for lesson in lessons:
        old = conn.execute("SELECT content_hash FROM lessons WHERE lesson_id = %s", (lesson.lesson_id,)).fetchone()
        if old is not None and old[0] == lesson.content_hash:
            continue
        conn.execute(
            "INSERT INTO lessons (lesson_id, content_hash, content, title, topic, steps)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (lesson_id) DO UPDATE SET"
            " content_hash = excluded.content_hash, content = excluded.content, title = excluded.title,"
            " topic = excluded.topic, steps = excluded.steps, published_at = now(),"
            " published_by = session_user",
            (lesson.lesson_id, lesson.content_hash, lesson.content, lesson.title, lesson.topic,
             list(lesson.steps)))
        done.append(f"{'updated' if old else 'published'} {lesson.lesson_id}")
    if len(done) > 12:
        done = [*done[:10], f"... and {len(done) - 10} more lessons"]
    return done or ["every lesson was already published as it is"]


def publish_to(url: str, lessons: Sequence[Publishable]) -> list[str]:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn, conn.transaction():
        return publish(conn, lessons)


def trust_warning(url: str) -> str | None:
    """A warning if local connections to this server are not authenticated (`trust`): anyone on
    the machine can then connect as any role, the teacher too, and read the whole class."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            hba = conn.execute("SELECT setting FROM pg_settings WHERE name = 'hba_file'").fetchone()
            rules = conn.execute("SELECT line_number, type, auth_method FROM pg_hba_file_rules"
                                 " WHERE auth_method = 'trust' ORDER BY line_number").fetchall()
    except psycopg.Error as error:
        return (f"tutor could not check how this server authenticates local logins ({first_line(error, url)}):"
                " make sure pg_hba.conf uses `peer` for local connections, not `trust`, or any account on"
                " the machine can read the whole class.")
    if not rules:
        return None
    where = hba[0] if hba and hba[0] else "pg_hba.conf"
    lines = ", ".join(str(line) for line, _, _ in rules)
    return (f"WARNING: this server trusts {'local' if any(t == 'local' for _, t, _ in rules) else 'some'}"
            f" connections without checking who they are ({where}, line{'s' if len(rules) > 1 else ''} {lines}:"
            " `trust`): any account on this machine can connect as any role, a teacher's too, and read the"
            f" whole class. Change `trust` to `peer` (for `local`) or `scram-sha-256` there, then reload the"
            " server (`SELECT pg_reload_conf();`).")


__all__ = ["MAX_ANSWER", "MAX_ROWS", "Publishable", "init", "publish", "publish_to", "publishable",
           "redact", "trust_warning"]
