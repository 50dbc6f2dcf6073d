"""Parses expression text into a checked tree: only whitelisted nodes, names and calls survive."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

from tutor.core.errors import ExprError, LimitExceeded
from tutor.core.expr import names
from tutor.core.expr.signatures import ASK, DRILL, GIVEN, GRAPH, TABLE, usable_in

MAX_TEXT = 4000
SPLIT = "split it over several graph lines"
MAX_DEPTH = 60
MAX_NODES = 2000

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult)
_UNARY = (ast.USub, ast.UAdd)
_COMPARISONS = (ast.Lt, ast.Gt, ast.LtE, ast.GtE, ast.Eq)
MAX_INT_LITERAL = 2**53  # every whole number up to this is exact in float64


@dataclass(frozen=True)
class Expr:
    """A parsed, whitelisted expression and the text it came from."""

    text: str
    tree: ast.expr

    def names(self) -> set[str]:
        """Names it reads that the lesson must define (constants and dtypes may stand on their own)."""
        found: set[str] = set()
        called: set[int] = set()
        for n in ast.walk(self.tree):  # breadth-first: a call is seen before its function name
            if isinstance(n, ast.Call):
                called.add(id(n.func))
            elif isinstance(n, ast.Name) and id(n) not in called:
                found.add(n.id)
        return found - names.CONSTANTS - names.DTYPES

    def reads(self) -> set[str]:
        """Every bare name it reads, constants included: a lesson's own `e` shadows the constant."""
        called = {id(n.func) for n in ast.walk(self.tree) if isinstance(n, ast.Call)}
        return {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name) and id(n) not in called}

    def calls(self) -> set[str]:
        """Function names it calls."""
        return {
            n.func.id
            for n in ast.walk(self.tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }

    def top_call(self) -> str | None:
        """The outermost function name, as in `shape(...)`, or None."""
        if isinstance(self.tree, ast.Call) and isinstance(self.tree.func, ast.Name):
            return self.tree.func.id
        return None


@dataclass(frozen=True)
class Assignment:
    """One `graph` line: `target = expr` or `target op= expr`."""

    target: str
    op: str  # "=", "+=", "-=", "*=", "/="
    expr: Expr
    line: int  # 1-based line number inside the graph text


def _syntax_error(err: SyntaxError, text: str) -> ExprError:
    col = (err.offset or 1) - 1
    reason = (err.msg or "invalid syntax").replace("'(' was never closed", "a bracket is never closed")
    shown = text.strip() if len(text.strip()) <= 40 else text.strip()[:37] + "..."
    return ExprError(f"cannot read {shown!r}: {reason}", max(0, min(col, len(text))))


def _parse(text: str, mode: str) -> ast.AST:
    if not isinstance(text, str):
        raise ExprError("an expression must be text")
    if len(text) > MAX_TEXT:
        raise LimitExceeded(f"expression too long ({len(text)} characters; at most {MAX_TEXT:,}): "
                            f"{SPLIT}")
    if "\x00" in text:
        raise ExprError("expression contains a NUL character")
    _refuse_non_ascii(text)
    try:
        return ast.parse(text.strip(), mode=mode)
    except SyntaxError as err:
        raise _syntax_error(err, text) from None
    except (RecursionError, MemoryError, ValueError):
        raise LimitExceeded(f"expression is nested too deeply (more than {MAX_DEPTH} levels): {SPLIT}") from None


def _refuse_non_ascii(text: str) -> None:
    """Python folds identifiers with NFKC (a fullwidth 'ｐｉ' would become 'pi'): refuse before parsing."""
    if text.isascii():
        return
    stripped = text.strip()
    for col, char in enumerate(stripped):
        if not char.isascii():
            if char.isidentifier() or ("a" + char).isidentifier():
                end = col
                while end < len(stripped) and ("a" + stripped[end]).isidentifier():
                    end += 1
                start = col
                while start > 0 and ("a" + stripped[start - 1]).isidentifier():
                    start -= 1
                word = stripped[start:end]
                raise ExprError(f"the name {word!r} has characters outside ASCII; "
                                "names are ASCII letters, digits and '_'", col)
            raise ExprError(f"the character {char!r} (U+{ord(char):04X}) is not part of the language", col)


def check_tree(tree: ast.AST, allowed_calls: frozenset[str]) -> None:
    """Refuses any node, name or call outside the language."""
    count = 0

    def visit(node: ast.AST, depth: int) -> None:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise LimitExceeded(f"expression too large (more than {MAX_NODES:,} parts): {SPLIT}")
        if depth > MAX_DEPTH:
            raise LimitExceeded(f"expression is nested too deeply (more than {MAX_DEPTH} levels): {SPLIT}")
        col = getattr(node, "col_offset", None)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ExprError(f"only numbers are allowed here, not {node.value!r}", col)
            if isinstance(node.value, int) and abs(node.value) > MAX_INT_LITERAL:
                raise ExprError(f"the number {str(node.value)[:12]}... is too large (whole numbers are at most "
                                f"2**53 = {MAX_INT_LITERAL:,}, so that each is exact)", col)
            if isinstance(node.value, float) and not math.isfinite(node.value):
                raise ExprError("a number too large to be a float (such as 1e999) is not allowed", col)
            return

        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                raise ExprError(f"cannot assign to {node.id!r} here", col)
            if node.id.startswith("_"):
                raise ExprError(f"names may not start with '_': {node.id!r}", col)
            return
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.BitXor):
                power = ast.unparse(ast.BinOp(node.left, ast.Pow(), node.right))
                example = power if len(power) <= 30 else "x ** 2"
                raise ExprError(f"use ** for powers, as in {example} (^ is not a power here)", col)
            if not isinstance(node.op, _BINOPS):
                raise ExprError(f"operator {_OPERATOR_SYMBOLS.get(type(node.op), type(node.op).__name__)} "
                                "is not allowed", col)
        elif isinstance(node, ast.Compare):
            if len(node.ops) != 1 or not isinstance(node.ops[0], _COMPARISONS):
                raise ExprError("only one comparison at a time: <, >, <=, >= or ==", col)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, _UNARY):
                raise ExprError("only unary '-' and '+' are allowed", col)
        elif isinstance(node, ast.Call):
            fname = call_name(node)
            if fname not in allowed_calls:
                raise ExprError(unknown_function(fname, allowed_calls), col)
            check_call(node)
            for kw in node.keywords:
                visit(kw.value, depth + 1)
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    raise ExprError("'*' unpacking is not allowed", col)
                visit(arg, depth + 1)
            return
        elif isinstance(node, ast.Attribute):
            if node.attr != "T":
                raise ExprError(f"only '.T' is allowed after a value, not '.{node.attr}'", col)
            visit(node.value, depth + 1)
            return
        elif isinstance(node, ast.Subscript):
            pass
        elif isinstance(node, (ast.List, ast.Tuple)):
            if not isinstance(node.ctx, ast.Load):
                raise ExprError("cannot assign to a list here", col)
        elif isinstance(node, ast.Slice):
            pass
        elif isinstance(node, (ast.Load, ast.operator, ast.unaryop, ast.cmpop)):
            return
        else:
            raise ExprError(f"{_describe(node)} is not part of the language", col)
        for child in ast.iter_child_nodes(node):
            visit(child, depth + 1)

    visit(tree, 0)


