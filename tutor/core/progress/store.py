"""The progress store: every answer is queued, written by a writer thread and retried until saved."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tutor.core.progress.report import ProgressReports
from tutor.core.progress.sqlite import (
    FILE_NAME,
    Corrupt,
    SqliteBackend,
    Unusable,
    default_path,
)

VERDICTS = ("correct", "wrong", "wrong_shape", "imprecise", "unparsed", "missing")
STEP_KINDS = ("value", "shape", "integer", "graph")
SAVE_WAIT_SECONDS = 0.25   # a record_* call waits this long for its write (usually a few ms)
EXIT_WAIT_SECONDS = 3.0    # closing waits this long for waiting writes before keeping them aside
RETRY_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
INT64 = range(-2**63, 2**63)
DATABASE_ENV = "TUTOR_DATABASE_URL"
# The columns each kind of write may set: a kept file is read back only within these.
WRITE_COLUMNS = {
    "attempts": {"at", "lesson_id", "topic", "step_id", "step_kind", "answer", "verdict", "message",
                 "mistake", "skills", "seconds", "drill_seed", "session_id", "write_id"},
    "reveals": {"lesson_id", "step_id", "at", "write_id", "skills"},
    "position": {"lesson_id", "step_id", "at"},
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Write:
    """One change for the database, with what to tell the learner if it is never saved."""

    kind: str            # "attempts", "reveals" or "position"
    values: dict
    label: str
    kept_in: Path | None = None   # the file it was kept in after an earlier exit
    done: threading.Event = field(default_factory=threading.Event)


def _well_formed(kept: object) -> bool:
    """A write read back from a kept file: a known kind, its own columns, plain values."""
    if not isinstance(kept, dict) or not isinstance(kept.get("values"), dict):
        return False
    values = kept["values"]
    return (set(values) <= WRITE_COLUMNS.get(kept.get("kind"), set()) and bool(values)
            and all(v is None or type(v) in (str, int, float) for v in values.values()))


def _printable(text: str, limit: int = 40) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ProgressStore(ProgressReports):
    """One learner's attempts, reveals and place in the curriculum, in SQLite or a class database."""

    def __init__(self, backend, warning: str | None = None, *, keep_dir: Path | None = None,
                 clock: Callable[[], datetime] = utc_now):
        self._backend = backend
        self._open_warning = warning
        self._keep_dir = keep_dir
        self._clock = clock
        self._pending: deque[Write] = deque()
        self._cond = threading.Condition()
        self._problem: str | None = None
        self._refused: str | None = None  # what the database last refused for good, and why
        self._lost: list[tuple[Write, str]] = []
        self._stopping = False
        self._in_memory_answers = 0
        self.path: Path | None = backend.path
        self.where: str = backend.where
        self.session_id = uuid.uuid4().hex
        self.on_warning: Callable[[str | None], None] | None = None  # called from the writer
        if keep_dir is not None:
            self._load_kept(keep_dir)
        self._writer = threading.Thread(target=self._write_loop, name="progress-writer", daemon=True)
        self._writer.start()

    # ---- opening and closing ----------------------------------------------------------

    @classmethod
    def open(cls, path: Path | None = None, *, database: str | None = None,
             clock: Callable[[], datetime] = utc_now) -> ProgressStore:
        """Open (or create) the store; a user's problem becomes `warning`, never an exception.

        `database` (or TUTOR_DATABASE_URL) names a PostgreSQL class database; otherwise the
        learner's own SQLite file at `path` (default: the user data dir) is used.
        """
        url = database if database is not None else (
            None if path is not None else os.environ.get(DATABASE_ENV))
        if url:
            # lazy: psycopg, only with a class database
            from tutor.core.progress.postgres import open_class_store

            return open_class_store(cls, url, clock)
        path = Path(path) if path is not None else default_path()
        try:
            if path.is_dir():
                path = path / FILE_NAME
            backend, notice = SqliteBackend.open(path)
            return cls(backend, notice, keep_dir=path.with_name(path.name + ".unsaved"),
                       clock=clock)
        except (OSError, sqlite3.Error, Corrupt, Unusable) as error:
            reason = getattr(error, "strerror", None) or str(error)
            warning = f"Progress is not being saved: cannot use {path}: {reason}"
            return cls(SqliteBackend.in_memory(), warning, clock=clock)

    @property
    def persistent(self) -> bool:
        return self.where != "memory"

    def flush(self, timeout: float | None = None) -> bool:
        """Waits until every write so far is saved; False if some are still waiting."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, wait: float = EXIT_WAIT_SECONDS) -> list[str]:
        """Saves what is waiting (up to `wait` seconds) and closes; returns what to tell the learner.

        An empty list means everything is saved. Writes still waiting are kept in a file next
        to the database and saved the next time tutor starts; any that could not even be kept
        are named one by one.
        """
        with self._cond:
            if self._stopping:
                return []
            self._stopping = True
            self._stop_by = time.monotonic() + wait
            self._cond.notify_all()
        self._writer.join(wait + 1.0)
        with self._cond:
            left = list(self._pending)
            self._pending.clear()
        notices = self._keep_or_name(left)
        if not self._writer.is_alive():
            self._backend.close()  # else the writer is stuck inside a call; the process ends anyway
        return notices

    def __enter__(self) -> ProgressStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- recording ----------------------------------------------------------------------

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
        skills: tuple[str, ...] | list[str] = (),
        seconds: float | None = None,
        drill_seed: int | None = None,
    ) -> bool:
        """Queues the attempt; True if it was saved before returning (normally within ms)."""
        verdict = getattr(verdict, "value", verdict)  # a Verdict enum is as good as its text
        step_kind = getattr(step_kind, "value", step_kind)
        if verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}; expected one of {VERDICTS}")
        if step_kind is not None and step_kind not in STEP_KINDS:
            raise ValueError(f"unknown step kind {step_kind!r}; expected one of {STEP_KINDS}")
        for name, text in (("lesson_id", lesson_id), ("step_id", step_id), ("answer", answer),
                           ("message", message)):
            if not isinstance(text, str):
                raise ValueError(f"{name} must be text, not {type(text).__name__}")
        # float()/int() so that numpy numbers from a check are stored, not refused.
        seconds = None if seconds is None else float(seconds)
        drill_seed = None if drill_seed is None else int(drill_seed)
        if drill_seed is not None and drill_seed not in INT64:
            raise ValueError(f"drill seed {drill_seed} is out of range")
        values = {
            "at": self._stamp(), "lesson_id": lesson_id, "topic": topic, "step_id": step_id,
            "step_kind": step_kind, "answer": answer, "verdict": verdict, "message": message,
            "mistake": mistake, "skills": " ".join(skills) or None, "seconds": seconds,
            "drill_seed": drill_seed, "session_id": self.session_id, "write_id": uuid.uuid4().hex,
        }
        if not self.persistent:
            self._in_memory_answers += 1
        label = f"{lesson_id} › {step_id}: {_printable(answer)} ({verdict})"
        return self._queue(Write("attempts", values, label))

    def record_reveal(self, lesson_id: str, step_id: str, *,
                      skills: tuple[str, ...] | list[str] = ()) -> bool:
        values = {"lesson_id": lesson_id, "step_id": step_id, "at": self._stamp(),
                  "write_id": uuid.uuid4().hex, "skills": " ".join(skills) or None}
        return self._queue(Write("reveals", values, f"{lesson_id} › {step_id}: revealed"))

    def set_position(self, lesson_id: str, step_id: str) -> bool:
        values = {"lesson_id": lesson_id, "step_id": step_id, "at": self._stamp()}
        return self._queue(Write("position", values, f"your place ({lesson_id} › {step_id})"))

    def last_position(self) -> tuple[str, str] | None:
        rows = self._query("SELECT lesson_id, step_id FROM position")
        return (rows[0][0], rows[0][1]) if rows else None

    def now(self) -> datetime:
        return self._clock()

    def _stamp(self) -> str:
        # Microseconds so that a reveal and the answer right after it still order correctly.
        return self._clock().astimezone(UTC).isoformat(timespec="microseconds")

    def _queue(self, write: Write) -> bool:
        with self._cond:
            if self._stopping:
                self._lost.append((write, "tutor was closing"))
                return False
            self._pending.append(write)
            self._cond.notify_all()
        return write.done.wait(SAVE_WAIT_SECONDS)

    # ---- the writer thread --------------------------------------------------------------

    def _write_loop(self) -> None:
        failures = 0
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if not self._pending:
                    return
                write = self._pending[0]
            try:
                self._backend.save(write.kind, write.values)
            except self._backend.Transient as error:
                failures += 1
                self._set_problem(self._backend.describe(error))
                with self._cond:
                    if self._stopping and time.monotonic() >= self._stop_by:
                        return
                    pause = RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]
                    if self._stopping:
                        pause = min(pause, max(0.0, self._stop_by - time.monotonic()))
                    self._cond.wait(pause)
                continue
            except Exception as error:  # noqa: BLE001 - a write refused for good must not stop the rest
                reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
                self._lost.append((write, reason))
                self._refused = (f"The database refused to save a change ({reason});"
                                 " it is named when you quit.")
                self._set_problem(self._problem, force=True)
            failures = 0
            with self._cond:
                self._pending.popleft()
                write.done.set()
                if write.kept_in is not None and not any(w.kept_in == write.kept_in
                                                         for w in self._pending):
                    write.kept_in.unlink(missing_ok=True)
                empty = not self._pending
                self._cond.notify_all()
            if empty:
                self._set_problem(None)

    def _set_problem(self, problem: str | None, force: bool = False) -> None:
        changed = force or problem != self._problem
        self._problem = problem
        if changed and self.on_warning is not None:
            try:
                self.on_warning(self.warning)
            except Exception:  # noqa: BLE001 - a closed app must not stop the writer
                pass

    @property
    def warning(self) -> str | None:
        problem = self._problem
        if problem is None and self._refused is not None:
            return self._refused
        if problem is None:
            return self._open_warning
        waiting = len(self._pending)
        return (f"Progress could not be saved just now ({problem}); {waiting} unsaved"
                f" change{'s' if waiting != 1 else ''} waiting, retried every few seconds.")

    @warning.setter
    def warning(self, text: str | None) -> None:
        self._open_warning = text

    # ---- keeping what could not be saved ------------------------------------------------

    def _keep_or_name(self, left: list[Write]) -> list[str]:
        notices: list[str] = []
        fresh = [w for w in left if w.kept_in is None]  # already-kept ones are still in their file
        if fresh and self._keep_dir is not None:
            try:
                self._keep_dir.mkdir(parents=True, exist_ok=True)
                kept = self._keep_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.jsonl"
                with open(kept, "x", encoding="utf-8") as out:
                    for write in fresh:
                        out.write(json.dumps({"kind": write.kind, "values": write.values,
                                              "label": write.label}) + "\n")
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as error:
                self._lost += [(w, f"could not keep it either: {error.strerror or error}")
                               for w in fresh]
            else:
                reason = f" ({self._problem})" if self._problem else ""
                notices.append(f"{len(fresh)} change{'s' if len(fresh) != 1 else ''} could not be"
                               f" saved to {self.where}{reason}; kept in {kept} and saved the next"
                               " time tutor starts.")
        elif fresh:
            self._lost += [(w, self._problem or "the database could not be reached") for w in fresh]
        answers_lost = [(w, why) for w, why in self._lost if w.kind != "position"]
        if answers_lost:
            notices.append("Not saved:")
            notices += [f"  {w.label} — {why}" for w, why in answers_lost]
        if not self.persistent and self._in_memory_answers:
            notices.append(f"Progress was not saved: the {self._in_memory_answers} answer(s) of this"
                           " session were kept in memory only.")
        return notices

    def _load_kept(self, folder: Path) -> None:
        """Queues the writes an earlier exit could not save (each file deleted once all are in)."""
        try:
            files = sorted(folder.glob("*.jsonl"))
        except OSError:
            return
        for kept in files:
            try:
                lines = kept.read_text(encoding="utf-8").splitlines()
            except (OSError, ValueError):
                continue  # left in place for a person to look at; never blocks starting
            for line in lines:
                try:
                    write = json.loads(line)
                except ValueError:
                    continue
                if _well_formed(write):
                    label = str(write.get("label", ""))
                    self._pending.append(Write(write["kind"], dict(write["values"]), label, kept))

    # ---- reading ------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            rows = self._backend.query(sql, params)
        except self._backend.Transient as error:  # shown as a warning; what is on screen stays
            self._set_problem(self._backend.describe(error))
            return []
        except self._backend.Error as error:  # e.g. a role that may not read a table
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            self._refused = f"The database refused to show your progress ({reason})."
            self._set_problem(self._problem, force=True)
            return []
        if self._problem is not None and not self._pending:
            self._set_problem(None)  # reachable again and nothing waiting
        return rows

    def pending_writes(self) -> list[tuple[str, dict]]:
        """Writes not in the database yet (kind, values), oldest first."""
        with self._cond:
            return [(w.kind, dict(w.values)) for w in self._pending]
