"""The computational graph: the learner's own drawing (else the lesson's), every node's value and
gradient, filled in box by box and checked live; only what the learner has earned is shown."""

from __future__ import annotations

import dataclasses

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Footer, Static

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
from tutor.app.screens.confirm import ConfirmScreen
from tutor.app.screens.lesson_host import LessonHost
from tutor.app.screens.live_handle import LiveCancelled, LiveHandle
from tutor.app.screens.messages import Checked, GraphData, NodeChecked, Revealed
from tutor.app.widgets.answer_box import fitted
from tutor.app.widgets.graph_view import GraphView
from tutor.app.widgets.node_input import NodeInput
from tutor.core.answer.judge import Verdict
from tutor.core.evaluate.results import Expected
from tutor.core.graph.work import Board, FieldView, Work
from tutor.core.lesson.model import Lesson
from tutor.core.vocabulary import SETTLED, Kind, Status, StepState

TITLES = {"drawn": "Your graph", "revealed": "The lesson's graph (revealed)", "so far": "Your drawing so far",
          "nothing": "Your graph", "lesson": "Graph"}


class GraphScreen(TutorScreen):
    """Opened from a lesson (`owner`): answers to the nodes a step asks for are that step's answers,
    recorded by the lesson screen as if typed there; practice on a settled step is not recorded."""

    TUTOR_COMMANDS = (CLOSE_GRAPH, REVEAL_NODE, PREV_NODE, NEXT_NODE, HELP_F1, PALETTE, QUIT)
    BINDINGS = bindings(TUTOR_COMMANDS)
    HELP_TITLE = "computational graph"
    HELP_NOTE = ("Type into the selected line (marked ▸): a node's value, or its gradient ∂output/∂node. "
                 "Enter checks it; the arrows and PgUp/PgDn scroll the graph.")
    MIN_SIZE = (60, 20)

    def __init__(self, lesson: Lesson, handle: LiveHandle, owner: LessonHost):
        super().__init__()
        self.lesson = lesson
        self.handle = handle
        self.owner = owner                      # the lesson screen it was opened from
        self.states = dict(owner.states)
        self.answers = owner.earlier_answers()
        self.current = owner.step.id
        self.draft = owner.answer_text() if owner.step.kind == Kind.GRAPH else None
        self.board: Board | None = None
        self.selected: str | None = None        # stable key of the selected field
        self.note = ""                          # the last verdict, said on the status line
        self.own_nodes: dict[str, tuple[str, str]] = {}  # checked on nodes no step asks for, in a drill
        self._drawn_cache: dict[str, str] | None = None  # read from the store once, in a worker

    def compose_body(self) -> ComposeResult:
        yield Static(Text(f"Graph · {self.lesson.title}", no_wrap=True, overflow="ellipsis"), id="title-bar")
        # until PyTorch has drawn the learner's graph, a lesson that asks for it to be drawn shows
        # its givens only: never its own graph
        asks_drawing = any(s.kind == Kind.GRAPH for s in self.lesson.steps)
        yield GraphView(dataclasses.replace(self.lesson, graph=()) if asks_drawing else self.lesson, id="graph")
        yield Static(id="status-line", markup=False)
        box = NodeInput(self._keep_typing, id="node-answer", placeholder="type a value; Enter checks it")
        box.typed = self._restored_typing()
        yield box
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#node-answer").display = False
        self.query_one(GraphView).focus()  # arrows and PgUp/PgDn scroll a big graph; typing fills a box
        self.query_one("#status-line", Static).update(
            "loading PyTorch…" if not self.handle.ready else "Computing the graph…")
        self._load()

    # ---- what the learner has done --------------------------------------------------------

    def _drafts(self):
        return self.owner.drafts()

    def _restored_typing(self) -> dict[str, str]:
        """What was typed into the graph's lines and not checked, from earlier visits."""
        drafts = self._drafts()
        if drafts is None:
            return {}
        return {step[6:]: text for step, text in drafts.lesson(self.lesson.id).items() if step.startswith("graph:")}

    def _keep_typing(self, stable: str, text: str) -> None:
        drafts = self._drafts()
        if drafts is not None:
            drafts.put(self.lesson.id, f"graph:{stable}", text)

    def _work(self) -> Work:
        drafts = self._drafts()
        nodes = drafts.nodes(self.lesson.id) if drafts is not None else {}
        if self._drawn_cache is None:
            self._drawn_cache = self._drawn()
        return Work(dict(self.states), dict(self.answers), self._drawn_cache, {**nodes, **self.own_nodes},
                    self.current, self.draft)

    def _drawn(self) -> dict[str, str]:
        """Each graph step's latest graph that was checked right."""
        graph_steps = {s.id for s in self.lesson.steps if s.kind == Kind.GRAPH}
        if not graph_steps:
            return {}
        drawn = {a.step_id: a.answer for a in self.tutor_app.store.attempts()
                 if a.lesson_id == self.lesson.id and a.step_id in graph_steps and a.verdict == Status.CORRECT
                 and a.drill_seed is None}
        for step_id in graph_steps:  # this visit's, in a drill too
            session = self.owner.sessions.get(step_id)
            if session is not None and session.done and session.checked.strip():
                drawn[step_id] = session.checked
        return drawn

    # ---- loading -------------------------------------------------------------------------

    @work(thread=True, group="graph", exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        try:
            state = self._work()

            def job(live):
                from tutor.core.graph.board import build_board  # lazy: torch, in this worker thread

                return build_board(live, state)

            board = self.handle.call(job)
        except LiveCancelled:
            return
        except Exception as error:  # noqa: BLE001 - shown under the graph
            self.post_message(GraphData(None, str(error) or type(error).__name__))
        else:
            self.post_message(GraphData(board))

    def on_graph_data(self, message: GraphData) -> None:
        status = self.query_one("#status-line", Static)
        if message.error:
            status.update(f"⚠ The graph could not be evaluated: {message.error}")
            return
        board = self.board = message.board
        view = self.query_one(GraphView)
        if view.model_source is not board.lesson:
            view.set_lesson(board.lesson)
        self.query_one("#title-bar", Static).update(
            Text(f"{TITLES.get(board.source, 'Graph')} · {self.lesson.title}", no_wrap=True, overflow="ellipsis"))
        if board.fields and self.selected not in {f.stable for f in board.fields}:
            self.selected = self._first_field(board)
        self._show()
        self.refresh_bindings()  # the keys for boxes show only when there are boxes to fill

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("move_node", "reveal_node"):
            return bool(self.board is not None and self.board.fields)
        return True

    def _first_field(self, board: Board) -> str:
        """The current step's field, else the first one still to fill in, else the first."""
        fields = board.fields
        here = next((f for f in fields if f.step_id == self.current), None)
        todo = next((f for f in fields if not f.earned), None)
        return (here or todo or fields[0]).stable

    @property
    def field(self) -> FieldView | None:
        if self.board is None:
            return None
        return next((f for f in self.board.fields if f.stable == self.selected), None)

    def _show(self) -> None:
        board, field = self.board, self.field
        if board is None:
            return  # not computed yet: the status line says so
        view = self.query_one(GraphView)
        view.show_rows(board.rows, (field.node, field.row) if field else None,
                       tuple(board.symbols.get(o, o) for o in board.outputs))
        box = self.query_one(NodeInput)
        box.display = field is not None
        lines = [self.note] if self.note else []
        if field is None:
            lines.append(board.note or "Nothing here to fill in.")
        else:
            if board.note and not self.note:
                lines.append(board.note)
            lines.append(self._field_line(field))
            box.placeholder = fitted(self.app.size.width - 1, f"type {field.label} here; Enter checks it · F6/F7 or Tab: "
                                     "another box", f"type {field.label} here; Enter checks it",
                                     f"{field.label}; Enter checks it")
            if box.key != field.stable:
                box.select(field.stable)
            view.scroll_to_mark()
        self.query_one("#status-line", Static).update("\n".join(lines[-3:]))

    def _field_line(self, field: FieldView) -> str:
        where = ""
        if field.step_id is not None:
            number = [s.id for s in self.lesson.steps].index(field.step_id) + 1
            where = f" (step {number}, {field.step_id})"
        done = " · done, typing it again is practice" if field.earned else " · F3 reveal"
        return fitted(self.app.size.width - 2, f"▸ {field.label}{where}{done} · F6/F7 other box · Esc back",
                      f"▸ {field.label}{where}{done}", f"▸ {field.label}{where}")

    # ---- moving and typing ----------------------------------------------------------------

    def on_key(self, event) -> None:
        # the graph keeps the focus for scrolling; what is typed goes into the selected box's field.
        # Other boxes are chosen here too, not by the bindings: keys read at once ("F6 F6 2 Enter")
        # reach bindings only after the characters behind them, which would land in the wrong box
        box = self.query_one(NodeInput)
        moves = {"f6": -1, "f7": 1, "tab": 1}
        if event.key in moves and not box.has_focus:
            self.action_move_node(moves[event.key])
            event.stop()
            event.prevent_default()
            return
        if self.field is not None and not box.has_focus and event.character and event.character.isprintable():
            box.focus()
            box.insert_text_at_cursor(event.character)
            event.stop()
            event.prevent_default()

    def action_move_node(self, by: int) -> None:
        if self.board is None or not self.board.fields:
            return
        keys = [f.stable for f in self.board.fields]
        here = keys.index(self.selected) if self.selected in keys else 0
        self.selected = keys[(here + by) % len(keys)]
        self.note = ""
        self._show()

    def _clear_typing(self, stable: str) -> None:
        self.query_one(NodeInput).forget(stable)
        drafts = self._drafts()
        if drafts is not None:
            drafts.drop(self.lesson.id, f"graph:{stable}")

    # ---- checking ------------------------------------------------------------------------

    def on_node_input_answered(self, event: NodeInput.Answered) -> None:
        event.stop()
        field = next((f for f in self.board.fields if f.stable == event.key), None) if self.board else None
        if field is not None:
            self._check_node(field, event.text, self._work())

    @work(thread=True, group="graph-check", exit_on_error=False)
    def _check_node(self, field: FieldView, text: str, state: Work) -> None:
        def job(live):
            from tutor.core.check.node import check_node  # lazy: torch, in this worker thread

            return check_node(live, state, field.key, text)

        try:
            verdict = self.handle.call(job)
        except LiveCancelled:
            return
        except Exception as error:  # noqa: BLE001 - said under the graph, never a crash
            self.post_message(GraphData(None, str(error) or type(error).__name__))
        else:
            if field.step_id is not None and verdict.counts_as_attempt and self.states.get(field.step_id) not in SETTLED:
                # that step's answer: journaled by the lesson's own recorder before the verdict shows
                self.owner.record_attempt_now(field.step_id, text, verdict, None)
            self.post_message(NodeChecked(field, text, verdict))

    def on_node_checked(self, message: NodeChecked) -> None:
        field, verdict, text = message.field, message.verdict, message.text
        mark = {"correct": "✓", "imprecise": "≈"}.get(verdict.status, "?" if not verdict.counts_as_attempt else "✗")
        self.note = f"{mark} {field.label}: {verdict.message}"
        if verdict.mistake:
            self.note += f" Known mistake: {verdict.mistake}."
        if verdict.counts_as_attempt:
            self._clear_typing(field.stable)
            self._record(field, text, verdict)
        self._show()
        self._load()

    def _record(self, field: FieldView, text: str, verdict: Verdict) -> None:
        """A step's field is that step's answer (recorded as the lesson records one, unless the step is
        settled: then it is practice); any other field is kept with the drafts."""
        if field.step_id is not None:
            if self.states.get(field.step_id) in SETTLED:
                self.note += " (Practice: the step is done already; not recorded.)"
                return
            self.owner.post_message(Checked(field.step_id, text, verdict, None))
            self.answers[field.step_id] = text
            if verdict.status == Status.CORRECT:
                self.states[field.step_id] = StepState.SOLVED
            elif field.step_id not in self.states:
                self.states[field.step_id] = StepState.ATTEMPTED
            return
        status = verdict.status if verdict.status in (Status.CORRECT, Status.IMPRECISE) else Status.WRONG
        drafts = self._drafts()
        if drafts is not None:
            drafts.put_node(self.lesson.id, field.stable, text, str(status))
        else:
            self.own_nodes[field.stable] = (text, str(status))

    # ---- revealing -----------------------------------------------------------------------

    def action_reveal_node(self) -> None:
        field = self.field
        if field is None or field.earned:
            return
        question = f"Reveal {field.label}?\nIt will be recorded as revealed, not solved."
        self.app.push_screen(ConfirmScreen(question, yes="Reveal", no="Keep trying"),
                             lambda ok: self._reveal(field) if ok else None)

    def _reveal(self, field: FieldView) -> None:
        if field.step_id is None:
            drafts = self._drafts()
            typed = self.query_one(NodeInput).typed.get(field.stable, "")
            if drafts is not None:
                drafts.put_node(self.lesson.id, field.stable, typed, StepState.REVEALED)
            else:
                self.own_nodes[field.stable] = (typed, StepState.REVEALED)
            self.note = f"◐ {field.label} revealed (recorded)."
            self._load()
            return
        self._reveal_step(field, field.step_id)

    @work(thread=True, group="graph-check", exit_on_error=False)
    def _reveal_step(self, field: FieldView, step_id: str) -> None:
        try:
            expected = self.handle.call(lambda live: live.expected(step_id))
        except LiveCancelled:
            return
        except Exception as error:  # noqa: BLE001 - said under the graph
            self.post_message(GraphData(None, str(error) or type(error).__name__))
            return
        self.app.call_from_thread(self._revealed, field, step_id, expected)

    def _revealed(self, field: FieldView, step_id: str, expected: Expected) -> None:
        self.owner.post_message(Revealed(step_id, expected, True))
        if self.states.get(step_id) != StepState.SOLVED:
            self.states[step_id] = StepState.REVEALED
        self.note = f"◐ {field.label} revealed (recorded as revealed for step {step_id})."
        self._load()

    def action_scroll_graph(self, how: str) -> None:
        """PgUp/PgDn and the arrows scroll the graph while the answer box has the keys."""
        view = self.query_one(GraphView)
        getattr(view, f"scroll_{how}")(animate=False)

    def action_back(self) -> None:
        self.app.pop_screen()
