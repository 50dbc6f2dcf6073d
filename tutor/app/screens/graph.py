"""The computational graph with forward values, and gradients once the learner has reached them."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from tutor.app.commands import CLOSE_GRAPH, HELP, PALETTE, QUIT, bindings
from tutor.app.screens.base import TutorScreen
from tutor.app.screens.live_handle import LiveHandle
from tutor.app.screens.messages import GraphData
from tutor.app.widgets.graph_view import GraphView
from tutor.core.graph_earned import earned_grads, earned_values
from tutor.core.lesson import Lesson


class GraphScreen(TutorScreen):
    TUTOR_COMMANDS = (CLOSE_GRAPH, HELP, PALETTE, QUIT)
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
        self.answers = answers or {}

    def compose_body(self) -> ComposeResult:
        what = "values and gradients" if self.show_grads else "forward values"
        yield Static(f"Graph · {what} · {self.lesson.title}", id="title-bar", markup=False)
        yield GraphView(self.lesson, id="graph")
        yield Static(id="status-line", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(GraphView).focus()  # arrows and PgUp/PgDn scroll a big graph
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
                values = earned_values(self.lesson, self.states, self.answers, values)
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
        self.query_one(GraphView).update(message.values, message.grads)
        if self.show_grads:
            status.update("")
        else:
            self._explain_no_grads()

    def action_back(self) -> None:
        self.app.pop_screen()
