"""Filling a computational graph in node by node: each node's value and its gradient ∂output/∂node,
computed live by PyTorch and checked, with errors carried forward both ways.

A wrong value is tried again against the node's operation applied to the learner's own upstream
values; a wrong gradient against the learner's own downstream gradients times the local
derivatives at the learner's own values. Everything a check needs is passed in (the drawing, its
outputs, what was typed), so a step checker can call it like any other check.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch

from tutor.core.answer.judge import Verdict, check_answer, read_answer
from tutor.core.answer.parse import ParsedAnswer
from tutor.core.errors import TutorError
from tutor.core.evaluate.results import Expected
from tutor.core.evaluate.run import compile_expr, plain_data, run_graph
from tutor.core.expr.budget import Cancelled
from tutor.core.expr.syntax import Assignment, Expr
from tutor.core.graph.model import binding_ids
from tutor.core.lesson.graph_ops import plain_assignment
from tutor.core.lesson.model import Tolerance
from tutor.core.vocabulary import Kind, Status

VALUE, GRAD = "value", "grad"
MAX_SHOWN = 24        # characters of a typed value quoted back
MAX_DEPTH = 6         # how far back a carried error is traced to its first slip
RIGHT = (Status.CORRECT, Status.IMPRECISE)
FAILED = (TutorError, RuntimeError, ValueError, TypeError, IndexError, ZeroDivisionError)


def value_key(node: str) -> str:
    return f"v:{node}"


def grad_key(output: str, node: str) -> str:
    return f"g:{output}:{node}"


def parse_key(key: str) -> tuple[str, str | None, str]:
    """(VALUE or GRAD, output node or None, node) of a field key (v:node or g:output:node)."""
    if key.startswith("g:"):
        _, output, node = key.split(":", 2)
        return GRAD, output, node
    return VALUE, None, key[2:]


@dataclass(frozen=True)
class Drawing:
    """A graph to fill in: one node per line (augmented assignments written out), from the givens."""

    lines: tuple[Assignment, ...]
    ids: tuple[str, ...]                              # each line's node id ("c", or "c#1" for an earlier c)
    reads: tuple[tuple[tuple[str, str], ...], ...]    # per line: (name read, the node id it names there)
    givens: tuple[str, ...]                           # the givens the lines read, in reading order
    lessons_graph: bool                               # the lesson's own graph (else a drawing of it)

    def line_of(self, node: str) -> int | None:
        return self.ids.index(node) if node in self.ids else None

    def display(self, node: str) -> str:
        """The node as the drawing names it: "c", or "c (old)" / "c (2)" for an earlier binding."""
        name, _, number = node.partition("#")
        if not number:
            return name
        total = sum(1 for i in self.ids if i == name or i.startswith(name + "#"))
        return f"{name} (old)" if total == 2 else f"{name} ({number})"

    @cached_property
    def ancestors(self) -> dict[str, set[str]]:
        """Node id -> every node (givens included) its value is computed from, itself excluded."""
        out: dict[str, set[str]] = {g: set() for g in self.givens}
        for node, reads in zip(self.ids, self.reads, strict=True):
            found: set[str] = set()
            for _, source in reads:
                found |= {source} | out.get(source, set())
            out[node] = found
        return out

    def descendants(self, node: str) -> set[str]:
        return {n for n, above in self.ancestors.items() if node in above}

    @cached_property
    def compiled(self) -> list[Any]:
        return [compile_expr(a.expr) for a in self.lines]


def make_drawing(lines: list[Assignment] | tuple[Assignment, ...], given: set[str] | dict,
                 lessons_graph: bool = False) -> Drawing:
    plain = [a if a.op == "=" else _written_out(a) for a in lines]
    ids = binding_ids([a.target for a in plain])
    current: dict[str, str] = {}
    reads = []
    givens: list[str] = []
    for a, node in zip(plain, ids, strict=True):
        pairs = tuple((n, current.get(n, n)) for n in sorted(a.expr.reads()) if n in current or n in given)
        givens += [n for n, _ in pairs if n not in current and n not in givens]
        reads.append(pairs)
        current[a.target] = node
    return Drawing(tuple(plain), tuple(ids), tuple(reads), tuple(givens), lessons_graph)


def _written_out(a: Assignment) -> Assignment:
    tree = plain_assignment(a)
    return Assignment(a.target, "=", Expr(ast.unparse(tree), tree), a.line)


# ---- computing ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Numbers:
    """Every node's value, and ∂output/∂node for each output and each node it is computed from."""

    values: dict[str, torch.Tensor]
    grads: dict[tuple[str, str], torch.Tensor]


