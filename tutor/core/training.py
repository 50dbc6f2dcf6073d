"""Training runs for the loss plot: SGD on a lesson's [train] params, and the learner's own update."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

from tutor.core.errors import AnswerParseError, TutorError
from tutor.core.lesson import Lesson


@dataclass(frozen=True)
class TrainRun:
    """The loss at step 0 (before any update) through `steps`, as PyTorch computed it."""

    losses: list[float]
    lr: float
    steps: int
    params: tuple[str, ...]

    @property
    def diverged(self) -> bool:
        return len(self.losses) <= self.steps or not all(math.isfinite(v) for v in self.losses)


def run_sgd(lesson: Lesson, lr: float | None = None, steps: int | None = None, live=None) -> TrainRun:
    """Runs SGD with the lesson's [train] settings unless `lr` or `steps` override them."""
    from tutor.core.live import LiveLesson

    if lesson.train is None:
        raise TutorError(f"lesson {lesson.id!r} has no [train] section")
    rate = lesson.train.lr if lr is None else lr
    count = lesson.train.steps if steps is None else steps
    live = live or LiveLesson(lesson)
    _, losses = live.run_sgd(rate, count)
    return TrainRun(losses, rate, count, lesson.train.params)


def updated_param(lesson: Lesson, step_id: str) -> str | None:
    """The [train] param whose one-step update this step asks for (`w - lr * grad(..)` or `sgd(w, ..)`)."""
    if lesson.train is None:
        return None
    tree = lesson.step(step_id).ask.tree
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Sub) and isinstance(tree.left, ast.Name):
        name = tree.left.id
    elif isinstance(tree, ast.Call) and tree.func.id == "sgd" and tree.args and isinstance(tree.args[0], ast.Name):
        name = tree.args[0].id
    else:
        return None
    return name if name in lesson.train.params else None


def update_steps(lesson: Lesson) -> dict[str, str]:
    """Step id -> param, for every step that asks for an updated parameter."""
    found = {s.id: updated_param(lesson, s.id) for s in lesson.steps}
    return {k: v for k, v in found.items() if v}


def loss_after_update(lesson: Lesson, step_id: str, answer_text: str) -> float | None:
    """The [train] loss with the learner's typed parameter in place: their own one step, on the plot."""
    from tutor.core.answer import parse_answer
    from tutor.core.live import LiveLesson

    param = updated_param(lesson, step_id)
    if param is None:
        return None
    try:
        parsed = parse_answer(answer_text, "value")
    except AnswerParseError:
        return None
    base = LiveLesson(lesson)
    want = tuple(base.scope.env[param].shape)
    if math.prod(want) != len(parsed.values):
        return None
    values = _nest(list(parsed.values), want)
    live = LiveLesson(lesson, overrides={param: values})
    loss = live.evaluate(lesson.train.loss)
    return float(loss.item()) if hasattr(loss, "item") else float(loss)


def _nest(flat: list[float], shape: tuple[int, ...]):
    if not shape:
        return flat[0]
    size = math.prod(shape[1:])
    return [_nest(flat[i * size:(i + 1) * size], shape[1:]) for i in range(shape[0])]
