"""What the graph view draws and lets the learner fill in: one graph (the learner's latest drawing,
else the lesson's own), each node's value and gradients, shown only where earned.

Earned means typed right by the learner, solved by a step (or computed on the way to one), or
revealed, which is recorded. The lesson's graph is never shown on a lesson that asks for it to be
drawn, unless that step was revealed.
"""

from __future__ import annotations

import ast
import dataclasses
import zlib
from dataclasses import dataclass

import torch

from tutor.core.answer.judge import Verdict
from tutor.core.evaluate.compare import same_value
from tutor.core.evaluate.results import NodeValue
from tutor.core.evaluate.run import plain_data, run_graph
from tutor.core.expr.budget import Cancelled
from tutor.core.expr.syntax import Assignment
from tutor.core.graph.answer import fresh_givens, read_graph
from tutor.core.graph.earned import earned_values
from tutor.core.graph.node_check import (
    FAILED,
    GRAD,
    RIGHT,
    VALUE,
    Drawing,
    NodeChecker,
    Numbers,
    compute,
    grad_key,
    make_drawing,
    parse_key,
    value_key,
)
from tutor.core.graph.work import DRAWN, LESSON, NOTHING, REVEALED, SO_FAR, Board, FieldView, Work
from tutor.core.lesson.graph_ask import graph_target
from tutor.core.lesson.graph_ops import expected_graph, needed_lines
from tutor.core.lesson.model import Lesson
from tutor.core.text.latex import script_letter
from tutor.core.text.matrix import format_plain
from tutor.core.vocabulary import SETTLED, Kind, Status, StepState

HIDDEN = "?"
TRIALS = 3                 # fresh sets of givens a drawing's node must match a lesson's node on
FILL_NUMBERS = 20_000     # a graph holding more numbers than this (a real network) is shown, not filled in

# ---- which graph ---------------------------------------------------------------------------

def _graph_steps(lesson: Lesson):
    return [s for s in lesson.steps if s.kind == Kind.GRAPH]


def choose_drawing(live, work: Work) -> tuple[list[Assignment] | None, str, str]:
    """(lines, source, note): the graph the view draws."""
    lesson = live.lesson
    steps = _graph_steps(lesson)
    if not steps:
        return list(lesson.graph), LESSON, ""
    numbers = {s.id: n for n, s in enumerate(lesson.steps, start=1)}
    current = next((s for s in steps if s.id == work.current), None)
    if current is not None and work.states.get(current.id) not in SETTLED:
        return _so_far(live, current, work.draft if work.draft is not None else work.answers.get(current.id, ""),
                       numbers[current.id])
    for step in reversed(steps):
        state = work.states.get(step.id)
        if state == StepState.SOLVED and work.drawn.get(step.id, "").strip():
            lines = read_graph(work.drawn[step.id], set(live.givens))
            if isinstance(lines, list):
                return needed_lines(lines, graph_target(step)), DRAWN, ""
        if state in SETTLED:
            lines = read_graph(expected_graph(lesson, graph_target(step)), set(live.givens))
            if isinstance(lines, list):
                return lines, REVEALED, ""
    first = steps[0]
    return (None, NOTHING, f"Nothing drawn yet: step {numbers[first.id]} ({first.id}) asks you to draw "
                           "the graph (F3 there reveals it, recorded).")


def _so_far(live, step, text: str, number: int):
    """The lines of an unchecked drawing that read, up to the first that does not."""
    raw = (text or "").splitlines()
    lines: list[Assignment] = []
    for end in range(len(raw), 0, -1):
        got = read_graph("\n".join(raw[:end]), set(live.givens))
        if isinstance(got, list):
            lines = got
            break
    where = f"step {number} ({step.id})"
    if not lines:
        return None, NOTHING, f"Nothing drawn yet: type the graph in {where}, one operation a line."
    return lines, SO_FAR, f"Your drawing so far, not checked yet: F9 in {where} checks it."


