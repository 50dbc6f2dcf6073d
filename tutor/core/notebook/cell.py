"""A notebook's cells, as every reader produces them, and the limits on what is read."""

from __future__ import annotations

from dataclasses import dataclass

from tutor.core.errors import TutorError

MAX_NOTEBOOK_BYTES = 8 * 1024 * 1024   # an .ipynb carries its outputs (images too)
MAX_SCRIPT_BYTES = 1024 * 1024         # a script or a text export: code and prose only
MAX_CELLS = 1000
MAX_CELL_CHARS = 100_000
MAX_JSON_DEPTH = 64                    # a notebook nests about 6 deep
MAX_OUTPUT_CHARS = 20_000              # what is kept of one cell's printed output


class NotebookRefused(TutorError):
    """A file that cannot be read as a notebook: one line saying why."""


@dataclass(frozen=True)
class Cell:
    """One cell: `kind` is "markdown" or "code"; `number` counts every cell from 1, in file order."""

    number: int
    kind: str
    source: str
    output: str = ""          # what running it printed, as the file keeps it ("" when unknown)
    line_offset: int = 0      # lines before the cell's first line, for a script's line numbers


@dataclass(frozen=True)
class Notebook:
    cells: tuple[Cell, ...]
    form: str                 # "ipynb" | "script" | "text"


def numbered(parts: list[tuple[str, str, str]], offsets: list[int] | None = None) -> list[Cell]:
    """Cells from (kind, source, output) triples, numbered from 1; blank markdown is dropped."""
    cells: list[Cell] = []
    for i, (kind, source, output) in enumerate(parts):
        if len(cells) > MAX_CELLS:  # refused by the caller; counting on is wasted work
            break
        if kind == "markdown" and not source.strip():
            continue
        cells.append(Cell(len(cells) + 1, kind, source, output[:MAX_OUTPUT_CHARS],
                          offsets[i] if offsets else 0))
    return cells
