"""A notebook read into cells (markdown, code and what the code printed), from any of the three formats.

Formats: a Jupyter notebook (`.ipynb`, read and validated by Jupyter's own nbformat), a Python script
(`.py`, one cell, or `# %%` cells as Jupytext and VS Code write them), and the plain text export of a
notebook with "In [n]:" before each code cell (anything else is read as text with code blocks in it).
Nothing here runs the code: it is only split into cells.
"""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

from tutor.core.notebook.cell import (
    MAX_CELL_CHARS,
    MAX_CELLS,
    MAX_JSON_DEPTH,
    MAX_NOTEBOOK_BYTES,
    MAX_OUTPUT_CHARS,
    MAX_SCRIPT_BYTES,
    Cell,
    Notebook,
    NotebookRefused,
    numbered,
)
from tutor.core.notebook.text_export import text_cells
from tutor.core.text.files import FileRefused, read_text
from tutor.core.text.safe import clean, one_line


def read_notebook(path: str | Path) -> Notebook:
    """The cells of a notebook file; NotebookRefused (one line) for anything that is not one."""
    path = Path(path)
    suffix = path.suffix.lower()
    cap = MAX_NOTEBOOK_BYTES if suffix == ".ipynb" else MAX_SCRIPT_BYTES
    try:
        text = read_text(path, cap)
    except FileRefused as err:
        raise NotebookRefused(err.reason) from None
    if "\x00" in text:
        raise NotebookRefused("not a text file (it holds NUL bytes)")
    if suffix == ".ipynb" or (suffix not in (".py", ".txt", ".md") and text.lstrip().startswith("{")):
        cells, form = _ipynb_cells(text), "ipynb"
    elif suffix == ".py":
        cells, form = _script_cells(text), "script"
    else:
        cells, form = text_cells(text), "text"
    if len(cells) > MAX_CELLS:
        raise NotebookRefused(f"too many cells ({len(cells)}; at most {MAX_CELLS})")
    for cell in cells:
        if len(cell.source) > MAX_CELL_CHARS:
            raise NotebookRefused(f"cell {cell.number} is too long ({len(cell.source)} characters; "
                                  f"at most {MAX_CELL_CHARS})")
    return Notebook(tuple(cells), form)


# --- .ipynb -------------------------------------------------------------------------------------------


def _ipynb_cells(text: str) -> list[Cell]:
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise NotebookRefused(f"not a usable notebook: nested {depth} deep (at most {MAX_JSON_DEPTH})")
    import nbformat  # only for .ipynb files: the other formats never need it

    # nbformat warns on stderr about what a lesson never reads (cells without ids, from notebooks
    # saved before nbformat 4.5): a teacher should see tutor's one line per problem, nothing else
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nb = nbformat.reads(text, as_version=4)
        except Exception as err:  # noqa: BLE001  nbformat raises its own, json's and jsonschema's errors
            raise NotebookRefused(f"not a valid Jupyter notebook: {_nbformat_reason(err)}") from None
        try:
            nbformat.validate(nb)
        except Exception as err:  # noqa: BLE001  a schema error names the field; one line of it
            raise NotebookRefused(f"not a valid Jupyter notebook: {_nbformat_reason(err)}") from None
    raw = nb.get("cells", [])
    if len(raw) > MAX_CELLS:
        raise NotebookRefused(f"too many cells ({len(raw)}; at most {MAX_CELLS})")
    parts = []
    for cell in raw:
        kind = cell.get("cell_type")
        source = _joined(cell.get("source", ""))
        if kind == "code":
            parts.append(("code", source, _ipynb_output(cell.get("outputs", []))))
        elif kind == "markdown":
            parts.append(("markdown", source, ""))
        # raw cells hold text for other tools (LaTeX for nbconvert, ...): not part of the exercise
    return numbered(parts)


def _nbformat_reason(err: BaseException) -> str:
    if isinstance(err, RecursionError):
        return "nested too deeply"
    message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return one_line(message, 200)


def _joined(source) -> str:
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _ipynb_output(outputs) -> str:
    """What a code cell showed: printed streams, displayed and returned values as plain text, errors."""
    shown: list[str] = []
    for out in outputs if isinstance(outputs, list) else []:
        kind = out.get("output_type")
        if kind == "stream":
            shown.append(_joined(out.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            plain = _joined(out.get("data", {}).get("text/plain", ""))
            if plain:
                shown.append(plain if plain.endswith("\n") else plain + "\n")
        elif kind == "error":
            shown.append(f"{out.get('ename', 'Error')}: {out.get('evalue', '')}\n")
        if sum(map(len, shown)) > MAX_OUTPUT_CHARS:
            break
    return clean("".join(shown))


def json_depth(text: str) -> int:
    """The deepest nesting of [ ] and { } outside JSON strings, in one linear pass."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif c in "]}":
            depth -= 1
    return deepest


# --- .py ----------------------------------------------------------------------------------------------

_PERCENT = re.compile(r"^# ?%%(?P<rest>.*)$")


def _script_cells(text: str) -> list[Cell]:
    """A script: one code cell, or the cells its `# %%` markers (Jupytext's percent format) delimit."""
    lines = text.splitlines()
    if not any(_PERCENT.match(line) for line in lines):
        intro = _docstring_intro(text)
        return numbered(intro, [0] * len(intro))
    parts: list[tuple[str, str, str]] = []
    offsets: list[int] = []
    kind, start = "code", 0
    body: list[str] = []
    for number, line in enumerate(lines):
        marker = _PERCENT.match(line)
        if marker:
            if body and any(b.strip() for b in body):
                parts.append((kind, "\n".join(body), ""))
                offsets.append(start)
            kind = "markdown" if "[markdown]" in marker.group("rest") or "[md]" in marker.group("rest") else "code"
            start, body = number + 1, []
            continue
        body.append(line)
    if body and any(b.strip() for b in body):
        parts.append((kind, "\n".join(body), ""))
        offsets.append(start)
    parts = [(k, _uncomment(s) if k == "markdown" else s, o) for k, s, o in parts]
    return numbered(parts, offsets)


def _uncomment(source: str) -> str:
    """A markdown cell of a percent-format script: its lines are comments ('# text')."""
    out = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("#"):
            stripped = stripped[1:]
            stripped = stripped[1:] if stripped.startswith(" ") else stripped
        out.append(stripped)
    text = "\n".join(out).strip()
    if text.startswith(('"""', "'''")) and text.endswith(text[:3]) and len(text) >= 6:
        text = text[3:-3].strip()
    return text


def _docstring_intro(text: str) -> list[tuple[str, str, str]]:
    """A plain script is one code cell; its module docstring, if any, is read as the exercise's text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return [("code", text, "")]
    doc = ast.get_docstring(module, clean=True)
    return [("markdown", doc, ""), ("code", text, "")] if doc else [("code", text, "")]
