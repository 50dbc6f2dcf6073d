"""A scrollable drawing of a lesson's computational graph, with forward values and gradients when known."""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.widgets import Static

from tutor.core.evaluate.results import NodeValue
from tutor.core.graph.model import GraphModel, build_graph
from tutor.core.graph.render import render_graph
from tutor.core.lesson.model import Lesson

LOADING = "Values are loading (PyTorch)… givens show as the lesson writes them."


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
        width: auto;
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
        """Scrolls so the marked (selected) line is in view, with its box's title when there is room."""
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
        """Scrolls so the box of node `name` is in view (its title line is `│ name` or `│ name · ...`)."""
        title = re.compile(rf"[│|] {re.escape(name)}( · | +[│|])")
        for row, line in enumerate(self.lines):
            if title.search(line):
                # after the refresh: a drawing just replaced has no scroll size yet
                self.call_after_refresh(self.scroll_to, y=max(0, row - 1), animate=False)
                return

    @property
    def awaiting_values(self) -> bool:  # not `loading`: that is Textual's, and blocks focus
        return self.values is None

    def _width(self) -> int:
        # the drawing never gets narrower than a readable box row, even in a cramped pane
        return max(40, self.scrollable_content_region.width or 80)

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        self._drawn_width = self._width()
        if self.rows is not None:
            self.lines = render_graph(self.model, None, None, self._drawn_width, ascii=self.ascii,
                                      fill=self.rows, selected=self.selected, outputs=self.outputs)
        else:
            self.lines = render_graph(self.model, self.values, self.grads, self._drawn_width, ascii=self.ascii)
        note = self.query_one("#graph-note", Static)
        note.display = self.awaiting_values
        self.query_one("#graph-lines", Static).update(Text("\n".join(self.lines), no_wrap=True))
