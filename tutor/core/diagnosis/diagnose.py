"""Named mistakes: recomputes, live, what common slips would give; names one only when it alone explains an answer."""

from __future__ import annotations

import ast
import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeGuard

import torch

from tutor.core.answer.judge import SWAPPED, check_answer, exactly, placeholder_rounding
from tutor.core.answer.parse import ParsedAnswer
from tutor.core.diagnosis import rewrites as rw
from tutor.core.diagnosis.edits import (
    batched,
    count_terms,
    cross_entropy_inputs,
    parameter_roles,
    softmax_of,
    softmaxes,
    tensor_name,
)
from tutor.core.diagnosis.slips import ACTIVATIONS
from tutor.core.errors import TutorError
from tutor.core.evaluate.compare import flat_values, same_value
from tutor.core.evaluate.results import Expected
from tutor.core.expr import budget
from tutor.core.expr.budget import Budget, BudgetExceeded, Cancelled
from tutor.core.expr.compile import Scope
from tutor.core.lesson.prose import expr_evaluator, has_template, placeholder, render
from tutor.core.text.latex import to_unicode
from tutor.core.vocabulary import Kind, Status

MAX_CANDIDATES = 60
# Diagnosis's cap: past it the candidate list is incomplete, and an incomplete list names nothing.
MAX_SECONDS = 2.0        # wall time; generous, since a busy machine must not change what is named
MIN_OPS = 2_000_000        # enough for every built-in lesson's candidates many times over
MAX_OPS_FACTOR = 8         # ...and never more than this many reruns' worth of a big graph
MAX_ELEMENTS = 4_000_000
MAX_COMPARED = 10_000      # values bigger than this are never compared with an answer

Source = Literal["lesson", "slip", "node"]


@dataclass(frozen=True)
class Candidate:
    """What an answer would be after one mistake, and what to say if it is the explanation."""

    name: str       # the mistake's short plain-text label ("" for a lesson's own: see `label`)
    say: str        # the advice shown after the verdict
    value: Any      # a tensor, a number, or a tuple for a shape
    source: Source  # a lesson's own [[steps.mistakes]], a built-in slip, or another node's value
    nodes: tuple[str, ...] = ()  # nodes whose value this story is (typing them is the story, not a coincidence)

    @property
    def label(self) -> str:
        return self.name or plain_label(self.say)


@dataclass(frozen=True)
class Inputs:
    """Everything diagnosis reads: the lesson and step, the expected answer, the run's values and a way to rerun."""

    lesson: Any                                   # tutor.core.lesson.model.Lesson
    step: Any                                     # tutor.core.lesson.model.Step
    expected: Expected
    values: Mapping[str, Any]                     # every given and graph node of the run, by name
    evaluate: Callable[[Any], Any]                # an Expr evaluated on the run
    rerun: Callable[[str, list | None, ast.AST], Any]  # (slip, rewritten graph lines or None, ask), from the givens
    tolerance: Any = None
    graph_ops: int = 0                            # the graph's predicted work, which sizes diagnosis's budget
    cache: dict = dataclasses.field(default_factory=dict)  # what depends only on the lesson, shared by its steps


@dataclass(frozen=True)
class Candidates:
    """The step's candidates, and whether the list is complete (an incomplete one never names)."""

    items: tuple[Candidate, ...]
    complete: bool


@dataclass(frozen=True)
class Finding:
    """Which candidates explain an answer, and the one named (or why none is)."""

    named: Candidate | None
    explaining: tuple[Candidate, ...]
    why_unnamed: Literal["", "none", "ambiguous", "coincidence", "rounding", "incomplete"]


SHORT = 40  # a label longer than this is cut at its first colon, semicolon or dash


