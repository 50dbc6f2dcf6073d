"""The Textual app: holds the catalog and progress store, opens screens, warms PyTorch up off the UI thread."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.screen import Screen

from tutor import _start_time
from tutor.app.commands import QUIT, TutorCommands, app_bindings
from tutor.app.screens.drill import DrillScreen
from tutor.app.screens.lesson import LessonScreen
from tutor.app.screens.lesson_list import LessonListScreen
from tutor.app.screens.live_handle import LiveCancelled, run_cancellable, worker_cancelled
from tutor.app.screens.messages import StoreWarning
from tutor.app.watch import LessonFileWatcher
from tutor.app.widgets.lesson_list import broken_reason
from tutor.core.drill.run import DrillRun
from tutor.core.drill.variants import DrillError, resolve_topic
from tutor.core.errors import TutorError
from tutor.core.expr import budget
from tutor.core.lesson.catalog import Catalog, Entry, load_file
from tutor.core.progress.drafts import Drafts
from tutor.core.progress.review import due, review_run
from tutor.core.progress.skills import title
from tutor.core.progress.store import ProgressStore
from tutor.core.text.safe import unexpected
from tutor.core.vocabulary import SETTLED

if TYPE_CHECKING:
    from tutor.app.services import TutorServices

NO_COLOR_THEME = "ansi-light"  # Textual's theme of the terminal's own ANSI colours
DRAWING_NOTE_SECONDS = 120  # a draw ends well before: a seed may take 10 s of work


def _list_screen():
    # imported when first shown: `tutor open` and `tutor drill` paint without composing the list

    return LessonListScreen


class TutorApp(App[int]):
    CSS_PATH = Path(__file__).with_name("tutor.tcss")
    TITLE = "tutor"
    COMMANDS = {TutorCommands}
    BINDINGS = app_bindings([QUIT])

    def __init__(
        self,
        catalog: Catalog,
        *,
        store: ProgressStore | None = None,
        start: Entry | None = None,
        start_step: str | None = None,
        drill_seed: int | None = None,
        drill_topic: str | None = None,
        review_skills: list[str] | None = None,
        watch: bool = False,
    ):
        # NO_COLOR: the terminal's own colours (ANSI "default"), which Textual's NoColor filter then
        # strips entirely; without ansi_color it would paint a grey-on-black Monochrome screen instead,
        # forcing a dark background on a light terminal. Emphasis comes from reverse/bold/underline.
        no_color = "NO_COLOR" in os.environ
        super().__init__(ansi_color=True if no_color else None)
        if no_color:
            self.theme = NO_COLOR_THEME
        self.catalog = catalog
        self._owns_store = store is None
        self.store = store if store is not None else ProgressStore.open()
        self.drafts = Drafts()  # typed, unchecked work, kept as it is typed
        self.start = start
        self.start_step = start_step
        self.drill_seed = drill_seed  # the variant being drilled; stored with each drill attempt
        self.start_drill_topic = drill_topic
        self.start_drill_seed = drill_seed
        self.start_review_skills = review_skills
        # `tutor open FILE --watch`: the file whose saves reload the lesson, and what watches it
        self.watched_path = Path(start.path) if watch and start is not None else None
        self.watcher: LessonFileWatcher | None = None
        self.torch_state = "loading"  # "loading" | "ready" | "failed: <why>"
        self.started_ms: float | None = None
        self.exit_notices: list[str] = []  # what could not be saved, told after the app closes
        self._draw_stop: threading.Event | None = None  # stops the drill variant being drawn
        self._drawing_note = False  # "Drawing fresh numbers…" is on an otherwise empty screen
        # The writer thread reports a save problem (or its end) as it happens; one found before
        # the app could hear it (a class server already down) is shown after the first paint.
        self.store.on_warning = self._store_warned
        self._store_warning_shown: str | None = None
        # No animations and no blinking: every redraw costs bandwidth over SSH.
        self.animation_level = "none"

    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = True) -> None:
        """A toast; always plain text. Notifications quote topics, titles, file names, skills from the
        progress database and error messages: as markup, '[/x]' would stop the app and
        '[@click=app.quit]' would bind an action to a click. Widget.notify comes here too."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_mount(self) -> None:
        # Opened straight into a lesson or a drill, the list is composed only if the learner goes
        # back to it: composing both would delay the first paint.
        if self.start_review_skills:
            self.start_review(self.start_review_skills)
        elif self.start_drill_topic is not None:
            self.start_drill(self.start_drill_topic, self.start_drill_seed)
        elif self.start is not None:
            self.open_lesson(self.start.id, self.start_step, entry=self.start)
        else:
            self.push_screen(_list_screen()())
        self.call_after_refresh(self._painted)
        if self.watched_path is not None:
            self.watcher = LessonFileWatcher(self.watched_path, self.reload_watched,
                                             self.call_from_thread, self.watch_failed)
            self.watcher.start()

    def watch_failed(self, reason: str) -> None:
        """The watched file's folder could not be watched: said above the lesson, as a failed save is."""
        shown = next((s for s in reversed(self.screen_stack) if isinstance(s, LessonScreen)), None)
        if shown is not None:
            shown.show_reload_error(reason)

    def reload_watched(self) -> None:
        """The watched file was saved: reopen it on the same step, or say in place why it no
        longer loads (the lesson as it was stays open, to keep working in)."""
        if self.start is None:
            return  # opened on the lesson list: no file to reload
        path = Path(self.start.path)
        entry = load_file(path)
        shown = next((s for s in reversed(self.screen_stack) if isinstance(s, LessonScreen)), None)
        if entry.lesson is None:
            if shown is not None:
                shown.show_reload_error(f"{path.name} does not load now: {broken_reason(entry)}")
            return
        self.start = entry
        step_id = shown.step.id if shown is not None else None
        self._show_over_list(LessonScreen(entry, step_id))
        self.notify(f"Reloaded {path.name}.", timeout=3)

    def exit(self, *args, **kwargs) -> None:
        # Quitting never waits for a check: every screen's running evaluation is cancelled first,
        # so the workers waiting on them return at once (the work itself is in daemon threads).
        for screen in self.screen_stack:
            stop = getattr(screen, "stop_evaluations", None)
            if callable(stop):
                stop()
        if self._draw_stop is not None:
            self._draw_stop.set()  # a drill variant being drawn
        if self.watcher is not None:
            self.watcher.stop()
        super().exit(*args, **kwargs)

    def on_unmount(self) -> None:
        self.drafts.close()
        self.store.on_warning = None
        if self._owns_store:
            # Waits a few seconds for answers not saved yet; what is left is kept or named.
            self.exit_notices = self.store.close()

    def _store_warned(self, warning: str | None) -> None:
        self.post_message(StoreWarning(warning))

    def on_store_warning(self, message: StoreWarning) -> None:
        self._show_store_warning(message.warning)

    def _show_store_warning(self, warning: str | None) -> None:
        # once when saving starts failing, once when it works again: not after every answer
        if warning == self._store_warning_shown:
            return
        previous, self._store_warning_shown = self._store_warning_shown, warning
        if warning:
            self.notify(warning, severity="warning", timeout=30)
        elif previous is not None and self.store.persistent:
            self.notify("Progress is being saved again; nothing was lost.", timeout=8)
        for screen in self.screen_stack:
            if hasattr(screen, "show_warning"):
                screen.show_warning()

    def _painted(self) -> None:
        self.started_ms = _start_time.elapsed_ms()
        self.log.info(f"started in {self.started_ms:.0f} ms")
        self._refresh_status()
        self._show_store_warning(self.store.warning)  # found while the app was starting
        self.warm_up_torch()  # only now: the first screen never waits for torch

    @work(thread=True, group="torch", exit_on_error=False)
    def warm_up_torch(self) -> None:
        # Importing the live evaluator imports torch (about a second); the first screen is up already.
        try:
            # lazy: torch, warmed up in a worker while the first screen is shown
            import tutor.core.evaluate.live  # noqa: F401
        except Exception as error:  # noqa: BLE001 - a missing or broken torch must not end the app
            self.call_from_thread(self._torch_loaded, f"failed: {error}")
        else:
            self.call_from_thread(self._torch_loaded, "ready")

    def _torch_loaded(self, state: str) -> None:
        self.torch_state = state
        self.log.info(f"PyTorch {state}")
        self._refresh_status()

    def _refresh_status(self) -> None:
        for screen in self.screen_stack:
            # a drill screen drawn in a worker may be on the stack before it has composed
            if hasattr(screen, "show_status") and screen.is_mounted:
                screen.show_status()

    def status_text(self) -> str:
        started = f"Started in {self.started_ms:.0f} ms" if self.started_ms is not None else "Starting"
        torch = {"loading": "loading PyTorch…", "ready": "PyTorch ready"}.get(
            self.torch_state, f"PyTorch could not be loaded ({self.torch_state[8:]})")
        return f"{started} · {torch}"

    def resume_point(self) -> tuple[Entry, str] | None:
        """Where to continue: the lesson last worked on (answered, revealed or typed into; a lesson
        only opened does not count), at the first unfinished step from where this learner last was
        in it; else the next lesson (in catalog order, wrapping round) with an unfinished step. Never
        a step or lesson already solved or revealed. None before any progress, or when all is done."""
        position = self.store.last_position()
        worked = self._last_worked()
        if position is None and worked is None:
            return None
        step_id: str | None
        if position is not None:
            lesson_id, step_id = position
            if worked is not None and worked != lesson_id and not self.drafts.lesson(lesson_id):
                lesson_id, step_id = worked, None
        elif worked is not None:
            lesson_id, step_id = worked, None
        else:
            return None
        loaded = [(e, e.lesson) for e in self.catalog.entries if e.lesson is not None]
        here = next((n for n, (e, _) in enumerate(loaded) if e.id == lesson_id), None)
        if here is None:
            return None
        for n in range(len(loaded)):
            entry, lesson = loaded[(here + n) % len(loaded)]
            ids = [s.id for s in lesson.steps]
            settled = {s for s, state in self.store.step_states(entry.id).items()
                       if state in SETTLED}
            start = ids.index(step_id) if n == 0 and step_id in ids else 0
            open_steps = [s for s in ids[start:] + ids[:start] if s not in settled]
            if open_steps:
                return entry, open_steps[0]
        return None

    def _last_worked(self) -> str | None:
        """The catalog lesson with the latest answer or reveal (drills aside)."""
        try:
            progress = self.store.lesson_states()
        except Exception:  # noqa: BLE001 - then the last position alone decides
            return None
        known = {e.id for e in self.catalog.entries if e.lesson is not None}
        dated = [(p.last_activity, lesson) for lesson, p in progress.items() if lesson in known and p.last_activity]
        return max(dated)[1] if dated else None

    def in_catalog(self, lesson_id: str) -> bool:
        """True for a lesson the list shows (not a drill variant or a file opened on its own)."""
        return any(e.id == lesson_id and e.lesson is not None for e in self.catalog.entries)

    def continue_learning(self) -> None:
        resume = self.resume_point()
        if resume is not None:
            self.open_lesson(resume[0].id, resume[1])
            return
        first = next((e for e in self.catalog.entries if e.lesson is not None), None)
        if first is not None:
            self.open_lesson(first.id)
        else:
            self.bell()

    def open_lesson(self, lesson_id: str, step_id: str | None = None, *, entry: Entry | None = None) -> None:
        """Shows a lesson on top of the lesson list (closing any lesson already open)."""

        if entry is None:
            entry = next((e for e in self.catalog.entries if e.id == lesson_id and e.lesson), None)
        if entry is None or entry.lesson is None:
            self.notify(f"No lesson {lesson_id!r} to open.", severity="error")
            return
        self._show_over_list(LessonScreen(entry, step_id))

    def _show_over_list(self, screen: Screen) -> None:
        """Shows a lesson or drill above the lesson list, replacing any lesson already open."""
        while len(self.screen_stack) > 2 and not isinstance(self.screen, _list_screen()):
            self.pop_screen()
        if len(self.screen_stack) == 2 and not isinstance(self.screen, _list_screen()):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def back_to_list(self, lesson_id: str | None = None) -> None:
        """Leaves a lesson or drill for the list (composing it if it was never shown), with the
        list's cursor on the lesson just left."""
        if len(self.screen_stack) > 2:
            self.pop_screen()  # synchronous: the list is the current screen from here
            listing = self.screen
        else:
            listing = _list_screen()()
            self.switch_screen(listing)
        if lesson_id is not None and isinstance(listing, _list_screen()):
            listing.point_at(lesson_id)

    def start_drill(self, topic: str, seed: int | None = None) -> None:
        """An endless run of fresh variants of a topic; without a seed one is drawn (and shown)."""
        import random


        try:
            lessons = resolve_topic(self.catalog, topic)
        except DrillError as error:
            self.notify(str(error), severity="error")
            if not self.screen_stack[1:]:
                self.push_screen(_list_screen()())
            return
        seed = random.SystemRandom().randrange(1, 1_000_000) if seed is None else seed
        self.show_drill(DrillRun(lessons, seed), topic)

    def show_drill(self, run: DrillRun, topic: str, replace: bool = False) -> None:
        """Draws the run's current variant in a worker (drawing evaluates it), then shows it."""
        if not self.screen_stack[1:]:  # nothing else on screen: the note stays until the variant shows
            self._drawing_note = True
            self.notify("Drawing fresh numbers… (Ctrl+Q quits)", timeout=DRAWING_NOTE_SECONDS)
        self._draw_drill(run, topic, replace)

    def _end_drawing_note(self) -> None:
        if self._drawing_note:
            self._drawing_note = False
            self.clear_notifications()

    @work(thread=True, group="drill", exclusive=True, exit_on_error=False)
    def _draw_drill(self, run: DrillRun, topic: str, replace: bool) -> None:
        """Drawing a variant evaluates it (up to a seed's ceiling of work): the draw runs in a daemon
        thread that quitting stops (and never waits for), under a ceiling its stop event ends."""
        stop = self._draw_stop = threading.Event()

        def draw() -> None:
            with budget.ceiling(budget.Ceiling(None, "the draw was stopped", stop=stop)):
                run.current()

        try:
            run_cancellable(draw, lambda: worker_cancelled() or stop.is_set(), stop.set)
        except LiveCancelled:
            return  # the learner quit, or another draw replaced this one
        except TutorError as error:
            self.call_from_thread(self._drill_failed, str(error))
            return
        except Exception as error:  # noqa: BLE001 - a lesson nobody foresaw is said, never a crash
            self.call_from_thread(self._drill_failed, f"The variant could not be drawn: {unexpected(error)}")
            return

        def show() -> None:
            self._end_drawing_note()
            screen = DrillScreen(run, topic)
            if replace:
                self.switch_screen(screen)
            else:
                self._show_over_list(screen)

        self.call_from_thread(show)

    def _drill_failed(self, why: str) -> None:
        self._end_drawing_note()
        self.notify(why, severity="error", timeout=30)  # the learner waited for it: long enough to read
        if not self.screen_stack[1:]:
            self.push_screen(_list_screen()())

    def reviews_due(self) -> list[str]:
        """The skills due for review now, most overdue first (none if progress cannot be read)."""

        try:
            return [memory.skill for memory in due(self.store)]
        except Exception:  # noqa: BLE001 - reviews are a nicety; the list must always show
            return []

    def start_review(self, skills: list[str] | None = None) -> None:
        """A run of fresh variants of the lessons that exercise the due skills, most overdue first."""
        import random


        skills = self.reviews_due() if skills is None else skills
        lessons = [e.lesson for e in self.catalog.entries if e.lesson is not None]
        run = review_run(lessons, skills, random.SystemRandom().randrange(1, 1_000_000))
        if not run.lessons:
            due_words = ", ".join(title(s) for s in skills[:3])
            self.notify(f"No drill exercises what is due ({due_words})." if skills
                        else "Nothing is due for review.", severity="warning" if skills else "information")
            if not self.screen_stack[1:]:
                self.push_screen(_list_screen()())
            return
        self.show_drill(run, "review")

    def next_entry(self, entry: Entry) -> Entry | None:
        """The lesson after this one in the catalog's order (topic by topic), if any."""
        loaded = [e for e in self.catalog.entries if e.lesson is not None]
        ids = [e.id for e in loaded]
        if entry.id in ids and ids.index(entry.id) + 1 < len(loaded):
            return loaded[ids.index(entry.id) + 1]
        return None


if TYPE_CHECKING:
    def _serves_the_screens(app: TutorApp) -> TutorServices:
        return app  # the screens know the app by tutor.app.services.TutorServices: this app provides it
