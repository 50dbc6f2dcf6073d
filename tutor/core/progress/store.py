"""The progress store: every change is journaled, then written by a writer thread and retried until saved.

A change (an attempt, a reveal, the learner's place) is appended to the journal and on disk
before the call that records it returns, so the app shows a verdict only once it cannot be
lost. The writer thread then saves it to the learner's own SQLite file; with a class database
(`--database` or TUTOR_DATABASE_URL) answers and reveals are also sent there, for the teacher.
A change leaves the journal once every store it goes to has it; what a session could not save
before it ended (a locked file, a server that is down, a signal, `kill -9`) is saved by the
next tutor command.
"""

from __future__ import annotations

import getpass
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

from tutor.core.progress.columns import WRITE_COLUMNS
from tutor.core.progress.journal import Journal, JournalError
from tutor.core.progress.report import ProgressReports
from tutor.core.progress.sqlite import (
    FILE_NAME,
    Corrupt,
    SqliteBackend,
    Unusable,
    default_path,
)
from tutor.core.vocabulary import Kind, Status

VERDICTS = tuple(status.value for status in Status)
STEP_KINDS = tuple(kind.value for kind in Kind)
SAVE_WAIT_SECONDS = 0.25   # record_* waits this long for its write (usually a few ms); it is journaled already
EXIT_WAIT_SECONDS = 3.0    # closing waits this long for waiting writes before leaving them to the journal
RETRY_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
INT64 = range(-2**63, 2**63)
DATABASE_ENV = "TUTOR_DATABASE_URL"
LOCAL, CLASS = "local", "class"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Write:
    """One change, with what to tell the learner if it is never saved."""

    kind: str            # "attempts", "reveals" or "position"
    values: dict
    label: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    journaled: bool = False
    remaining: set = field(default_factory=set)   # the stores that do not have it yet
    done: threading.Event = field(default_factory=threading.Event)  # the learner's own file has it


def _well_formed(kept: object) -> bool:
    """A write read back from a journal: a known kind, its own columns, plain values."""
    if not isinstance(kept, dict) or not isinstance(kept.get("values"), dict):
        return False
    values = kept["values"]
    return (set(values) <= WRITE_COLUMNS.get(str(kept.get("kind")), set()) and bool(values)
            and all(v is None or type(v) in (str, int, float) for v in values.values())
            and all(isinstance(values.get(k), str) for k in ("lesson_id", "step_id")))


def _printable(text: str, limit: int = 40) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


