"""Training runs for the loss plot: SGD at the lesson's own rate, and the loss after the learner's own update."""

from __future__ import annotations

import ast
import dataclasses
import math
from dataclasses import dataclass
from typing import TypeGuard

from tutor.core.answer.parse import parse_answer
from tutor.core.errors import AnswerParseError, TutorError
from tutor.core.expr.syntax import parse_expr
from tutor.core.lesson.model import Lesson, Train

PLOT_STEPS = 40  # a lesson with an update step but no [train] section is plotted this far


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


@dataclass(frozen=True)
class UpdateStep:
    """A step whose answer is the learner's own SGD update, and the learning rate it uses.

    Either `param` is set (the answer is that parameter after one step: `w - alpha * grad(L, w)`,
    `sgd(w, alpha)`), or `after` is (the answer is the loss itself after that many steps:
    `sgd(L, 0.05)`).
    """

    step_id: str
    rate: str                 # the rate's expression as the lesson writes it: alpha, eta, 0.05
    param: str | None = None
    loss: str | None = None   # the function differentiated (`L` of grad(L, w)), or sgd()'s f
    after: int | None = None


def update_steps(lesson: Lesson) -> list[UpdateStep]:
    """Every step that asks for an SGD update, in lesson order."""
    found = [_update_step(step.id, step.ask.tree, lesson) for step in lesson.steps]
    return [u for u in found if u is not None]


def _update_step(step_id: str, tree: ast.AST, lesson: Lesson) -> UpdateStep | None:
    if isinstance(tree, ast.Expression):
        tree = tree.body
    # p - rate * grad(f, p)   or   p - grad(f, p) * rate
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Sub) and isinstance(tree.left, ast.Name):
        param, right = tree.left.id, tree.right
        if isinstance(right, ast.BinOp) and isinstance(right.op, ast.Mult):
            for rate_node, grad in ((right.left, right.right), (right.right, right.left)):
                if (_is_call(grad, "grad") and len(grad.args) == 2 and isinstance(grad.args[1], ast.Name)
                        and grad.args[1].id == param):
                    return UpdateStep(step_id, ast.unparse(rate_node), param=param, loss=ast.unparse(grad.args[0]))
        return None
    # sgd(f, lr, steps=1): f a [train] param (its updated value) or the [train] loss (the new loss)
    if _is_call(tree, "sgd") and len(tree.args) >= 2 and lesson.train is not None:
        steps = _steps_argument(tree)
        f = ast.unparse(tree.args[0])
        rate = ast.unparse(tree.args[1])
        if steps is None:
            return None
        if f in lesson.train.params and steps == 1:
            return UpdateStep(step_id, rate, param=f, loss=lesson.train.loss.text)
        if f == lesson.train.loss.text.strip():
            return UpdateStep(step_id, rate, loss=f, after=steps)
    return None


def _is_call(node: ast.AST, name: str) -> TypeGuard[ast.Call]:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _steps_argument(call: ast.Call) -> int | None:
    """sgd()'s step count when written as a whole number (1 when left out), else None."""
    node = call.args[2] if len(call.args) > 2 else next(
        (k.value for k in call.keywords if k.arg == "steps"), ast.Constant(1))
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    return None


def has_plot(lesson: Lesson) -> bool:
    """True when the app offers a loss plot: a [train] section, or a step asking for an update."""
    return lesson.train is not None or plot_lesson(lesson) is not None


def plot_lesson(lesson: Lesson) -> Lesson | None:
    """The lesson with a [train] section to plot: its own, or one made from its update step
    (that step's loss and parameter); None when it has neither."""
    if lesson.train is not None:
        return lesson
    for update in update_steps(lesson):
        if update.param is not None and update.loss is not None:
            train = Train(loss=parse_expr(update.loss), params=(update.param,), lr=0.0, steps=PLOT_STEPS)
            return dataclasses.replace(lesson, train=train)
    return None


