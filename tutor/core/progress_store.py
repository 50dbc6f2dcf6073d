"""The per-user progress store: every answered step goes to SQLite the moment it is checked."""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import platformdirs

from tutor.core.progress_report import ATTEMPT_COLUMNS, ProgressReports

FILE_NAME = "progress.sqlite3"
BUSY_TIMEOUT_SECONDS = 5.0
VERDICTS = ("correct", "wrong", "wrong_shape", "imprecise", "unparsed", "missing")
STEP_KINDS = ("value", "shape", "integer", "graph")

# MIGRATIONS[n] takes a database from PRAGMA user_version n to n + 1; append, never edit.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE attempts (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, lesson_id TEXT NOT NULL,
            topic TEXT, step_id TEXT NOT NULL, step_kind TEXT, answer TEXT NOT NULL,
            verdict TEXT NOT NULL, message TEXT NOT NULL, mistake TEXT, seconds REAL,
            drill_seed INTEGER, session_id TEXT NOT NULL)""",
        "CREATE INDEX attempts_by_step ON attempts (lesson_id, step_id)",
        """CREATE TABLE reveals (
            id INTEGER PRIMARY KEY, lesson_id TEXT NOT NULL, step_id TEXT NOT NULL,
            at TEXT NOT NULL)""",
        """CREATE TABLE position (
            only_row INTEGER PRIMARY KEY CHECK (only_row = 1), lesson_id TEXT NOT NULL,
            step_id TEXT NOT NULL, at TEXT NOT NULL)""",
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)


class _Corrupt(Exception):
    """The file is not a healthy SQLite database."""


class _Unusable(Exception):
    """The database cannot be used for a reason that moving it aside would not fix."""


def default_path() -> Path:
    """Where this user's progress lives: TUTOR_DATA_DIR if set, else the platform data dir."""
    folder = os.environ.get("TUTOR_DATA_DIR") or platformdirs.user_data_dir("tutor")
    return Path(folder) / FILE_NAME


def _now() -> str:
    # Microseconds so that a reveal and the answer right after it still order correctly.
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _connect(target: str) -> sqlite3.Connection:
    # Autocommit: each INSERT is its own transaction, committed before the call returns.
    # check_same_thread=False because the app records from worker threads; a lock serialises.
    db = sqlite3.connect(
        target, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )
    try:
        if _switch_to_wal(db) not in ("wal", "memory"):
            raise _Unusable("this file system cannot hold SQLite's write-ahead log")
        db.execute("PRAGMA synchronous=FULL")  # survive a power cut, not only a killed terminal
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise _Corrupt("quick_check failed")
        _migrate(db)
    except sqlite3.DatabaseError as error:
        db.close()
        if error.sqlite_errorname in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
            raise _Corrupt(str(error)) from error
        raise
    except BaseException:
        db.close()
        raise
    return db


