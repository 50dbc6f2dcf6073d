"""A lesson: prose and givens, the steps, and the answer box that checks each step against PyTorch."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Input, Static

from tutor.app.commands import (
    BACK,
    CHECK,
    GRAPH,
    HELP_F1,
    HINT,
    NEXT,
    PALETTE,
    PREV,
    QUIT,
    REVEAL,
    SCROLL_DOWN,
    SCROLL_UP,
    TRAIN,
    Command,
    bindings,
)
from tutor.app.screens.base import TutorScreen
from tutor.app.screens.graph import GraphScreen
from tutor.app.screens.lesson_answers import AnswerFlow
from tutor.app.screens.lesson_drafts import DraftHooks
from tutor.app.screens.lesson_graph import GraphStepHooks
from tutor.app.screens.lesson_host import StepSession
from tutor.app.screens.live_handle import LiveHandle
from tutor.app.screens.messages import LiveBuilt, Recorded
from tutor.app.widgets.answer_box import AnswerInput, AnswerPreview
from tutor.app.widgets.feedback import earlier_view, error_view, finish_view
from tutor.app.widgets.graph_answer_box import GraphAnswerBox
from tutor.app.widgets.lesson_text import givens_text, intro_text
from tutor.app.widgets.prose import prose_text
from tutor.app.widgets.step_list import StepList, step_strip
from tutor.core.lesson.catalog import Entry
from tutor.core.lesson.model import Step
from tutor.core.lesson.prose import render_lesson
from tutor.core.progress.store import ProgressStore
from tutor.core.text.latex import plain_text
from tutor.core.text.safe import clean
from tutor.core.training.runs import has_plot
from tutor.core.vocabulary import SETTLED, Status, merge_states

GRADIENT_CALLS = {"grad", "jacobian"}


class LessonScreen(DraftHooks, GraphStepHooks, AnswerFlow, TutorScreen):
    TUTOR_COMMANDS: tuple[Command, ...] = (CHECK, HINT, REVEAL, GRAPH, TRAIN, PREV, NEXT, BACK, SCROLL_UP,
                                           SCROLL_DOWN, HELP_F1, PALETTE, QUIT)
    BINDINGS = bindings(TUTOR_COMMANDS)
    HELP_TITLE = "lesson"
    HELP_NOTE = ("Letters always go into the answer box, so every action here has an F-key, "
                 "Ctrl key or Enter/Esc/PgUp/PgDn.")
    MIN_SIZE = (60, 20)

    def __init__(self, entry: Entry, step_id: str | None = None):
        super().__init__()
        if entry.lesson is None:  # the app opens only lessons that loaded
            raise ValueError(f"{entry.path} did not load: it cannot be shown as a lesson")
        self.entry = entry
        self.lesson = entry.lesson
        self.handle = LiveHandle(self.lesson)
        self.sessions = {s.id: StepSession() for s in self.lesson.steps}
        self.start_step = step_id
        self.index = 0
        self.states: dict[str, str] = {}
        self.finished = False
        self.warned: str | None = None  # the progress-store warning already shown
        self.shown_step: str | None = None  # the step whose answer the boxes hold

    def compose_body(self) -> ComposeResult:
        yield Static(id="title-bar", markup=False)
        yield Static(id="reload-error", markup=False)
        with VerticalScroll(id="body"):
            # the numbers first: every step needs them, the intro is read once
            yield Static(givens_text(self.lesson, {}, self._givens_width()), id="givens", markup=False)
            yield Static(intro_text(self.lesson, self.handle.text), id="intro", markup=False)
            yield StepList(id="steps")
        with Vertical(id="step-panel"):
            yield Static(id="prompt", markup=False)
            yield Static(id="hints", markup=False)
            with Horizontal(id="answer-row"):
                yield Static("answer ›", id="answer-label")
                yield AnswerInput(id="answer", placeholder="your answer")
            yield GraphAnswerBox(id="graph-answer")
            yield AnswerPreview(id="preview")
            with VerticalScroll(id="feedback-box"):
                yield Static(id="feedback", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        for box in self.query(VerticalScroll):
            box.can_focus = False  # keys stay with the answer box; PgUp/PgDn scroll the text
        self.states = self.current_states()
        self.restore_drafts()
        self.index = self._start_index()
        self.go_to(self.index)
        self.call_after_refresh(self._build_live)  # paint first, then import torch in a worker

    def _fit(self) -> None:
        super()._fit()
        # explanations get 40% of the height, in cells: a vh max-height inside an auto-height
        # panel makes Textual size the panel by the full text, pushing it under the footer
        self.query_one("#feedback-box").styles.max_height = max(6, self.app.size.height * 2 // 5)

    def show_reload_error(self, message: str) -> None:
        """`--watch`: the file no longer loads; say why above the lesson, which stays usable."""

        self.query_one("#reload-error", Static).update(f"⚠ {clean(message)}")
        self.add_class("-reload-failed")

    def _givens_width(self) -> int:
        return max(40, self.app.size.width - 4)  # the body's padding and scrollbar

    def current_states(self) -> dict[str, str]:
        """Each step's 'solved' | 'revealed' | 'attempted', from the store (a drill keeps its own)."""
        return self.tutor_app.store.step_states(self.lesson.id)

    def _remember_position(self, step_id: str) -> None:
        # only a lesson the list can reopen; a drill variant or a file outside the catalog cannot
        if self.tutor_app.in_catalog(self.lesson.id):
            lesson_id = self.lesson.id
            self.save_progress(lambda store: store.set_position(lesson_id, step_id))

    # ---- progress, written off the UI thread -----------------------------------------

    @work(thread=True, group="store", exit_on_error=False)
    def save_progress(self, write: Callable[[ProgressStore], object]) -> None:
        """Runs write(store) in a worker: a database locked by another process must never freeze
        the screen. The store's own states (and any warning) come back as a Recorded message."""
        store = self.tutor_app.store
        try:
            write(store)
            problem = None
        except Exception as error:  # noqa: BLE001 - shown as a warning; the lesson goes on
            problem = f"Progress could not be saved: {error or type(error).__name__}"
        try:
            states = self.current_states()
        except Exception:  # noqa: BLE001 - keep the states already on screen
            states = None
        # the store's own save problems reach the learner from its writer (App.on_store_warning)
        self.post_message(Recorded(states, problem))

    def on_recorded(self, message: Recorded) -> None:
        if message.states is not None:
            # the store's states bring the screen up to date, but a step marked on screen a moment
            # ago stays marked while its own write is still on the way (states only move up)
            self.states = merge_states(self.states, message.states)
            self._show_steps()
        warning = message.warning
        if warning and warning != self.warned:  # once per new problem, not after every answer
            self.notify(warning, severity="warning", timeout=30)
        self.warned = warning

    def _start_index(self) -> int:
        ids = [s.id for s in self.lesson.steps]
        if self.start_step in ids:
            return ids.index(self.start_step)
        unsolved = [n for n, s in enumerate(ids) if self.states.get(s) not in SETTLED]
        return unsolved[0] if unsolved else 0

    # ---- live evaluation -------------------------------------------------------------

    @work(thread=True, group="live", exit_on_error=False)
    def _build_live(self) -> None:
        self.handle.build()
        if self.handle.cancelled:
            return  # the learner has left
        given_values = {}
        if self.handle.live is not None:
            try:

                # one budget for all the quotes; leaving the lesson stops them (handle.cancel)
                self.handle.prose = self.handle.call(
                    lambda live: render_lesson(self.lesson, live, lambda: self.handle.cancelled))
            except Exception:  # noqa: BLE001 - quoted values stay '…'; the lesson still works
                pass
            expression_givens = [k for k, v in self.lesson.given.items() if hasattr(v, "text")]
            if expression_givens:
                try:
                    values = self.handle.call(lambda live: live.node_values())
                    given_values = {k: values[k] for k in expression_givens if k in values}
                except Exception:  # noqa: BLE001 - the givens still show as written
                    pass
        self.post_message(LiveBuilt(given_values))

    def on_unmount(self) -> None:
        # going back or opening another lesson: stop whatever is being computed now
        self.stop_evaluations()

    def stop_evaluations(self) -> None:
        """Cancels this lesson's running evaluation; the app calls it when quitting."""
        self.handle.cancel()

    def on_live_built(self, message: LiveBuilt) -> None:
        self.query_one("#givens", Static).update(
            givens_text(self.lesson, message.given_values, self._givens_width()))
        if self.handle.prose:  # quoted values are computed now: show them
            self.query_one("#intro", Static).update(intro_text(self.lesson, self.handle.text))
            self.query_one("#prompt", Static).update(self._prompt_text())
            self._show_hints()
            self._show_steps()
        self.show_status()
        if self.handle.error:
            self._show_feedback(error_view(self.handle.error))

    @property
    def step(self) -> Step:
        return self.lesson.steps[self.index]

    @property
    def session(self) -> StepSession:
        return self.sessions[self.step.id]

    # ---- showing a step --------------------------------------------------------------

    def go_to(self, index: int) -> None:
        if self.shown_step is not None:
            self.keep_draft(self.answer_text(), self.shown_step)  # the step left keeps what its box holds
        self.index = max(0, min(index, len(self.lesson.steps) - 1))
        self.finished = False
        step, session = self.step, self.session
        session.since = time.monotonic()
        self._remember_position(step.id)
        self.query_one("#prompt", Static).update(self._prompt_text())
        self._show_hints()
        answer = self.query_one(AnswerInput)
        answer.start_over = None
        shown = session.draft if session.draft is not None else session.answer
        answer.value = shown if step.kind != "graph" else ""
        answer.cursor_position = len(answer.value)
        answer.focus()
        self.query_one(AnswerPreview).show(answer.value, step.kind)
        self.show_answer_box()
        self._show_feedback(session.feedback or earlier_view(self.states.get(step.id)))
        self._show_steps()
        self.refresh_bindings()
        self.shown_step = step.id

    def _prompt_text(self) -> Text:
        n, total = self.index + 1, len(self.lesson.steps)
        text = Text.assemble((f"Step {n}/{total} · {self.step.id}", "bold"), "  ")
        text.append_text(prose_text(self.handle.text(self.step.prompt)))
        return text

    def _show_steps(self) -> None:
        self.query_one(StepList).show(self.lesson.steps, self.states, self.index, self.handle.text)
        self.show_status()

    def _show_hints(self) -> None:
        hints, shown = self.step.hints, self.session.hints_shown
        widget = self.query_one("#hints", Static)
        widget.display = shown > 0
        widget.update(Text("\n".join(
            f"Hint {k + 1}/{len(hints)}: {plain_text(self.handle.text(h))}" for k, h in enumerate(hints[:shown])
        ), "italic"))

    def _show_feedback(self, text: Text | None) -> None:
        self.query_one("#feedback", Static).update(text or "")
        self.query_one("#feedback-box").scroll_home(animate=False)

    def show_status(self) -> None:
        """Title bar: the lesson, the step, and whether PyTorch is still loading."""
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(no_wrap=True, justify="right")
        if not self.handle.ready:
            state = "loading PyTorch…"
        elif self.handle.error:
            state = "⚠ cannot evaluate"
        else:
            state = ""
        strip = step_strip(self.lesson.steps, self.states, self.index)
        where = Text.assemble(f" {state + ' · ' if state else ''}", strip,
                              f" step {self.index + 1}/{len(self.lesson.steps)}")
        grid.add_row(Text(f"{self.lesson.topic} › {self.lesson.title}", "bold"), where)
        self.query_one("#title-bar", Static).update(grid)

    @on(Input.Submitted, "#answer")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_check()

    @on(Input.Changed, "#answer")
    def _preview(self, event: Input.Changed) -> None:
        if self.step.kind == "graph":
            return  # the hidden one-line box; the graph box has its own line
        value = self.query_one(AnswerInput).value  # now, not when the event was sent
        self.query_one(AnswerPreview).show(value, self.step.kind)
        self.keep_draft(value)

    # ---- moving around ---------------------------------------------------------------

    def action_prev_step(self) -> None:
        if self.index > 0:
            self.go_to(self.index - 1)

    def action_next_step(self) -> None:
        if self.index < len(self.lesson.steps) - 1:
            self.go_to(self.index + 1)
        else:
            self._finish()

    def _finish(self) -> None:
        nxt = self.tutor_app.next_entry(self.entry)
        last = nxt is None and self.tutor_app.in_catalog(self.lesson.id)  # a file of its own has no next
        self._show_feedback(finish_view(self.lesson, self.states, nxt.title if nxt else None, last))
        self.finished = True

    def settle_answer_box(self) -> None:
        """After ✓ or a reveal: the next character typed starts the next step's answer (on a graph
        step, Enter moves on until the graph is edited)."""
        self.query_one(AnswerInput).start_over = self._start_next_answer
        self.settle_graph_box()

    def _start_next_answer(self) -> None:
        if self.index < len(self.lesson.steps) - 1:
            self.go_to(self.index + 1)
        else:
            self.query_one(AnswerInput).value = ""  # the last step: a fresh try, not an appendix

    def _open_next_lesson(self) -> None:
        nxt = self.tutor_app.next_entry(self.entry)
        if nxt is None:
            self.action_back()
        else:
            self.tutor_app.open_lesson(nxt.id)

    def action_back(self) -> None:
        self.tutor_app.back_to_list(self.lesson.id)

    def action_scroll_body(self, direction: int) -> None:
        # a long explanation just shown is what is being read; otherwise the lesson text
        feedback = self.query_one("#feedback-box", VerticalScroll)
        target = feedback if feedback.max_scroll_y > 0 else self.query_one("#body", VerticalScroll)
        if direction < 0:
            target.scroll_page_up(animate=False)
        else:
            target.scroll_page_down(animate=False)

    # ---- other views -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "train":

            return has_plot(self.lesson)
        if action == "prev_step":
            return True if self.index > 0 else None
        return True

    def reached_gradients(self) -> bool:
        """True once the learner is at (or past) the first step that asks for a gradient."""
        for n, step in enumerate(self.lesson.steps):
            if step.ask.calls() & GRADIENT_CALLS:
                furthest = max([self.index] + [k for k, s in enumerate(self.lesson.steps)
                                               if s.id in self.states])
                return furthest >= n
        return False

    def action_graph(self) -> None:
        self.app.push_screen(GraphScreen(self.lesson, self.handle, self))

    def on_screen_resume(self) -> None:
        # back from the graph view (or another view): steps answered there count here at once
        if not self.is_mounted or self.shown_step is None:
            return
        try:
            stored = self.current_states()
        except Exception:  # noqa: BLE001 - keep what is on screen
            return
        merged = merge_states(self.states, stored)
        if merged != self.states:
            self.states = merged
            if self.session.feedback is None:
                self._show_feedback(earlier_view(self.states.get(self.step.id)))
            if self.states.get(self.step.id) in SETTLED and self.session.draft is None:
                self.settle_answer_box()
            self._show_steps()
            self.refresh_bindings()

    def action_train(self) -> None:
        # lazy: textual-plotext, when the loss plot first opens
        from tutor.app.screens.train import TrainScreen

        store, lesson_id = self.tutor_app.store, self.lesson.id
        typed_now = {sid: s.answer for sid, s in self.sessions.items() if s.answer.strip()}

        def own_answers() -> dict[str, str]:
            # the learner's latest answer to each step, from earlier sessions too (read by the
            # plot's worker, never on the UI thread), this visit's typing last
            answers = {a.step_id: a.answer for a in store.attempts()
                       if a.lesson_id == lesson_id and a.verdict != Status.WRONG_SHAPE and a.drill_seed is None}
            return {**answers, **typed_now}

        self.app.push_screen(TrainScreen(self.lesson, self.handle, own_answers))