def plain_label(say: str, limit: int = 60) -> str:
    """A lesson mistake's label: the first sentence of its message, as plain text."""

    text = to_unicode(say.strip())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".")
    first = re.sub(r"[$*`\\]", "", first).strip()
    if len(first) > SHORT:  # "Transposed: in numerator layout ..." is named by what precedes the colon
        head = re.split(r"[:;]\s| — ", first, maxsplit=1)[0].strip()
        first = head or first
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def diagnose(inputs: Inputs, cands: Candidates, parsed: ParsedAnswer, verdict):
    """The verdict, with `mistake` set and the advice appended when exactly one mistake explains the answer.

    An answer too coarse to tell (a correct rounding) that is also exactly one mistake's value keeps its
    verdict, asks for more digits and mentions the mistake as a possibility."""
    if verdict.status == Status.IMPRECISE:
        return _possibly_a_slip(inputs, cands, parsed, verdict)
    if verdict.status not in (Status.WRONG, Status.WRONG_SHAPE):
        return verdict
    finding = explain(inputs, cands, parsed)
    if finding.named is None:
        if finding.why_unnamed == "rounding":
            return _possibly_a_slip(inputs, cands, parsed, verdict, finding.explaining)
        if finding.why_unnamed == "ambiguous":
            return _one_of_two(verdict, _stories(finding.explaining))
        return verdict
    # "Rows and columns are swapped." says no more than a named layout or transpose slip does
    message = finding.named.say if verdict.message == SWAPPED else f"{verdict.message} {finding.named.say}"
    return dataclasses.replace(verdict, mistake=finding.named.label, message=message)


def _possibly_a_slip(inputs: Inputs, cands: Candidates, parsed: ParsedAnswer, verdict,
                     explaining: tuple[Candidate, ...] | None = None):
    if explaining is None:
        explaining = tuple(c for c in cands.items if _gives(parsed, c.value, inputs))
    stories = _stories(tuple(c for c in explaining if _exactly(parsed, c.value, inputs)))
    if len(stories) != 1 or not cands.complete:
        return verdict
    typed = " ".join(parsed.text.split())
    ask = "If" if verdict.status == Status.IMPRECISE else "Give more digits; if"
    return dataclasses.replace(verdict, message=f"{verdict.message} {ask} you meant exactly {typed}, "
                                                f"that may be a known slip: {stories[0].say}")


MAX_ALTERNATIVES = 2  # built-in slips said beside a lesson's own mistake when they give the same answer


def _one_of_two(verdict, stories: list[Candidate]):
    """A few slips give this answer and the lesson warned about one of them: the lesson's words are said as a
    possibility, with the others, and nothing is named."""
    own = [c for c in stories if c.source == "lesson"]
    others = [c.label for c in stories if c.source != "lesson"]
    if len(own) != 1 or not 1 <= len(others) <= MAX_ALTERNATIVES:
        return verdict
    return dataclasses.replace(verdict, message=f"{verdict.message} More than one slip gives exactly this. "
                                                f"Perhaps: {own[0].say} Or: {'; or '.join(others)}.")


def _exactly(parsed: ParsedAnswer, value: Any, inputs: Inputs) -> bool:
    """The typed numbers are the candidate's value itself, not a rounding of it."""
    guess = _as_expected(value, inputs.expected)
    if guess is None or guess.kind == Kind.SHAPE:
        return False
    want = _numbers(guess.value)
    return len(want) == len(parsed.values) and all(exactly(a, x, 1e-9) for a, x in zip(parsed.values, want, strict=False))


def explain(inputs: Inputs, cands: Candidates, parsed: ParsedAnswer) -> Finding:
    """Which candidates give this answer; names one only if it alone does and nothing else accounts for it."""
    explaining = tuple(c for c in cands.items if _gives(parsed, c.value, inputs))
    stories = _stories(explaining)
    if not stories:
        return Finding(None, explaining, "none")
    if len(stories) > 1:
        return Finding(None, explaining, "ambiguous")
    if not cands.complete:
        return Finding(None, explaining, "incomplete")
    if _is_another_node(parsed, inputs, set(stories[0].nodes)):
        return Finding(None, explaining, "coincidence")
    if _plain_rounding(parsed, inputs.expected):
        return Finding(None, explaining, "rounding")
    return Finding(stories[0], explaining, "")


def candidates(inputs: Inputs) -> Candidates:
    """Every mistake that can happen in this step, with the value it gives (those equal to the answer dropped).

    Runs on its own capped share of the current budget: a wrong answer never costs more than
    MAX_OPS_FACTOR reruns of the graph; past the cap the list is incomplete and names nothing.
    """
    found: list[Candidate] = []
    meter = _Capped(budget.current(), inputs.graph_ops)
    try:
        with budget.running(meter):
            # a lesson's own mistakes first: the teacher's words win when they tell the same story
            for source in (_lesson_mistakes, _rewritten, _other_quantities, _left_out_of_counts, _generic,
                           _node_inputs):
                for cand in source(inputs):
                    if len(found) >= MAX_CANDIDATES:
                        return Candidates(tuple(found), False)
                    if meter.exceeded:
                        return Candidates(tuple(found), False)
                    guess = _safely(lambda: _as_expected(cand.value, inputs.expected))  # noqa: B023 - called at once, inside the loop
                    if guess is not None and not same_value(guess, inputs.expected):
                        found.append(cand)
    except BudgetExceeded:
        return Candidates(tuple(found), False)
    return Candidates(tuple(found), not meter.exceeded)