# ---- matching the lesson's names to the drawing's nodes --------------------------------------

class _Matcher:
    """Which node of a drawing computes what a lesson's name computes (on the lesson's numbers and
    on fresh ones, so a coincidence of the givens is no match)."""

    def __init__(self, live, drawing: Drawing):
        self.live, self.drawing = live, drawing
        self.trials = [live.givens] + [g for k in range(TRIALS) if (g := fresh_givens(live, k)) is not None]
        self._ours: list[dict] = []
        self._theirs: list[dict] = []

    def _runs(self):
        if not self._ours:
            for k, givens in enumerate(self.trials):
                try:
                    ours = dict(run_graph(self.live.lines, givens, self.live.dtype, lesson=self.live).env)
                    theirs = compute(self.live, self.drawing, givens=givens).values
                except Cancelled:
                    raise
                except FAILED:
                    if k == 0:
                        raise  # the lesson's own numbers must run
                    continue   # a drawing that cannot run on other numbers is matched on the rest
                self._ours.append(ours)
                self._theirs.append(theirs)
        return self._ours, self._theirs

    def node(self, name: str) -> str | None:
        if name in self.live.givens:
            return name if name in self.drawing.givens else None
        if self.drawing.lessons_graph:
            return name if name in self.drawing.ids else None
        ours, theirs = self._runs()
        if any(name not in o for o in ours):
            return None
        found = [n for n in self.drawing.ids
                 if all(same_value(t[n], o[name], self.live.dtype) for o, t in zip(ours, theirs, strict=False))]
        return name if name in found else (found[-1] if found else None)


# ---- the board ------------------------------------------------------------------------------

def symbol(lesson: Lesson, name: str) -> str:
    """How the lesson writes an output: ℒ for `L` when its prose says \\mathcal{L}, else the name."""
    prose = " ".join([lesson.intro] + [s.prompt for s in lesson.steps])
    letter = script_letter(name) if len(name) == 1 else None
    return letter if letter and f"\\mathcal{{{name}}}" in prose else name


def _grad_ask(step) -> tuple[str, str] | None:
    tree = step.ask.tree
    if (isinstance(tree, ast.Call) and getattr(tree.func, "id", None) == "grad" and len(tree.args) == 2
            and isinstance(tree.args[0], ast.Name) and isinstance(tree.args[1], ast.Name)):
        return tree.args[0].id, tree.args[1].id
    return None


def _node_ask(step, lesson: Lesson) -> str | None:
    tree = step.ask.tree
    targets = {a.target for a in lesson.graph}
    return tree.id if isinstance(tree, ast.Name) and tree.id in targets else None


def stable_keys(drawing: Drawing) -> dict[str, str]:
    """Node id -> a signature of what it computes from the givens, the same under other names."""
    sigs: dict[str, str] = {g: g for g in drawing.givens}
    for node, a, reads in zip(drawing.ids, drawing.lines, drawing.reads, strict=True):
        tree = ast.parse(a.expr.text, mode="eval").body
        named = dict(reads)
        for n in ast.walk(tree):
            if isinstance(n, ast.Name) and n.id in named and named[n.id] in sigs:
                n.id = "n" + sigs[named[n.id]] if named[n.id] not in drawing.givens else n.id
        sigs[node] = format(zlib.crc32(ast.unparse(tree).encode()), "08x")
    return sigs


@dataclass
class _Parts:
    """A drawing ready to fill in: its nodes matched to the lesson's, its fields and their checker."""

    drawing: Drawing
    match: _Matcher
    outputs: tuple[str, ...]
    symbols: dict[str, str]
    checker: NodeChecker
    labels: dict[str, str]
    stables: dict[str, str]
    steps: dict[str, str]
    keys: list[str]
    missing: str