def _switch_to_wal(db: sqlite3.Connection) -> str:
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            return db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError as error:
            # While another login is switching a new file to WAL, SQLite answers "locked"
            # at once instead of waiting out busy_timeout, so wait here.
            busy = error.sqlite_errorname.startswith("SQLITE_BUSY")
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _migrate(db: sqlite3.Connection) -> None:
    # IMMEDIATE so that two first-time logins cannot both create the tables.
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise _Unusable("it was written by a newer version of tutor")
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _move_aside(path: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    counter = 1
    while aside.exists():
        counter += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
    path.rename(aside)
    # A stale write-ahead log would be replayed into the fresh database, so it goes along.
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            sidecar.rename(aside.with_name(aside.name + suffix))
    return aside


def _open_file(path: Path) -> tuple[sqlite3.Connection, str | None]:
    """The database at path, a damaged one replaced; raises OSError, sqlite3.Error or _Unusable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(path.parent, os.W_OK):  # SQLite would only say "unable to open"
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path.parent))
    try:
        return _connect(str(path)), None
    except _Corrupt:
        aside = _move_aside(path)
    notice = f"Your progress file was damaged; it was moved to {aside} and a fresh one started."
    return _connect(str(path)), notice


class ProgressStore(ProgressReports):
    """One user's attempts, reveals and place in the curriculum."""

    def __init__(self, db: sqlite3.Connection, path: Path | None, warning: str | None):
        self._db = db
        self._lock = threading.Lock()
        self._unsaved: list[tuple[str, tuple]] = []  # writes that failed, retried on the next
        self._open_warning = warning
        self.path = path
        self.warning = warning
        self.session_id = uuid.uuid4().hex

    @classmethod
    def open(cls, path: Path | None = None) -> ProgressStore:
        """Open (or create) the store; a user's problem becomes `warning`, never an exception."""
        path = Path(path) if path is not None else default_path()
        try:
            if path.is_dir():
                path = path / FILE_NAME
            db, notice = _open_file(path)
            return cls(db, path, notice)
        except (OSError, sqlite3.Error, _Corrupt, _Unusable) as error:
            reason = getattr(error, "strerror", None) or str(error)
            warning = f"Progress is not being saved: cannot use {path}: {reason}"
            return cls(_connect(":memory:"), None, warning)

    @property
    def persistent(self) -> bool:
        return self.path is not None

    def close(self) -> None:
        with self._lock:
            self._save_unsaved()
            self._db.close()

    def __enter__(self) -> ProgressStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def record_attempt(
        self,
        lesson_id: str,
        step_id: str,
        answer: str,
        verdict: str,
        message: str = "",
        *,
        topic: str | None = None,
        step_kind: str | None = None,
        mistake: str | None = None,
        seconds: float | None = None,
        drill_seed: int | None = None,
    ) -> None:
        verdict = getattr(verdict, "value", verdict)  # a Verdict enum is as good as its text
        step_kind = getattr(step_kind, "value", step_kind)
        if verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}; expected one of {VERDICTS}")
        if step_kind is not None and step_kind not in STEP_KINDS:
            raise ValueError(f"unknown step kind {step_kind!r}; expected one of {STEP_KINDS}")
        # float()/int() so that numpy numbers from a check are stored, not refused.
        seconds = None if seconds is None else float(seconds)
        drill_seed = None if drill_seed is None else int(drill_seed)
        row = (_now(), lesson_id, topic, step_id, step_kind, answer, verdict, message,
               mistake, seconds, drill_seed, self.session_id)
        columns = ", ".join(ATTEMPT_COLUMNS[1:])  # every column but the id
        self._write(f"INSERT INTO attempts ({columns}) VALUES ({', '.join('?' * len(row))})", row)

    def record_reveal(self, lesson_id: str, step_id: str) -> None:
        self._write("INSERT INTO reveals (lesson_id, step_id, at) VALUES (?, ?, ?)",
                    (lesson_id, step_id, _now()))

    def set_position(self, lesson_id: str, step_id: str) -> None:
        self._write("INSERT INTO position (only_row, lesson_id, step_id, at) VALUES (1, ?, ?, ?)"
                    " ON CONFLICT (only_row) DO UPDATE SET lesson_id = excluded.lesson_id,"
                    " step_id = excluded.step_id, at = excluded.at",
                    (lesson_id, step_id, _now()))

    def last_position(self) -> tuple[str, str] | None:
        rows = self._query("SELECT lesson_id, step_id FROM position")
        return (rows[0][0], rows[0][1]) if rows else None

    def _write(self, sql: str, params: tuple) -> None:
        with self._lock:
            self._unsaved.append((sql, params))
            self._save_unsaved()

    def _save_unsaved(self) -> None:
        # A long-held lock or a full disk must not end the lesson: keep the write, retry later.
        try:
            while self._unsaved:
                self._db.execute(*self._unsaved[0])
                self._unsaved.pop(0)
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
            self._unsaved.pop(0)  # a bad call would fail forever and block every later answer
            raise
        except sqlite3.Error as error:
            self.warning = (f"Progress could not be saved just now ({error});"
                            f" {len(self._unsaved)} unsaved change(s) will be retried.")
            return
        self.warning = self._open_warning

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()
