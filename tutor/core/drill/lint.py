"""`tutor check`'s reading of a lesson against its own numbers and its drill variants: named mistakes that are
never named, numbers typed in prose that belong in `{{ }}`, precision claims, halving claims, sizes drawn
apart that the lesson's numbers tie together, and articles before quoted numbers.

Every finding is (where, seed, reason, line): `where` as lesson_texts() names a field ("intro",
"step 'dw' explain"), seed None for the lesson's own numbers, line the file's line when it is known.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import torch

from tutor.core.answer.judge import check_answer
from tutor.core.answer.parse import parse_answer
from tutor.core.check.step import checker_for
from tutor.core.diagnosis.diagnose import explain, other_nodes, plain_label
from tutor.core.errors import LessonErrors, TutorError
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson import lint as text_lint
from tutor.core.lesson.model import Lesson, size_names
from tutor.core.lesson.prose import evaluator, lesson_texts, placeholder, quote_value
from tutor.core.text.latex import plain_text
from tutor.core.training.runs import has_plot, plot_rate

MAX_LISTED_VALUES = 64   # quantities bigger than this are compared by their sizes only
CONTAINED = (TutorError, LessonErrors, ArithmeticError, ValueError, TypeError, IndexError, KeyError, RuntimeError)


@dataclass(frozen=True)
class Finding:
    where: str | None
    seed: int | None
    reason: str
    line: int | None = None
    needle: str | None = None    # the text to find the line by
    field: str | None = None     # the field to find it in, when not `where` ("step 'dw' mistake #1 say")


@dataclass
class Run:
    """One set of numbers: the lesson's own (seed None) or a drill variant's."""

    seed: int | None
    lesson: Lesson
    live: LiveLesson


def lint(lesson: Lesson, own: LiveLesson, variants: list[tuple[int, Lesson, LiveLesson | None]],
         source: str = "") -> list[Finding]:
    """Everything `tutor check` finds beyond validity and fairness, for the lesson and its checked variants
    (seed, variant lesson, its LiveLesson when one was already built)."""
    runs = [Run(None, lesson, own)]
    for seed, drawn, live in variants:
        try:
            runs.append(Run(seed, drawn, live if live is not None else LiveLesson(drawn)))
        except CONTAINED:
            continue  # a variant that cannot run was already reported as unfair
    found: list[Finding] = []
    for check in (_mistakes_never_named, _precision, _typed_numbers, _halvings, _sizes_drawn_apart, _articles):
        try:
            found += check(lesson, runs)
        except CONTAINED as err:  # one check's failure is reported, the others still run
            found.append(Finding(None, None, f"could not finish checking ({check.__name__.strip('_')}): {err}"))
    return [_with_line(f, source) for f in found]


def _with_line(finding: Finding, source: str) -> Finding:
    field = finding.field or finding.where
    if not source or field is None or finding.line is not None:
        return finding
    line = text_lint.field_line(source, field, finding.needle or "")
    return dataclasses.replace(finding, line=line)


# ---- named mistakes that are never named ------------------------------------------------------------

def _mistakes_never_named(lesson: Lesson, runs: list[Run]) -> list[Finding]:
    found = []
    for step in lesson.steps:
        if step.kind == "graph":
            continue
        for number, mistake in enumerate(step.mistakes, start=1):
            label = plain_label(placeholder(mistake.say))
            name = f"named mistake #{number} ({label!r}, when = {mistake.when.text!r})"
            outcomes: list[tuple[int | None, str | None]] = []  # (seed, why not named; None when named)
            for run in runs:
                outcome = _fires(run, step.id, mistake.when.text, label)
                if outcome is not False:
                    outcomes.append((run.seed, outcome))
            own = [why for seed, why in outcomes if seed is None]
            field = f"step {step.id!r} mistake #{number} say"
            if own and own[0] is not None:
                found.append(Finding(f"step {step.id!r}", None,
                                     f"{name} is never named on the lesson's own numbers: {own[0]}", field=field))
            drawn = [(seed, why) for seed, why in outcomes if seed is not None]
            if drawn and all(why is not None for _, why in drawn):
                seed, why = drawn[0]
                found.append(Finding(f"step {step.id!r}", seed,
                                     f"{name} is never named on any of the {len(drawn)} drill variants checked; "
                                     f"here: {why}", field=field))
    return found


def _fires(run: Run, step_id: str, when: str, label: str) -> str | None | Literal[False]:
    """None when typing the mistake's own value names it; why not otherwise; False when it is not tried here."""
    step = run.lesson.step(step_id)
    mistake = next((m for m in step.mistakes if m.when.text == when), None)
    if mistake is None:
        return False  # dropped from this variant (its whole message was about the lesson's own numbers)
    try:
        expected = run.live.expected(step_id)
        value = run.live.evaluate(mistake.when)
    except CONTAINED:
        return False  # reported by the fairness checks
    typed = typed_text(value, expected.kind)
    if typed is None:
        return "its value cannot be typed as an answer to this step"
    checker = checker_for(run.live)
    verdict = checker.check(step_id, typed)
    if verdict.mistake == label or label in plain_text(verdict.message):
        return None  # named, or said as one of a few possibilities
    if verdict.status not in ("wrong", "wrong_shape"):
        return f"typed exactly ({_short(typed)}), it is graded {verdict.status}"
    try:
        parsed = parse_answer(typed, "shape" if expected.kind == "shape" else "value")
        inputs = checker.diagnosis_inputs(step_id)
        finding = explain(inputs, checker.mistake_candidates(step_id), parsed)
    except CONTAINED:
        return "the tutor names something else"
    others = sorted({c.label for c in finding.explaining if c.label != label})
    if finding.why_unnamed == "ambiguous" and others:
        return f"its value is also what {_listed(others)} give{'s' if len(others) == 1 else ''}, so no name is sure"
    if finding.why_unnamed == "coincidence":
        story = {n for c in finding.explaining if c.label == label for n in c.nodes}
        nodes = other_nodes(parsed, inputs, story)
        return f"its value is also the value of {_listed(nodes) or 'another node'}, so naming it could be wrong"
    if finding.why_unnamed == "incomplete":
        return "the tutor's search for slips ran out of its work budget first"
    if finding.named is not None:
        return f"the tutor names {finding.named.label!r} instead"
    return f"the tutor does not recognise it ({finding.why_unnamed or 'no reason'})"