def _prepare(live, lines: list[Assignment], lessons_graph: bool) -> _Parts:
    drawing = make_drawing(lines, live.givens, lessons_graph=lessons_graph)
    match = _Matcher(live, drawing)
    outputs, symbols, missing = _outputs(live, drawing, match, compute(live, drawing))
    checker = NodeChecker(live, drawing, outputs, {})
    labels, stables, steps, tolerances = _fields(live, drawing, outputs, symbols, match, checker)
    checker.labels, checker.tolerances = labels, tolerances
    keys = [k for k in labels if checker.true_tensor(k) is not None]
    return _Parts(drawing, match, outputs, symbols, checker, labels, stables, steps, keys, missing)


def build_board(live, work: Work) -> Board:
    """The graph to draw, each node's lines as earned, and the fields the learner can fill in."""
    with live.evaluation():
        return _build(live, work)


def _build(live, work: Work) -> Board:
    lesson = live.lesson
    lines, source, note = choose_drawing(live, work)
    if lines is None:
        empty = dataclasses.replace(lesson, graph=())
        return Board(empty, _given_rows(live, empty), [], source, note)
    drawn_lesson = lesson if source == LESSON else dataclasses.replace(lesson, graph=tuple(lines))
    if source == SO_FAR:
        rows = _given_rows(live, drawn_lesson)
        rows.update({node: [("= ", NodeValue((), HIDDEN))] for node in make_drawing(lines, live.givens).ids})
        return Board(drawn_lesson, rows, [], source, note)
    if _numbers(live) > FILL_NUMBERS:
        return _shown_only(live, drawn_lesson, work, source)
    p = _prepare(live, lines, source == LESSON)
    typed = _typed(p.keys, p.stables, p.steps, work)
    earned = _earned(live, p.drawing, p.keys, p.stables, p.steps, work, p.match, p.outputs)
    rows = _given_rows(live, drawn_lesson)
    for node in p.drawing.ids:
        rows[node] = []
    for key in p.keys:
        kind, _, node = parse_key(key)
        revealed = StepState.REVEALED in (work.states.get(p.steps.get(key, "")),
                                          work.nodes.get(p.stables[key], ("", ""))[1])
        shown = _shown(p.checker, key, typed, key in earned, revealed)
        if kind == VALUE:
            rows[node].insert(0, ("= ", shown))
        else:
            rows.setdefault(node, []).append((f"{p.labels[key]} = ", shown))
    fields: list[FieldView] = []
    params = set(lesson.train.params) if lesson.train else set()
    for key in _order(p.drawing, p.keys, p.outputs, p.steps, params):
        kind, _, node = parse_key(key)
        prefix = "= " if kind == VALUE else f"{p.labels[key]} = "
        row = next(n for n, (pre, _) in enumerate(rows[node]) if pre == prefix)
        fields.append(FieldView(key, p.stables[key], p.labels[key], node, row, p.steps.get(key), key in earned))
    return Board(drawn_lesson, rows, fields, source, note or p.missing, p.outputs, p.symbols)


def _numbers(live) -> int:
    """How many numbers the lesson's graph holds (its givens and every node), without computing more."""
    scope = live.cheapest_scope
    return sum(v.numel() for v in scope.env.values() if isinstance(v, torch.Tensor))


def node_verdict(live, work: Work, key: str, text: str) -> tuple[Verdict, str | None]:
    """The verdict on `text` typed into field `key` of the drawing `work` leads to, and the step that
    asks for that field (if any). A wrong answer that the learner's own other numbers on the graph
    lead to says so (errors carried forward both ways)."""
    with live.evaluation():
        lines, source, _ = choose_drawing(live, work)
        if lines is None or source == SO_FAR:
            raise KeyError(key)
        p = _prepare(live, lines, source == LESSON)
        typed = _typed(p.keys, p.stables, p.steps, work)
        return p.checker.check(key, text, {k: t for k, t in typed.items() if k != key}), p.steps.get(key)


def _given_rows(live, lesson: Lesson) -> dict[str, list[tuple[str, NodeValue]]]:
    rows = {}
    for name, value in live.givens.items():
        shape, data = plain_data(value)
        rows[name] = [("= ", NodeValue(shape, data))]
    return rows