def written_rate(lesson: Lesson) -> float | None:
    """The first update step's rate when the lesson writes it as a number (`0.05`, or a given
    `alpha = 0.5`): known without evaluating anything, so the plot can show it at once."""
    updates = update_steps(lesson)
    if not updates:
        return lesson.train.lr if lesson.train is not None and lesson.train.lr > 0 else None
    text = updates[0].rate.strip()
    value = lesson.given.get(text, text)
    if isinstance(value, bool):
        return None
    try:
        rate = float(value)
    except (TypeError, ValueError):
        return None  # an expression: plot_rate() evaluates it
    return rate if math.isfinite(rate) and rate > 0 else None


def plot_rate(lesson: Lesson, live) -> float:
    """The rate the plot starts at: the first update step's own (the α the learner worked with),
    else the [train] section's."""
    for update in update_steps(lesson):
        value = live.evaluate(parse_expr(update.rate))
        rate = float(value.item()) if hasattr(value, "item") else float(value)
        if math.isfinite(rate) and rate > 0:
            return rate
    if lesson.train is None or lesson.train.lr <= 0:
        raise TutorError(f"lesson {lesson.id!r} has no learning rate to plot with")
    return lesson.train.lr


def run_sgd(lesson: Lesson, lr: float | None = None, steps: int | None = None, live=None) -> TrainRun:
    """Runs SGD with the lesson's [train] settings unless `lr` or `steps` override them."""
    from tutor.core.evaluate.live import LiveLesson  # lazy: torch, while the lesson list asks has_plot()

    if lesson.train is None:
        raise TutorError(f"lesson {lesson.id!r} has no [train] section")
    rate = lesson.train.lr if lr is None else lr
    count = lesson.train.steps if steps is None else steps
    live = live or LiveLesson(lesson)
    _, losses = live.run_sgd(rate, count)
    return TrainRun(losses, rate, count, lesson.train.params)


def learner_marker(lesson: Lesson, answers: dict[str, str]) -> tuple[int, float, str] | None:
    """(SGD step, loss, step id) for the learner's own update, from what they typed.

    A step that asks for the loss after an update gives it as typed. Otherwise the loss is
    computed at the parameters the learner typed, if they typed every [train] parameter (a
    loss at one typed weight and the others untouched is not the loss after their update).
    """

    updates = update_steps(lesson)
    for update in updates:
        if update.after is not None and update.step_id in answers:
            try:
                parsed = parse_answer(answers[update.step_id], "value")
            except AnswerParseError:
                continue
            if len(parsed.values) == 1 and math.isfinite(parsed.values[0]):
                return update.after, float(parsed.values[0]), update.step_id
    if lesson.train is None:
        return None
    typed = {u.param: u.step_id for u in updates if u.param is not None and u.step_id in answers}
    if not set(lesson.train.params) <= typed.keys():
        return None
    loss = loss_at(lesson, {p: answers[typed[p]] for p in lesson.train.params})
    return None if loss is None else (1, loss, typed[lesson.train.params[0]])


def loss_at(lesson: Lesson, typed_params: dict[str, str]) -> float | None:
    """The [train] loss with the learner's typed parameters in place; None if one does not read
    as a value of the parameter's shape (or the lesson has no [train] loss)."""
    from tutor.core.evaluate.live import LiveLesson  # lazy: torch, while the lesson list asks has_plot()

    train = lesson.train
    if train is None:
        return None
    base = LiveLesson(lesson)
    overrides = {}
    for param, text in typed_params.items():
        try:
            parsed = parse_answer(text, "value")
        except AnswerParseError:
            return None
        want = tuple(base.scope.env[param].shape)
        if math.prod(want) != len(parsed.values):
            return None
        overrides[param] = _nest(list(parsed.values), want)
    live = LiveLesson(lesson, overrides=overrides)
    loss = live.evaluate(train.loss)
    return float(loss.item()) if hasattr(loss, "item") else float(loss)


def _nest(flat: list[float], shape: tuple[int, ...]):
    if not shape:
        return flat[0]
    size = math.prod(shape[1:])
    return [_nest(flat[i * size:(i + 1) * size], shape[1:]) for i in range(shape[0])]
