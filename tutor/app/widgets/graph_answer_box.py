"""The answer box of a graph step: several lines, one operation each; F9 or Ctrl+J checks the graph."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

SUBMIT_KEYS = "f9,ctrl+j"
HOW = "One operation a line, as  s = w @ x.  Enter: new line · F9 or Ctrl+J: check."


class GraphAnswerBox(TextArea, inherit_bindings=False):
    """A TextArea without its F6/F7 (the lesson's Prev/Next) that posts Submitted on F9 or Ctrl+J."""

    BINDINGS = [b for b in TextArea.BINDINGS if b.key not in ("f6", "f7")] + [
        Binding(SUBMIT_KEYS, "submit", "Check graph", show=False),
    ]

    class Submitted(Message):
        def __init__(self, box: GraphAnswerBox) -> None:
            super().__init__()
            self.box = box

        @property
        def control(self) -> GraphAnswerBox:
            return self.box

    def __init__(self, **kwargs):
        super().__init__(soft_wrap=False, show_line_numbers=True, tab_behavior="focus", **kwargs)
        self.cursor_blink = False  # a blinking cursor is a timed redraw, costly over SSH

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self))