def _outputs(live, drawing: Drawing, match: _Matcher, forward: Numbers) -> tuple[tuple[str, ...], dict[str, str], str]:
    """The drawing's nodes whose gradients are filled in (scalars), how each is written, and what to
    say when the lesson's own output is not drawn yet."""
    lesson = live.lesson
    main = live.loss_name()
    names = ([main] if main else []) + [pair[0] for s in lesson.steps if (pair := _grad_ask(s))]
    found: dict[str, str] = {}
    for name in dict.fromkeys(names):
        node = match.node(name)
        if node is not None and node in drawing.ids and node not in found:
            found[node] = name
    # the lesson's own output first (its backward pass is the one to do), then the others in order
    ordered = tuple(sorted(found, key=lambda n: (found[n] != main, drawing.ids.index(n))))
    scalars = tuple(n for n in ordered if isinstance(v := forward.values.get(n), torch.Tensor)
                    and v.numel() == 1 and v.is_floating_point())
    missing = ""
    if main and main not in found.values():
        drawer = next((s for s in _graph_steps(lesson) if graph_target(s) == main), None)
        numbers = {s.id: n for n, s in enumerate(lesson.steps, start=1)}
        later = f": step {numbers[drawer.id]} ({drawer.id}) adds it" if drawer else ""
        missing = f"{symbol(lesson, main)} is not in your drawing yet{later}."
    return scalars, {n: symbol(lesson, found[n]) for n in scalars}, missing


def _fields(live, drawing: Drawing, outputs: tuple[str, ...], symbols: dict[str, str], match: _Matcher,
            checker: NodeChecker):
    """Labels of every field, their stable keys, the steps that ask for them, and those steps' tolerances."""
    lesson = live.lesson
    truth = checker.truth
    sigs = stable_keys(drawing)
    labels: dict[str, str] = {}
    stables: dict[str, str] = {}
    for node in drawing.ids:
        labels[value_key(node)] = drawing.display(node)
    for out in outputs:
        for (o, node) in truth.grads:
            if o == out and node != out:
                labels[grad_key(out, node)] = f"∂{symbols[out]}/∂{drawing.display(node)}"
    for key in labels:
        kind, output, node = parse_key(key)
        stables[key] = value_key(sigs[node]) if output is None else grad_key(sigs[output], sigs[node])
    steps: dict[str, str] = {}
    tolerances = {}
    for step in lesson.steps:
        asked: str | None = None
        if (name := _node_ask(step, lesson)) is not None:
            asked_node = match.node(name)
            asked = value_key(asked_node) if asked_node in drawing.ids else None
        elif (pair := _grad_ask(step)) is not None:
            asked_out, asked_node = match.node(pair[0]), match.node(pair[1])
            asked = grad_key(asked_out, asked_node) if asked_out in outputs and asked_node is not None else None
        if asked in labels and asked not in steps:
            steps[asked] = step.id
            if step.tolerance is not None:
                tolerances[asked] = step.tolerance
    return labels, stables, steps, tolerances


def _order(drawing: Drawing, keys: list[str], outputs, steps: dict[str, str], params) -> list[str]:
    """Values forward in drawing order; then each output's gradients from it back through the
    graph, then at the givens (one a step asks for first, then the trained ones)."""
    place = {n: k for k, n in enumerate(drawing.ids)}
    values = sorted((k for k in keys if parse_key(k)[0] == VALUE), key=lambda k: place[parse_key(k)[2]])
    grads = []
    for out in outputs:
        mine = [k for k in keys if parse_key(k)[0] == GRAD and parse_key(k)[1] == out]
        inside = sorted((k for k in mine if parse_key(k)[2] in place), key=lambda k: -place[parse_key(k)[2]])
        given = sorted((k for k in mine if parse_key(k)[2] not in place),
                       key=lambda k: (k not in steps, parse_key(k)[2] not in params,
                                      drawing.givens.index(parse_key(k)[2])))
        grads += inside + given
    return values + grads