def compute(live, drawing: Drawing, outputs: tuple[str, ...] = (), value_pins: dict[str, torch.Tensor] | None = None,
            grad_pins: dict[tuple[str, str], torch.Tensor] | None = None,
            givens: dict[str, torch.Tensor] | None = None) -> Numbers:
    """Runs the drawing forward from the givens, then backward from each output, node by node.

    A node in `value_pins` is held at that value (the learner's own); the gradient leaving a node in
    `grad_pins` is the learner's own instead of the one computed, so what comes out upstream is what
    their own numbers lead to. Each local derivative is taken at the values of this run.
    """
    value_pins, grad_pins = value_pins or {}, grad_pins or {}
    start = live.givens if givens is None else givens
    values: dict[str, torch.Tensor] = {n: start[n] for n in drawing.givens if n in start}
    env = dict(start)
    before: list[dict[str, Any]] = []
    for k, a in enumerate(drawing.lines):
        node = drawing.ids[k]
        before.append(env)
        if node in value_pins:
            env = {**env, a.target: _leaf(value_pins[node], live.dtype)}
        else:
            env = run_graph([(a, drawing.compiled[k])], env, live.dtype, lesson=live, file="the graph").env
        values[node] = env[a.target]
    grads: dict[tuple[str, str], torch.Tensor] = {}
    for out in outputs:
        last = drawing.line_of(out)
        if last is None or not _scalar(values[out]):
            continue
        flow: dict[str, torch.Tensor] = {out: torch.ones_like(values[out])}
        for k in range(last, -1, -1):
            node = drawing.ids[k]
            if node not in flow:
                continue
            grads[(out, node)] = flow[node]
            leaving = grad_pins.get((out, node), flow[node])
            for source, part in _local_vjp(live, drawing, k, before[k], leaving):
                flow[source] = flow[source] + part if source in flow else part
        for name in drawing.givens:
            if name in flow:
                grads[(out, name)] = flow[name]
    return Numbers(values, grads)


def _local_vjp(live, drawing: Drawing, k: int, env: dict[str, Any], upstream: torch.Tensor):
    """(node id, upstream · ∂line/∂input) for each differentiable input of line k, at these values."""
    a = drawing.lines[k]
    pairs = [(n, i) for n, i in drawing.reads[k] if _differentiable(env.get(n))]
    if not pairs:
        return []
    leaves = {n: env[n].detach().clone().requires_grad_(True) for n, _ in pairs}
    out = run_graph([(a, drawing.compiled[k])], {**env, **leaves}, live.dtype, lesson=live, file="the graph").env[a.target]
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        return []
    upstream = upstream.detach().to(out.dtype)
    if upstream.numel() != out.numel():
        return []
    got = torch.autograd.grad(out, [leaves[n] for n, _ in pairs], grad_outputs=upstream.reshape(out.shape),
                              allow_unused=True)
    return [(i, g.detach()) for (_, i), g in zip(pairs, got, strict=True) if g is not None]


