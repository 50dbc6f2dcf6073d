"""Plain-text tables for the terminal, laid out by rich: no markup read from cells, no colour, no box."""

from __future__ import annotations

import io
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

WIDTH = 79  # the narrowest terminal laid out for; a wider one gets its own width
UNCUT = 10_000  # output that is not a terminal (a pipe, a file) is never cut or wrapped


@dataclass(frozen=True)
class Column:
    name: str
    justify: Literal["left", "right"] = "left"
    # "ellipsis": takes whatever room the others leave and cuts a long cell with …;
    # "fold": takes whatever room is left and wraps; None: every cell whole
    flex: Literal["ellipsis", "fold"] | None = None
    min_width: int = 0


def terminal_width() -> int:
    """The terminal's width less one (COLUMNS wins); UNCUT when the output is not a terminal."""
    columns = shutil.get_terminal_size((0, 0)).columns
    return max(WIDTH, columns - 1) if columns else UNCUT


def text_table(columns: Sequence[Column], rows: Sequence[Sequence[object] | str], width: int) -> list[str]:
    """The table's lines. A row that is a plain string is a heading line of its own (a topic above its
    lessons); cells are always plain text (a rich Text, or str() of anything else), never markup,
    whatever a lesson or database holds."""
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="", expand=False,
                  padding=(0, 1, 0, 0))
    for column in columns:
        fixed = max([len(column.name)] + [len(str(r[columns.index(column)])) for r in rows
                                          if not isinstance(r, str)])
        table.add_column(column.name, justify=column.justify, no_wrap=column.flex is None,
                         overflow=column.flex or "fold", min_width=column.min_width if column.flex else fixed)
    for row in rows:
        if isinstance(row, str):
            table.add_row(Text(row, no_wrap=True, overflow="ellipsis"), *[""] * (len(columns) - 1))
            continue
        table.add_row(*(cell if isinstance(cell, Text)  # a cell laid out its own way
                        else Text(str(cell), no_wrap=column.flex != "fold", overflow=column.flex or "fold")
                        for cell, column in zip(row, columns, strict=True)))
    out = io.StringIO()
    Console(file=out, width=width, no_color=True, color_system=None, highlight=False, emoji=False,
            markup=False, force_terminal=False, legacy_windows=False).print(table)
    return [line.rstrip() for line in out.getvalue().splitlines()]
