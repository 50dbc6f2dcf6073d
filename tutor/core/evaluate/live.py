"""A lesson evaluated live by PyTorch: expected answers, node values and gradients, checking."""

from __future__ import annotations

import ast
import contextlib
import math
from collections.abc import Iterator
from typing import Any

import torch

from tutor.core.errors import ExprError, LessonError, LessonErrors
from tutor.core.evaluate.results import Expected, NodeValue
from tutor.core.expr import budget, limits
from tutor.core.expr.budget import Budget
from tutor.core.expr.compile import CONTAINED, Compiled, Scope, binary, to_tensor
from tutor.core.expr.meta import ShapesOnly, on_meta
from tutor.core.expr.optimize import train as optimizer_train
from tutor.core.expr.special import compiler
from tutor.core.expr.syntax import Assignment, Expr
from tutor.core.lesson.model import Lesson, Step

_COMPILER = compiler()
_AUG = {"+=": "Add", "-=": "Sub", "*=": "Mult", "/=": "Div"}
# A graph predicted (on meta tensors) to take more than this is computed only when a value is asked for,
# so shape and cost questions about real layers (AlexNet, VGG-16) answer without running them.
EAGER_OPS = 50_000_000
EAGER_NUMEL = 100_000  # givens bigger than this are shaped on meta tensors first
_CREATORS = {"zeros", "ones", "eye", "arange", "linspace"}
# Numbers a lesson's expected values may hold in all, as Python lists (about 32 bytes each).
MAX_EXPECTED_NUMBERS = 1_000_000
_SHAPE_ASKS = {"shape", "numel", "bytes", "flops"}
_SHAPE_SLIPS = {"_numel_without_batch", "_numel_with_bias", "_as_float64_bytes"}  # mistake rewrites' counts


def compile_expr(expr: Expr) -> Compiled:
    return _COMPILER.compile(expr.tree)


def plain_data(value: Any) -> tuple[tuple[int, ...], Any]:
    """A tensor or number as (shape, float or nested list of floats)."""
    if isinstance(value, torch.Tensor):
        t = value.detach()
        size = limits.listed_size(t.shape)
        budget.charge(size, 4 * size, "turning the result into numbers")
        if t.is_floating_point() or t.dtype == torch.int64:
            return tuple(t.shape), t.double().tolist() if t.dim() else float(t.item())
    if isinstance(value, (int, float)):
        return (), float(value)
    raise ExprError(f"expected a number or a tensor, got {type(value).__name__}")


def run_graph(lines: list[tuple[Assignment, Compiled]], start_values: dict[str, Any], dtype: torch.dtype,
              budget: Any = None, pinned: dict[str, Any] | None = None, *, lesson: Any = None,
              file: str = "lesson", meta: bool = False) -> Scope:
    """Runs a graph's lines from the original givens: the one way any graph is executed.

    `pinned` maps node names to values used instead of computing that node (a learner's own numbers,
    an error carried forward); each becomes a fresh differentiable leaf. `budget` (a tutor.core.expr.budget
    Budget) is activated for the run when given. `lesson` is the LiveLesson that sgd() and flops() ask.
    """
    with _running(budget):
        leaves = {name: _leaf(value, dtype) for name, value in (pinned or {}).items()}
        scope = Scope(dtype, {**start_values, **leaves}, lesson, meta=meta)
        for assignment, fn in lines:
            target = assignment.target
            if target in leaves:
                scope.env[target] = leaves[target]
                continue
            try:
                value = fn(scope)
                if assignment.op != "=":
                    op = getattr(ast, _AUG[assignment.op])
                    value = binary(op, scope.env[target], value, dtype)
            except ExprError as err:
                raise LessonErrors([LessonError(file, f"graph line {assignment.line}", str(err))]) from None
            except (*CONTAINED, KeyError) as err:
                reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise LessonErrors([LessonError(file, f"graph line {assignment.line}", reason)]) from None
            if isinstance(value, torch.Tensor) and value.is_floating_point() and not value.requires_grad:
                # built from constants only (x = ones(3, 1)): an input in all but name, so it is a leaf
                # that gradients can be taken with respect to, like a given
                value = value.detach().requires_grad_(True)
            scope.env[target] = value
        return scope


def _leaf(value: Any, dtype: torch.dtype) -> torch.Tensor:
    tensor = value if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=dtype)
    tensor = tensor.detach().to(dtype).clone()
    return tensor.requires_grad_(True) if tensor.is_floating_point() else tensor