def _differentiable(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.is_floating_point()


def _scalar(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point()


def _leaf(value: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return value.detach().to(dtype).clone().requires_grad_(True)


def as_expected(value: torch.Tensor) -> Expected:
    shape, data = plain_data(value)
    return Expected(Kind.VALUE, data, shape)


# ---- checking ----------------------------------------------------------------------------

class NodeChecker:
    """Checks typed values and gradients of one drawing's nodes against the live lesson.

    `labels` maps each field key to how it is written ("y", "∂ℒ/∂y"); `outputs` are the nodes whose
    gradients are filled in.
    """

    def __init__(self, live, drawing: Drawing, outputs: tuple[str, ...], labels: dict[str, str],
                 tolerances: dict[str, Tolerance] | None = None):
        self.live = live
        self.drawing = drawing
        self.outputs = outputs
        self.labels = labels
        self.tolerances = tolerances or {}  # a step's own tolerance for the field it asks for
        self.truth = compute(live, drawing, outputs)

    def tolerance(self, key: str) -> Tolerance | None:
        return self.tolerances.get(key) or self.live.lesson.tolerance

    def true_tensor(self, key: str, numbers: Numbers | None = None) -> torch.Tensor | None:
        numbers = numbers or self.truth
        kind, output, node = parse_key(key)
        if kind == VALUE or output is None:
            return numbers.values.get(node)
        return numbers.grads.get((output, node))

    def expected(self, key: str) -> Expected:
        value = self.true_tensor(key)
        if value is None:
            raise KeyError(key)
        return as_expected(value)

    def check(self, key: str, text: str, typed: dict[str, str], depth: int = 0) -> Verdict:
        """The verdict on `text` for field `key`; `typed` holds the learner's other typed fields."""
        expected = self.expected(key)
        parsed = read_answer(text, expected)
        if not isinstance(parsed, ParsedAnswer):
            return parsed
        verdict = check_answer(parsed, expected, self.tolerance(key))
        if verdict.status in RIGHT or verdict.status not in (Status.WRONG, Status.WRONG_SHAPE):
            return verdict
        try:
            pins = self._carried_pins(key, parsed, typed, depth)
        except Cancelled:
            raise
        except FAILED:  # the learner's own numbers cannot be run through (a log of their negative value)
            pins = None
        if not pins:
            return verdict
        origins: list[str] = []
        for pin in pins:
            for origin in self._origins(pin, typed, depth + 1):
                if origin not in origins:
                    origins.append(origin)
        return Verdict(Status.WRONG, self._carried_message(pins, origins, typed), wrong=verdict.wrong,
                       answer_shape=verdict.answer_shape, expected_shape=verdict.expected_shape,
                       carried_from=tuple(pins))

    # what the learner's own numbers lead to

    def wrong_typed(self, typed: dict[str, str]) -> dict[str, torch.Tensor]:
        """Each typed field that reads as a value of its node's shape and is wrong, as a tensor."""
        out = {}
        for key, text in typed.items():
            truth = self.true_tensor(key)
            if truth is None or not isinstance(text, str) or not text.strip():
                continue
            expected = as_expected(truth)
            parsed = read_answer(text, expected)
            if not isinstance(parsed, ParsedAnswer) or len(parsed.values) != max(1, truth.numel()):
                continue
            if check_answer(parsed, expected, self.tolerance(key)).status != Status.WRONG:
                continue
            out[key] = torch.tensor(parsed.values, dtype=self.live.dtype).reshape(truth.shape)
        return out

    def _candidate_pins(self, key: str, typed: dict[str, str]) -> dict[str, torch.Tensor]:
        """The learner's wrong fields that can change this one: upstream values for a value; for a
        gradient, every value (local derivatives read them) and the gradients downstream of it."""
        kind, output, node = parse_key(key)
        wrong = self.wrong_typed({k: t for k, t in typed.items() if k != key})
        if kind == VALUE:
            above = self.drawing.ancestors.get(node, set())
            return {k: v for k, v in wrong.items() if parse_key(k)[0] == VALUE and parse_key(k)[2] in above}
        below = self.drawing.descendants(node)
        return {k: v for k, v in wrong.items() if parse_key(k)[0] == VALUE
                or (parse_key(k)[1] == output and parse_key(k)[2] in below)}

    def _leads_to(self, key: str, parsed: ParsedAnswer, pins: dict[str, torch.Tensor]) -> bool:
        values = {parse_key(k)[2]: v for k, v in pins.items() if parse_key(k)[0] == VALUE}
        grads = {(out, node): v for k, v in pins.items() if (out := parse_key(k)[1]) is not None
                 and (node := parse_key(k)[2])}
        output = parse_key(key)[1]
        outputs = (output,) if output is not None else ()
        own = self.true_tensor(key, compute(self.live, self.drawing, outputs, values, grads))
        if own is None:
            return False
        return check_answer(parsed, as_expected(own), self.tolerance(key)).status in RIGHT

    def _carried_pins(self, key: str, parsed: ParsedAnswer, typed: dict[str, str], depth: int) -> list[str]:
        """The fewest of the learner's wrong fields that make this answer right, or [] if none do."""
        if depth > MAX_DEPTH:
            return []
        pins = self._candidate_pins(key, typed)
        if not pins or not self._leads_to(key, parsed, pins):
            return []
        for pin in list(pins):
            fewer = {k: v for k, v in pins.items() if k != pin}
            if fewer and self._leads_to(key, parsed, fewer):
                pins = fewer
        return list(pins)

    def _origins(self, key: str, typed: dict[str, str], depth: int) -> list[str]:
        """Where a wrong field's error began: itself, or the first slips it was carried from."""
        verdict = self.check(key, typed[key], {k: t for k, t in typed.items() if k != key}, depth) \
            if depth <= MAX_DEPTH else None
        if verdict is None or not verdict.carried_from:
            return [key]
        found: list[str] = []
        for pin in verdict.carried_from:
            found += [o for o in self._origins(pin, typed, depth + 1) if o not in found]
        return found

    def _carried_message(self, pins: list[str], origins: list[str], typed: dict[str, str]) -> str:
        yours = " and ".join(f"{self.labels.get(p, p)} = {_cut(typed[p])}" for p in pins)
        places = []
        for origin in origins:
            place = self.drawing.display(parse_key(origin)[2])
            if place not in places:
                places.append(place)
        where = " and ".join(places)
        return f"That is right for your {yours}; the slip is at {where}."


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"