class _Capped(Budget):
    """Diagnosis's share of an evaluation's budget: its own limits, and the outer one's (and its cancel)."""

    def __init__(self, outer: Budget, graph_ops: int):
        super().__init__(max_elements=MAX_ELEMENTS, max_ops=MIN_OPS + MAX_OPS_FACTOR * max(0, graph_ops),
                         seconds=MAX_SECONDS)
        self.outer = outer

    exceeded = False  # set once any limit refused work, even if the refusal was reported as a lesson error

    def charge(self, ops: int, elements: int = 0, what: str = "") -> None:
        try:
            super().charge(ops, elements, what)
            self.outer.charge(ops, elements, what)
        except BudgetExceeded:
            self.exceeded = True
            raise

    def check(self) -> None:
        try:
            self.outer.check()
            super().check()
        except BudgetExceeded:
            self.exceeded = True
            raise


# ---- deciding -------------------------------------------------------------------------------

def _gives(parsed: ParsedAnswer, value: Any, inputs: Inputs) -> bool:
    guess = _as_expected(value, inputs.expected)
    if guess is None:
        return False
    status = check_answer(parsed, guess, inputs.tolerance).status
    # a coarse answer ("0.2" for 0.197) still tells which value the learner computed; one exactly halfway
    # ("0.8" for 0.75) or a whole number for a fraction ("1" for 0.5) tells nothing
    return status == Status.CORRECT or (status == Status.IMPRECISE and _tells(parsed, guess))


def _tells(parsed: ParsedAnswer, guess: Expected) -> bool:
    want = _numbers(guess.value)
    if len(want) != len(parsed.values):
        return False
    for a, digits, x in zip(parsed.values, parsed.literal_digits, want, strict=False):
        if digits is None or exactly(a, x, 1e-9):
            continue
        if (a == round(a) and not _whole(x)) or abs(a - x) >= digits.unit / 2 * (1 - 1e-9):
            return False
    return True


def _stories(explaining: tuple[Candidate, ...]) -> list[Candidate]:
    """Distinct explanations. A lesson's own mistake and one built-in slip giving the same answer are one story,
    told in the lesson's words; two different ones are two."""
    # "the value of z" says no more than a slip that already tells z's story ("logits instead of probabilities")
    covered = {n for c in explaining if c.source != "node" for n in c.nodes}
    explaining = tuple(c for c in explaining if not (c.source == "node" and c.nodes and set(c.nodes) <= covered))
    own = list({c.say: c for c in explaining if c.source == "lesson"}.values())
    built_in = list({c.name: c for c in explaining if c.source != "lesson"}.values())
    if len(own) == 1 and len(built_in) <= 1 and all(c.source == "slip" for c in built_in):
        return own
    return own + built_in


def _is_another_node(parsed: ParsedAnswer, inputs: Inputs, story: set[str]) -> bool:
    return bool(other_nodes(parsed, inputs, story))


def other_nodes(parsed: ParsedAnswer, inputs: Inputs, story: Set[str] = frozenset()) -> list[str]:
    """The givens and graph nodes (other than the asked one and the story's own) whose value the answer is."""
    asked = inputs.step.ask.tree.id if isinstance(inputs.step.ask.tree, ast.Name) else None
    if inputs.expected.kind != Kind.VALUE:
        return []
    return [name for name, value in inputs.values.items()
            if name != asked and name not in story and isinstance(value, torch.Tensor) and value.is_floating_point()
            and _gives(parsed, value, inputs)]


