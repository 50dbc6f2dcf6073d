"""The answer box of a graph step: several lines, one operation each; F9 or Ctrl+J checks the graph."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

SUBMIT_KEYS = "f9,ctrl+j"
HOW = ("One operation a line, as  s = w @ x.  Enter: new line · F9 or Ctrl+J: check.",
       "One operation a line.  Enter: new line · F9 or Ctrl+J: check.",
       "One operation a line · Enter: new line · F9: check.")
SETTLED_HOW = ("Enter or F7: next step · edit the graph to check it again (F9).",
               "Enter or F7: next step · edit, then F9, to check again.")
# keys the lesson screen keeps: F6/F7 move between steps, PgUp/PgDn scroll the lesson text
_LESSON_KEYS = ("f6", "f7", "pageup", "pagedown")


class GraphAnswerBox(TextArea, inherit_bindings=False):
    """A TextArea that leaves the lesson's keys to the lesson and posts Submitted on F9 or Ctrl+J.

    `settled` (a graph just checked right, or revealed): Enter submits, so it moves on to the
    next step instead of adding a blank line; any edit unsettles it.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        *(b for b in Binding.make_bindings(TextArea.BINDINGS) if b.key not in _LESSON_KEYS),
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
        self.settled = False
        self._settled_text = ""

    def settle(self, settled: bool = True) -> None:
        self.settled = settled
        self._settled_text = self.text

    def edited(self) -> bool:
        """True (and no longer settled) once the text differs from what was settled."""
        if self.settled and self.text != self._settled_text:
            self.settled = False
        return not self.settled

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter" and self.settled:
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self))