class ProgressStore(ProgressReports):
    """One learner's attempts, reveals and place in the curriculum: their own SQLite file, and a
    class database if they are in a class."""

    def __init__(self, backend, warning: str | None = None, *, journal_dir: Path | None = None,
                 clock: Callable[[], datetime] = utc_now, class_url: str | None = None,
                 adopt_from: tuple[Path, ...] = ()):
        self._backend = backend
        self._open_warning = warning
        self._clock = clock
        self._pending: deque[Write] = deque()     # waiting for the learner's own file
        self._cond = threading.Condition()
        self._problem: str | None = None          # why the own file cannot be written just now
        self._refused: str | None = None          # what a store last refused for good, and why
        self._lost: list[tuple[Write, str]] = []
        self._class_only: list[tuple[Write, str]] = []   # kept here, never taken by the class
        self._stopping = False
        self._close_cap: float | None = None
        self._in_memory_answers = 0
        self._by_key: dict[str, Write] = {}
        self.path: Path | None = backend.path
        self.where: str = backend.where
        self.session_id = uuid.uuid4().hex
        self.on_warning: Callable[[str | None], None] | None = None  # called from the writer threads
        self._journal = Journal(journal_dir, self.session_id) if journal_dir is not None else None
        self._journal_notes: list[str] = []
        self.link = None
        if class_url:
            from tutor.core.progress.postgres import ClassLink  # lazy: psycopg, only with a class database

            self.link = ClassLink(class_url, self._class_settled, self._class_problem, login=_login())
            self.where = self.link.where
        if self._journal is not None and journal_dir is not None:
            self._adopt(self._journal, journal_dir, adopt_from)
        self._writer = threading.Thread(target=self._write_loop, name="progress-writer", daemon=True)
        self._writer.start()

    # ---- opening and closing ----------------------------------------------------------

    @classmethod
    def open(cls, path: Path | None = None, *, database: str | None = None,
             clock: Callable[[], datetime] = utc_now) -> ProgressStore:
        """Opens (or creates) the store; a user's problem becomes `warning`, never an exception.

        `database` (or TUTOR_DATABASE_URL) names a class's PostgreSQL database that answers are
        also sent to; the learner's own SQLite file at `path` (default: the user data dir) keeps
        everything their own views show.
        """
        url = database if database is not None else (
            None if path is not None else os.environ.get(DATABASE_ENV))
        path = Path(path) if path is not None else default_path()
        adopt: tuple[Path, ...] = ()
        if url:
            from tutor.core.progress.postgres import redact  # lazy: psycopg, only with a class database

            # an older tutor kept a class's unsaved answers in folders of their own
            adopt = tuple(path.parent.glob("class-*.unsaved")) if path.parent.is_dir() else ()
        try:
            if path.is_dir():
                path = path / FILE_NAME
            backend, notice = SqliteBackend.open(path)
            return cls(backend, notice, journal_dir=journal_dir_for(path), clock=clock,
                       class_url=url or None, adopt_from=adopt)
        except (OSError, sqlite3.Error, Corrupt, Unusable) as error:
            reason = getattr(error, "strerror", None) or str(error)
            if url:
                warning = (f"Your own copy of your progress is not being kept: cannot use {path}: {reason};"
                           f" answers still go to the class database {redact(url, url)}.")
            else:
                warning = f"Progress is not being saved: cannot use {path}: {reason}"
            return cls(SqliteBackend.in_memory(), warning, clock=clock, class_url=url or None)

    @property
    def persistent(self) -> bool:
        return self.where != "memory"

    @property
    def in_class(self) -> bool:
        return self.link is not None

    def flush(self, timeout: float | None = None) -> bool:
        """Waits until every change so far is in every store; False if some are still waiting."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending or any(w.remaining for w in self._by_key.values()):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left if left is None else min(left, 0.2))
        return True

    def close(self, wait: float = EXIT_WAIT_SECONDS) -> list[str]:
        """Saves what is waiting (up to `wait` seconds) and closes; returns what to tell the learner.

        An empty list means everything is saved. Changes still waiting stay in the journal and are
        saved the next time tutor runs; any that could not even be journaled are named one by one.
        """
        if self._close_cap is not None:
            wait = min(wait, self._close_cap)
        if self._problem is not None or self.class_problem is not None:
            wait = min(wait, 0.5)  # failing already: the journal keeps what waits, no need to wait long
        with self._cond:
            if self._stopping:
                return []
            self._stopping = True
            self._stop_by = time.monotonic() + wait
            self._cond.notify_all()
        self._writer.join(wait + 1.0)
        if self.link is not None:
            self.link.stop(max(0.0, self._stop_by - time.monotonic()))
        notices = self._closing_notices()
        if self._journal is not None:
            self._journal.close()
        if not self._writer.is_alive():
            self._backend.close()  # else the writer is stuck inside a call; the process ends anyway
        return notices

    def leave_soon(self, seconds: float) -> None:
        """The process is ending (a signal, a vanished terminal): closing waits at most `seconds`
        for waiting changes; the journal keeps the rest for the next tutor command."""
        self._close_cap = seconds

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
        wait: float = SAVE_WAIT_SECONDS,
    ) -> bool:
        """Journals the attempt (on disk when this returns) and queues it; True if the learner's
        own file also had it within `wait` seconds (normally a few ms)."""
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
        return self._queue(Write("attempts", values, label), wait)

    def record_reveal(self, lesson_id: str, step_id: str, *,
                      skills: tuple[str, ...] | list[str] = (), wait: float = SAVE_WAIT_SECONDS) -> bool:
        values = {"lesson_id": lesson_id, "step_id": step_id, "at": self._stamp(),
                  "write_id": uuid.uuid4().hex, "skills": " ".join(skills) or None}
        return self._queue(Write("reveals", values, f"{lesson_id} › {step_id}: revealed"), wait)

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

    def _queue(self, write: Write, wait: float = SAVE_WAIT_SECONDS) -> bool:
        with self._cond:
            if self._stopping:
                self._lost.append((write, "tutor was closing"))
                return False
        self._journal_write(write)
        self._enqueue(write)
        return write.done.wait(wait) if wait > 0 else write.done.is_set()

    def _journal_write(self, write: Write) -> None:
        if self._journal is None:
            return
        try:
            self._journal.append(write.key, {"kind": write.kind, "values": write.values, "label": write.label})
            write.journaled = True
        except JournalError as error:
            self._refused = f"Answers are not being kept safe on disk ({error}); they are saved as usual."
            self._set_problem(self._problem, force=True)

    def _enqueue(self, write: Write) -> None:
        write.remaining = {LOCAL}
        if self.link is not None and write.kind in ("attempts", "reveals"):
            write.remaining.add(CLASS)
        with self._cond:
            self._by_key[write.key] = write
            self._pending.append(write)
            self._cond.notify_all()
        if CLASS in write.remaining and self.link is not None:
            self.link.send(write.key, write.kind, {**write.values,
                                                   "session_id": write.values.get("session_id") or self.session_id})

    def _settle(self, write: Write, store: str) -> None:
        with self._cond:
            write.remaining.discard(store)
            finished = not write.remaining
            if finished:
                self._by_key.pop(write.key, None)
            self._cond.notify_all()
        if finished and self._journal is not None and write.journaled:
            self._journal.done(write.key)

    def _class_settled(self, key: str, refusal: str | None) -> None:
        write = self._by_key.get(key)
        if write is None:
            return
        if refusal is not None:
            self._class_only.append((write, refusal))
            self._refused = f"The class database did not take an answer: {refusal}."
            self._set_problem(self._problem, force=True)
        self._settle(write, CLASS)

    def _class_problem(self, problem) -> None:
        self._set_problem(self._problem, force=True)

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
                empty = not self._pending
            if empty:
                self._set_problem(None)  # before settling: whoever waits on flush() sees it cleared
            self._settle(write, LOCAL)

    def _set_problem(self, problem: str | None, force: bool = False) -> None:
        changed = force or problem != self._problem
        self._problem = problem
        if changed and self.on_warning is not None:
            try:
                self.on_warning(self.warning)
            except Exception:  # noqa: BLE001 - a closed app must not stop the writer
                pass

    @property
    def class_problem(self):
        """Why answers cannot reach the class database just now (a postgres.Problem), or None."""
        return None if self.link is None else self.link.problem

    @property
    def warning(self) -> str | None:
        problem = self._problem
        linked = self.class_problem
        if linked is not None:
            if linked.kind in ("setup", "gone"):
                return linked.message
            return f"Saved on this machine for now: {linked.message}; your answers are sent when it is back."
        if problem is None and self._refused is not None:
            return self._refused
        if problem is None:
            return self._open_warning
        return (f"Progress could not be saved just now ({problem}); your answers are kept safe and"
                " saved as soon as it can be, retried every few seconds.")

    @warning.setter
    def warning(self, text: str | None) -> None:
        self._open_warning = text

    # ---- what is left at exit -----------------------------------------------------------

    def _closing_notices(self) -> list[str]:
        notices: list[str] = []
        with self._cond:
            local_left = [w for w in self._pending]
            class_left = [w for w in self._by_key.values() if CLASS in w.remaining and LOCAL not in w.remaining]
        where = self._journal.path if self._journal is not None else None
        kept = [w for w in local_left if w.journaled]
        if kept:
            reason = f" ({self._problem})" if self._problem else ""
            notices.append(f"{_plural(len(kept), 'change')} could not be saved to {self._backend.where}{reason};"
                           f" kept in {where} and saved the next time tutor starts.")
        sent_later = [w for w in class_left if w.journaled]
        if sent_later:
            linked = self.class_problem
            reason = f" ({linked.message.rstrip('.')})" if linked is not None else ""
            one = len(sent_later) == 1
            notices.append(f"{_plural(len(sent_later), 'answer')} could not be sent to the class database"
                           f"{reason}; {'it is' if one else 'they are'} saved on this machine, kept in {where},"
                           " and sent the next time tutor runs.")
        for write in local_left + class_left:
            if not write.journaled:
                why = (self._journal.problem if self._journal is not None and self._journal.problem
                       else self._problem or "the database could not be reached")
                self._lost.append((write, f"could not keep it either: {why}" if self._journal is not None
                                   else why))
        answers_lost = [(w, why) for w, why in self._lost if w.kind != "position"]
        if answers_lost:
            notices.append("Not saved:")
            notices += [f"  {w.label} — {why}" for w, why in answers_lost]
        if self._class_only:
            reasons = sorted({why for _, why in self._class_only})
            notices.append(f"{_plural(len(self._class_only), 'answer')} of this session went to your own"
                           f" progress only: {'; '.join(reasons)}.")
        if not self.persistent and self._in_memory_answers and self.link is None:
            notices.append(f"Progress was not saved: the {self._in_memory_answers} answer(s) of this"
                           " session were kept in memory only.")
        notices += self._journal_notes
        return notices

    def _adopt(self, journal: Journal, journal_dir: Path, others: tuple[Path, ...]) -> None:
        """Queues the changes sessions that are gone left in the journal (or in an older tutor's
        folder of kept answers), once each."""
        entries, notes = journal.adopt((journal_dir, *others))
        self._journal_notes += notes
        for entry in entries:
            if not _well_formed(entry):
                continue
            write = Write(entry["kind"], dict(entry["values"]), str(entry.get("label", ""))[:200],
                          key=entry["key"], journaled=True)
            self._enqueue(write)

    # ---- reading ------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            rows = self._backend.query(sql, params)
        except self._backend.Transient as error:  # shown as a warning; what is on screen stays
            self._set_problem(self._backend.describe(error))
            return []
        except self._backend.Error as error:
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            self._refused = f"The database refused to show your progress ({reason})."
            self._set_problem(self._problem, force=True)
            return []
        if self._problem is not None and not self._pending:
            self._set_problem(None)  # reachable again and nothing waiting
        return rows

    def pending_writes(self) -> list[tuple[str, dict]]:
        """Writes not in the learner's own file yet (kind, values), oldest first."""
        with self._cond:
            return [(w.kind, dict(w.values)) for w in self._pending]

    @property
    def skipped_rows(self) -> int:
        """Rows of the learner's file left out of every view: times no calendar holds."""
        return getattr(self._backend, "skipped", 0)


def journal_dir_for(path: Path) -> Path:
    """Where changes wait until the stores have them: next to the learner's own file."""
    return path.with_name(path.name + ".unsaved")


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def replay_left_over(timeout: float = 5.0) -> list[str]:
    """Saves what sessions that are gone left in the journal, if anything; what to tell the learner."""
    folder = journal_dir_for(default_path())
    try:
        if not any(p.name.endswith(".jsonl") for p in folder.iterdir()):
            return []
    except OSError:
        return []
    store = ProgressStore.open()
    store.flush(timeout)
    return store.close(wait=0.5)

