"""`tutor open FILE --watch`: reload the lesson whenever its file changes, for authors writing one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

DEBOUNCE_MS = 150  # an editor's save is often several writes (or a write and a rename)


class LessonFileWatcher:
    """Watches one lesson file from a daemon thread (quitting never waits for it) and calls
    `changed()` on the UI thread after each save, through `call_from_thread`."""

    def __init__(self, path: Path, changed: Callable[[], None], call_from_thread: Callable):
        self.path = path.resolve()
        self._changed = changed
        self._call = call_from_thread
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="tutor-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        from watchfiles import watch

        # the folder, not the file: editors that save by writing a new file and renaming it over
        # the old one would leave a watch on the file itself pointing at nothing
        mine = lambda _change, path: Path(path).resolve() == self.path  # noqa: E731
        try:
            for _changes in watch(self.path.parent, watch_filter=mine, debounce=DEBOUNCE_MS,
                                  stop_event=self._stop, rust_timeout=500, recursive=False,
                                  raise_interrupt=False):
                if self._stop.is_set():
                    return
                self._call(self._changed)
        except Exception:  # noqa: BLE001 - the app closed under us, or the folder went away
            return