def _plain_rounding(parsed: ParsedAnswer, expected: Expected) -> bool:
    """Every typed element the answer correctly rounded to the places typed (too coarse to tell a story)."""
    if expected.kind != Kind.VALUE or not parsed.literal_digits:
        return False
    want = torch.tensor(expected.value, dtype=torch.float64).reshape(-1).tolist()
    if len(want) != len(parsed.values):
        return False
    for a, digits, x in zip(parsed.values, parsed.literal_digits, want, strict=False):
        if digits is None or _whole(x):
            return False
        if abs(a - x) > digits.unit / 2 * (1 + 1e-9) and not placeholder_rounding(abs(a - x), digits):
            return False
    return True


def _whole(x: float) -> bool:
    return abs(x - round(x)) <= 1e-6 * max(1.0, abs(x))


# ---- sources of candidates -----------------------------------------------------------------

def _lesson_mistakes(inputs: Inputs):

    for m in inputs.step.mistakes:
        value = _safely(lambda: inputs.evaluate(m.when))  # noqa: B023 - called at once, inside the loop
        if value is not None:
            named = (m.when.tree.id,) if isinstance(m.when.tree, ast.Name) else ()
            if has_template(m.say):  # the message quotes this run's numbers; one label for every variant
                yield Candidate(plain_label(placeholder(m.say)), render(m.say, expr_evaluator(inputs.evaluate)),
                                value, "lesson", named)
            else:
                yield Candidate("", m.say, value, "lesson", named)  # labelled only if named: rendering costs


# Rewritten trees depend only on a lesson's text (its graph, names and asks), never on its numbers: drill
# variants of one lesson share them. Bounded; cleared when full.
_TREES: dict[tuple, Any] = {}
_MAX_TREES = 20_000


def _shared(key: tuple, compute: Callable[[], Any]) -> Any:
    if key not in _TREES:
        if len(_TREES) >= _MAX_TREES:
            _TREES.clear()
        _TREES[key] = compute()
    return _TREES[key]


def _shape_of(lesson) -> tuple:
    """What rewrites read of a lesson: its graph, given names and training settings (not their numbers)."""
    train = lesson.train
    return (tuple((a.target, a.op, a.expr.text) for a in lesson.graph), tuple(sorted(lesson.given)),
            (train.loss.text, train.params) if train is not None else None)


def _rewritten(inputs: Inputs):
    """Mistakes made by computing something else: the same graph and ask, rewritten and rerun from the givens."""
    lesson, ask = inputs.lesson, inputs.step.ask.tree
    shape = _shape_of(lesson)
    for rewrite in rw.REWRITES:
        if not _shared((shape, inputs.step.ask.text, rewrite.name, "applies"),
                       partial(rewrite.applies, lesson, ask)):
            continue
        graph = _rewritten_graph(inputs, rewrite)
        new_ask = _shared((shape, inputs.step.ask.text, rewrite.name, "ask"),
                          partial(rewrite.apply, ask, lesson, None))
        if graph is None and new_ask is None:
            continue  # the mistake cannot happen in this step
        value = _safely(lambda: inputs.rerun(rewrite.name, graph, new_ask or ask))  # noqa: B023 - called at once, inside the loop
        if value is not None:
            yield Candidate(rewrite.name, rewrite.say, value, "slip", _inner_inputs(lesson, graph))


def _inner_inputs(lesson, graph: list | None) -> tuple[str, ...]:
    """For a rewrite that drops an activation's derivative: the inputs of the activation's argument. Without
    the derivative, ∂y/∂w of y = sin(s), s = w @ x is x itself, so typing x is this slip, not a coincidence."""
    if graph is None:
        return ()
    lines = {a.target: a for a in lesson.graph if a.op == "="}
    found: list[str] = []
    for assignment, tree in zip(lesson.graph, graph, strict=False):
        if tree is None:
            continue
        for node in ast.walk(assignment.expr.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ACTIVATIONS \
                    and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in lines:
                inner = lines[node.args[0].id].expr.tree
                found += [n.id for n in ast.walk(inner) if isinstance(n, ast.Name) and n.id not in found]
                # and what the activation's output is multiplied with downstream: s = dot(u, relu(z)) without
                # ReLU′ gives ∂s/∂z = u, so typing u is this slip
                found += [n for n in _factors_of(lesson, assignment.target) if n not in found]
    return tuple(found)


def _factors_of(lesson, name: str) -> list[str]:
    """Names that multiply `name` in a later line (u in s = dot(u, h) or s = u * h)."""
    out = []
    for a in lesson.graph:
        for node in ast.walk(a.expr.tree):
            pair = None
            if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.MatMult)):
                pair = (node.left, node.right)
            elif _is_call(node, "dot") and len(node.args) == 2:
                pair = (node.args[0], node.args[1])
            if pair is None:
                continue
            for this, other in (pair, pair[::-1]):
                if isinstance(this, ast.Name) and this.id == name and isinstance(other, ast.Name):
                    out.append(other.id)
    return out


