"""The journal: every change is on disk before the learner sees its verdict, until a store has it.

Each running session appends its changes to a file of its own (one JSON line each, mode 0600,
fsync'd) and holds a lock on it. Once a change is in every store it goes to (the learner's own
SQLite file, and the class database if there is one) a short "done" line follows; when nothing is
left open the file is emptied. A session that ends by a signal, a vanished terminal or `kill -9`
leaves its file behind, unlocked: the next session that opens the store adopts what is still open
in it (copying it into its own file first, so a crash in between loses nothing) and saves it.
Write ids make saving a change twice harmless, so "at least once" here is "exactly once" there.

The folder is read like any other file tutor reads: regular files only, each of bounded size,
never blocking on a FIFO or a device that someone put there.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import threading
from collections.abc import Iterable
from pathlib import Path

FOLDER_MODE, FILE_MODE = 0o700, 0o600
MAX_FILE_BYTES = 16 * 1024 * 1024   # far above a day of answers; a larger file is left for a person
MAX_LINE_BYTES = 1024 * 1024
MAX_FILES_PER_START = 200           # adopted per start; any more wait for the next one
SUFFIX = ".jsonl"


class JournalError(Exception):
    """The journal cannot be written (a full disk, a folder that is not ours)."""


def private_folder(folder: Path) -> None:
    """Creates `folder` (and its parents) for this user alone; tightens it if it is ours and open."""
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    info = os.lstat(folder)
    if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and info.st_mode & 0o077:
        os.chmod(folder, FOLDER_MODE)


def private_file(path: Path) -> None:
    """A file of ours readable by others (written by an older tutor) is made this user's alone."""
    with contextlib.suppress(OSError):
        info = os.lstat(path)
        if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and info.st_mode & 0o077:
            os.chmod(path, FILE_MODE)


class Journal:
    """This session's file of changes not yet in every store."""

    def __init__(self, folder: Path, session_id: str):
        self.folder = folder
        self.path = folder / f"{session_id}{SUFFIX}"
        self._fd: int | None = None
        self._open: set[str] = set()   # keys appended and not yet done
        self._lock = threading.Lock()
        self.problem: str | None = None  # why the journal could not be written, if it could not

    # ---- writing ---------------------------------------------------------------------------

    def _ensure_open(self) -> int:
        if self._fd is None:
            try:
                private_folder(self.folder)
                flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
                         | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
                fd = os.open(self.path, flags, FILE_MODE)
            except OSError as error:
                raise JournalError(_reason(error, self.folder)) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # alive: nobody adopts this file
            except OSError:
                pass  # a file system without locks: adoption then relies on the file being ours
            self._fd = fd
        return self._fd

    def append(self, key: str, entry: dict) -> None:
        """Writes the change and waits until it is on disk; raises JournalError if it cannot be."""
        line = (json.dumps({"key": key, **entry}, ensure_ascii=False) + "\n").encode()
        with self._lock:
            try:
                fd = self._ensure_open()
                _write_all(fd, line)
                os.fsync(fd)
            except (OSError, JournalError) as error:
                self.problem = str(error) if isinstance(error, JournalError) else _reason(error, self.folder)
                raise JournalError(self.problem) from None
            self._open.add(key)
            self.problem = None

    def append_many(self, entries: Iterable[tuple[str, dict]]) -> None:
        """Several changes with one wait for the disk (used when adopting a dead session's file)."""
        entries = list(entries)
        if not entries:
            return
        data = b"".join((json.dumps({"key": key, **entry}, ensure_ascii=False) + "\n").encode()
                        for key, entry in entries)
        with self._lock:
            try:
                fd = self._ensure_open()
                _write_all(fd, data)
                os.fsync(fd)
            except OSError as error:
                raise JournalError(_reason(error, self.folder)) from None
            self._open.update(key for key, _ in entries)

    def done(self, key: str) -> None:
        """The change is in every store it goes to. Not synced: losing this line only means the
        change is saved again next time, which its write id makes harmless."""
        with self._lock:
            if key not in self._open or self._fd is None:
                return
            self._open.discard(key)
            try:
                if self._open:
                    _write_all(self._fd, (json.dumps({"done": key}) + "\n").encode())
                else:
                    os.ftruncate(self._fd, 0)  # nothing open: an empty file, nothing to replay
            except OSError:
                pass

    @property
    def open_count(self) -> int:
        return len(self._open)

    def close(self) -> None:
        """Releases the file: removed if nothing is open in it, else left for the next start."""
        with self._lock:
            if self._fd is None:
                return
            if not self._open:
                with contextlib.suppress(OSError):
                    self.path.unlink()
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing releases the lock
            self._fd = None

    # ---- adopting what a session that is gone left behind --------------------------------

    def adopt(self, folders: Iterable[Path]) -> tuple[list[dict], list[str]]:
        """The open changes of every unlocked file in `folders` (this session's own aside), copied
        into this session's file before theirs are removed; and notes on files left alone."""
        adopted: list[dict] = []
        notes: list[str] = []
        seen = 0
        for folder in folders:
            try:
                names = sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX))
            except OSError:
                continue
            for path in names:
                if path == self.path:
                    continue
                seen += 1
                if seen > MAX_FILES_PER_START:
                    return adopted, notes
                entries, note = self._take(path)
                adopted += entries
                if note:
                    notes.append(note)
        return adopted, notes

    def _take(self, path: Path) -> tuple[list[dict], str | None]:
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NOCTTY", 0)
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                return [], f"{path} is not a regular file; it was left alone"
            fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ELOOP):
                return [], None  # adopted by another start just now, or a link: not ours to read
            return [], f"{path} could not be read ({error.strerror or error}); it was left alone"
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
                return [], f"{path} is not a file of yours; it was left alone"
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return [], None  # a session still running: its own changes are its own business
            except OSError:
                pass
            try:
                if os.stat(path).st_ino != info.st_ino:
                    return [], None  # replaced after we opened it: read next time
            except FileNotFoundError:
                return [], None  # adopted by another start while we waited for the lock
            if info.st_size > MAX_FILE_BYTES:
                return [], (f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB;"
                            " it was left for a person to look at")
            data = _read_all(fd, MAX_FILE_BYTES)
            entries = _open_entries(data)
            self.append_many((entry["key"], {k: v for k, v in entry.items() if k != "key"})
                             for entry in entries)
            os.unlink(path)  # only once its changes are safe in this session's own file
            return entries, None
        except JournalError as error:
            return [], f"{path} was left for the next start: {error}"
        except OSError as error:
            return [], f"{path} could not be read ({error.strerror or error}); it was left alone"
        finally:
            os.close(fd)


def _open_entries(data: bytes) -> list[dict]:
    """The entries of a journal file that no "done" line follows; damaged lines are skipped."""
    entries: dict[str, dict] = {}
    for raw in data.split(b"\n"):
        if not raw.strip() or len(raw) > MAX_LINE_BYTES:
            continue
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("done"), str):
            entries.pop(item["done"], None)
            continue
        key = item.get("key")
        if not isinstance(key, str):
            # a file kept by an older tutor at exit: no keys, every line still open
            key = f"kept-{len(entries)}-{hash(raw)}"
            item = {**item, "key": key}
        entries[key] = item
    return list(entries.values())


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_all(fd: int, cap: int) -> bytes:
    chunks, size = [], 0
    while size <= cap:
        chunk = os.read(fd, min(65536, cap + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _reason(error: OSError, folder: Path) -> str:
    return f"cannot keep answers in {folder}: {error.strerror or error}"