def typed_text(value: Any, kind: str) -> str | None:
    """A value written the way a learner could type it, exactly."""
    if isinstance(value, tuple):
        return "x".join(str(int(d)) for d in value) if value else "()"
    if isinstance(value, torch.Tensor):
        if value.is_meta or value.numel() > 10_000:
            return None
        data: list | float = value.detach().double().tolist()  # a float for a 0-d tensor
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        data = float(value)
    else:
        return None
    if kind == "shape":
        return None

    def write(v) -> str:
        if isinstance(v, list):
            return "[" + ", ".join(write(x) for x in v) + "]"
        if not math.isfinite(v):
            raise ValueError("not finite")
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))

    try:
        return write(data)
    except ValueError:
        return None


# ---- precision claims ([conventions]) ----------------------------------------------------------------

def _precision(lesson: Lesson, runs: list[Run]) -> list[Finding]:

    found = []
    conv = lesson.conventions
    declared = {"decimals": conv.decimals, "significant": conv.significant,
                "whole_numbers": conv.whole_everywhere or bool(conv.whole_numbers)}
    for where, text in lesson_texts(lesson):
        for claim in text_lint.precision_claims(text):
            if claim.kind == "whole_numbers" and not declared["whole_numbers"]:
                found.append(Finding(where, None, f"says {claim.text!r}; declare it in [conventions] as "
                                                  "whole_numbers = true (or a list of step ids) so that "
                                                  "`tutor check` tests it on every variant"))
            elif claim.kind != "whole_numbers" and declared[claim.kind] != claim.count:
                found.append(Finding(where, None, f"says {claim.text!r}; declare it in [conventions] as "
                                                  f"{claim.kind} = {claim.count} so that `tutor check` tests it "
                                                  "on every variant"))
    reported: set[tuple[str, str]] = set()  # one problem per step and claim: the first variant that breaks it
    for run in runs:
        for step in run.lesson.steps:
            if step.kind == "graph":
                continue
            try:
                expected = run.live.expected(step.id)
            except CONTAINED:
                continue
            tolerance = step.tolerance or run.lesson.tolerance
            values = _flat(expected.value) if expected.kind != "shape" else []
            whole_claimed = conv.whole_everywhere or step.id in conv.whole_numbers
            if whole_claimed and expected.kind == "value" and not all(text_lint.is_whole(v) for v in values) \
                    and (step.id, "whole") not in reported:
                reported.add((step.id, "whole"))
                found.append(Finding(f"step {step.id!r}", run.seed,
                                     f"[conventions] whole_numbers: this answer is not a whole number "
                                     f"({_short(quote_value(_as_tensor(expected)))})", field="[conventions]"))
            if expected.kind != "value":
                continue
            for key, count in (("decimals", conv.decimals), ("significant", conv.significant)):
                if count is None or (step.id, key) in reported:
                    continue
                typed = _typed_like(expected.value, key, count)
                verdict = check_answer(typed, expected, tolerance)
                if verdict.status != "correct":
                    reported.add((step.id, key))
                    found.append(Finding(f"step {step.id!r}", run.seed,
                                         f"[conventions] {key} = {count}, but the answer rounded so "
                                         f"({_short(typed)}) is graded {verdict.status}: {verdict.message}",
                                         field="[conventions]"))
    return found


