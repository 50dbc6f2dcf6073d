"""Tensors given as plain nested lists laid out as aligned scalar, vector and matrix text."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product
from typing import Any

from tutor.core.text.shapes import dims_text

MAX_ELEMENTS = 64      # above this a tensor shows its shape and a summary, not hundreds of numbers
MAX_ROWS = 10          # longer matrices keep their first and last rows around a ⋮
MAX_COLS = 8           # wider ones keep their first and last columns around a …
GAP = "  "


@dataclass(frozen=True)
class Cell:
    """One piece of a rendered line: a number (with its index), a bracket, or spacing."""

    text: str
    index: tuple[int, ...] | None = None  # the element's index; None for brackets, gaps, labels
    marked: bool = False                  # True for elements the checker found wrong


Line = list[Cell]

_UNICODE = {"top": ("⎡", "⎤"), "mid": ("⎢", "⎥"), "bottom": ("⎣", "⎦"), "one": ("[", "]")}
_ASCII = {"top": ("[", "]"), "mid": ("[", "]"), "bottom": ("[", "]"), "one": ("[", "]")}


def format_number(x: Any, decimals: int = 4) -> str:
    """Compact: 2.0 -> '2', 0.25000 -> '0.25', -0.0 -> '0', 1e-07 -> '1e-7' (never a false 0)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if abs(x) >= 1e9 or abs(x) < 0.5 * 10.0 ** -decimals:
        mantissa, exponent = f"{x:.{max(decimals - 1, 0)}e}".split("e")
        return _trim(mantissa) + "e" + str(int(exponent))  # 1e-7, not 1e-07
    text = _trim(f"{x:.{decimals}f}")
    return "0" if text == "-0" else text


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def shape_of(value: Any) -> tuple[int, ...]:
    """The shape of a number or rectangular nested list."""
    shape: list[int] = []
    while isinstance(value, (list, tuple)):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(shape)


def format_value(
    value: Any,
    shape: tuple[int, ...] | None = None,
    *,
    decimals: int = 4,
    mark: Iterable[tuple[int, ...] | int] = frozenset(),
    ascii: bool = False,
    max_elements: int = MAX_ELEMENTS,
) -> list[Line]:
    """Lines of cells: a scalar, a row vector, a bracketed matrix, or labelled 2-D slices."""
    shape = tuple(shape) if shape is not None else shape_of(value)
    marked = {(m,) if isinstance(m, int) else tuple(m) for m in mark}
    brackets = _ASCII if ascii else _UNICODE
    try:
        if math.prod(shape) > max_elements:
            return [[Cell(line)] for line in summary(value, shape, decimals)]
        if len(shape) == 0:
            return [[Cell(format_number(value, decimals), (), () in marked)]]
        if len(shape) == 1:
            return _matrix([value], (1, shape[0]), decimals, marked, brackets, lambda r, c: (c,))
        if len(shape) == 2:
            return _matrix(value, shape, decimals, marked, brackets, lambda r, c: (r, c))
        return _slices(value, shape, decimals, marked, brackets)
    except (TypeError, IndexError, ValueError):
        return [[Cell(str(value))]]  # a value that does not match its shape still shows


def to_lines(lines: list[Line]) -> list[str]:
    """The plain text of formatted lines."""
    return ["".join(cell.text for cell in line) for line in lines]


def format_plain(value: Any, shape: tuple[int, ...] | None = None, *, decimals: int = 4,
                 max_elements: int = 16) -> str:
    """One line, typeable back as an answer: 3, [1 -2 3], [3 -4; 1 6]; big ones as '16×3×3×3 (432 values)'."""
    shape = tuple(shape) if shape is not None else shape_of(value)
    try:
        if len(shape) > 2 or math.prod(shape) > max_elements:
            return f"{dims_text(shape)} ({math.prod(shape)} values)"
        if len(shape) == 0:
            return format_number(value, decimals)
        rows = [value] if len(shape) == 1 else value
        return "[" + "; ".join(" ".join(format_number(x, decimals) for x in row) for row in rows) + "]"
    except (TypeError, ValueError):
        return str(value)


def summary(value: Any, shape: tuple[int, ...], decimals: int = 4) -> list[str]:
    """Shape, count and range of a tensor too big to print element by element."""
    numbers = [float(x) for x in _flatten(value)]
    head = f"{dims_text(shape)} tensor, {len(numbers)} values"
    if not numbers:
        return [head]
    mean = sum(numbers) / len(numbers)
    stats = "  ".join(
        f"{name} {format_number(v, decimals)}"
        for name, v in (("min", min(numbers)), ("max", max(numbers)), ("mean", mean))
    )
    return [head, stats]


def _flatten(value: Any) -> Iterable[Any]:
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _flatten(item)
    else:
        yield value


def _kept(count: int, limit: int) -> list[int | None]:
    """Indices to show, with None where the middle is elided."""
    if count <= limit:
        return list(range(count))
    head = (limit + 1) // 2
    tail = limit - head
    return list(range(head)) + [None] + list(range(count - tail, count))


def _matrix(rows, shape, decimals, marked, brackets, index_of) -> list[Line]:
    row_ids, col_ids = _kept(shape[0], MAX_ROWS), _kept(shape[1], MAX_COLS)
    grid = [
        [None if r is None or c is None else (format_number(rows[r][c], decimals), index_of(r, c))
         for c in col_ids]
        for r in row_ids
    ]
    columns = [[row[k] for row in grid] for k in range(len(col_ids))]
    widths = [max(len(item[0]) if item else 1 for item in column) for column in columns]
    lines: list[Line] = []
    for pos, (r, row) in enumerate(zip(row_ids, grid, strict=False)):
        left, right = brackets[_place(pos, len(grid))]
        line: Line = [Cell(left + " ")]
        for k, item in enumerate(row):
            if k:
                line.append(Cell(GAP))
            if item is None:
                filler = ("⋮" if r is None else "…") if brackets is _UNICODE else ":" if r is None else "."
                line.append(Cell(filler.rjust(widths[k])))
            else:
                text, index = item
                line.append(Cell(text.rjust(widths[k]), index, index in marked))
        line.append(Cell(" " + right))
        lines.append(line)
    return lines


def _place(row: int, rows: int) -> str:
    if rows == 1:
        return "one"
    return "top" if row == 0 else "bottom" if row == rows - 1 else "mid"


def _slices(value, shape, decimals, marked, brackets) -> list[Line]:
    """A rank-3+ tensor as its 2-D slices, each under a label like [0, 1, :, :]."""
    lines: list[Line] = []
    for lead in product(*(range(n) for n in shape[:-2])):
        block = value
        for i in lead:
            block = block[i]
        label = "[" + ", ".join(map(str, lead)) + ", :, :]"
        lines.append([Cell(label)])
        lines += _matrix(block, shape[-2:], decimals, marked, brackets,
                         lambda r, c, lead=lead: (*lead, r, c))
    return lines