def call_name(node: ast.Call) -> str:
    """The function a call names (sin in sin(x)): the language calls named functions only."""
    if not isinstance(node.func, ast.Name):
        raise ExprError("only named functions can be called, as in sin(x)", getattr(node, "col_offset", None))
    return node.func.id


def keyword_name(kw: ast.keyword, col: int | None) -> str:
    """A keyword argument's name (lr in lr=0.1); `**` unpacking has none and is refused."""
    if kw.arg is None:
        raise ExprError("'**' unpacking is not allowed", col)
    return kw.arg


def check_call(node: ast.Call) -> None:
    """Arity and keywords against the signature table, so a wrong call is refused when the lesson loads."""
    sig = TABLE[call_name(node)]
    col = node.col_offset
    count = len(node.args)
    named = {kw.arg for kw in node.keywords}
    filled = count + sum(1 for p in sig.params[count:sig.required] if p in named)
    if filled < sig.required or (sig.max_positional is not None and count > sig.max_positional):
        raise ExprError(f"{sig.name}() takes {_arity(sig)}, got {count}; it is written {sig.usage()}", col)
    seen: set[str] = set()
    for kw in node.keywords:
        arg = keyword_name(kw, col)
        if not sig.accepts(arg):
            takes = [] if sig.positional_only else [p for p in sig.params[1:] + sig.keywords]
            offer = f"it takes {', '.join(takes)}" if takes else "it takes no keywords"
            raise ExprError(f"{sig.name}() has no keyword {arg!r} ({offer})", col)
        if arg in seen or (arg in sig.params and sig.params.index(arg) < count):
            raise ExprError(f"{sig.name}(): {arg!r} is given twice", col)
        seen.add(arg)
    missing = [p for p in sig.params[count:sig.required] if p not in seen]
    if missing:
        raise ExprError(f"{sig.name}() needs {', '.join(missing)}; it is written {sig.usage()}", col)


