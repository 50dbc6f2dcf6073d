"""Values as Rich text: the core's aligned matrix lines, with wrong elements marked so NO_COLOR shows them too."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from rich.text import Text

from tutor.core.text.matrix import format_value
from tutor.core.text.shapes import dims_text as shape_dims

# Reverse video and underline survive NO_COLOR (only colors are dropped), so a mark never relies on red.
MARKED = "bold reverse underline red"


def value_text(value: Any, shape: tuple[int, ...] | None = None, *,
               mark: Iterable[tuple[int, ...]] = (), indent: int = 0) -> Text:
    """Aligned lines of a scalar, vector or matrix; marked elements stand out."""
    text = Text()
    for n, line in enumerate(format_value(value, shape, mark=tuple(mark))):
        if n:
            text.append("\n")
        text.append(" " * indent)
        for cell in line:
            text.append(cell.text, MARKED if cell.marked else "")
    return text


def named_value(name: str, value: Any, shape: tuple[int, ...] | None = None) -> Text:
    """'x = [2  1]', with a multi-line matrix aligned under its name."""
    label = f"{name} = "
    body = value_text(value, shape)
    lines = body.split("\n")
    out = Text.assemble((label, "bold"))
    for n, line in enumerate(lines):
        if n:
            out.append("\n" + " " * len(label))
        out.append_text(line)
    return out


def nest(flat: list[float], shape: tuple[int, ...]) -> Any:
    """Flat row-major values laid out in a shape, so an answer shows in the expected layout."""
    if not shape:
        return flat[0]
    size = math.prod(shape[1:])
    return [nest(flat[i * size:(i + 1) * size], shape[1:]) for i in range(shape[0])]


def dims_text(dims: Iterable[int]) -> str:
    """A shape answer as people write it: 4×24, (4,)."""
    return shape_dims(dims)