def _typed_like(value: Any, key: str, count: int) -> str:
    """The answer typed with every entry rounded so, in its own shape (a matrix keeps its rows)."""
    if isinstance(value, list):
        return "[" + ", ".join(_typed_like(v, key, count) for v in value) + "]"
    return _rounded(float(value), key, count)


def _rounded(v: float, key: str, count: int) -> str:
    if key == "decimals":
        return f"{v:.{count}f}"
    if v == 0:
        return "0"
    places = max(0, count - 1 - math.floor(math.log10(abs(v))))
    return f"{round(v, places):.{places}f}"


# ---- numbers typed in prose ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Quantity:
    what: str                       # "the given alpha", "the answer of step 'dw'", "a size of x"
    value: float | None = None
    dims: tuple[int, ...] = ()
    given: str | None = None        # the given's name, for "alpha = 0.5"
    size: bool = False
    moving: tuple[bool, ...] = ()   # for a shape: which of its sizes some variant changes


def _typed_numbers(lesson: Lesson, runs: list[Run]) -> list[Finding]:
    if len(runs) < 2:
        return []  # without variants nothing typed can go stale
    varying = _varying(lesson, runs)
    if not varying:
        return []
    names = set(lesson.given) | set(lesson.graph_names)
    found = []
    texts = [("title", lesson.title)] + lesson_texts(lesson)
    for where, text in texts:
        for literal in text_lint.literals(text):
            hit = _match(literal, varying, names)
            if hit is not None:
                needle = str(literal.dims[0]) if literal.dims else literal.text
                found.append(Finding(where, None, f"{literal.text!r} is typed, but it is {hit.what} on the lesson's "
                                                  "own numbers and differs on drill variants: quote it with {{ }} "
                                                  "or mark the sentence {% own %}", needle=needle))
    return found


def _match(literal: text_lint.Literal, varying: list[_Quantity], names: set[str]) -> _Quantity | None:
    if literal.dims:
        for q in varying:
            if q.dims and len(literal.dims) >= 2 and _within(literal.dims, q.dims, q.moving):
                return q
        return None
    v = literal.value
    distinctive = not text_lint.is_whole(v) or abs(v) >= 10
    set_to = text_lint.names_before(literal)
    for q in varying:
        if q.value is None or abs(q.value - v) > 1e-9 * max(1.0, abs(v)):
            continue
        if q.given is not None:
            if distinctive or (set_to is not None and _same_name(set_to, q.given)):
                return q
            continue
        if set_to is not None and not any(_same_name(set_to, n) for n in names):
            continue  # "β₂ = 0.999", "tanh(ln 3) = 0.8": a constant defined, not this lesson's number
        if q.size and abs(v) >= 10:
            return q
        if (not text_lint.is_whole(v) and text_lint.significant_figures(literal.text) >= 3) or abs(v) >= 100:
            return q
    return None