def _typed(keys, stables, steps, work: Work) -> dict[str, str]:
    """What the learner last typed into each field: a step's latest answer, or a node's own."""
    typed = {}
    for key in keys:
        step_id = steps.get(key)
        if step_id is not None and work.answers.get(step_id, "").strip():
            typed[key] = work.answers[step_id]
        elif stables[key] in work.nodes and work.nodes[stables[key]][0].strip():
            typed[key] = work.nodes[stables[key]][0]
    return typed


def _earned(live, drawing: Drawing, keys, stables, steps, work: Work, match: _Matcher, outputs) -> set[str]:
    lesson = live.lesson
    earned = {k for k in keys if work.states.get(steps.get(k, "")) in SETTLED
              or work.nodes.get(stables[k], ("", ""))[1] in (Status.CORRECT, StepState.REVEALED)}
    known = set(live.givens) | set(lesson.graph_names)
    for step in lesson.steps:
        if work.states.get(step.id) not in SETTLED or step.kind == Kind.GRAPH:
            continue
        for name, wrt in _uses(step.ask.tree):
            if name not in known or (wrt is not None and wrt not in known):
                continue
            node = match.node(name)
            if node is None:
                continue
            if wrt is None:  # a value the answer is computed from: it and everything on the way to it
                earned |= {value_key(n) for n in drawing.ancestors.get(node, set()) | {node}}
                continue
            # a gradient: the values on the paths from x up to (not including) f, and the gradients there
            x = match.node(wrt)
            if x is None:
                continue
            path = ({x} | drawing.descendants(x)) & drawing.ancestors.get(node, set())
            for m in path:
                earned |= {value_key(n) for n in (drawing.ancestors.get(m, set()) | {m})}
            if node in outputs:
                earned |= {grad_key(node, m) for m in path}
    return earned & set(keys)


def _uses(tree: ast.AST) -> list[tuple[str, str | None]]:
    """What an ask is computed from: (name, None) for a value it reads, (f, x) for each grad(f, x)."""
    if isinstance(tree, ast.Call) and getattr(tree.func, "id", None) == "grad" and len(tree.args) == 2 \
            and isinstance(tree.args[0], ast.Name) and isinstance(tree.args[1], ast.Name):
        return [(tree.args[0].id, tree.args[1].id)]
    if isinstance(tree, ast.Name):
        return [(tree.id, None)]
    return [use for child in ast.iter_child_nodes(tree) for use in _uses(child)]


def _shown(checker: NodeChecker, key: str, typed: dict[str, str], earned: bool, revealed: bool) -> NodeValue:
    """The number once earned (beside the learner's own wrong one after a reveal); else `?`, with
    what they typed and whether it is right, carried forward from an earlier slip, or a slip."""
    shape, data = plain_data(checker.true_tensor(key))
    text = " ".join(typed.get(key, "").split())
    others = {k: t for k, t in typed.items() if k != key}
    if earned:
        if revealed and text and checker.check(key, text, others).status not in RIGHT:
            return NodeValue((), f"{format_plain(data, shape)} (yours {text})")
        return NodeValue(shape, data)
    if not text:
        return NodeValue((), HIDDEN)
    verdict = checker.check(key, text, others)
    if verdict.status == Status.IMPRECISE:
        mark = " ≈ more digits"
    elif verdict.status == Status.CORRECT:
        mark = " ✓"
    elif verdict.carried_from:
        mark = ", carried"
    else:
        mark = " ✗ first slip"
    return NodeValue((), f"{HIDDEN} (yours {text}{mark})")


def _shown_only(live, lesson: Lesson, work: Work, source: str) -> Board:
    """A graph too big to fill in by hand: its givens and the values steps earned, nothing to type."""
    values = earned_values(live.lesson, work.states, work.answers, live.node_values())
    rows = {name: [("= ", value)] for name, value in values.items()}
    return Board(lesson, rows, [], source, "")