def _running(budget: Any):
    """The budget's activation context, or a no-op when there is none (or no budget module)."""
    if budget is None:
        return contextlib.nullcontext()
    try:
        from tutor.core.expr import budget as budgets
    except ImportError:
        return contextlib.nullcontext()
    return budgets.running(budget)


class LiveLesson:
    """Evaluates a lesson's givens and graph once with torch; answers questions about it.

    Constructing it imports torch; callers in the app do that in a worker thread.
    `overrides` replaces given values (drill draws, a learner's typed parameters).
    """

    def __init__(self, lesson: Lesson, overrides: dict[str, Any] | None = None):
        self.lesson = lesson
        self.dtype = torch.float32 if lesson.dtype == "float32" else torch.float64
        self._file = str(lesson.path or lesson.id)
        self._lines = [(a, compile_expr(a.expr)) for a in lesson.graph]
        self._given_src = {**lesson.given, **(overrides or {})}
        self._expected: dict[str, Expected] = {}
        self._expected_numbers = 0
        self._compiled_asks: dict[str, Compiled] = {}
        self._candidates: dict[str, Any] = {}
        self._diagnosis_cache: dict = {}
        self._slip_scopes: dict[str, Scope] = {}
        self._running: Budget | None = None
        self._scope: Scope | None = None
        self._meta_scope: Scope | None = None
        self._real_givens: dict[str, torch.Tensor] | None = None
        self.graph_ops = 0
        with self._evaluation():
            # Meta tensors only for real-size lessons: torch's meta kernels for small element-wise ops load
            # torch._dynamo (seconds), so an ordinary lesson never touches them.
            shapes = self._meta_givens() if _creates_tensors(self._given_src) else None
            if shapes is not None and any(t.numel() > EAGER_NUMEL for t in shapes.values()):
                self._predict_graph(shapes)
                if self._meta_scope is None or self.graph_ops <= EAGER_OPS:
                    self._scope = self._run_graph(self._givens)
            else:
                self._run_small_graph()

    def _run_small_graph(self) -> None:
        """The graph computed now; if that is refused as too big, its shapes alone (values when asked)."""
        before = budget.current().ops
        try:
            self._scope = self._run_graph(self._givens)
        except LessonErrors:
            self._predict_graph(self._givens)
            if self._meta_scope is None or self.graph_ops <= EAGER_OPS:
                raise
        else:
            self.graph_ops = budget.current().ops - before

    # ---- budgets ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _evaluation(self) -> Iterator[None]:
        """Runs the block inside one work budget, unless an evaluation of this lesson is already running."""
        if self._running is not None and budget.current() is self._running:
            yield
            return
        meter = Budget()
        self._running = meter
        try:
            with budget.running(meter):
                yield
        finally:
            self._running = None

    def evaluation(self) -> contextlib.AbstractContextManager[None]:
        """One work budget for a caller's whole job (the graph view's checks), stopped by cancel()."""
        return self._evaluation()

    def cancel(self) -> None:
        """Stops whatever this lesson is evaluating (safe from any thread): it raises Cancelled soon after."""
        running = self._running
        if running is not None:
            running.cancel()

    @property
    def scope(self) -> Scope:
        """The graph's real values, computed on first use when the graph is too big to compute up front."""
        if self._scope is None:
            with self._evaluation():
                self._scope = self._run_graph(self._givens)
        return self._scope

    @property
    def _givens(self) -> dict[str, torch.Tensor]:
        """The givens' real values, computed on first use when only shapes were needed so far."""
        if self._real_givens is None:
            with self._evaluation():
                self._real_givens = self._evaluate_givens(self._given_src)
        return self._real_givens

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
        for name, raw in source.items():
            try:
                value = compile_expr(raw)(scope) if isinstance(raw, Expr) else _literal(raw, self.dtype)
                leaf = to_tensor(value, self.dtype).detach().to(self.dtype)
                limits.check_numel(tuple(leaf.shape), "this given") if not meta else _refuse_huge(leaf)
                if leaf.requires_grad or any(leaf is v or leaf.data_ptr() == v.data_ptr() for v in scope.env.values()
                                             if isinstance(v, torch.Tensor)):
                    leaf = leaf.clone()  # a copy only when it shares memory with another given (b = "a")
                scope.env[name] = leaf.requires_grad_(True)
            except (ExprError, *CONTAINED) as err:
                errors.append(LessonError(self._file, f"[given] {name}", str(err)))
        if errors:
            raise LessonErrors(errors)
        return scope.env

    def _run_graph(self, givens: dict[str, torch.Tensor], pinned: dict[str, Any] | None = None,
                   meta: bool = False) -> Scope:
        return run_graph(self._lines, givens, self.dtype, pinned=pinned, lesson=self, file=self._file, meta=meta)

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

    def scope_after_sgd(self, lr: float, steps: int) -> Scope:
        """The graph recomputed after `steps` SGD steps on [train].params at rate `lr`."""
        params, _ = self.run_sgd(lr, steps)
        return self._run_graph({**self._givens, **params})

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

        Stops early, keeping what it has, once the loss is no longer finite (a learning rate that diverges).
        """
        train = self.lesson.train
        if train is None:
            raise ExprError("sgd() needs a [train] section naming the params to update")
        loss_fn = self._compiled_asks.setdefault(train.loss.text, compile_expr(train.loss))
        params = {n: self._givens[n].detach().clone().requires_grad_(True) for n in train.params}
        losses: list[float] = []
        with self._evaluation():
            return self._sgd_loop(loss_fn, params, losses, lr, steps)

    def _sgd_loop(self, loss_fn, params, losses, lr, steps):
        for index in range(steps + 1):
            scope = self._run_graph({**self._givens, **params})
            loss = to_tensor(loss_fn(scope), self.dtype)
            if loss.numel() != 1:
                raise ExprError("the [train] loss must be a scalar")
            losses.append(float(loss.item()))
            if index == steps or not math.isfinite(losses[-1]):
                break
            grads = torch.autograd.grad(loss.reshape(()), list(params.values()), allow_unused=True)
            params = {
                n: (p - lr * (g if g is not None else torch.zeros_like(p))).detach().requires_grad_(True)
                for (n, p), g in zip(params.items(), grads, strict=False)
            }
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
            raise LessonError(self._file, f"step {step_id!r}", reason)
        self._expected[step_id] = result
        return result

    def _compute_expected(self, step: Step) -> Expected:
        if step.kind == "graph":
            from tutor.core.graph.answer import expected_graph_value

            with self._evaluation():
                return expected_graph_value(self, step)
        with self._evaluation():
            value = self.evaluate(step.ask)
            count = limits.listed_size(value.shape) if isinstance(value, torch.Tensor) else 1
            if self._expected_numbers + count > MAX_EXPECTED_NUMBERS:
                raise ExprError(f"the lesson's answers would hold more than {MAX_EXPECTED_NUMBERS:,} "
                                "numbers; ask for smaller values (or their shape)")
            result = _as_expected(step, value)
        self._expected_numbers += count
        return result

    def evaluate(self, expr: Expr) -> Any:
        """Evaluates any ask-language expression against this lesson's graph."""
        fn = self._compiled_asks.get(expr.text)
        if fn is None:
            fn = self._compiled_asks[expr.text] = compile_expr(expr)
        with self._evaluation():
            if self._scope is None and self._meta_scope is not None and _shapes_only(expr.tree):
                return fn(self._meta_scope)  # a big graph's shapes and costs, without computing it
            return fn(self.scope)

    def check(self, step_id: str, text: str, earlier: dict[str, str] | None = None):
        """Parses a typed answer once, checks it, and names a mistake if exactly one explains it.

        `earlier` holds the learner's typed answers to other steps: a wrong answer that they lead to
        is an error carried forward, named as such instead of as a new mistake.
        """
        from tutor.core.answer.judge import check_answer, read_answer
        from tutor.core.answer.parse import ParsedAnswer
        from tutor.core.check.carried import carried_verdict
        from tutor.core.diagnosis.diagnose import diagnose

        step = self.lesson.step(step_id)
        expected = self.expected(step_id)
        if step.kind == "graph":
            from tutor.core.graph.answer import check_graph

            with self._evaluation():
                return check_graph(self, step, text)
        parsed = read_answer(text, expected)
        if not isinstance(parsed, ParsedAnswer):
            return parsed  # missing or unreadable: a verdict already
        with self._evaluation():
            verdict = check_answer(parsed, expected, step.tolerance or self.lesson.tolerance)
            if verdict.status not in ("wrong", "wrong_shape"):
                return verdict
            if earlier:
                carried = carried_verdict(self, step, parsed, verdict, earlier)
                if carried is not None:
                    return carried
            inputs = self.diagnosis_inputs(step_id)
            return diagnose(inputs, self.mistake_candidates(step_id), parsed, verdict)

    def diagnosis_inputs(self, step_id: str):
        """What diagnosis reads about a step: the lesson, the step, its answer, this run's values, a rerun."""
        from tutor.core.diagnosis.diagnose import Inputs

        step = self.lesson.step(step_id)
        scope = self._scope or self._meta_scope or self.scope  # a big graph is diagnosed on its shapes
        return Inputs(self.lesson, step, self.expected(step_id), dict(scope.env), self._evaluate_cheaply,
                      self._rerun, step.tolerance or self.lesson.tolerance, self.graph_ops, self._diagnosis_cache)

    def mistake_candidates(self, step_id: str):
        """The step's mistake candidates, computed once (they depend only on the lesson's numbers)."""
        from tutor.core.diagnosis.diagnose import candidates

        if step_id not in self._candidates:
            self._candidates[step_id] = candidates(self.diagnosis_inputs(step_id))
        return self._candidates[step_id]

    def _rerun(self, slip: str, graph_trees: list | None, ask_tree) -> Any:
        """A rewritten graph (None keeps a line as written) run from the givens, then a rewritten ask on it.

        The rewritten graph's run depends only on the slip, so it is kept for the lesson's other steps."""
        from tutor.core.diagnosis import rewrites as mistake_rewrites

        compiler = mistake_rewrites.compiler()
        as_run = self._scope or self._meta_scope or self.scope  # a big graph is rerun on its shapes
        scope = self._slip_scopes.get(slip) if graph_trees is not None else as_run
        if scope is None:
            lines = [(a, fn if tree is None else compiler.compile(tree))
                     for tree, (a, fn) in zip(graph_trees, self._lines, strict=False)]
            if self._scope is None and self._meta_scope is not None:  # a big graph: rerun on its shapes
                with budget.running(ShapesOnly(budget.current())):
                    scope = run_graph(lines, self._givens, self.dtype, lesson=self, file=self._file, meta=True)
            else:
                scope = run_graph(lines, self._givens, self.dtype, lesson=self, file=self._file)
            self._slip_scopes[slip] = scope
        return _cheaply(compiler.compile(ask_tree), ask_tree, scope)

    def _evaluate_cheaply(self, expr: Expr) -> Any:
        """An expression for diagnosis: from shapes alone (meta tensors) when it only needs shapes."""
        fn = self._compiled_asks.get(expr.text)
        if fn is None:
            fn = self._compiled_asks[expr.text] = compile_expr(expr)
        with self._evaluation():
            return _cheaply(fn, expr.tree, self._scope or self._meta_scope or self.scope)

    # ---- for the graph view -----------------------------------------------------------

    def node_values(self) -> dict[str, NodeValue]:
        """Forward value of every given and graph name (the last binding of a reassigned name)."""
        out = {}
        with self._evaluation():
            for name, value in self.scope.env.items():
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
        with self._evaluation():
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


