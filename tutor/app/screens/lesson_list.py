"""The first screen: every topic and lesson with this learner's progress, and 'continue'."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Footer, OptionList, Static

from tutor.app.commands import CONTINUE, DRILL, HELP, OPEN, PALETTE, QUIT, REVIEW, bindings
from tutor.app.screens.base import TutorScreen
from tutor.app.widgets.lesson_list import CONTINUE_ID, LessonList, broken_reason
from tutor.core.training.runs import has_plot

TITLE = "tutor · the math under deep learning, by hand"


class LessonListScreen(TutorScreen):
    TUTOR_COMMANDS = (OPEN, CONTINUE, DRILL, REVIEW, HELP, PALETTE, QUIT)
    BINDINGS = bindings(TUTOR_COMMANDS)
    HELP_TITLE = "lesson list"
    MIN_SIZE = (50, 12)

    _point_at: str | None = None  # a lesson id the cursor goes to on the next refresh

    def point_at(self, lesson_id: str) -> None:
        """Puts the cursor on this lesson (the one just left) once the list is shown again."""
        self._point_at = lesson_id
        if self.is_mounted:
            self.refresh_lessons()

    def compose_body(self) -> ComposeResult:
        yield Static(TITLE, id="title-bar", markup=False)
        yield Static(id="warning", markup=False)
        yield LessonList(id="lessons")
        yield Static(id="detail", markup=False)
        yield Static(id="status-line", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.refresh_lessons()
        self.query_one(LessonList).focus()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        # coming back from a lesson: statuses and the 'continue' row have changed
        self.refresh_lessons()

    def refresh_lessons(self) -> None:
        app = self.tutor_app
        lessons = self.query_one(LessonList)
        # by id, not by row: the 'continue' and 'practice' rows come and go above the lessons
        keep = (f"lesson:{self._point_at}" if self._point_at is not None
                else lessons.highlighted_id())
        self._point_at = None
        lessons.show(app.catalog, app.store, app.resume_point())
        lessons.highlight_id(keep)
        self.show_warning()
        self.show_status()
        self.show_reviews()

    @work(thread=True, group="reviews", exclusive=True, exit_on_error=False)
    def show_reviews(self) -> None:
        # replaying every answer through FSRS (and importing it) must not delay the first paint
        due = len(self.tutor_app.reviews_due())
        words = f" · {due} review{'s' if due != 1 else ''} due (F4)" if due else ""
        self.app.call_from_thread(self._show_title, TITLE + words)

    def _show_title(self, text: str) -> None:
        self.query_one("#title-bar", Static).update(text)

    def action_review(self) -> None:
        self.tutor_app.start_review()

    def show_warning(self) -> None:
        warning = self.tutor_app.store.warning
        banner = self.query_one("#warning", Static)
        banner.display = bool(warning)
        banner.update(f"⚠ {warning}" if warning else "")

    def show_status(self) -> None:
        self.query_one("#status-line", Static).update(self.tutor_app.status_text())

    @on(OptionList.OptionHighlighted)
    def show_detail(self, event: OptionList.OptionHighlighted) -> None:
        self.query_one("#detail", Static).update(self._detail(event.option_id))

    def _detail(self, option_id: str | None) -> str:
        catalog = self.tutor_app.catalog
        if option_id == CONTINUE_ID:
            return "Enter opens it; pick any lesson below with ↑/↓; F3 drills its topic."
        kind, _, ref = (option_id or "").partition(":")
        if kind == "practice":
            return "Fresh numbers, endlessly, in the topic you get wrong most; Esc ends the run."
        if kind == "lesson":
            entry = catalog.find(ref)
            lesson = entry.lesson
            if lesson is None:
                return ""  # a lesson row is listed only for a lesson that loaded
            credit = f" · {lesson.source}" if lesson.source else ""
            train = " · has a training plot" if has_plot(lesson) else ""
            return f"{entry.id} · {len(lesson.steps)} steps{train}{credit}"
        if kind == "broken":
            entry = catalog.entries[int(ref)]
            return f"{entry.path} cannot be opened: {broken_reason(entry)}"
        return ""

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.open_option(event.option.id)

    def action_open_selected(self) -> None:
        lessons = self.query_one(LessonList)
        if lessons.highlighted is not None:
            self.open_option(lessons.get_option_at_index(lessons.highlighted).id)

    def open_option(self, option_id: str | None) -> None:
        kind, _, ref = (option_id or "").partition(":")
        option_id = option_id or ""
        if option_id == CONTINUE_ID:
            self.action_continue()
        elif kind == "practice":
            self.tutor_app.start_drill(ref)
        elif kind == "lesson":
            self.tutor_app.open_lesson(ref)
        elif kind == "broken":
            self.app.bell()
            self.notify("This lesson file has errors (shown under the list); fix it and restart.",
                        severity="warning")

    def action_continue(self) -> None:
        self.tutor_app.continue_learning()

    def action_drill(self) -> None:
        """Drills the topic of the highlighted row (a lesson, a topic header, or practice)."""
        lessons = self.query_one(LessonList)
        option = lessons.get_option_at_index(lessons.highlighted) if lessons.highlighted is not None else None
        kind, _, ref = ((option.id if option else None) or "").partition(":")
        catalog = self.tutor_app.catalog
        if kind == "lesson":
            topic = catalog.find(ref).topic
        elif kind in ("practice", "topic"):
            topic = ref
        else:
            resume = self.tutor_app.resume_point()
            topic = resume[0].topic if resume else (catalog.topics() or [""])[0]
        self.tutor_app.start_drill(topic)
