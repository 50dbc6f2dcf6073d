"""The lesson's prose and givens as Rich text: intro in readable Unicode, givens as aligned matrices."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from tutor.app.widgets.prose import prose_text
from tutor.app.widgets.value_text import named_value, value_text
from tutor.core.evaluate.results import NodeValue
from tutor.core.lesson.model import Lesson


def intro_text(lesson: Lesson, shown=lambda raw: raw) -> Text:
    """The intro, its quoted values filled in by `shown` (the live handle's text)."""
    text = prose_text(shown(lesson.intro))
    if lesson.source:
        text.append(("\n" if text.plain else "") + f"Source: {lesson.source}", "dim italic")
    return text


GAP = "   "


def givens_text(lesson: Lesson, computed: dict[str, NodeValue], width: int = 76) -> Text:
    """Every given, side by side while they fit in `width` (24 rows leave no room for a column of them).

    One written as an expression shows its text and, once torch has run, its value.
    """
    blocks = [_given(name, raw, computed.get(name)) for name, raw in lesson.given.items()]
    out = Text.assemble(("Given", "bold underline"), "\n")
    out.append_text(pack(blocks, width))
    return out


def pack(blocks: list[Text], width: int) -> Text:
    """Lays multi-line blocks out left to right, wrapping to a new band when the next would overflow."""
    bands: list[list[list[Text]]] = [[]]
    used = 0
    for block in blocks:
        lines = block.split("\n")
        block_width = max(line.cell_len for line in lines)
        if bands[-1] and used + len(GAP) + block_width > width:
            bands.append([])
            used = 0
        used += (len(GAP) if bands[-1] else 0) + block_width
        bands[-1].append([line + " " * (block_width - line.cell_len) for line in lines])
    out = Text()
    for b, band in enumerate(bands):
        height = max(len(lines) for lines in band)
        for row in range(height):
            if b or row:
                out.append("\n")
            parts = [lines[row] if row < len(lines) else Text(" " * lines[0].cell_len) for lines in band]
            line = Text(GAP).join(parts)
            line.rstrip()
            out.append_text(line)
    return out


def _given(name: str, raw: Any, computed: NodeValue | None) -> Text:
    if not hasattr(raw, "text"):  # a number or nested list, shown as written
        return named_value(name, raw)
    line = Text.assemble((f"{name} = ", "bold"), raw.text)
    if computed is not None:
        body = value_text(computed.value, computed.shape)
        if "\n" in body.plain:
            line.append(" =\n")
            body = value_text(computed.value, computed.shape, indent=len(name) + 3)
        else:
            line.append(" = ")
        line.append_text(body)
    return line
