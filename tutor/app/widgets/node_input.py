"""The graph view's answer box: it fills the selected line of a node's box, keeping in typing order
moving to another line (F6/F7/Tab) and checking (Enter), and what was typed into each line."""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.message import Message

from tutor.app.commands import NEXT_NODE, PREV_NODE
from tutor.app.widgets.answer_box import AnswerInput


class NodeInput(AnswerInput):
    # bound here as well as on the screen: a key the box itself binds runs as it arrives, so
    # "F7 0 Enter" read at once fills the next line, not this one
    BINDINGS = [
        Binding(NEXT_NODE.keys, "screen." + NEXT_NODE.action, NEXT_NODE.title, tooltip=NEXT_NODE.help),
        Binding(PREV_NODE.keys, "screen." + PREV_NODE.action, PREV_NODE.title, tooltip=PREV_NODE.help),
        # typing here leaves the graph's scroll keys working: the box needs no up/down of its own
        Binding("pageup", "screen.scroll_graph('page_up')", show=False),
        Binding("pagedown", "screen.scroll_graph('page_down')", show=False),
        Binding("up", "screen.scroll_graph('up')", show=False),
        Binding("down", "screen.scroll_graph('down')", show=False),
    ]

    class Answered(Message):
        """Enter on a line: `key` is the line it was typed into, whatever is selected by the time
        the message is handled."""

        def __init__(self, key: str, text: str) -> None:
            super().__init__()
            self.key = key
            self.text = text

    def __init__(self, on_typed: Callable[[str, str], None] | None = None, **kwargs):
        # focus comes with the first key typed on the graph: selecting the text then would let the
        # next key replace that first one
        super().__init__(select_on_focus=False, **kwargs)
        self.key: str | None = None
        self.typed: dict[str, str] = {}      # line key -> what is typed in it and not checked yet
        self.on_typed = on_typed

    def select(self, key: str | None) -> None:
        """Shows (and from now on fills) line `key`, with what was typed into it before."""
        self.key = None
        self.value = self.typed.get(key, "") if key is not None else ""
        self.cursor_position = len(self.value)
        self.key = key

    def forget(self, key: str) -> None:
        """The line was checked: what was typed is an answer now, not a draft."""
        self.typed.pop(key, None)
        if key == self.key:
            self.key = None
            self.value = ""
            self.key = key

    def watch_value(self, value: str) -> None:
        if self.key is None or self.typed.get(self.key, "") == value:
            return
        self.typed[self.key] = value
        if self.on_typed is not None:
            self.on_typed(self.key, value)

    async def action_submit(self) -> None:
        if self.key is not None and self.value.strip():
            self.post_message(self.Answered(self.key, self.value))
