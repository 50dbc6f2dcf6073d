"""The lesson data model: a lesson, its steps, named mistakes, tolerances and training settings."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.core.expr import names
from tutor.core.expr.syntax import Assignment, Expr
from tutor.core.vocabulary import Kind


@dataclass(frozen=True)
class Tolerance:
    """|answer - expected| <= atol + rtol * |expected|, replacing the default rounding rule."""

    rtol: float = 0.0
    atol: float = 0.0


@dataclass(frozen=True)
class Mistake:
    """A lesson's own named mistake: if the answer matches `when`, say `say`."""

    when: Expr
    say: str


@dataclass(frozen=True)
class Step:
    id: str
    ask: Expr
    prompt: str
    hints: tuple[str, ...] = ()
    explain: str = ""
    tolerance: Tolerance | None = None
    mistakes: tuple[Mistake, ...] = ()
    skills: tuple[str, ...] = ()  # empty: the lesson's skills (see tutor/core/skills.py)

    @property
    def kind(self) -> Kind:
        """How an answer is read and compared: a shape, a graph, a count or a value."""
        top = self.ask.top_call()
        if top == "shape":
            return Kind.SHAPE
        if top == "graph":
            return Kind.GRAPH
        return Kind.INTEGER if _counts(self.ask.tree) else Kind.VALUE


@dataclass(frozen=True)
class Train:
    loss: Expr
    params: tuple[str, ...]
    lr: float
    steps: int


@dataclass(frozen=True)
class Conventions:
    """Claims a lesson's text makes about the answers of every variant (`[conventions]`, 2026-12-04);
    `tutor check` tests each on the lesson's own numbers and on its drill variants."""

    decimals: int | None = None          # "two decimals are enough": every value answer, rounded to this many
    significant: int | None = None       # "two significant figures are enough"
    whole_numbers: tuple[str, ...] = ()  # "whole numbers throughout": these steps' answers are whole numbers
    whole_everywhere: bool = False       # whole_numbers = true: every step's


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    topic: str
    steps: tuple[Step, ...]
    given: dict[str, Any]          # name -> number, nested list, or Expr
    graph: tuple[Assignment, ...] = ()
    order: float = 0
    source: str = ""
    dtype: str = "float64"
    intro: str = ""
    train: Train | None = None
    drill: dict[str, Any] = field(default_factory=dict)  # name -> number, list or Expr
    tolerance: Tolerance | None = None
    path: Path | None = None
    graph_text: str = ""
    skills: tuple[str, ...] = ()  # empty: the topic's skills
    conventions: Conventions = field(default_factory=Conventions)

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    @property
    def graph_names(self) -> list[str]:
        seen: list[str] = []
        for a in self.graph:
            if a.target not in seen:
                seen.append(a.target)
        return seen


_SIZED = {"zeros", "ones", "eye", "arange", "linspace", "reshape", "unvec"}
_COUNTING_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv)


def size_names(lesson: Lesson) -> set[str]:
    """Givens used as sizes: read inside the sizes of zeros/ones/eye/arange/reshape, in the graph or the givens."""
    trees = [a.expr.tree for a in lesson.graph] + [v.tree for v in lesson.given.values() if hasattr(v, "tree")]
    found: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _SIZED:
                sizes = node.args[1:] if node.func.id in ("reshape", "unvec") else node.args
                found |= {n.id for arg in sizes for n in ast.walk(arg) if isinstance(n, ast.Name)}
    return found & set(lesson.given)


def is_count(tree: ast.AST, lesson: Lesson, whole) -> bool:
    """Whether an expression is built only from whole numbers by counting (amended contract, 2026-12-04):
    numel, shapes and other counts, whole-number givens used as sizes, whole literals, and sums,
    differences, products and quotients of those; `whole(name)` says whether a given's value is a whole
    number. The caller still checks that the value itself is whole (a quotient may not be)."""
    sizes = size_names(lesson)
    lines = {a.target: a for a in lesson.graph}

    def counts(node: ast.AST, depth: int = 0) -> tuple[bool, bool]:  # (built by counting, counts something)
        if depth > 50:
            return False, False
        if isinstance(node, ast.Constant):
            ok = isinstance(node.value, (int, float)) and not isinstance(node.value, bool) \
                and float(node.value).is_integer()
            return ok, False
        if _counts(node):
            return True, True
        if isinstance(node, ast.Name):
            if node.id in lesson.given:
                ok = node.id in sizes and whole(node.id)
                return ok, ok
            line = lines.get(node.id)
            if line is None or line.op != "=" or sum(a.target == node.id for a in lesson.graph) > 1:
                return False, False
            return counts(line.expr.tree, depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, _COUNTING_OPS):
            (left, a), (right, b) = counts(node.left, depth + 1), counts(node.right, depth + 1)
            return left and right, a or b
        return False, False

    built, counting = counts(tree)
    return built and counting


def _counts(tree: ast.AST) -> bool:
    """Whole-number asks: counts (numel, bytes, flops...), shape entries, and + - * of them."""
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name):
        return tree.func.id in names.INTEGER_ASKS
    if isinstance(tree, ast.Subscript):
        return isinstance(tree.value, ast.Call) and getattr(tree.value.func, "id", None) == "shape"
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, (ast.Add, ast.Sub, ast.Mult)):
        sides = (tree.left, tree.right)
        whole = [s for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, int)]
        return all(_counts(s) or s in whole for s in sides) and len(whole) < 2
    return False