def _rewritten_graph(inputs: Inputs, rewrite) -> list | None:
    """The graph's lines after the rewrite (None where unchanged), or None if no line changes; the same for
    every step of a lesson, so kept in the run's cache."""
    def rewritten() -> list | None:
        trees = [rewrite.apply(a.expr.tree, inputs.lesson, a.target) for a in inputs.lesson.graph]
        return None if all(t is None for t in trees) else trees

    return _shared((_shape_of(inputs.lesson), rewrite.name, "graph"), rewritten)


def _other_quantities(inputs: Inputs):
    """Another quantity of the same graph: ∂y/∂w for ∂L/∂w, p for p − y, logits for probabilities. A gradient
    asked in part (grad(L, z)[3]) gives the same part of each."""
    tree, outer = inputs.step.ask.tree, None
    if isinstance(tree, ast.Subscript) and _is_call(tree.value, "grad"):
        tree, outer = tree.value, inputs.step.ask.tree
    for cand in _whole_quantities(inputs, tree):
        if outer is None:
            yield cand
        else:
            part = _safely(partial(_same_part, inputs, outer, cand.value))
            if part is not None:
                yield dataclasses.replace(cand, value=part)


def _same_part(inputs: Inputs, subscript: ast.Subscript, value: Any) -> Any:
    """value[...] with the ask's own index: grad(L, acts)[3] -> candidate[3]."""
    node = ast.fix_missing_locations(ast.Subscript(ast.Name("_whole", ast.Load()), subscript.slice, ast.Load()))
    env = {**inputs.values, "_whole": value}
    return rw.compiler().compile(node)(Scope(value.dtype, env))


