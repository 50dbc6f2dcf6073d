"""The computational graph of a lesson (givens, operations, loss) built from its text, without torch."""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from tutor.core.evaluate.results import NodeValue
from tutor.core.expr import names as language
from tutor.core.lesson.model import Lesson
from tutor.core.text.matrix import format_plain

INPUT, PARAM, OP = "input", "param", "op"


@dataclass(frozen=True)
class GraphNode:
    """A given (input or trained parameter) or one assignment of the lesson's graph."""

    id: str                   # unique: the name, or "name#k" for an earlier binding of a reassigned name
    name: str                 # the variable; values and gradients are keyed by it
    display: str              # what the drawing calls it: "h", or "h (old)" for an earlier binding
    kind: str                 # INPUT | PARAM | OP
    label: str                # the operation ("sin(w @ x) − b"), or a given's written value
    inputs: tuple[str, ...]   # ids of the nodes it reads, in reading order
    final: bool = True        # the last binding of its name, whose value the live lesson reports
    is_output: bool = False   # nothing later reads it
    is_loss: bool = False
    literal: Any = None       # a given's numbers as written (None for an expression or an operation)


@dataclass(frozen=True)
class GraphModel:
    """The nodes of a lesson's graph and the loss; the edges are each node's inputs."""

    nodes: tuple[GraphNode, ...]       # givens first, then operations in graph order
    loss: str | None                   # id of the loss node
    other_givens: tuple[str, ...] = ()  # givens the graph never reads (a learning rate, say)

    def node(self, node_id: str) -> GraphNode:
        return self._by_id[node_id]

    @cached_property
    def _by_id(self) -> dict[str, GraphNode]:
        return {n.id: n for n in self.nodes}

    @property
    def edges(self) -> list[tuple[str, str]]:
        """(source id, target id) for every value an operation reads."""
        return [(src, n.id) for n in self.nodes for src in n.inputs]


def build_graph(lesson: Lesson) -> GraphModel:
    """Nodes for the givens the graph reads, one per assignment, with the loss and outputs marked."""
    params = set(lesson.train.params) if lesson.train else set()
    current: dict[str, str] = {}      # name -> id of its latest binding so far
    ops: list[GraphNode] = []
    read_givens: list[str] = []
    counts = {a.target: 0 for a in lesson.graph}
    totals = {t: sum(a.target == t for a in lesson.graph) for t in counts}
    for assignment in lesson.graph:
        names = _names_in_order(assignment.expr.tree, set(current) | set(lesson.given))
        if assignment.op != "=":
            names = [assignment.target] + [n for n in names if n != assignment.target]
        inputs = []
        for name in names:
            if name not in current and name in lesson.given and name not in read_givens:
                read_givens.append(name)
            inputs.append(current.get(name, name))
        target = assignment.target
        counts[target] += 1
        final = counts[target] == totals[target]
        node_id = target if final else f"{target}#{counts[target]}"
        display = _binding_name(target, counts[target], totals[target])
        ops.append(GraphNode(node_id, target, display, OP, _op_label(assignment),
                             tuple(dict.fromkeys(inputs)), final))
        current[target] = node_id
    if not lesson.graph:
        read_givens = list(lesson.given)
    givens = []
    for name in read_givens:
        value = lesson.given[name]
        written = None if hasattr(value, "text") else value  # an Expr is shown as its text instead
        givens.append(GraphNode(name, name, name, PARAM if name in params else INPUT,
                                _given_label(value), (), literal=written))
    loss = _loss_id(lesson, current)
    read = {src for n in ops for src in n.inputs}
    ops = [dataclasses.replace(n, is_output=n.id not in read, is_loss=n.id == loss) for n in ops]
    others = tuple(name for name in lesson.given if name not in read_givens)
    return GraphModel(tuple(givens + ops), loss, others)


def binding_ids(targets: list[str]) -> list[str]:
    """Node ids of assignments to these targets, in order: the name for its last binding,
    "name#k" for the k-th of the earlier ones (the ids build_graph gives)."""
    totals = {t: targets.count(t) for t in targets}
    seen: dict[str, int] = {}
    out = []
    for t in targets:
        seen[t] = seen.get(t, 0) + 1
        out.append(t if seen[t] == totals[t] else f"{t}#{seen[t]}")
    return out


def _binding_name(name: str, number: int, total: int) -> str:
    """h for the binding later lines read; h (old), or h (1), h (2)..., for the ones before it."""
    if number == total:
        return name
    return f"{name} (old)" if total == 2 else f"{name} ({number})"


def resolve_loss(model: GraphModel, values: dict[str, NodeValue] | None) -> str | None:
    """The loss id; without [train] the last graph name is assumed, unless values show it is not a scalar."""
    if not values or model.loss is None:
        return model.loss
    loss = model.node(model.loss)
    if loss.name in values and values[loss.name].shape != ():
        scalars = [n.id for n in model.nodes if n.kind == OP and n.final and n.name in values
                   and values[n.name].shape == ()]
        return scalars[-1] if scalars else None
    return model.loss


def _names_in_order(tree: ast.AST, defined: set[str]) -> list[str]:
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called]
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    skip = language.CONSTANTS | language.DTYPES
    # a lesson's own `e` or `pi` is a node; the constants of those names are not
    return list(dict.fromkeys(n.id for n in found if n.id not in skip or n.id in defined))


def _loss_id(lesson: Lesson, current: dict[str, str]) -> str | None:
    if lesson.train and isinstance(lesson.train.loss.tree, ast.Name):
        return current.get(lesson.train.loss.tree.id)
    if lesson.graph:
        return current[lesson.graph[-1].target]
    return None


_SQUARE = re.compile(r"\s*\*\*\s*([23])(?![\d.])")
_SUPER = {"2": "²", "3": "³"}


def pretty_expr(text: str) -> str:
    """Reads like math: (y_hat - y) ** 2 -> (y_hat − y)², a - b -> a − b."""
    text = _SQUARE.sub(lambda m: _SUPER[m.group(1)], " ".join(text.split()))
    return text.replace(" - ", " − ").replace("**", "^")


def _op_label(assignment) -> str:
    text = pretty_expr(assignment.expr.text)
    if assignment.op == "=":
        return text
    symbol = {"+=": "+", "-=": "−", "*=": "*", "/=": "/"}[assignment.op]
    simple = isinstance(assignment.expr.tree, (ast.Name, ast.Constant, ast.Call, ast.Subscript))
    return f"{assignment.target} {symbol} {text if simple else f'({text})'}"


def _given_label(value) -> str:
    if hasattr(value, "text"):
        return pretty_expr(value.text)
    return format_plain(value)


# ---------------------------------------------------------------- drawing
