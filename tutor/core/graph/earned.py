"""What the graph view may show: only values and gradients the learner has earned (answered or revealed)."""

from __future__ import annotations

import ast

from tutor.core.evaluate.results import NodeValue
from tutor.core.lesson.graph_ops import needed_lines
from tutor.core.text.matrix import format_plain
from tutor.core.vocabulary import SETTLED, Kind, StepState

HIDDEN = NodeValue((), "?")
EARNED = SETTLED


def ancestors(lesson, name: str) -> set[str]:
    """Every name `name`'s value is computed from, itself included."""
    found = {name}
    for a in needed_lines(list(lesson.graph), name):
        found |= {a.target} | a.expr.reads()
    return found


def _asked_node(step) -> str | None:
    return step.ask.tree.id if isinstance(step.ask.tree, ast.Name) else None


def _asked_grad(step) -> tuple[str, str] | None:
    tree = step.ask.tree
    if (isinstance(tree, ast.Call) and getattr(tree.func, "id", None) == "grad" and len(tree.args) == 2
            and isinstance(tree.args[0], ast.Name) and isinstance(tree.args[1], ast.Name)):
        return tree.args[0].id, tree.args[1].id
    return None


def earned_values(lesson, states: dict[str, str], answers: dict[str, str],
                  values: dict[str, NodeValue], marks: dict[str, str] | None = None) -> dict[str, NodeValue]:
    """Givens as they are; a node a step asks for once that step is solved or revealed (the learner's
    own wrong value beside it); a node no step asks for once a step computed through it is; else `?`.
    `marks` says, per step with a wrong answer, "carried" (it follows from an earlier slip) or "slip"."""
    out: dict[str, NodeValue] = {}
    targets = {a.target for a in lesson.graph}
    asked = {_asked_node(s): s for s in lesson.steps if _asked_node(s) in targets}
    # a graph step earns the drawing, not numbers
    done = [s for s in lesson.steps if states.get(s.id) in EARNED and s.kind != Kind.GRAPH]
    for name, value in values.items():
        if name not in targets:
            out[name] = value
        elif name in asked:
            step = asked[name]
            typed = " ".join(answers.get(step.id, "").split())
            if states.get(step.id) in EARNED:
                out[name] = value if states.get(step.id) == StepState.SOLVED or not typed else _beside(typed, value)
            else:
                mark = {"carried": ", carried", "slip": " ✗ first slip"}.get((marks or {}).get(step.id, ""), "")
                out[name] = NodeValue((), f"? (yours {typed}{mark})") if typed else HIDDEN
        elif any(name in ancestors(lesson, r) for s in done for r in s.ask.reads() if r in targets):
            out[name] = value
        else:
            out[name] = HIDDEN
    return out


def _beside(typed: str, value: NodeValue) -> NodeValue:
    true = format_plain(value.value, value.shape)
    return NodeValue((), f"{true} (yours {typed})")
