"""The plain text export of a notebook ("In [n]:" before each code cell) split back into cells.

The export loses the cell boundaries after each piece of code: what follows it may be the code's
output or the next markdown cell. The code runs for as long as the text still reads as Python; the
output is the block right after it (when the code prints anything) and the blocks that look like more
of it; the rest is markdown. A text without "In [n]:" markers is read block by block: a block that is
Python with a statement in it is code, anything else is prose.
"""

from __future__ import annotations

import ast
import re
import warnings

from tutor.core.notebook.cell import MAX_CELLS, Cell, NotebookRefused, numbered

_IN = re.compile(r"^In \[[ 0-9]*(?:None)?\]:\s*$")
_OUTPUT_START = re.compile(r"^(\s|tensor\(|Parameter containing|array\(|-?\d|-?\.\d|\[|\(|None$|True$|False$)")
_SUBSTANTIVE = (ast.Import, ast.ImportFrom, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.FunctionDef,
                ast.ClassDef, ast.With, ast.For, ast.While, ast.If, ast.Try, ast.Return, ast.Delete)


def text_cells(text: str) -> list[Cell]:
    lines = text.splitlines()
    marks = [i for i, line in enumerate(lines) if _IN.match(line)]
    if len(marks) > MAX_CELLS:
        raise NotebookRefused(f"too many cells ({len(marks)}; at most {MAX_CELLS})")
    if not marks:
        return numbered(_plain_blocks(lines))
    parts: list[tuple[str, str, str]] = []
    if marks[0] > 0:
        parts.append(("markdown", "\n".join(lines[: marks[0]]).strip("\n"), ""))
    for n, start in enumerate(marks):
        end = marks[n + 1] if n + 1 < len(marks) else len(lines)
        parts += _code_cell(lines[start + 1 : end])
    return numbered(parts)


def _blocks(lines: list[str]) -> list[tuple[list[str], int]]:
    """Runs of non-blank lines, each with the number of blank lines before it."""
    blocks: list[tuple[list[str], int]] = []
    current: list[str] = []
    blank = 0
    for line in lines:
        if line.strip():
            if not current:
                blocks.append((current, blank))
            current.append(line)
            blank = 0
        else:
            if current:
                current = []
            blank += 1
    return blocks


def _parses(source: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _looks_printed(module: ast.Module) -> bool:
    """A block that parses but is only values (`tensor([1., 2.])`, `0.0725`, `[1, 2]`): printed output."""
    for stmt in module.body:
        if not isinstance(stmt, ast.Expr):
            return False
        value = stmt.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("tensor", "array"):
            continue
        if isinstance(value, (ast.Constant, ast.List, ast.Tuple, ast.UnaryOp)):
            continue
        return False
    return True


def _code_cell(lines: list[str]) -> list[tuple[str, str, str]]:
    """One "In [n]:" cell's text: its code, then its output and any markdown that follows."""
    blocks = _blocks(lines)
    if not blocks:
        return [("code", "", "")]
    code = list(blocks[0][0])
    used = 1
    module = _parses("\n".join(code))
    while module is not None and used < len(blocks):
        block, _ = blocks[used]
        candidate = _parses("\n".join(code + [""] + block))
        if candidate is None:
            break
        added = candidate.body[len(module.body):]
        continued = block[0][:1].isspace()  # an indented block goes on a def, a loop or a with
        if not added and _commented_code(block):  # code commented out stays with the code
            code += [""] + block
            used += 1
            continue
        if not continued and (not added or _looks_printed(ast.Module(added, []))
                              or not any(isinstance(s, _SUBSTANTIVE) or _is_call(s) for s in added)):
            break
        code += [""] + block
        module = candidate
        used += 1
    rest = blocks[used:]
    output: list[str] = []
    if rest and module is not None and _prints(module):
        output += rest[0][0]
        rest = rest[1:]
        while rest and rest[0][1] == 1 and _OUTPUT_START.match(rest[0][0][0]):
            output += [""] + rest[0][0]
            rest = rest[1:]
    parts = [("code", "\n".join(code), "\n".join(output) + ("\n" if output else ""))]
    if rest:
        prose: list[str] = []
        for block, blank in rest:
            prose += [""] * min(blank, 1) + block
        parts.append(("markdown", "\n".join(prose).strip("\n"), ""))
    return parts


def _commented_code(block: list[str]) -> bool:
    if not all(line.lstrip().startswith("#") for line in block):
        return False
    body = _parses("\n".join(line.lstrip()[1:].removeprefix(" ") for line in block))
    return body is not None and _substantive(body)


def _is_call(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)


def _prints(module: ast.Module) -> bool:
    """Whether running the cell shows anything: a print or display, a call, or a value on its last line."""
    if not module.body:
        return False
    last = module.body[-1]
    if isinstance(last, ast.Expr):
        return True
    for node in ast.walk(module):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("print", "display"):
            return True
    return False


def _plain_blocks(lines: list[str]) -> list[tuple[str, str, str]]:
    """Text with code in it (a course web page): Python blocks with a statement are code, the rest prose."""
    parts: list[tuple[str, str, str]] = []
    code: list[str] = []
    prose: list[str] = []

    def flush_prose():
        if prose:
            parts.append(("markdown", "\n".join(prose).strip("\n"), ""))
            prose.clear()

    def flush_code():
        if code:
            parts.append(("code", "\n".join(code), ""))
            code.clear()

    for block, _ in _blocks(lines):
        if code:
            joined = _parses("\n".join(code + [""] + block))
            alone = _parses("\n".join(block))
            if joined is not None and (block[0][:1].isspace() or _substantive(alone) or _only_notes(alone)):
                code += [""] + block
                continue
        alone = _parses("\n".join(block))
        if alone is not None and _substantive(alone) and not _looks_printed(alone):
            flush_code()
            flush_prose()
            code += block
        else:
            flush_code()
            prose += [""] + block if prose else block
        if len(parts) > MAX_CELLS:
            break
    flush_code()
    flush_prose()
    return parts


def _only_notes(module: ast.Module | None) -> bool:
    """Comments and string literals only (a docstring-like note inside a code listing)."""
    return module is not None and all(
        isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)
        for s in module.body)


def _substantive(module: ast.Module | None) -> bool:
    return module is not None and any(isinstance(s, _SUBSTANTIVE) or _is_call(s) for s in module.body)
