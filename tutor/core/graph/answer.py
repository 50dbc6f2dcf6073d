"""Graph steps (`ask = "graph(NAME)"`): a typed graph, one operation per line, checked by what it computes."""

from __future__ import annotations

import ast
import zlib
from dataclasses import dataclass
from typing import Any

import torch

from tutor.core.answer.judge import Verdict
from tutor.core.errors import ExprError, LessonErrors, TutorError
from tutor.core.evaluate.compare import same_value
from tutor.core.evaluate.run import compile_expr, run_graph
from tutor.core.expr.syntax import Assignment, Expr, parse_graph
from tutor.core.lesson.graph_ask import graph_target
from tutor.core.lesson.graph_ops import (
    needed_lines,
    one_operation_lines,
    operation_count,
    plain_assignment,
)
from tutor.core.vocabulary import Status

MAX_LINES = 40            # a hand-drawn graph is short; more lines are refused before anything runs
MAX_LINE_CHARS = 200
RANDOM_TRIALS = 3         # fresh values of the givens a graph must also get right


@dataclass(frozen=True)
class Run:
    """One run of a graph: every line's value in order, and the final binding of each name."""

    line_values: list[Any]
    env: dict[str, Any]


# ---- reading -----------------------------------------------------------------------------

def read_graph(text: str | None, given: set[str]) -> list[Assignment] | Verdict:
    """The typed graph as assignments (augmented ones written out), or the verdict saying why not."""
    if not isinstance(text, str) or not text.strip():
        return Verdict(Status.MISSING, "No answer given.")
    raw_lines = text.splitlines()
    if sum(1 for r in raw_lines if r.split("#", 1)[0].strip()) > MAX_LINES:
        return Verdict(Status.UNPARSED, f"Couldn't read that: a graph here has at most {MAX_LINES} lines.")
    for number, raw in enumerate(raw_lines, start=1):
        if len(raw) > MAX_LINE_CHARS:
            return Verdict(Status.UNPARSED, f"Couldn't read line {number}: at most {MAX_LINE_CHARS} characters a line.")
    try:
        lines = parse_graph(text)
    except ExprError as err:
        said = err.message.replace('graph line', 'line', 1)
        return Verdict(Status.UNPARSED, f"Couldn't read {said}{'' if said.endswith(('.', '?')) else '.'}")
    defined = set(given)
    out = []
    for a in lines:
        shown = _shown(a)
        if a.target in given:
            return Verdict(Status.UNPARSED, f"Couldn't read line {a.line} ({shown}): {a.target} is a given; "
                                       "give the result a name of its own.")
        missing = sorted(a.expr.names() - defined - ({a.target} if a.op != "=" else set()))
        if a.op != "=" and a.target not in defined:
            missing.insert(0, a.target)
        if missing:
            return Verdict(Status.UNPARSED, f"Couldn't read line {a.line} ({shown}): it uses "
                                       f"{', '.join(missing)} before the graph defines it.")
        defined.add(a.target)
        tree = plain_assignment(a)
        out.append(Assignment(a.target, "=", Expr(ast.unparse(tree), tree), a.line))
    return out


def _shown(a: Assignment) -> str:
    text = f"{a.target} {a.op} {a.expr.text}"
    return text if len(text) <= 40 else text[:39] + "…"


# ---- running -----------------------------------------------------------------------------

def run_lines(live, lines: list[Assignment], givens: dict[str, torch.Tensor], budget: Any = None) -> Run:
    """Runs assignments with run_graph from these givens, keeping every line's value."""
    seen: list[Any] = []

    def recording(fn):
        def run(scope):
            value = fn(scope)
            seen.append(value)
            return value
        return run

    compiled = [(a, recording(compile_expr(a.expr))) for a in lines]
    scope = run_graph(compiled, givens, live.dtype, budget, lesson=live, file="your graph")
    return Run(seen, dict(scope.env))


def fresh_givens(live, trial: int) -> dict[str, torch.Tensor] | None:
    """The givens moved to other values (the same for the same lesson and trial on any machine).

    A given the lesson's graph cannot run with once moved (a kernel size, a class index) keeps its value.
    """
    seed = zlib.crc32(f"{live.lesson.id}/{trial}".encode())
    generator = torch.Generator().manual_seed(seed)
    moved: dict[str, torch.Tensor] = {}
    for name, value in live.givens.items():
        if not value.is_floating_point():
            continue
        scale = torch.rand(value.shape, generator=generator, dtype=torch.float64) * 0.5 - 0.25
        shift = torch.rand(value.shape, generator=generator, dtype=torch.float64) - 0.5
        moved[name] = (value.detach().double() * (1 + scale) + shift).to(value.dtype)
    for keep_whole in (False, True):
        givens = dict(live.givens)
        for name, value in moved.items():
            original = live.givens[name]
            if keep_whole and bool(torch.all(original == torch.round(original))):
                continue
            givens[name] = value.detach().clone().requires_grad_(True)
        if _runs(live, givens):
            return givens
    return None


