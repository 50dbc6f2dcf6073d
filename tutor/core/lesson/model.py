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
