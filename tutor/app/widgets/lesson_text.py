"""The lesson's prose and givens as Rich text: intro in readable Unicode, givens as aligned matrices."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from tutor.app.widgets.value_text import named_value, value_text
from tutor.app.widgets.prose import prose_text
from tutor.core.lesson import Lesson
from tutor.core.values import NodeValue


def intro_text(lesson: Lesson) -> Text:
    text = prose_text(lesson.intro)
    if lesson.source:
        text.append(("\n" if text.plain else "") + f"Source: {lesson.source}", "dim italic")
    return text


def givens_text(lesson: Lesson, computed: dict[str, NodeValue]) -> Text:
    """Every given; one written as an expression shows its text and, once torch has run, its value."""
    out = Text.assemble(("Given", "bold underline"), "\n")
    for n, (name, raw) in enumerate(lesson.given.items()):
        if n:
            out.append("\n")
        out.append_text(_given(name, raw, computed.get(name)))
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