def _runs(live, givens) -> bool:
    try:
        scope = run_graph(live.lines, givens, live.dtype, lesson=live)
    except (TutorError, RuntimeError, ValueError, TypeError, IndexError):
        return False
    return all(_finite(v) for v in scope.env.values())


def _finite(value: Any) -> bool:
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return bool(torch.isfinite(value).all())
    return True


# ---- checking ----------------------------------------------------------------------------

def check_graph(live, step, text: str | None, budget: Any = None) -> Verdict:
    """Right when every line is one operation and NAME comes out as the lesson's, for its numbers and others."""
    name = graph_target(step)
    lines = read_graph(text, set(live.givens))
    if isinstance(lines, Verdict):
        return lines
    for a in lines:
        count = operation_count(a.expr.tree)
        if count > 1:
            return Verdict(Status.WRONG, f"Line {a.line} ({_shown(a)}) does {count} operations; write one "
                                    "per line, giving each intermediate result a name.")
    if name not in {a.target for a in lines}:
        return Verdict(Status.WRONG, f"Your graph never computes {name}; its last line should be {name} = ...")
    reference = reference_lines(live.lesson, name)
    trials = [live.givens] + [g for k in range(RANDOM_TRIALS) if (g := fresh_givens(live, k)) is not None]
    theirs: list[Run] = []
    ours: list[Run] = []
    for index, givens in enumerate(trials):
        try:
            ours.append(run_lines(live, reference, givens, budget))
        except LessonErrors:
            continue
        try:
            theirs.append(run_lines(live, lines, givens, budget))
        except LessonErrors as errs:
            problem = errs.errors[0]
            where = (problem.where or "").replace("graph line", "Line")
            others = "" if index == 0 else " for other values of the givens"
            return Verdict(Status.WRONG, f"{where or 'Your graph'} can't be computed{others}: {problem.reason}.")
    if all(same_value(t.env[name], o.env[name], live.dtype) for t, o in zip(theirs, ours, strict=False)):
        return Verdict(Status.CORRECT, "Correct.")
    return _first_slip(live, name, lines, theirs, ours)


def reference_lines(lesson, name: str) -> list[Assignment]:
    """The lesson's graph for `name`, one operation per line, as assignments to run."""
    lines = one_operation_lines(needed_lines(list(lesson.graph), name), set(lesson.given))
    return [Assignment(t, "=", Expr(e, ast.parse(e, mode="eval").body), k) for k, (t, e) in enumerate(lines, 1)]


def _first_slip(live, name: str, lines: list[Assignment], theirs: list[Run], ours: list[Run]) -> Verdict:
    """Names the first line whose value is no node of the lesson's graph (for every set of givens tried)."""
    reference = reference_lines(live.lesson, name)
    read = set().union(*(a.expr.reads() for a in reference)) & set(live.givens)

    def nodes(run: Run) -> list[Any]:
        return list(run.line_values) + [run.env[g] for g in read]

    for k, a in enumerate(lines):
        at_lesson = any(same_value(theirs[0].line_values[k], v, live.dtype) for v in nodes(ours[0]))
        everywhere = at_lesson and all(
            any(same_value(t.line_values[k], v, live.dtype) for v in nodes(o))
            for t, o in zip(theirs[1:], ours[1:], strict=False))
        if everywhere:
            continue
        if at_lesson:
            typed_number = any(isinstance(n, ast.Constant) for n in ast.walk(a.expr.tree))
            advice = ("write the givens' names, not their numbers" if typed_number
                      else "check that operation")
            what = _equal_node(live, k, lines, theirs[0], ours[0], reference, sorted(read))
            return Verdict(Status.WRONG, f"Line {a.line} ({_shown(a)}) equals {what} for the lesson's numbers "
                                         "only: these givens make them equal, other values do not. "
                                         f"{advice[0].upper()}{advice[1:]}.")
        return Verdict(Status.WRONG, f"Line {a.line} ({_shown(a)}) gives a value that no node of the graph has: "
                                "check that operation.")
    last = max(k for k, a in enumerate(lines) if a.target == name)
    return Verdict(Status.WRONG, f"Line {lines[last].line} ({_shown(lines[last])}) gives a value on the way to "
                            f"{name}, not {name} itself: the graph needs more operations.")



def _equal_node(live, k: int, lines: list[Assignment], theirs: Run, ours: Run, reference: list[Assignment],
                read: list[str]) -> str:
    """What line k's value coincides with, in the learner's words where possible: one of their own
    earlier lines, a given, a node the lesson names; else "a node of the graph"."""
    value = theirs.line_values[k]
    for j in range(k):
        if lines[j].target != lines[k].target and same_value(value, theirs.line_values[j], live.dtype):
            return lines[j].target
    for g in read:
        if same_value(value, ours.env[g], live.dtype):
            return f"the given {g}"
    named = set(live.lesson.graph_names)
    for a, v in zip(reference, ours.line_values, strict=False):
        if a.target in named and same_value(value, v, live.dtype):
            return f"the lesson's {a.target}"
    return "a node of the graph"

