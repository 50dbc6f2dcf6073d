"""A lesson evaluated live by PyTorch: its givens and graph, expected answers, node values and gradients."""

from __future__ import annotations

import ast
import contextlib
import math
from collections.abc import Collection, Iterator
from typing import Any

import torch

from tutor.core.errors import ExprError, LessonError, LessonErrors, LimitExceeded
from tutor.core.evaluate.expected import as_expected, whole_scalar
from tutor.core.evaluate.results import Expected, NodeValue
from tutor.core.evaluate.run import compile_expr, plain_data, run_graph
from tutor.core.expr import budget, limits
from tutor.core.expr.budget import Budget
from tutor.core.expr.compile import CONTAINED, Compiled, Scope, computing_numbers, is_number, to_tensor
from tutor.core.expr.meta import ShapesOnly, on_meta
from tutor.core.expr.optimize import optimizer_settings
from tutor.core.expr.optimize import train as optimizer_train
from tutor.core.expr.syntax import Assignment, Expr
from tutor.core.lesson.graph_ask import graph_target
from tutor.core.lesson.graph_ops import expected_graph
from tutor.core.lesson.model import Lesson, Step, is_count
from tutor.core.vocabulary import Kind

# A graph predicted (on meta tensors) to take more than this is computed only when a value is asked for,
# so shape and cost questions about real layers (AlexNet, VGG-16) answer without running them.
EAGER_OPS = 50_000_000
EAGER_NUMEL = 100_000  # givens bigger than this are shaped on meta tensors first
_CREATORS = {"zeros", "ones", "eye", "arange", "linspace"}
# Numbers a lesson's expected values may hold in all, as Python lists (about 32 bytes each).
MAX_EXPECTED_NUMBERS = 1_000_000
_SHAPE_ASKS = {"shape", "numel", "bytes", "flops"}
_SHAPE_SLIPS = {"_numel_without_batch", "_numel_with_bias", "_as_float64_bytes"}  # mistake rewrites' counts


