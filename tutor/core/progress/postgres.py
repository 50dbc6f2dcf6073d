"""A class's PostgreSQL database behind the progress store: the same attempts, one row set per student."""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

import psycopg

from tutor.core.progress.sqlite import default_path

CONNECT_SECONDS = 3
STUDENT_ROLE, TEACHER_ROLE = "tutor_student", "tutor_teacher"
# The columns every query relies on; `class init` creates them, a student's store checks them.
EXPECTED_COLUMNS = {
    "attempts": "id, student, at, lesson_id, topic, step_id, step_kind, answer, verdict, message,"
                " mistake, skills, seconds, drill_seed, session_id, write_id",
    "reveals": "id, student, lesson_id, step_id, at, write_id, skills",
    "position": "student, lesson_id, step_id, at",
}


def _redacted(url: str) -> str:
    """The URL without a password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class PostgresBackend:
    """One connection for the writer thread, one for reads; each reopened when it is lost."""

    Transient = psycopg.OperationalError  # server down, connection lost, cannot connect
    Error = psycopg.Error

    def __init__(self, url: str):
        self.url = url
        self.where = _redacted(url)
        self.path: Path | None = None
        self._conns: dict[str, psycopg.Connection | None] = {"write": None, "read": None}
        self._locks = {"write": threading.Lock(), "read": threading.Lock()}

    @staticmethod
    def describe(error: Exception) -> str:
        text = str(error).strip().splitlines()
        return f"cannot reach the class database: {text[0] if text else type(error).__name__}"

    def _conn(self, which: str) -> psycopg.Connection:
        conn = self._conns[which]
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                conn.close()
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_SECONDS)
            self._conns[which] = conn
        return conn

    def _execute(self, which: str, sql: str, params: tuple, fetch: bool) -> list[tuple]:
        with self._locks[which]:
            try:
                cursor = self._conn(which).execute(sql.replace("?", "%s"), params)
                return cursor.fetchall() if fetch else []
            except psycopg.OperationalError:
                conn = self._conns[which]
                if conn is not None:
                    conn.close()  # a lost connection is reopened on the next call
                self._conns[which] = None
                raise

    def check(self) -> str | None:
        """Raises psycopg.Error if the tables `class init` creates are not there; else who we
        are if that role cannot save answers (not a student of the class), else None."""
        role, may_write = self._execute(
            "read", "SELECT current_user, has_table_privilege('attempts', 'INSERT')", (), True)[0]
        if not may_write:
            return role
        for table, columns in EXPECTED_COLUMNS.items():
            self._execute("read", f"SELECT {columns} FROM {table} LIMIT 0", (), True)
        return None

    def save(self, kind: str, values: dict) -> None:
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        if kind == "position":
            sql = (f"INSERT INTO position ({columns}) VALUES ({marks}) ON CONFLICT (student)"
                   " DO UPDATE SET lesson_id = excluded.lesson_id, step_id = excluded.step_id,"
                   " at = excluded.at")
        else:  # attempts, reveals: a write retried after a lost connection is saved once
            sql = f"INSERT INTO {kind} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"
        self._execute("write", sql, tuple(values.values()), False)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self._execute("read", sql, params, True)

    def close(self) -> None:
        for which, conn in self._conns.items():
            if conn is not None:
                conn.close()
            self._conns[which] = None


def keep_dir_for(url: str) -> Path:
    """Where writes the class database could not take at exit wait for the next start."""
    digest = hashlib.sha256(_redacted(url).encode()).hexdigest()[:12]
    return default_path().parent / f"class-{digest}.unsaved"


def open_class_store(store_class, url: str, clock):
    """A ProgressStore on the class database; an unreachable server is a warning, never an error."""
    backend = PostgresBackend(url)
    warning = None
    try:
        reader_only = backend.check()
        if reader_only:
            warning = (f"Progress is not being saved: the role {reader_only} may not save answers in"
                       f" the class database {backend.where}; whoever runs it can add you with"
                       f" `tutor class init --student {reader_only}`.")
    except psycopg.OperationalError as error:
        warning = (f"{backend.describe(error)}; your answers are kept and saved when it is back.")
    except psycopg.Error as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        warning = (f"The class database {backend.where} is not set up for tutor ({first});"
                   " ask whoever runs it to run `tutor class init`.")
    return store_class(backend, warning, keep_dir=keep_dir_for(url), clock=clock)
