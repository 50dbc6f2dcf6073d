"""Named mistakes: recomputes, live, what common errors would give, and names the one an answer matches."""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Callable

import torch

from tutor.core.answer import ParsedAnswer
from tutor.core.check import LESSON_OWN, check_answer
from tutor.core.errors import TutorError
from tutor.core.expr import mistake_rewrites as rw
from tutor.core.values import Expected

MAX_CANDIDATES = 60


def short_label(say: str, limit: int = 60) -> str:
    """The first sentence of a lesson's message, plain, for summaries and exports."""
    first = re.split(r"(?<=[.!?])\s", say.strip(), maxsplit=1)[0].rstrip(".")
    first = re.sub(r"[$*`\\]", "", first)
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Candidate:
    """What an answer would be after a named mistake, and what to say if it matches."""

    name: str
    say: str
    value: Any  # a tensor, a number, or a tuple for a shape


def diagnose(live, step, parsed: ParsedAnswer, expected: Expected, verdict):
    """The verdict, with `mistake` set (and the fix appended) when a wrong answer matches a known mistake."""
    if verdict.status not in ("wrong", "wrong_shape"):
        return verdict
    tolerance = step.tolerance or live.lesson.tolerance
    for cand in candidates(live, step):
        guess = _as_expected(cand.value, expected)
        if guess is None or _same(guess, expected):
            continue
        if check_answer(parsed, guess, tolerance).status == "correct":
            return dataclasses.replace(verdict, mistake=cand.name, message=f"{verdict.message} {cand.say}")
    return verdict


def candidates(live, step) -> list[Candidate]:
    """Every named mistake for this step, in the order they are tried (computed once per step)."""
    cache = live.__dict__.setdefault("_mistake_cache", {})
    if step.id not in cache:
        found: list[Candidate] = []
        # most specific first: a sign flip is a likelier story than "that is the value of b"
        for source in (_lesson_mistakes, _rewritten, _other_quantities, _generic, _node_values):
            for cand in source(live, step):
                if len(found) < MAX_CANDIDATES:
                    found.append(cand)
        cache[step.id] = found
    return cache[step.id]


def _lesson_mistakes(live, step):
    for m in step.mistakes:
        value = _safely(lambda: live.evaluate(m.when))
        if value is not None:
            yield Candidate(f"{LESSON_OWN}: {short_label(m.say)}", m.say, value)


def _rewritten(live, step):
    """Mistakes made by computing something else: the same graph and ask, rewritten and rerun."""
    for rewrite in rw.REWRITES:
        graph = [(a, rewrite.apply(a.expr.tree, live.lesson, a.target)) for a in live.lesson.graph]
        ask = rewrite.apply(step.ask.tree, live.lesson, None)
        if all(t is None for _, t in graph) and ask is None:
            continue  # the mistake cannot happen in this step
        value = _safely(lambda: _rerun(live, graph, ask or step.ask.tree))
        if value is not None:
            yield Candidate(rewrite.name, rewrite.say, value)


def _rerun(live, graph, ask_tree):
    """The rewritten graph run from the original givens, then the (rewritten) ask on it."""
    from tutor.core.live import run_graph

    compiler = rw.compiler()
    lines = [(a, compiler.compile(tree) if tree is not None else fn) for (a, tree), (_, fn) in zip(graph, live.lines)]
    scope = run_graph(lines, live.givens, live.dtype, lesson=live)
    return compiler.compile(ask_tree)(scope)


def _other_quantities(live, step):
    """Another quantity of the same graph: ∂y/∂w for ∂L/∂w, p for p − y, logits for probabilities."""
    tree = step.ask.tree
    env = live.scope.env
    if _is_call(tree, "grad") and all(isinstance(a, ast.Name) for a in tree.args):
        f, x = (a.id for a in tree.args)
        for z, _target in rw.cross_entropy_inputs(live.lesson):
            if z == x:
                yield Candidate("softmax probabilities instead of p − y",
                                f"Those are the softmax probabilities p = softmax({z}); the gradient of "
                                f"cross-entropy with respect to the logits is p − y.",
                                _safely(lambda: torch.softmax(env[z], dim=-1)))
        for other in _scalar_nodes(live):
            if other != f:
                yield Candidate(f"∂{other}/∂{x} instead of ∂{f}/∂{x}",
                                f"That is ∂{other}/∂{x}; this step asks for ∂{f}/∂{x}.", _safely(lambda o=other: _grad(env[o], env[x])))
        for other, value in env.items():
            if other != x and isinstance(value, torch.Tensor) and value.shape == env[x].shape:
                yield Candidate(f"∂{f}/∂{other} instead of ∂{f}/∂{x}",
                                f"That is ∂{f}/∂{other}; the step asks for ∂{f}/∂{x}.",
                                _safely(lambda o=other: _grad(env[f], env[o])))
    for z, prob in rw.softmax_of(live.lesson, tree):
        yield Candidate("logits instead of probabilities",
                        f"Those are the logits {z}; apply softmax to turn them into probabilities.", env.get(z))