def _refuse_huge(t: torch.Tensor) -> None:
    """The per-tensor limit for a given, also when only its shape is computed."""
    if t.numel() > limits.MAX_ELEMENTS:
        dims = "×".join(map(str, t.shape))
        raise ExprError(f"this given would have {t.numel():,} elements ({dims}); the limit is {limits.MAX_ELEMENTS:,}")


def _cheaply(fn: Compiled, tree: ast.AST, scope: Scope) -> Any:
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


def _as_expected(step: Step, value: Any) -> Expected:
    kind = step.kind
    if kind == "shape":
        if not isinstance(value, tuple):
            raise ExprError("a shape ask must be written shape(expr)")
        return Expected("shape", [int(v) for v in value], (len(value),))
    if kind == "integer":
        number = value.item() if isinstance(value, torch.Tensor) and value.numel() == 1 else value
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number) \
                or number != round(number):
            raise ExprError("this ask should give a whole number")
        return Expected("integer", int(round(number)), ())
    if isinstance(value, tuple):
        raise ExprError("this ask gives a shape; write it as shape(...)")
    shape, data = plain_data(value)
    flat = [data] if not shape else _flatten(data)
    if not all(math.isfinite(v) for v in flat):
        raise ExprError("the answer is not a finite number (inf or nan)")
    return Expected("value", data, shape)


def _flatten(data: Any) -> list[float]:
    if isinstance(data, list):
        return [v for item in data for v in _flatten(item)]
    return [data]


def solve(lesson: Lesson) -> tuple[dict[str, Expected], list[LessonError]]:
    """Every step's expected value, and the errors of steps that could not be computed."""
    live = LiveLesson(lesson)
    results: dict[str, Expected] = {}
    errors: list[LessonError] = []
    for step in lesson.steps:
        try:
            results[step.id] = live.expected(step.id)
        except LessonError as err:
            errors.append(err)
    return results, errors