class LiveLesson:
    """Evaluates a lesson's givens and graph once with torch; answers questions about it.

    Constructing it imports torch; callers in the app do that in a worker thread.
    `overrides` replaces given values (drill draws, a learner's typed parameters).
    """

    def __init__(self, lesson: Lesson, overrides: dict[str, Any] | None = None):
        self.lesson = lesson
        self.dtype = torch.float32 if lesson.dtype == "float32" else torch.float64
        self.file = str(lesson.path or lesson.id)
        self._lines = [(a, compile_expr(a.expr)) for a in lesson.graph]
        self._given_src = {**lesson.given, **(overrides or {})}
        self._expected: dict[str, Expected] = {}
        self._expected_numbers = 0
        self._compiled_asks: dict[str, Compiled] = {}
        self._running: Budget | None = None
        self._scope: Scope | None = None
        self._meta_scope: Scope | None = None
        self._real_givens: dict[str, torch.Tensor] | None = None
        self.graph_ops = 0
        with self.evaluation():
            # Meta tensors only for real-size lessons: torch's meta kernels for small element-wise ops load
            # torch._dynamo (seconds), so an ordinary lesson never touches them.
            shapes = self._meta_givens() if _creates_tensors(self._given_src) else None
            if shapes is not None and any(t.numel() > EAGER_NUMEL for t in shapes.values()):
                self._predict_graph(shapes)
                if self._meta_scope is None or self.graph_ops <= EAGER_OPS:
                    self._run_small_graph(predicted=self._meta_scope is not None)
            else:
                self._run_small_graph()

    def _run_small_graph(self, predicted: bool = False) -> None:
        """The graph computed now; if that is refused as too big, its shapes alone (values when asked)."""
        before = budget.current().ops
        try:
            self._scope = self._run_graph(self._givens)
        except LessonErrors as err:
            # a line too big to compute (a real-size layer) is fine while only its shape or cost is asked
            if not predicted:
                self._predict_graph(self._givens)
            if self._meta_scope is None or not (err.over_limit or self.graph_ops > EAGER_OPS):
                raise
        else:
            self.graph_ops = budget.current().ops - before

    # ---- budgets ----------------------------------------------------------------------

    @contextlib.contextmanager
    def evaluation(self, meter: Budget | None = None) -> Iterator[None]:
        """Runs the block inside one work budget (`meter`, or a fresh one), unless an evaluation of this
        lesson is already running: everything evaluated in the block (all of a lesson's prose quotes,
        say) shares it, and cancel() stops all of it."""
        if self._running is not None and budget.current() is self._running:
            yield
            return
        meter = meter or Budget()
        self._running = meter
        try:
            with budget.running(meter):
                yield
        finally:
            self._running = None

    def cancel(self) -> None:
        """Stops whatever this lesson is evaluating (safe from any thread): it raises Cancelled soon after."""
        running = self._running
        if running is not None:
            running.cancel()

    @property
    def scope(self) -> Scope:
        """The graph's real values, computed on first use when the graph is too big to compute up front."""
        if self._scope is None:
            with self.evaluation():
                self._scope = self._run_graph(self._givens)
        return self._scope

    @property
    def _givens(self) -> dict[str, torch.Tensor]:
        """The givens' real values, computed on first use when only shapes were needed so far."""
        if self._real_givens is None:
            with self.evaluation():
                self._real_givens = self._evaluate_givens(self._given_src)
        return self._real_givens

    def _given_scope(self) -> Scope:
        """The givens alone: their values, or their shapes (numbers keep their values) when one is too big."""
        try:
            return Scope(self.dtype, dict(self._givens), self)
        except LessonErrors as err:
            if not err.over_limit or self._meta_scope is None:
                raise
            return self._meta_scope

    def _meta_givens(self) -> dict[str, torch.Tensor] | None:
        """The givens' shapes without their numbers (zeros(1, 64, 224, 224) costs nothing); None if one needs numbers."""
        counter = ShapesOnly(budget.current())
        try:
            with budget.running(counter):
                return self._evaluate_givens(self._given_src, meta=True)
        except (LessonErrors, ExprError, *CONTAINED):
            return None

    def _predict_graph(self, givens: dict[str, torch.Tensor]) -> None:
        """Runs the graph on meta tensors: its work (graph_ops) and shapes, before anything heavy runs."""
        counter = ShapesOnly(budget.current())
        try:
            with budget.running(counter):
                self._meta_scope = self._run_graph(givens, meta=True)
        except (LessonErrors, ExprError, *CONTAINED):
            self._meta_scope = None  # a graph that needs numbers to run (an index read from a tensor)
        self.graph_ops = counter.ops

    # ---- building the graph -----------------------------------------------------------

    def _evaluate_givens(self, source: dict[str, Any], meta: bool = False) -> dict[str, torch.Tensor]:
        scope = Scope(self.dtype, meta=meta)
        errors: list[LessonError] = []
        over_limit = True  # every error a size refused: the shapes may still be known
        for name, raw in source.items():
            try:
                value = compile_expr(raw)(scope) if isinstance(raw, Expr) else _literal(raw, self.dtype)
                with computing_numbers() if is_number(value) else contextlib.nullcontext():
                    leaf = to_tensor(value, self.dtype).detach().to(self.dtype)  # a number keeps its value
                if not meta:  # on meta tensors a real-size weight (GPT-2's 50257×768 table) is only its shape
                    limits.check_numel(tuple(leaf.shape), "this given")
                if leaf.requires_grad or any(leaf is v or leaf.data_ptr() == v.data_ptr() for v in scope.env.values()
                                             if isinstance(v, torch.Tensor)):
                    leaf = leaf.clone()  # a copy only when it shares memory with another given (b = "a")
                scope.env[name] = leaf.requires_grad_(True)
            except (ExprError, *CONTAINED) as err:
                errors.append(LessonError(self.file, f"[given] {name}", str(err)))
                over_limit = over_limit and isinstance(err, LimitExceeded)
        if errors:
            raise LessonErrors(errors, over_limit=over_limit)
        return scope.env

    def _run_graph(self, givens: dict[str, torch.Tensor], pinned: dict[str, Any] | None = None,
                   meta: bool = False) -> Scope:
        return run_graph(self._lines, givens, self.dtype, pinned=pinned, lesson=self, file=self.file, meta=meta)

    @property
    def lines(self) -> list[tuple[Assignment, Compiled]]:
        """The graph's lines with their compiled right-hand sides, in order."""
        return self._lines

    @property
    def givens(self) -> dict[str, torch.Tensor]:
        """The original given values (after overrides), as the leaves every run starts from."""
        return self._givens

    def line_for(self, name: str) -> Compiled | None:
        """The compiled right-hand side of the last graph line assigning `name` (for flops)."""
        for assignment, fn in reversed(self._lines):
            if assignment.target == name and assignment.op == "=":
                return fn
        return None

    def scope_after_training(self, kind: str, settings: dict[str, Any], steps: int) -> Scope:
        """The graph recomputed after `steps` of torch.optim's SGD or Adam on [train].params (for sgd()/adam())."""
        train = self.lesson.train
        if train is None:
            raise ExprError(f"{kind}() needs a [train] section naming the params to update")
        loss_fn = self._compiled_asks.setdefault(train.loss.text, compile_expr(train.loss))

        def loss_of(params: dict[str, torch.Tensor]) -> torch.Tensor:
            return to_tensor(loss_fn(self._run_graph({**self._givens, **params})), self.dtype)

        params = optimizer_train(kind, settings, {n: self._givens[n] for n in train.params}, loss_of, steps)
        return self._run_graph({**self._givens, **params})

    def run_sgd(self, lr: float, steps: int) -> tuple[dict[str, torch.Tensor], list[float]]:
        """Plain SGD on [train].params: the final parameters and the loss before each step and after the last.

        Runs torch.optim.SGD, the same path as sgd() in an ask. Stops early, keeping what it has, once the
        loss is no longer finite (a learning rate that diverges).
        """
        train = self.lesson.train
        if train is None:
            raise ExprError("sgd() needs a [train] section naming the params to update")
        loss_fn = self._compiled_asks.setdefault(train.loss.text, compile_expr(train.loss))

        def loss_of(params: dict[str, torch.Tensor]) -> torch.Tensor:
            loss = to_tensor(loss_fn(self._run_graph({**self._givens, **params})), self.dtype)
            if loss.numel() != 1:
                raise ExprError("the [train] loss must be a scalar")
            return loss

        losses: list[float] = []
        with self.evaluation():
            params = optimizer_train("sgd", optimizer_settings("sgd", lr, {}),
                                     {n: self._givens[n] for n in train.params}, loss_of, steps, losses)
            if len(losses) == steps and all(math.isfinite(x) for x in losses):
                losses.append(float(loss_of(params).item()))
        return params, losses

    # ---- steps ------------------------------------------------------------------------

    def expected(self, step_id: str) -> Expected:
        """The step's answer, computed now; raises LessonError naming the step on failure."""
        if step_id in self._expected:
            return self._expected[step_id]
        step = self.lesson.step(step_id)
        reason = None
        try:
            result = self._compute_expected(step)
        except ExprError as err:
            reason = str(err)
        except LessonErrors as err:  # the graph recomputed for sgd()/adam() or on first use, refused
            reason = "; ".join(f"{e.where}: {e.reason}" if e.where else e.reason for e in err.errors)
        except CONTAINED as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if reason is not None:
            # raised here, outside the handler, so the error holds no frame that holds the tensors
            raise LessonError(self.file, f"step {step_id!r}", reason)
        self._expected[step_id] = result
        return result

    def _compute_expected(self, step: Step) -> Expected:
        if step.kind == Kind.GRAPH:
            return Expected(Kind.GRAPH, expected_graph(self.lesson, graph_target(step)), ())
        with self.evaluation():
            value = self.evaluate(step.ask)
            count = limits.listed_size(value.shape) if isinstance(value, torch.Tensor) else 1
            if self._expected_numbers + count > MAX_EXPECTED_NUMBERS:
                raise LimitExceeded(f"the lesson's answers would hold more than {MAX_EXPECTED_NUMBERS:,} "
                                    "numbers: ask for smaller values, or for their shape")
            kind = Kind.INTEGER if self._is_count(step) and whole_scalar(value) else step.kind
            result = as_expected(kind, value)  # a count built from sizes is exact, whatever the ask looks like
        self._expected_numbers += count
        return result

    def _is_count(self, step: Step) -> bool:
        """A value ask built only from whole numbers by counting (numel, sizes, whole size givens)."""
        def whole(name: str) -> bool:
            value = self._given_scope().env.get(name)
            return isinstance(value, torch.Tensor) and value.numel() == 1 and float(value.item()).is_integer()

        return step.kind == Kind.VALUE and is_count(step.ask.tree, self.lesson, whole)

    def evaluate(self, expr: Expr) -> Any:
        """Evaluates any ask-language expression against this lesson's graph."""
        fn = self._compiled_asks.get(expr.text)
        if fn is None:
            fn = self._compiled_asks[expr.text] = compile_expr(expr)
        with self.evaluation():
            if self._scope is None and self._meta_scope is not None:
                if _shapes_only(expr.tree):
                    return fn(self._meta_scope)  # a big graph's shapes and costs, without computing it
                if not expr.names() & set(self.lesson.graph_names):
                    # a given quoted in prose ({{ n_embd }}) needs no graph line computed
                    value = fn(self._given_scope())
                    if isinstance(value, torch.Tensor) and value.is_meta:
                        # numbers of a given too big to hold: computing it raises the limit that says so
                        value = fn(Scope(self.dtype, dict(self._givens), self))
                    return value
            return fn(self.scope)

    @property
    def shapes_only(self) -> bool:
        """Whether the graph is known only by its shapes so far (a real-size layer, computed when asked)."""
        return self._scope is None and self._meta_scope is not None

    @property
    def cheapest_scope(self) -> Scope:
        """The graph's values when computed, else its shapes (meta tensors): what diagnosis reads."""
        return self._scope or self._meta_scope or self.scope

    def evaluate_cheaply(self, expr: Expr) -> Any:
        """An expression for diagnosis: from shapes alone (meta tensors) when it only needs shapes."""
        fn = self._compiled_asks.get(expr.text)
        if fn is None:
            fn = self._compiled_asks[expr.text] = compile_expr(expr)
        with self.evaluation():
            return cheaply(fn, expr.tree, self.cheapest_scope)

    # ---- for the graph view -----------------------------------------------------------

    def node_values(self, names: Collection[str] | None = None) -> dict[str, NodeValue]:
        """Forward value of every given and graph name (the last binding of a reassigned name), or of
        `names` only (listing a real-size layer's activations takes a while)."""
        out = {}
        with self.evaluation():
            for name, value in self.scope.env.items():
                if names is not None and name not in names:
                    continue
                shape, data = plain_data(value)
                out[name] = NodeValue(shape, data)
        return out

    def loss_name(self) -> str | None:
        train = self.lesson.train
        if train is not None and train.loss.tree.__class__.__name__ == "Name":
            return train.loss.text
        for assignment in reversed(self.lesson.graph):
            value = self.scope.env.get(assignment.target)
            if isinstance(value, torch.Tensor) and value.numel() == 1:
                return assignment.target
        return None

    def node_grads(self) -> dict[str, NodeValue]:
        """Gradient of the lesson's loss ([train].loss, else the last scalar graph name) w.r.t. each node."""
        with self.evaluation():
            return self._node_grads()

    def _node_grads(self) -> dict[str, NodeValue]:
        if self.lesson.train is not None:
            loss = to_tensor(self.evaluate(self.lesson.train.loss), self.dtype)
        else:
            name = self.loss_name()
            if name is None:
                return {}
            loss = self.scope.env[name]
        if loss.numel() != 1 or not loss.requires_grad:
            return {}
        names = [n for n, v in self.scope.env.items() if isinstance(v, torch.Tensor) and v.requires_grad]
        grads = torch.autograd.grad(loss.reshape(()), [self.scope.env[n] for n in names],
                                    retain_graph=True, allow_unused=True)
        out = {}
        for name, g in zip(names, grads, strict=False):
            g = torch.zeros_like(self.scope.env[name]) if g is None else g
            shape, data = plain_data(g)
            out[name] = NodeValue(shape, data)
        return out


def _creates_tensors(source: dict[str, Any]) -> bool:
    """Whether a given may be big: only zeros/ones/eye/arange/linspace make tensors bigger than the file."""
    return any(isinstance(raw, Expr) and raw.calls() & _CREATORS for raw in source.values())


def cheaply(fn: Compiled, tree: ast.AST, scope: Scope) -> Any:
    """fn on the scope, or on its meta tensors (no numbers computed) when the tree needs only shapes."""
    if scope.meta or _shapes_only(tree, _SHAPE_ASKS | _SHAPE_SLIPS):
        return on_meta(fn, scope)[0]
    return fn(scope)


def _shapes_only(tree: ast.AST, asks: set[str] = _SHAPE_ASKS) -> bool:
    """Asks answered from shapes alone: shape/numel/bytes/flops, their entries, and sums and products of them."""
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name):
        return tree.func.id in asks
    if isinstance(tree, ast.Subscript):
        return _shapes_only(tree.value, asks)
    if isinstance(tree, ast.BinOp):
        return _shapes_only(tree.left, asks) and _shapes_only(tree.right, asks)
    return isinstance(tree, ast.Constant)


def _literal(raw: Any, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(raw, dtype=dtype)
