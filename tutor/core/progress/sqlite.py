"""The per-user SQLite file behind the progress store: opening, migrating, checking, writing."""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path

import platformdirs

from tutor.core.progress.columns import TABLES
from tutor.core.progress.journal import FILE_MODE, private_file, private_folder

FILE_NAME = "progress.sqlite3"
BUSY_TIMEOUT_SECONDS = 5.0
WRITER_BUSY_SECONDS = 0.2  # the writer thread retries itself, so it never waits long inside SQLite

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
    (
        # skills: the skills an attempt exercised, space-separated (for reviews).
        # write_id: a retried write (after a lock, a crash or an exit) is saved once.
        "ALTER TABLE attempts ADD COLUMN skills TEXT",
        "ALTER TABLE attempts ADD COLUMN write_id TEXT",
        "CREATE UNIQUE INDEX attempts_by_write_id ON attempts (write_id)",
        "ALTER TABLE reveals ADD COLUMN write_id TEXT",
        "CREATE UNIQUE INDEX reveals_by_write_id ON reveals (write_id)",
    ),
    (
        # a reveal is a skill not recalled: reviews count it as a miss
        "ALTER TABLE reveals ADD COLUMN skills TEXT",
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)
# What every query relies on: a file with the right user_version but other tables is damaged.
EXPECTED_COLUMNS = {table: ", ".join(columns) for table, columns in TABLES.items()}


# Times tutor could have written. A row outside (year 9999, year 1 in a +14 zone: SQLite takes
# them, Python's dates overflow on them) is left out of every view and counted; see SqliteBackend.
EARLIEST, LATEST = "1970-01-02", "2200-01-01"
_IN_RANGE = f"julianday(at) BETWEEN julianday('{EARLIEST}') AND julianday('{LATEST}')"


class Corrupt(Exception):
    """The file is not a healthy progress database."""


class Unusable(Exception):
    """The database cannot be used for a reason that moving it aside would not fix."""


def default_path() -> Path:
    """Where this user's progress lives: TUTOR_DATA_DIR if set, else the platform data dir."""
    folder = os.environ.get("TUTOR_DATA_DIR") or platformdirs.user_data_dir("tutor")
    return Path(folder) / FILE_NAME


def _connect(target: str, busy_seconds: float = BUSY_TIMEOUT_SECONDS) -> sqlite3.Connection:
    # Autocommit: each INSERT is its own transaction, committed before the call returns.
    return sqlite3.connect(target, timeout=busy_seconds, isolation_level=None,
                           check_same_thread=False)


def _prepare(db: sqlite3.Connection) -> None:
    """WAL, full sync, a health check, migrations and a schema check; raises Corrupt/Unusable."""
    try:
        if _switch_to_wal(db) not in ("wal", "memory"):
            raise Unusable("this file system cannot hold SQLite's write-ahead log")
        db.execute("PRAGMA synchronous=FULL")  # survive a power cut, not only a killed terminal
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise Corrupt("quick_check failed")
        _migrate(db)
        _check_schema(db)
    except sqlite3.DatabaseError as error:
        if error.sqlite_errorname in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
            raise Corrupt(str(error)) from error
        raise


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
    if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return  # up to date: no write lock needed, so another login holding it cannot stop us
    # IMMEDIATE so that two first-time logins cannot both create the tables.
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise Unusable("it was written by a newer version of tutor")
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _check_schema(db: sqlite3.Connection) -> None:
    for table, columns in EXPECTED_COLUMNS.items():
        try:
            db.execute(f"SELECT {columns} FROM {table} LIMIT 0")
        except sqlite3.OperationalError as error:  # no such table / no such column
            raise Corrupt(f"its {table} table is not what tutor wrote ({error})") from error
    for table in EXPECTED_COLUMNS:
        # datetime() is NULL for text that is not a date: such a row would break every report.
        if db.execute(f"SELECT 1 FROM {table} WHERE datetime(at) IS NULL LIMIT 1").fetchone():
            raise Corrupt(f"its {table} table holds a time that is not a date")


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


