"""Errors carried forward: a wrong answer that is right for the learner's own earlier (wrong) answers."""

from __future__ import annotations

import ast
import dataclasses
from typing import Any

import torch

from tutor.core.answer.judge import check_answer
from tutor.core.answer.parse import ParsedAnswer, parse_answer
from tutor.core.errors import TutorError
from tutor.core.evaluate.expected import as_expected
from tutor.core.evaluate.run import compile_expr, run_graph
from tutor.core.expr.syntax import Assignment, Expr
from tutor.core.lesson.graph_ops import needed_lines, plain_assignment
from tutor.core.vocabulary import Status

MAX_SHOWN = 24   # characters of a learner's typed value quoted back


@dataclasses.dataclass(frozen=True)
class Pin:
    """An earlier step's node held at the learner's own (wrong) value."""

    step_id: str
    number: int       # 1-based position of the step in the lesson
    name: str         # the graph node the step asks for
    typed: str        # as the learner typed it
    value: torch.Tensor


def node_steps(lesson) -> dict[str, str]:
    """Step id -> graph node name, for steps that ask for a node's value (`ask = "y"`)."""
    targets = {a.target for a in lesson.graph}
    return {s.id: s.ask.tree.id for s in lesson.steps
            if isinstance(s.ask.tree, ast.Name) and s.ask.tree.id in targets}


def wrong_pins(live, answers: dict[str, str], before: str | None = None) -> list[Pin]:
    """The learner's wrong values of graph nodes, from steps before `before` (all steps when None)."""
    order = [s.id for s in live.lesson.steps]
    limit = order.index(before) if before in order else len(order)
    pins = []
    for step_id, name in node_steps(live.lesson).items():
        index = order.index(step_id)
        text = answers.get(step_id)
        if index >= limit or not isinstance(text, str) or not text.strip():
            continue
        value = learner_value(live, step_id, text)
        if value is not None:
            pins.append(Pin(step_id, index + 1, name, " ".join(text.split()), value))
    return pins


def learner_value(live, step_id: str, text: str) -> torch.Tensor | None:
    """The typed answer as a tensor shaped like the node, when it is readable and wrong; else None."""
    step = live.lesson.step(step_id)
    try:
        expected = live.expected(step_id)
        parsed = parse_answer(text, "value")
    except TutorError:
        return None
    if check_answer(parsed, expected, step.tolerance or live.lesson.tolerance).status != Status.WRONG:
        return None
    if len(parsed.values) != max(1, _numel(expected.shape)):
        return None
    return torch.tensor(parsed.values, dtype=live.dtype).reshape(expected.shape)


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def depends_on(lesson, expr: Expr) -> set[str]:
    """Every graph name an expression's value is computed from."""
    found: set[str] = set()
    for name in expr.reads():
        found |= {a.target for a in needed_lines(list(lesson.graph), name)}
        for a in needed_lines(list(lesson.graph), name):
            found |= a.expr.reads()
    return found


def run_pinned(live, pins: list[Pin], budget: Any = None):
    """The lesson's graph with each pinned node held at the learner's value.

    Gradients still flow through a pinned node as through the lesson's own (its local derivative is
    kept), so a later gradient is the one the learner's own numbers lead to.
    """
    held = {p.name: p.value for p in pins}
    last = {a.target: k for k, a in enumerate(live.lesson.graph)}
    lines = []
    for k, (assignment, fn) in enumerate(live.lines):
        if assignment.target in held and last[assignment.target] == k:
            tree = plain_assignment(assignment)
            plain = Assignment(assignment.target, "=", Expr(ast.unparse(tree), tree), assignment.line)
            lines.append((plain, _held(compile_expr(plain.expr), held[assignment.target])))
        else:
            lines.append((assignment, fn))
    return run_graph(lines, live.givens, live.dtype, budget, lesson=live, file=str(live.lesson.id))


def _held(fn, pin: torch.Tensor):
    def run(scope):
        value = fn(scope)
        if isinstance(value, torch.Tensor) and value.is_floating_point() and value.numel() == pin.numel():
            return value + (pin.reshape(value.shape) - value).detach()
        return pin
    return run


def carried_verdict(live, step, parsed: ParsedAnswer, verdict, earlier: dict[str, str], budget: Any = None):
    """The verdict saying the answer follows from earlier wrong answers, or None when it does not.

    It stays wrong: a carried answer is never counted correct (entering easy upstream values gains nothing).
    """
    upstream = depends_on(live.lesson, step.ask)
    pins = [p for p in wrong_pins(live, earlier, before=step.id) if p.name in upstream]
    if not pins:
        return None
    try:
        scope = run_pinned(live, pins, budget)
        carried = as_expected(step.kind, compile_expr(step.ask)(scope))
    except (TutorError, RuntimeError, ValueError, TypeError, IndexError):
        return None
    if check_answer(parsed, carried, step.tolerance or live.lesson.tolerance).status not in (Status.CORRECT, Status.IMPRECISE):
        return None
    return dataclasses.replace(verdict, message=carried_message(pins), carried_from=tuple(p.step_id for p in pins))


def carried_message(pins: list[Pin]) -> str:
    yours = " and ".join(f"{p.name} = {_cut(p.typed)}" for p in pins)
    steps = " and ".join(f"{p.number} ({p.step_id})" for p in pins)
    where = f"the slip is in step {steps}" if len(pins) == 1 else f"the slips are in steps {steps}"
    return f"That is right for your {yours}; {where}."


def _cut(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"
