"""A scrollable drawing of a lesson's computational graph, with forward values and gradients when known."""

from __future__ import annotations

import re
import threading

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.widgets import Static

from tutor.app.screens.live_handle import LiveCancelled, run_cancellable, worker_cancelled
from tutor.core.evaluate.results import NodeValue
from tutor.core.graph.model import GraphModel, build_graph
from tutor.core.graph.render import DrawingCancelled, GraphTooBig, check_drawable, render_graph
from tutor.core.lesson.model import Lesson

LOADING = "Values are loading (PyTorch)… givens show as the lesson writes them."
DRAWING = "Drawing the graph…"
TOO_BIG_HINT = "The lesson file's graph lists its operations, one per line."


class GraphView(ScrollableContainer, can_focus=True):
    """The graph drawn for the view's width; arrow keys, PgUp/PgDn and Home/End scroll it."""

    DEFAULT_CSS = """
    GraphView {
        height: 1fr;
        overflow: auto auto;
        scrollbar-gutter: stable;
    }
    GraphView > #graph-note {
        color: $text-muted;
        width: 100%;  /* a note wraps at the view's width; the drawing below may scroll sideways */
    }
    GraphView > #graph-lines {
        width: auto;
    }
    """

    def __init__(self, lesson: Lesson | GraphModel, *, ascii: bool = False,
                 name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self.model_source = lesson
        self.model = lesson if isinstance(lesson, GraphModel) else build_graph(lesson)
        self.ascii = ascii
        self.values: dict[str, NodeValue] | None = None
        self.grads: dict[str, NodeValue] | None = None
        # a graph being filled in: each node's (label, value) lines, the line selected, the outputs
        self.rows: dict[str, list[tuple[str, NodeValue]]] | None = None
        self.selected: tuple[str, int] | None = None
        self.outputs: tuple[str, ...] = ()
        self.lines: list[str] = []     # the drawing as last shown, one string per terminal line
        self._drawn_width = 0
        self._asked = self._shown = 0  # drawings asked for and shown (only the newest is shown)
        self._scroll_target: str | None = None
        self._scroll_to_mark = False

    def compose(self) -> ComposeResult:
        yield Static(LOADING, id="graph-note", markup=False)
        yield Static(id="graph-lines", markup=False)

    def on_mount(self) -> None:
        self._redraw()

    def on_resize(self) -> None:
        if self._width() != self._drawn_width:
            self._redraw()

    def update(self, values: dict[str, NodeValue] | None, grads: dict[str, NodeValue] | None = None) -> None:
        """Shows forward values (and gradients, when given); None values means still loading."""
        self.values, self.grads, self.rows = values, grads, None
        self._redraw()

    def show_rows(self, rows: dict[str, list[tuple[str, NodeValue]]], selected: tuple[str, int] | None,
                  outputs: tuple[str, ...] = ()) -> None:
        """Shows each node's value and gradient lines, the selected one marked ▸."""
        self.rows, self.selected, self.outputs = rows, selected, outputs
        self.values = {node: lines[0][1] for node, lines in rows.items() if lines}
        self.grads = None
        self._redraw()

    def scroll_to_mark(self) -> None:
        """Scrolls so the marked (selected) line is in view, with its box's title when there is room;
        a drawing still being made scrolls there once it is shown."""
        self._scroll_to_mark = True
        for row, line in enumerate(self.lines):
            if "▸" in line or (self.ascii and "|>" in line):
                top = self.scroll_y
                height = self.scrollable_content_region.height or 10
                if not top <= row < top + height - 1:
                    self.call_after_refresh(self.scroll_to, y=max(0, row - 3), animate=False)
                return

    def set_lesson(self, lesson: Lesson) -> None:
        """Draws another graph of the same givens (the learner's own), from the next update on."""
        self.model_source = lesson
        self.model = build_graph(lesson)

    def scroll_to_node(self, name: str) -> None:
        """Scrolls so the box of node `name` is in view (its title line is `│ name` or `│ name · ...`);
        a drawing still being made scrolls there once it is shown."""
        self._scroll_target, self._scroll_to_mark = name, False
        title = re.compile(rf"[│|] {re.escape(name)}( · | +[│|])")
        for row, line in enumerate(self.lines):
            if title.search(line):
                # after the refresh: a drawing just replaced has no scroll size yet
                self.call_after_refresh(self.scroll_to, y=max(0, row - 1), animate=False)
                return

    @property
    def awaiting_values(self) -> bool:  # not `loading`: that is Textual's, and blocks focus
        return self.values is None

    @property
    def drawing(self) -> bool:
        """True while a drawing is being laid out (in a worker)."""
        return self._asked != self._shown

    def _width(self) -> int:
        # the drawing never gets narrower than a readable box row, even in a cramped pane
        return max(40, self.scrollable_content_region.width or 80)

    def _redraw(self) -> None:
        """Lays the graph out in a thread worker: a big graph takes a while, and the screen (Esc,
        Ctrl+Q) must answer meanwhile. A newer drawing replaces one still being made."""
        if not self.is_mounted:
            return
        self._drawn_width = self._width()
        self._asked += 1
        try:
            check_drawable(self.model)
        except GraphTooBig as too_big:
            self._show(self._asked, [], f"{str(too_big)[0].upper()}{str(too_big)[1:]}. {TOO_BIG_HINT}")
            return
        if not self.lines:
            self.query_one("#graph-note", Static).update(LOADING if self.awaiting_values else DRAWING)
            self.query_one("#graph-note", Static).display = True
        fill = (self.rows, self.selected, self.outputs) if self.rows is not None else None
        self._draw(self._asked, self.model, self.values, self.grads, fill, self._drawn_width)

    @work(thread=True, group="graph-drawing", exit_on_error=False)  # an outdated one returns by itself
    def _draw(self, asked: int, model: GraphModel, values, grads, fill, width: int) -> None:
        stop = threading.Event()
        try:
            lines = run_cancellable(
                lambda: self._lay_out(model, values, grads, fill, width, stop.is_set),
                lambda: worker_cancelled() or asked != self._asked, stop.set)
        except (LiveCancelled, DrawingCancelled):
            return
        except GraphTooBig as too_big:
            self.app.call_from_thread(self._show, asked, [], f"{str(too_big)[0].upper()}{str(too_big)[1:]}. "
                                                             f"{TOO_BIG_HINT}")
            return
        except Exception as error:  # noqa: BLE001 - said in the view, never a crash
            self.app.call_from_thread(self._show, asked, [], f"The graph could not be drawn: {error}")
            return
        self.app.call_from_thread(self._show, asked, lines, None)

    def _lay_out(self, model: GraphModel, values, grads, fill, width: int, cancelled) -> list[str]:
        if fill is None:
            return render_graph(model, values, grads, width, ascii=self.ascii, cancelled=cancelled)
        rows, selected, outputs = fill
        return render_graph(model, None, None, width, ascii=self.ascii, cancelled=cancelled,
                            fill=rows, selected=selected, outputs=outputs)

    def _show(self, asked: int, lines: list[str], problem: str | None) -> None:
        if asked != self._asked or not self.is_mounted:
            return  # a newer drawing is on its way
        self._shown = asked
        self.lines = lines
        note = self.query_one("#graph-note", Static)
        if problem is not None:
            note.update(problem)
        elif self.awaiting_values:
            note.update(LOADING)
        note.display = problem is not None or self.awaiting_values
        self.query_one("#graph-lines", Static).update(Text("\n".join(self.lines), no_wrap=True))
        if self._scroll_to_mark:
            self.scroll_to_mark()
        elif self._scroll_target is not None:
            self.scroll_to_node(self._scroll_target)