def _create_private(path: Path) -> None:
    """An empty file of mode 0600 for SQLite to fill (it creates its -wal and -shm files with
    the same mode), so that the learner's answers are never readable by other accounts."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def _open_prepared(path: Path) -> sqlite3.Connection:
    db = _connect(str(path))
    try:
        _prepare(db)
    except BaseException:
        db.close()
        raise
    return db


class SqliteBackend:
    """One user's SQLite file: a read connection for the UI and a write connection for the writer."""

    Transient = sqlite3.OperationalError  # locked, busy, disk full, I/O: worth retrying
    Error = sqlite3.Error

    @staticmethod
    def describe(error: Exception) -> str:
        return str(error)

    def __init__(self, reader: sqlite3.Connection, writer: sqlite3.Connection, path: Path | None):
        self._reader = reader
        self._writer = writer
        self.path = path
        self.where = str(path) if path is not None else "memory"
        # One connection shared by the UI and the writer (in memory) is used by one at a time.
        self._shared = threading.Lock() if reader is writer else None
        self.skipped = 0  # rows left out of every view (see _hide_impossible_times)

    @classmethod
    def open(cls, path: Path) -> tuple[SqliteBackend, str | None]:
        """The database at path, a damaged one moved aside; raises OSError, sqlite3.Error, Unusable."""
        private_folder(path.parent)  # a learner's answers are theirs alone: 0700, files 0600
        if not os.access(path.parent, os.W_OK):  # SQLite would only say "unable to open"
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path.parent))
        _create_private(path)
        for sidecar in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            private_file(sidecar)  # written by an older tutor, readable by everyone
        notice = None
        try:
            reader = _open_prepared(path)
        except Corrupt:
            aside = _move_aside(path)
            notice = (f"Your progress file was damaged; it was moved to {aside}"
                      " and a fresh one started.")
            _create_private(path)
            reader = _open_prepared(path)
        writer = _connect(str(path), WRITER_BUSY_SECONDS)
        writer.execute("PRAGMA synchronous=FULL")
        backend = cls(reader, writer, path)
        backend._hide_impossible_times()
        if backend.skipped:
            notice = ((notice + " ") if notice else "") + (
                f"{backend.skipped} row{'s' if backend.skipped != 1 else ''} of your progress file"
                f" hold{'s' if backend.skipped == 1 else ''} a time tutor never writes (before {EARLIEST[:4]}"
                f" or after {LATEST[:4]}) and {'is' if backend.skipped == 1 else 'are'} left out.")
        return backend, notice

    @classmethod
    def in_memory(cls) -> SqliteBackend:
        db = _connect(":memory:")
        _prepare(db)
        return cls(db, db, None)

    def _hide_impossible_times(self) -> None:
        """Every view reads the rows whose time is in range: the reader's TEMP views shadow the
        tables of the same name (the writer writes to the tables themselves)."""
        skipped = 0
        for table in ("attempts", "reveals", "position"):
            skipped += self._reader.execute(f"SELECT count(*) FROM main.{table} WHERE NOT ({_IN_RANGE})"
                                            f" OR at IS NULL").fetchone()[0]
            self._reader.execute(f"CREATE TEMP VIEW IF NOT EXISTS {table} AS"
                                 f" SELECT * FROM main.{table} WHERE {_IN_RANGE}")
        self.skipped = skipped

    def save(self, kind: str, values: dict) -> None:
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        if kind == "position":
            sql = (f"INSERT INTO position (only_row, {columns}) VALUES (1, {marks})"
                   " ON CONFLICT (only_row) DO UPDATE SET lesson_id = excluded.lesson_id,"
                   " step_id = excluded.step_id, at = excluded.at")
        else:  # attempts, reveals: saved once however often the write is retried
            sql = f"INSERT INTO {kind} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"
        if self._shared is None:
            self._writer.execute(sql, tuple(values.values()))
            return
        with self._shared:
            self._writer.execute(sql, tuple(values.values()))

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self._shared is None:
            return self._reader.execute(sql, params).fetchall()
        with self._shared:
            return self._reader.execute(sql, params).fetchall()

    def close(self) -> None:
        self._writer.close()
        if self._reader is not self._writer:
            self._reader.close()
