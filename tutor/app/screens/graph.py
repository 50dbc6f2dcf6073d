"""The computational graph with forward values, and gradients once the learner has reached them."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Footer, Input, Static

from tutor.app.commands import (
    CLOSE_GRAPH,
    HELP_F1,
    NEXT_NODE,
    PALETTE,
    PREV_NODE,
    QUIT,
    REVEAL_NODE,
    bindings,
)
from tutor.app.screens.base import TutorScreen
from tutor.app.screens.live_handle import LiveHandle, checker
from tutor.app.screens.messages import Checked, GraphData
from tutor.app.widgets.answer_box import AnswerInput
from tutor.app.widgets.graph_view import GraphView
from tutor.core.check.carried import node_steps
from tutor.core.graph.earned import earned_grads, earned_values, learners_graph
from tutor.core.lesson.model import Lesson
from tutor.core.vocabulary import SETTLED, Status


class GraphScreen(TutorScreen):
    TUTOR_COMMANDS = (CLOSE_GRAPH, REVEAL_NODE, PREV_NODE, NEXT_NODE, HELP_F1, PALETTE, QUIT)
    BINDINGS = bindings(TUTOR_COMMANDS)
    HELP_TITLE = "computational graph"
    MIN_SIZE = (60, 20)

    def __init__(self, lesson: Lesson, handle: LiveHandle, show_grads: bool,
                 states: dict[str, str] | None = None, answers: dict[str, str] | None = None):
        super().__init__()
        self.lesson = lesson
        self.handle = handle
        self.show_grads = show_grads
        # what the learner has earned: None shows everything (a view outside a lesson's steps)
        self.states = states
        self.answers = dict(answers or {})
        # the nodes a step asks for can be filled in here: (step id, node name), in lesson order
        self.fillable = list(node_steps(lesson).items()) if states is not None else []
        self.selected = 0
        self.marks: dict[str, str] = {}   # step id -> "carried" | "slip", for wrong answers

    def compose_body(self) -> ComposeResult:
        what = "values and gradients" if self.show_grads else "forward values"
        yield Static(f"Graph · {what} · {self.lesson.title}", id="title-bar", markup=False)
        yield GraphView(self.lesson, id="graph")
        yield Static(id="status-line", markup=False)
        yield AnswerInput(id="node-answer", placeholder="a value for the selected node; Enter checks it")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#node-answer").display = bool(self.fillable)
        self.query_one(GraphView).focus()  # arrows and PgUp/PgDn scroll a big graph; typing fills a node
        if not self.handle.ready:
            self.query_one("#status-line", Static).update("loading PyTorch…")
        elif not self.show_grads:
            self._explain_no_grads()
        self._load()

    def _explain_no_grads(self) -> None:
        self.query_one("#status-line", Static).update(
            "Gradients appear here once you reach the first gradient step.")

    @work(thread=True, group="graph", exit_on_error=False)
    def _load(self) -> None:
        try:
            values = self.handle.call(lambda live: live.node_values())
            grads = self.handle.call(lambda live: live.node_grads()) if self.show_grads else None
            if self.states is not None:
                loss = self.handle.call(lambda live: live.loss_name())
                self.marks = self.handle.call(self._marks)
                values = earned_values(self.lesson, self.states, self.answers, values, self.marks)
                own = self.handle.call(lambda live: learners_graph(live, self.states, self.answers, values))
                if own is not None:  # drawn as the learner wrote it
                    self._own_graph, values = own
                    grads = None
                grads = earned_grads(self.lesson, self.states, grads, loss)
        except Exception as error:  # noqa: BLE001 - shown under the graph
            self.post_message(GraphData({}, None, str(error) or type(error).__name__))
        else:
            self.post_message(GraphData(values, grads))

    def on_graph_data(self, message: GraphData) -> None:
        status = self.query_one("#status-line", Static)
        if message.error:
            status.update(f"⚠ The graph could not be evaluated: {message.error}")
            return
        view = self.query_one(GraphView)
        own = getattr(self, "_own_graph", None)
        if own is not None and view.model_source is not own:
            view.set_lesson(own)
            self.query_one("#title-bar", Static).update(f"Your graph · {self.lesson.title}")
        view.update(message.values, message.grads)
        if self.fillable:
            self._show_selected(getattr(self, "_pending_note", ""))
        elif self.show_grads:
            status.update("")
        else:
            self._explain_no_grads()

    # ---- filling the graph in -----------------------------------------------------------

    def _marks(self, live) -> dict[str, str]:
        """Each wrong node answer: carried forward from an earlier slip, or a slip of its own."""
        marks = {}
        for step_id, _name in self.fillable:
            typed = self.answers.get(step_id, "")
            if typed.strip() and self.states.get(step_id) not in SETTLED:
                verdict = checker(live).check(step_id, typed, earlier=self.answers)
                if verdict.status == Status.WRONG:
                    marks[step_id] = "carried" if verdict.carried_from else "slip"
        return marks

    def _show_selected(self, note: str = "") -> None:
        step_id, name = self.fillable[self.selected]
        number = [s.id for s in self.lesson.steps].index(step_id) + 1
        lines = [note] if note else []
        lines.append(f"Type a value for node {name} (step {number}, {step_id}) · F6/F7 other node · F3 reveal")
        if not self.show_grads:
            lines.append("Gradients appear here once you reach the first gradient step.")
        self.query_one("#status-line", Static).update("\n".join(lines))
        self.query_one(GraphView).scroll_to_node(name)

    def on_key(self, event) -> None:
        # the graph keeps the focus for scrolling; what is typed goes into the selected node's box
        box = self.query_one("#node-answer", Input)
        if self.fillable and not box.has_focus and event.character and event.character.isprintable():
            box.focus()
            box.insert_text_at_cursor(event.character)
            event.stop()
            event.prevent_default()

    def action_move_node(self, by: int) -> None:
        if self.fillable:
            self.selected = (self.selected + by) % len(self.fillable)
            self.query_one("#node-answer", Input).value = ""
            self._show_selected()

    def action_reveal_node(self) -> None:
        if not self.fillable:
            return
        step_id, _ = self.fillable[self.selected]
        if self.states.get(step_id) not in SETTLED:
            self.app.store.record_reveal(self.lesson.id, step_id, wait=0)  # a reveal, as F3 in the lesson
            self.states = self.app.store.step_states(self.lesson.id)
        self._load()

    @on(Input.Submitted, "#node-answer")
    def _node_answered(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.fillable or not event.value.strip():
            return
        step_id, _ = self.fillable[self.selected]
        self._check_node(step_id, event.value, dict(self.answers))

    @work(thread=True, group="graph-check", exit_on_error=False)
    def _check_node(self, step_id: str, text: str, earlier: dict[str, str]) -> None:

        try:
            verdict = self.handle.call(lambda live: checker(live).check(step_id, text, earlier=earlier))
        except Exception as error:  # noqa: BLE001 - said under the graph, never a crash
            self.post_message(GraphData({}, None, str(error) or type(error).__name__))
        else:
            if verdict.counts_as_attempt:  # journaled before the verdict can be seen
                step = self.lesson.step(step_id)
                try:
                    self.app.store.record_attempt(
                        self.lesson.id, step.id, text, verdict.status, verdict.message,
                        topic=self.lesson.topic, step_kind=step.kind,
                        mistake=None if verdict.carried_from else verdict.mistake, wait=0)
                except Exception:  # noqa: BLE001 - the store's warning says why; the graph goes on
                    pass
            self.post_message(Checked(step_id, text, verdict, None))

    def on_checked(self, message) -> None:
        verdict, step = message.verdict, self.lesson.step(message.step_id)
        if verdict.counts_as_attempt:
            self.answers[step.id] = message.text
            self.states = self.app.store.step_states(self.lesson.id)
        self.query_one("#node-answer", Input).value = ""
        mark = "✓" if verdict.status == Status.CORRECT else "✗"
        self._pending_note = f"{mark} {verdict.message}"
        self._load()

    def action_back(self) -> None:
        self.app.pop_screen()