def _node_values(live, step):
    """The value of another node of the graph, given where this step asks for something else."""
    tree, env = step.ask.tree, live.scope.env
    if step.kind == "value":
        asked = tree.id if isinstance(tree, ast.Name) else None
        for name, value in env.items():
            if name != asked and isinstance(value, torch.Tensor):
                yield Candidate(f"the value of {name}", f"That is the value of {name}, not what this step asks.",
                                value)


def _generic(live, step):
    expected = live.expected(step.id)
    if expected.kind == "shape":
        dims = tuple(expected.value)
        if len(dims) == 2 and dims[0] != dims[1]:
            if _contains(step.ask.tree, "jacobian"):
                yield Candidate("Jacobian in the other layout",
                                "That is the denominator layout (columns follow f). This lesson uses numerator "
                                "layout: one row per entry of f, one column per entry of x.", dims[::-1])
            yield Candidate("transposed shape", "The dimensions are swapped: rows first, then columns.", dims[::-1])
        return
    value = torch.tensor(expected.value, dtype=torch.float64) if expected.kind == "value" else None
    if value is None:
        return
    if value.dim() == 2 and value.shape[0] > 1 and value.shape[1] > 1:
        if _contains(step.ask.tree, "jacobian"):
            yield Candidate("Jacobian in the other layout",
                            "That is the denominator layout (its transpose). This lesson uses numerator layout: "
                            "one row per entry of f, one column per entry of x.", value.T)
        yield Candidate("transposed matrix", "That is the transpose of the answer: check rows against columns.",
                        value.T)
    yield Candidate("sign flipped", "The sign is flipped: check each minus sign along the chain.", -value)


# ---- helpers ---------------------------------------------------------------------------

def _safely(compute: Callable[[], Any]) -> Any:
    try:
        return compute()
    except (TutorError, RuntimeError, ValueError, TypeError, IndexError, KeyError, ZeroDivisionError):
        return None


def _grad(f: torch.Tensor, x: torch.Tensor) -> torch.Tensor | None:
    if f.numel() != 1 or not f.requires_grad or not x.requires_grad:
        return None
    (g,) = torch.autograd.grad(f.reshape(()), x, retain_graph=True, allow_unused=True)
    return g


def _scalar_nodes(live) -> list[str]:
    return [n for n in live.lesson.graph_names
            if isinstance(live.scope.env.get(n), torch.Tensor) and live.scope.env[n].numel() == 1]


def _is_call(tree: ast.AST, name: str) -> bool:
    return isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == name


def _contains(tree: ast.AST, name: str) -> bool:
    return any(_is_call(n, name) for n in ast.walk(tree))


def _as_expected(value: Any, like: Expected) -> Expected | None:
    if value is None:
        return None
    if like.kind == "shape":
        dims = list(value) if isinstance(value, tuple) else None
        return Expected("shape", dims, (len(dims),)) if dims is not None else None
    if isinstance(value, torch.Tensor):
        t = value.detach().double()
        if not torch.isfinite(t).all():
            return None
        if like.kind == "integer":
            return Expected("integer", int(round(t.item())), ()) if t.numel() == 1 else None
        return Expected("value", t.tolist() if t.dim() else float(t.item()), tuple(t.shape))
    if isinstance(value, (int, float)):
        if like.kind == "integer":
            return Expected("integer", int(round(value)), ())
        return Expected("value", float(value), ())
    return None


def _same(a: Expected, b: Expected) -> bool:
    if a.kind == "shape" or b.kind == "shape":
        return list(a.value) == list(b.value)
    ta, tb = torch.tensor(a.value, dtype=torch.float64), torch.tensor(b.value, dtype=torch.float64)
    if ta.numel() != tb.numel():
        return False
    return bool(torch.allclose(ta.reshape(-1), tb.reshape(-1), rtol=1e-6, atol=1e-9))