def _batch_of(lesson, env, z: str, target: ast.expr | None) -> int:
    """The number of rows cross_entropy averages over: one per class index of a batched target."""
    logits = env.get(z)
    if target is None or not isinstance(logits, torch.Tensor) or logits.dim() < 2:
        return 1
    names = [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    t = env.get(names[0]) if len(names) == 1 else None
    return int(logits.shape[0]) if isinstance(t, torch.Tensor) and t.dim() == logits.dim() - 1 else 1


def _whole_quantities(inputs: Inputs, tree: ast.AST):
    env, lesson = inputs.values, inputs.lesson
    if _is_call(tree, "grad") and len(tree.args) == 2 and isinstance(tree.args[0], ast.Name) \
            and isinstance(tree.args[1], ast.Name):
        f, x = tree.args[0].id, tree.args[1].id
        if f not in env or x not in env:
            return
        for z, target in cross_entropy_inputs(lesson):
            if z == x:
                batch = _batch_of(lesson, env, z, target)  # the mean's 1/N stays: only the − y is forgotten
                yield Candidate("softmax probabilities instead of p − y",
                                f"Those are the softmax probabilities p = softmax({z}); the gradient of "
                                f"cross-entropy with respect to the logits is p − y.",
                                _safely(lambda: torch.softmax(env[z], dim=-1) / batch), "slip",  # noqa: B023 - called at once, inside the loop
                                tuple(p for p, _ in softmaxes(lesson, z)))
        for other in _scalar_nodes(lesson, env):
            # f = sigmoid(other): ∂other/∂x is the forgotten activation derivative, a slip of its own
            if other != f and not _activation_of(lesson, f, other):
                yield Candidate(f"∂{other}/∂{x} instead of ∂{f}/∂{x}",
                                f"That is ∂{other}/∂{x}; this step asks for ∂{f}/∂{x}.",
                                _safely(lambda: _grad(env[other], env[x])), "slip")  # noqa: B023 - called at once, inside the loop
        # with respect to another node or parameter of the same shape; never a target or data
        learnable = set(lesson.graph_names) | set(lesson.train.params if lesson.train else ())
        for other in sorted(learnable):
            value = env.get(other)
            # ∂f/∂h for h = relu(a) asked as ∂f/∂a is the forgotten activation derivative, a slip of its own
            if other not in (x, f) and isinstance(value, torch.Tensor) and value.shape == env[x].shape \
                    and not _activation_output(lesson, other):
                yield Candidate(f"∂{f}/∂{other} instead of ∂{f}/∂{x}",
                                f"That is ∂{f}/∂{other}; the step asks for ∂{f}/∂{x}.",
                                _safely(lambda: _grad(env[f], env[other])), "slip")  # noqa: B023 - called at once, inside the loop
    for z, _prob in softmax_of(lesson, tree):
        yield Candidate("logits instead of probabilities",
                        f"Those are the logits {z}; apply softmax to turn them into probabilities.", env.get(z), "slip",
                        (z,))


MAX_COUNTED_TENSORS = 24  # a sum of more numel terms than this is not a hand count of a model's tensors
_GROUPS = (("bias", "biases left out of the count", "Biases are learnable parameters too: count them with the weights."),
           ("norm", "the norm's gain and bias left out of the count",
            "A normalization layer learns a gain and a bias for each feature it normalizes: count them too."))


def _left_out_of_counts(inputs: Inputs):
    """A parameter count written as a sum of numel terms, with a group of its tensors left out: every bias, the
    normalization layers' gains and biases, or one tensor (named). A single tensor that is a whole group is told
    as the group."""
    if inputs.expected.kind != Kind.INTEGER:
        return
    tree = inputs.step.ask.tree
    if isinstance(tree, ast.Name):  # a count kept in the graph: n_params = numel(W) + numel(b)
        lines = [a for a in inputs.lesson.graph if a.target == tree.id and a.op == "="]
        if not lines:
            return
        tree = lines[-1].expr.tree
    terms = count_terms(tree)
    names = [tensor_name(t) for t in terms]
    if sum(n is not None for n in names) < 2 or len(terms) > MAX_COUNTED_TENSORS:
        return
    roles = _shared((_shape_of(inputs.lesson), "roles"), lambda: parameter_roles(inputs.lesson))

    def without(drop: set[int]):
        kept = [t for i, t in enumerate(terms) if i not in drop]
        new = kept[0]
        for t in kept[1:]:
            new = ast.BinOp(new, ast.Add(), t)
        return _safely(lambda: inputs.rerun("", None, ast.fix_missing_locations(new)))

    group_values = set()
    for role, label, say in _GROUPS:
        drop = {i for i, n in enumerate(names) if n is not None and roles.get(n) == role}
        if drop and len(drop) < len(terms):
            value = without(drop)
            if value is not None:
                group_values.add(int(value))
                yield Candidate(label, say, value, "slip")
    for i, name in enumerate(names):
        if name is None:
            continue
        value = without({i})
        if value is not None and int(value) not in group_values:
            yield Candidate(f"{name} left out of the count",
                            f"That leaves out {name}: every tensor of the parameter list counts.", value, "slip")


def _node_inputs(inputs: Inputs):
    """The input of the asked node's own line (h = relu(z) answered with z): the last operation left out."""
    tree = inputs.step.ask.tree
    if inputs.step.kind != Kind.VALUE or not isinstance(tree, ast.Name):
        return
    lines = [a for a in inputs.lesson.graph if a.target == tree.id and a.op == "="]
    if not lines:
        return
    used = {n.id for n in ast.walk(lines[-1].expr.tree) if isinstance(n, ast.Name)}
    for name in sorted(used & (set(inputs.lesson.graph_names) | set(inputs.lesson.given))):
        value = inputs.values.get(name)
        # a given is an input too (wei = tril / ... typed as tril), but a single number is too common to tell
        if name != tree.id and isinstance(value, torch.Tensor) and (name not in inputs.lesson.given or value.numel() > 1):
            yield Candidate(f"the value of {name}", f"That is the value of {name}; this step asks for {tree.id}.",
                            value, "node", (name,))


def _generic(inputs: Inputs):
    expected, ask = inputs.expected, inputs.step.ask.tree
    if expected.kind == Kind.SHAPE:
        dims = tuple(expected.value)
        if len(dims) == 2 and dims[0] != dims[1]:
            if _contains(ask, "jacobian"):
                yield Candidate("Jacobian in the other layout",
                                "That is the denominator layout (columns follow f). This lesson uses numerator "
                                "layout: one row per entry of f, one column per entry of x.", dims[::-1], "slip")
            else:
                yield Candidate("transposed shape", "Rows come first, then columns.", dims[::-1], "slip")
        shaped = ask.args[0] if _is_call(ask, "shape") and ask.args else None
        if len(dims) >= 3 and shaped is not None and batched(inputs.lesson, shaped):
            yield Candidate("batch dimension left out", "The batch dimension N comes first in PyTorch's layout.",
                            dims[1:], "slip")
        return
    if expected.kind != Kind.VALUE:
        return
    value = torch.tensor(expected.value, dtype=torch.float64)
    if value.dim() == 2 and value.shape[0] > 1 and value.shape[1] > 1:
        if _contains(ask, "jacobian"):
            yield Candidate("Jacobian in the other layout",
                            "That is the denominator layout (its transpose). This lesson uses numerator layout: "
                            "one row per entry of f, one column per entry of x.", value.T, "slip")
            if torch.equal(value, torch.diag(torch.diagonal(value))):
                yield Candidate("the diagonal only",
                                "The Jacobian of an elementwise function is a full square matrix: the derivatives "
                                "on the diagonal, zeros elsewhere.", torch.diagonal(value), "slip")
        else:
            yield Candidate("transposed matrix", "That is the transpose of the answer: check rows against columns.",
                            value.T, "slip")
    yield Candidate("sign flipped", "The sign is flipped: check each minus sign along the chain.", -value, "slip")


# ---- helpers ---------------------------------------------------------------------------

def _safely(compute: Callable[[], Any]) -> Any:
    """The value, or None when the slip cannot be computed here; running out of budget or a cancel is raised."""
    try:
        return compute()
    except (BudgetExceeded, Cancelled):
        raise
    except (TutorError, RuntimeError, ValueError, TypeError, IndexError, KeyError, ZeroDivisionError,
            OverflowError, NotImplementedError):
        return None


def _grad(f: torch.Tensor, x: torch.Tensor) -> torch.Tensor | None:
    if f.numel() != 1 or not f.requires_grad or not x.requires_grad:
        return None
    (g,) = torch.autograd.grad(f.reshape(()), x, retain_graph=True, allow_unused=True)
    return g


def _activation_output(lesson, name: str) -> bool:
    lines = [a for a in lesson.graph if a.target == name and a.op == "="]
    tree = lines[-1].expr.tree if lines else None
    return bool(isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id in ACTIVATIONS)


def _activation_of(lesson, f: str, z: str) -> bool:
    """Whether f's line applies an activation to z (f = sigmoid(z), y = sin(s) - b)."""
    lines = [a for a in lesson.graph if a.target == f and a.op == "="]
    tree = lines[-1].expr.tree if lines else None
    return tree is not None and any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ACTIVATIONS
        and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == z for node in ast.walk(tree))