def _within(dims: tuple[int, ...], shape: tuple[int, ...], moving: tuple[bool, ...]) -> bool:
    """The typed sizes are sizes of the value, one of them a size the variants change (8×8 of an n×n input,
    224×224×64 of 1×64×224×224; not the 3×3 of a kernel whose channels alone are drawn)."""
    if len(dims) > len(shape) or len(shape) > 6:
        return False
    # two sizes are rows × columns, in order; three or more may be written in another layout (H×W×C)
    orders = itertools.combinations if len(dims) == 2 else itertools.permutations
    for axes in orders(range(len(shape)), len(dims)):
        if all(shape[a] == d for a, d in zip(axes, dims, strict=True)) and any(moving[a] for a in axes):
            return True
    return False


def _same_name(written: str, name: str) -> bool:
    def norm(s: str) -> str:
        return s.replace("_", "").replace("\\", "").lower()

    w, n = norm(written), norm(name)
    return w == n or (n.endswith("hat") and w == "hat" + n[:-3])


def _varying(lesson: Lesson, runs: list[Run]) -> list[_Quantity]:
    """The lesson's own quantities that some variant changes: drawn givens, node and answer values, sizes."""
    own = _quantities(lesson, runs[0].live)
    others = [_quantities(run.lesson, run.live) for run in runs[1:]]
    out = []
    for key, q in own.items():
        if not any(key in o and not _same_quantity(o[key], q) for o in others):
            continue
        if q.dims:
            moving = tuple(any(key in o and (len(o[key].dims) != len(q.dims) or o[key].dims[a] != d) for o in others)
                           for a, d in enumerate(q.dims))
            q = dataclasses.replace(q, moving=moving)
        out.append(q)
    return out


def _same_quantity(a: _Quantity, b: _Quantity) -> bool:
    if a.dims or b.dims:
        return a.dims == b.dims
    return a.value is not None and b.value is not None and abs(a.value - b.value) <= 1e-9 * max(1.0, abs(a.value))


def _quantities(lesson: Lesson, live: LiveLesson) -> dict[tuple, _Quantity]:
    out: dict[tuple, _Quantity] = {}
    drawn = set(lesson.drill) | set(lesson.given)
    for name, value in dict(live.cheapest_scope.env).items():
        if not isinstance(value, torch.Tensor):
            continue
        kind = f"the given {name}" if name in lesson.given else f"the value of {name}"
        if value.dim() >= 1:
            out[(name, "shape")] = _Quantity(f"a size of {name}", dims=tuple(int(d) for d in value.shape), size=True)
            for axis, size in enumerate(value.shape):
                out[(name, "dim", axis)] = _Quantity(f"a size of {name}", float(size), size=True)
        if value.is_meta or value.numel() > MAX_LISTED_VALUES:
            continue
        for k, x in enumerate(value.detach().double().reshape(-1).tolist()):
            given = name if name in drawn and name in lesson.given and value.numel() == 1 else None
            what = kind if value.numel() == 1 else f"entry {k + 1} of {name}"
            out[(name, k)] = _Quantity(what, x, given=given)
    for step in lesson.steps:
        if step.kind == "graph":
            continue
        try:
            expected = live.expected(step.id)
        except CONTAINED:
            continue
        if expected.kind == "shape":
            out[("step", step.id)] = _Quantity(f"the answer of step {step.id!r}", dims=tuple(expected.value),
                                               size=True)
            continue
        values = _flat(expected.value)
        if len(values) <= MAX_LISTED_VALUES:
            for k, x in enumerate(values):
                out[("step", step.id, k)] = _Quantity(f"the answer of step {step.id!r}", x,
                                                      size=expected.kind == "integer")
    return out


# ---- halving claims -------------------------------------------------------------------------------

