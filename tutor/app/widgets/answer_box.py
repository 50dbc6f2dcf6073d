"""The answer field and, under it, a live preview of how the typed text is read (pure Python, per keystroke)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Input, Static

from tutor.core.answer import describe, parse_answer
from tutor.core.errors import AnswerParseError


class AnswerInput(Input):
    """An Input that never blinks: a blinking cursor is a timed redraw, costly over SSH."""

    def __init__(self, **kwargs):
        super().__init__(compact=True, **kwargs)
        self.cursor_blink = False


class AnswerPreview(Static):
    def show(self, text: str, kind: str) -> None:
        if not text.strip():
            hint = "a shape like 4x24" if kind == "shape" else "a number, a vector [a, b], or rows 1 2; 3 4"
            self.update(Text(f"Type {hint}. Enter checks it.", "dim"))
            return
        try:
            parsed = parse_answer(text, kind)
        except AnswerParseError as err:
            where = f" at character {err.position + 1}" if err.position is not None else ""
            self.update(Text(f"✗ can't read it{where}: {err.message}", "italic"))
            return
        self.update(Text(f"reads as {describe(parsed)}", "dim"))