def _scalar_nodes(lesson, env) -> list[str]:
    return [n for n in lesson.graph_names if isinstance(env.get(n), torch.Tensor) and env[n].numel() == 1]


def _is_call(tree: ast.AST, name: str) -> TypeGuard[ast.Call]:
    return isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == name


def _contains(tree: ast.AST, name: str) -> bool:
    return any(_is_call(n, name) for n in ast.walk(tree))


def _as_expected(value: Any, like: Expected) -> Expected | None:
    if value is None:
        return None
    if like.kind == Kind.SHAPE:
        dims = [int(d) for d in value] if isinstance(value, tuple) else None
        return Expected(Kind.SHAPE, dims, (len(dims),)) if dims is not None else None
    if isinstance(value, torch.Tensor):
        if value.is_meta or value.numel() > MAX_COMPARED:
            return None  # shapes only, or too big to be anyone's hand-typed answer
        t = value.detach().double()
        if not torch.isfinite(t).all():
            return None
        if like.kind == Kind.INTEGER:
            whole = t.numel() == 1 and _whole(t.item())
            return Expected(Kind.INTEGER, int(round(t.item())), ()) if whole else None
        return Expected(Kind.VALUE, t.tolist() if t.dim() else float(t.item()), tuple(t.shape))
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        if like.kind == Kind.INTEGER:
            return Expected(Kind.INTEGER, int(round(value)), ()) if _whole(value) else None
        return Expected(Kind.VALUE, float(value), ())
    return None


def _numbers(value: Any) -> list[float]:
    """A computed value's numbers in order (none when it is not made of numbers)."""
    flat = flat_values(value)
    return flat[2] if flat else []
