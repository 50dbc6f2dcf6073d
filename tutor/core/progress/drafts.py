"""Work typed but not checked yet, kept per lesson and step in a small file beside the progress database.

A draft (one line or a whole graph) is written as the learner types, by a writer thread that
replaces the file atomically (mode 0600), so quitting, a dropped SSH connection or a killed process
right after typing still finds it. A draft is never an attempt; it is removed once its step is
checked. The same file keeps what was checked in the graph view on nodes no step asks for (their
typed value and whether it was right or revealed), which the progress database has no step for.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from tutor.core.progress.sqlite import default_path
from tutor.core.text.files import FileRefused, read_text
from tutor.core.text.safe import clean

FILE_NAME = "drafts.json"
MAX_FILE_BYTES = 1_000_000
MAX_TEXT = 20_000          # characters kept of one draft (a graph box holds at most 40 lines of 200)
MAX_LESSONS = 300          # lessons with drafts kept; the ones touched longest ago go first
NODE_STATUSES = ("correct", "wrong", "imprecise", "revealed")


class Drafts:
    """Per-user drafts: `get`/`put` by lesson and step; `put` returns at once, the file follows.

    Never raises into its caller: a file that cannot be read is treated as empty, one that cannot be
    written leaves the drafts in memory and `problem` says why.
    """

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else default_path().with_name(FILE_NAME)
        self.problem: str | None = None
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._data = self._read()
        self._touched: dict[tuple[str, str, str], object] = {}  # changes since the last write
        self._dirty = False
        self._writing = False
        self._closed = False
        self._writer = threading.Thread(target=self._write_loop, name="drafts-writer", daemon=True)
        self._writer.start()

    # ---- drafts --------------------------------------------------------------------------

    def get(self, lesson_id: str, step_id: str) -> str | None:
        with self._lock:
            return self._data["drafts"].get(lesson_id, {}).get(step_id)

    def lesson(self, lesson_id: str) -> dict[str, str]:
        """Every draft of a lesson, by step id."""
        with self._lock:
            return dict(self._data["drafts"].get(lesson_id, {}))

    def put(self, lesson_id: str, step_id: str, text: str) -> None:
        """Keeps `text` as the step's draft (an empty or blank text removes it)."""
        text = text[:MAX_TEXT]
        with self._lock:
            drafts = self._data["drafts"]
            if not text.strip():
                if step_id not in drafts.get(lesson_id, {}):
                    return
                _set(drafts, lesson_id, step_id, None)
            else:
                if drafts.get(lesson_id, {}).get(step_id) == text:
                    return
                _set(drafts, lesson_id, step_id, text)
            self._touched[("drafts", lesson_id, step_id)] = text if text.strip() else None
            self._changed()

    def drop(self, lesson_id: str, step_id: str) -> None:
        """The step was checked: its draft is no longer needed."""
        self.put(lesson_id, step_id, "")

    # ---- answers on graph nodes no step asks for -------------------------------------------

    def nodes(self, lesson_id: str) -> dict[str, tuple[str, str]]:
        """Field key -> (typed, status) of what was checked or revealed on such nodes."""
        with self._lock:
            return {k: (v[0], v[1]) for k, v in self._data["nodes"].get(lesson_id, {}).items()}

    def put_node(self, lesson_id: str, key: str, typed: str, status: str) -> None:
        if status not in NODE_STATUSES:
            return
        entry = [typed[:MAX_TEXT], status]
        with self._lock:
            _set(self._data["nodes"], lesson_id, key, entry)
            self._touched[("nodes", lesson_id, key)] = entry
            self._changed()

    # ---- the file ------------------------------------------------------------------------

    def flush(self, timeout: float = 2.0) -> bool:
        """Waits until the file holds every change (True), or `timeout` seconds pass."""
        with self._wake:
            return self._wake.wait_for(lambda: not self._dirty and not self._writing, timeout)

    def close(self, timeout: float = 2.0) -> None:
        self.flush(timeout)
        with self._wake:
            self._closed = True
            self._wake.notify_all()

    def _changed(self) -> None:
        self._dirty = True
        self._wake.notify_all()

    def _write_loop(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._dirty or self._closed)
                if self._closed and not self._dirty:
                    return
                touched, self._touched = self._touched, {}
                self._dirty, self._writing = False, True
            # another tutor of the same learner may have written since: keep its changes too
            merged = self._read()
            for (section, lesson_id, key), value in touched.items():
                _set(merged[section], lesson_id, key, value)
            try:
                self._write(json.dumps(merged, ensure_ascii=False, separators=(",", ":")))
                problem = None
            except OSError as error:
                problem = f"Drafts could not be kept in {self.path}: {error.strerror or error}"
            with self._wake:
                for (section, lesson_id, key), value in touched.items():
                    if (section, lesson_id, key) not in self._touched:
                        _set(merged[section], lesson_id, key, value)
                # what this process has changed since stays as it is; the rest is the file's
                for (section, lesson_id, key), value in self._touched.items():
                    _set(merged[section], lesson_id, key, value)
                self._data = merged
                if problem is not None:  # tried again with the next change
                    for entry, value in touched.items():
                        self._touched.setdefault(entry, value)
                self.problem = problem
                self._writing = False
                self._wake.notify_all()

    def _write(self, payload: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, payload.encode("utf-8"))
        finally:
            os.close(fd)
        os.replace(temp, self.path)

    def _read(self) -> dict:
        """The file's drafts, keeping only well-formed entries; empty if it is missing or unreadable."""
        data: dict = {"drafts": {}, "nodes": {}}
        try:
            raw = json.loads(read_text(self.path, MAX_FILE_BYTES))
        except (FileRefused, ValueError, RecursionError):
            return data
        if not isinstance(raw, dict):
            return data
        for lesson_id, steps in _dict(raw.get("drafts")).items():
            kept = {s: clean(t[:MAX_TEXT]) for s, t in _dict(steps).items() if isinstance(s, str) and isinstance(t, str)}
            if kept and isinstance(lesson_id, str):
                data["drafts"][lesson_id] = kept
        for lesson_id, keys in _dict(raw.get("nodes")).items():
            kept_nodes = {k: [clean(v[0][:MAX_TEXT]), v[1]] for k, v in _dict(keys).items()
                          if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and v[1] in NODE_STATUSES}
            if kept_nodes and isinstance(lesson_id, str):
                data["nodes"][lesson_id] = kept_nodes
        return data


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _set(by_lesson: dict, lesson_id: str, key: str, value) -> None:
    """Sets (None: removes) one entry; the lesson moves to the end, the most recently touched."""
    entries = by_lesson.pop(lesson_id, {})
    if value is None:
        entries.pop(key, None)
    else:
        entries[key] = value
    if entries:
        by_lesson[lesson_id] = entries
    _trim(by_lesson)


def _trim(by_lesson: dict) -> None:
    while len(by_lesson) > MAX_LESSONS:
        del by_lesson[next(iter(by_lesson))]
