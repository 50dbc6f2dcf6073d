"""The ask of a graph step, `graph(NAME)`: recognised and built without torch, for the lesson loader."""

from __future__ import annotations

import ast
import re

from tutor.core.errors import ExprError
from tutor.core.expr.syntax import Expr

_GRAPH_ASK = re.compile(r"^\s*graph\(\s*([A-Za-z][A-Za-z0-9_]*)\s*\)\s*$")


def graph_ask(text: str) -> str | None:
    """NAME for an ask written `graph(NAME)`, else None."""
    match = _GRAPH_ASK.match(text) if isinstance(text, str) else None
    return match.group(1) if match else None


def graph_ask_expr(text: str) -> Expr:
    """The ask `graph(NAME)` as an Expr (graph() is not a function of the language, so it is built, not parsed)."""
    name = graph_ask(text)
    if name is None:
        raise ExprError("write a graph step's ask as graph(NAME)")
    call = ast.Call(ast.Name("graph", ast.Load()), [ast.Name(name, ast.Load())], [])
    return Expr(f"graph({name})", ast.fix_missing_locations(ast.Expression(call)).body)


def graph_target(step) -> str:
    """NAME of a graph step's ask."""
    return step.ask.tree.args[0].id