def _halvings(lesson: Lesson, runs: list[Run]) -> list[Finding]:

    claims = [(where, c) for where, text in lesson_texts(lesson) for c in text_lint.halving_claims(text)]
    if not claims or not has_plot(lesson):
        return []
    try:
        start = plot_rate(lesson, runs[0].live)
    except CONTAINED:
        return []
    found = []
    for where, claim in claims:
        landed = text_lint.rate_after(start, claim.times)
        if abs(landed - claim.rate) > 1e-9 * max(1.0, claim.rate):
            verb = "halvings" if claim.times > 0 else "doublings"
            right = _steps_to(start, claim.rate)
            fix = f"; {claim.rate:g} is {abs(right)} {'halving' if right > 0 else 'doubling'}" \
                  f"{'s' if abs(right) != 1 else ''}" if right is not None else ""
            found.append(Finding(where, None, f"says {claim.text!r}, but {abs(claim.times)} {verb} of the plot's "
                                              f"starting rate {start:g} give {landed:g}{fix}"))
    return found


def _steps_to(start: float, rate: float) -> int | None:
    if rate <= 0:
        return None
    k = math.log2(start / rate)
    return round(k) if abs(k - round(k)) < 1e-9 and round(k) != 0 else None


# ---- sizes the lesson's numbers tie together, drawn apart ---------------------------------------------

_NETWORK = re.compile(r"\b(VGG-?\d*|AlexNet|ResNet-?\d*|LeNet-?\d*|GoogLeNet|Inception|MobileNet|DenseNet"
                      r"|BERT|GPT-?\d*)\b")


def _sizes_drawn_apart(lesson: Lesson, runs: list[Run]) -> list[Finding]:
    """A lesson whose text calls its layer a real network's, whose own sizes tie two drawn givens together
    (VGG-16's 64 -> 64), while [drill] draws them independently: most variants are no such layer."""
    shown = " ".join([lesson.title] + [run for _, text in lesson_texts(lesson) for run in text_lint.shown_text(text)])
    network = _NETWORK.search(shown)
    if network is None:
        return []
    drawn = [n for n in lesson.drill if n in size_names(lesson)]
    own = runs[0].live.givens
    scalars = {n: float(own[n].item()) for n in drawn if isinstance(own.get(n), torch.Tensor) and own[n].numel() == 1}
    found = []
    names = sorted(scalars)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if scalars[a] != scalars[b]:
                continue
            apart = next((run for run in runs[1:] if _given(run, a) is not None and _given(run, a) != _given(run, b)),
                         None)
            if apart is None:
                continue
            found.append(Finding("[drill]", apart.seed,
                                 f"the text calls the layer {network.group(0)}'s and {a} and {b} are both "
                                 f"{scalars[a]:g} in the lesson's own numbers, but [drill] draws them independently "
                                 f"({a} = {_given(apart, a):g}, {b} = {_given(apart, b):g} here), so most variants are "
                                 f"no {network.group(0)} layer: draw the layer's sizes together (one choice of rows, "
                                 "read in the graph)"))
    return found


def _given(run: Run, name: str) -> float | None:
    value = run.live.givens.get(name)
    return float(value.item()) if isinstance(value, torch.Tensor) and value.numel() == 1 else None


# ---- articles before quoted numbers -------------------------------------------------------------------

def _articles(lesson: Lesson, runs: list[Run]) -> list[Finding]:
    found = []
    seen: set[tuple[str, str]] = set()
    for where, text in [("title", lesson.title)] + lesson_texts(lesson):
        for article, expr in text_lint.articles_before_quotes(text):
            for run in runs:
                try:
                    shown = quote_value(evaluator(run.live)(expr))
                except CONTAINED:
                    continue
                if text_lint.article_for(shown) != article and (where, expr) not in seen:
                    seen.add((where, expr))
                    found.append(Finding(where, run.seed, f"'{article} {{{{ {expr} }}}}' reads '{article} {shown}'; "
                                                          "rephrase so the sentence needs no article before the "
                                                          "number"))
    return found


# ---- helpers ------------------------------------------------------------------------------------------

def _flat(value: Any) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in _flat(item)]
    return [float(value)]


def _as_tensor(expected) -> torch.Tensor:
    return torch.tensor(expected.value, dtype=torch.float64)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _listed(items: Iterable[str]) -> str:
    items = [repr(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
