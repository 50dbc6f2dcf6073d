"""`tutor open FILE --watch`: reload the lesson whenever its file changes, for authors writing one."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

DEBOUNCE_MS = 150  # an editor's save is often several writes (or a write and a rename)
RETRY_SECONDS = 1.0  # after the folder could not be watched (it went away, or cannot be read)


class LessonFileWatcher:
    """Watches one lesson file from a daemon thread (quitting never waits for it) and calls
    `changed()` on the UI thread after each save, through `call_from_thread`; a watch that fails
    is reported through `failed(reason)` and tried again, never ended in silence."""

    def __init__(self, path: Path, changed: Callable[[], None], call_from_thread: Callable,
                 failed: Callable[[str], None] = lambda _reason: None):
        # The path as given, not resolved: the file replaced by a link is still this path, and a
        # link to it (or a symlink loop) elsewhere in the folder is not. If the path is itself a
        # link, the folder of the file it points at is watched too (an edit lands there).
        self.path = Path(os.path.abspath(path))
        self.target = _resolved(self.path)
        self._changed = changed
        self._failed = failed
        self._call = call_from_thread
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="tutor-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def mine(self, _change, path: str) -> bool:
        """Whether a change in a watched folder is to the lesson file: compared by path, never by
        resolving the changed entry (a symlink loop cannot be resolved, and must not end the watch)."""
        changed = os.path.abspath(path)
        return changed == str(self.path) or (self.target is not None and changed == str(self.target))

    def folders(self) -> list[Path]:
        # the folder, not the file: editors that save by writing a new file and renaming it over
        # the old one would leave a watch on the file itself pointing at nothing
        folders = [self.path.parent]
        if self.target is not None and self.target.parent != self.path.parent:
            folders.append(self.target.parent)
        return folders

    def _watch(self) -> None:
        from watchfiles import watch  # imported here: only `--watch` needs it

        reported = None
        while not self._stop.is_set():
            folders = self.folders()
            try:
                for _changes in watch(*folders, watch_filter=self.mine, debounce=DEBOUNCE_MS,
                                      stop_event=self._stop, rust_timeout=500, recursive=False,
                                      raise_interrupt=False):
                    if self._stop.is_set():
                        return
                    reported = None
                    self._call(self._changed)
                    self.target = _resolved(self.path)  # replaced by a link: follow where it leads now
                    if self.folders() != folders:
                        break
                else:
                    return  # stopped
            except Exception as error:  # noqa: BLE001 - said once on screen; the watch goes on trying
                if self._stop.is_set():
                    return
                reason = f"{self.path.name} is not being watched now ({error or type(error).__name__}); " \
                         "trying again"
                if reason != reported:
                    try:
                        self._call(self._failed, reason)
                    except Exception:  # noqa: BLE001 - the app closed under us
                        return
                    reported = reason
                self._stop.wait(RETRY_SECONDS)


def _resolved(path: Path) -> Path | None:
    """Where the path leads, if it is a link that can be followed."""
    try:
        return path.resolve(strict=True) if path.is_symlink() else None
    except (OSError, RuntimeError):  # a loop, or a link to nothing
        return None
