"""Draws a drill variant's givens from a lesson's [drill] section, deterministically from a seed."""

from __future__ import annotations

import ast
import math
import random
from typing import Any

from tutor.core.errors import ExprError
from tutor.core.expr.syntax import Expr

MAX_DRAWN = 10_000  # numbers one draw may produce


def rng_for(lesson_id: str, seed: int | str) -> random.Random:
    # String seeds hash with SHA-512 in CPython (version 2): the same draw on every machine.
    return random.Random(f"tutor-drill:{lesson_id}:{seed}")


def draw_givens(drill: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """name -> a number, nested list, or expression text such as 'pi/6' (kept as typed in the lesson)."""
    out = {}
    for name in sorted(drill):  # a stable order, so adding a draw never reshuffles the others' dice
        raw = drill[name]
        out[name] = _draw(raw.tree, raw.text, rng) if isinstance(raw, Expr) else raw
    return out


def _draws(node: ast.AST) -> bool:
    return any(_drawn_by(n) is not None for n in ast.walk(node))


def _drawn_by(node: ast.AST) -> str | None:
    """The draw `node` calls, "randint" or "choice", or None (the loader lets only named functions be called)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("randint", "choice"):
        return node.func.id
    return None


def _fixed(node: ast.AST, text: str) -> Any:
    """A part with nothing to draw: numbers stay numbers, anything else keeps the lesson's own text."""
    if isinstance(node, ast.Constant):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, (int, float))):
        return -node.operand.value
    if isinstance(node, ast.List):
        return [_fixed(e, text) for e in node.elts]
    return ast.get_source_segment(text, node) or ast.unparse(node)


def _draw(node: ast.AST, text: str, rng: random.Random) -> Any:
    if not _draws(node):
        return _fixed(node, text)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _combine("-", 0, _draw(node.operand, text, rng))
    if isinstance(node, ast.List):
        return [_draw(e, text, rng) for e in node.elts]
    if isinstance(node, ast.BinOp):
        op = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}.get(type(node.op))
        if op is None:
            raise ExprError("only + - * / ** may combine drill draws")
        return _combine(op, _draw(node.left, text, rng), _draw(node.right, text, rng))
    name = _drawn_by(node)
    if isinstance(node, ast.Call) and name is not None:
        return _call(name, node, text, rng)
    raise ExprError("draws may only be combined with + - * / ** and lists")


def _shape(node: ast.AST | None) -> tuple[int, ...]:
    if node is None:
        return ()
    if isinstance(node, (ast.Tuple, ast.List)):
        dims = []
        for e in node.elts:
            if not isinstance(e, ast.Constant) or not isinstance(e.value, int) or e.value < 0:
                raise ExprError("a drill shape is a tuple of whole numbers, as in (2, 3)")
            dims.append(e.value)
        if math.prod(dims) > MAX_DRAWN:
            raise ExprError(f"a drill may draw at most {MAX_DRAWN} numbers at once")
        return tuple(dims)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return _shape(ast.Tuple([node], ast.Load()))  # randint(0, 9, 5): the same limit as (5,)
    raise ExprError("a drill shape is a tuple of whole numbers, as in (2, 3)")


def _count(value: Any) -> int:
    return sum(_count(v) for v in value) if isinstance(value, list) else 1


def _fill(shape: tuple[int, ...], make) -> Any:
    if not shape:
        return make()
    return [_fill(shape[1:], make) for _ in range(shape[0])]


def _call(name: str, node: ast.Call, text: str, rng: random.Random) -> Any:
    if name == "randint":
        if len(node.args) not in (2, 3):
            raise ExprError("randint(low, high, shape): both ends included")
        low, high = (_whole(a) for a in node.args[:2])
        if low > high:
            raise ExprError("randint(low, high, ...) needs low <= high")
        shape = _shape(node.args[2] if len(node.args) == 3 else None)
        return _fill(shape, lambda: rng.randint(low, high))
    if len(node.args) not in (1, 2) or not isinstance(node.args[0], (ast.List, ast.Tuple)) or not node.args[0].elts:
        raise ExprError("choice(options, shape): options is a non-empty list such as [0, pi/6, pi/2]")
    options = [_draw(e, text, rng) for e in node.args[0].elts]
    shape = _shape(node.args[1] if len(node.args) == 2 else None)
    if max(_count(o) for o in options) * math.prod(shape) > MAX_DRAWN:  # choices of drawn lists multiply
        raise ExprError(f"a drill may draw at most {MAX_DRAWN} numbers at once")
    return _fill(shape, lambda: options[rng.randrange(len(options))])


def _whole(node: ast.AST) -> int:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return sign * node.value
    raise ExprError("randint bounds must be whole numbers")


def _combine(op: str, a: Any, b: Any) -> Any:
    """Elementwise over nested lists; numbers fold, anything with text stays an expression."""
    if isinstance(a, list) or isinstance(b, list):
        la = a if isinstance(a, list) else None
        lb = b if isinstance(b, list) else None
        n = len(a) if isinstance(a, list) else len(b)
        if la is not None and lb is not None and len(la) != len(lb):
            raise ExprError("drill draws of different lengths cannot be combined")
        return [_combine(op, la[i] if la is not None else a, lb[i] if lb is not None else b) for i in range(n)]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if op == "/" and b == 0:
            raise ExprError("a drill draw divides by zero")
        result = {"+": a + b, "-": a - b, "*": a * b}.get(op) if op != "/" and op != "**" else (
            a / b if op == "/" else float(a) ** float(b))
        if isinstance(result, float) and result == int(result) and abs(result) < 2**53:
            return int(result)
        return result
    if op == "-" and a == 0:
        return f"-({b})"
    return f"({a}) {op} ({b})"