def _arity(sig) -> str:
    top = sig.max_positional
    if top is None:
        return f"at least {sig.required} argument{'s' if sig.required != 1 else ''}"
    if top == sig.required:
        return f"{top} argument{'s' if top != 1 else ''}"
    return f"{sig.required} to {top} arguments"


_OPERATOR_SYMBOLS = {ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|",
                     ast.LShift: "<<", ast.RShift: ">>"}


def unknown_function(fname: str, allowed: frozenset[str] | set[str]) -> str:
    """Why a function cannot be called here, with the closest names that can (conv -> conv1d, conv2d)."""
    where = _where_allowed(fname)
    if where:
        return f"unknown function {fname!r}{where}"
    near = closest_names(fname, allowed)
    if not near:
        return f"unknown function {fname!r}"
    listed = near[0] if len(near) == 1 else ", ".join(near[:-1]) + " or " + near[-1]
    return f"unknown function {fname!r}; did you mean {listed}?"


def closest_names(name: str, names_: frozenset[str] | set[str], most: int = 3) -> list[str]:
    """The names a typed one most likely meant: those it begins (shortest first), else similar ones."""
    import difflib

    lowered = name.lower()
    starts = sorted((n for n in names_ if n.startswith(lowered) and n != lowered), key=lambda n: (len(n), n))
    if starts:
        shortest = len(starts[0])
        return [n for n in starts if len(n) <= shortest + 2][:most]
    return difflib.get_close_matches(lowered, sorted(names_), n=most, cutoff=0.75)


def _where_allowed(fname: str) -> str:
    if fname in names.ASK_ONLY:
        return " (only allowed in a step's ask)"
    if fname in names.DRILL_ONLY:
        return " (only allowed in [drill])"
    return ""


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Lambda: "lambda", ast.BoolOp: "'and'/'or'",
        ast.IfExp: "'if'", ast.ListComp: "a comprehension", ast.GeneratorExp: "a comprehension",
        ast.Dict: "a dict", ast.Set: "a set", ast.JoinedStr: "an f-string", ast.Starred: "'*'",
        ast.NamedExpr: "':='", ast.Await: "'await'",
    }
    return kinds.get(type(node), type(node).__name__)


GRAPH_CALLS = usable_in(GRAPH)
ASK_CALLS = usable_in(ASK)
DRILL_CALLS = usable_in(GRAPH) | usable_in(DRILL)
GIVEN_CALLS = usable_in(GIVEN)


def parse_expr(text: str, allowed_calls: frozenset[str] = ASK_CALLS) -> Expr:
    """Parses one expression; raises ExprError saying where and why it is not in the language."""
    module = _parse(text, "eval")
    assert isinstance(module, ast.Expression)
    check_tree(module.body, allowed_calls)
    return Expr(text.strip(), module.body)


_AUG_SYMBOL = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/="}


def parse_graph(text: str) -> list[Assignment]:
    """Parses a `graph`: one assignment per non-blank line; '#' starts a comment."""
    out: list[Assignment] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            out.append(_parse_assignment(line, number))
        except ExprError as err:
            raise ExprError(f"graph line {number}: {err.message}", err.column) from None
    return out


def _parse_assignment(line: str, number: int) -> Assignment:
    module = _parse(line, "exec")
    assert isinstance(module, ast.Module)
    if len(module.body) != 1:
        raise ExprError("one assignment per line, as in 'y = sin(w @ x) - b'")
    stmt = module.body[0]
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        target, op, value = stmt.targets[0].id, "=", stmt.value
    elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and type(stmt.op) in _AUG_SYMBOL:
        target, op, value = stmt.target.id, _AUG_SYMBOL[type(stmt.op)], stmt.value
    else:
        raise ExprError("expected 'name = expression' (or +=, -=, *=, /=)")
    if target.startswith("_"):
        raise ExprError(f"names may not start with '_': {target!r}")
    check_tree(value, GRAPH_CALLS)
    text = ast.get_source_segment(line, value) or line
    return Assignment(target, op, Expr(text, value), number)
