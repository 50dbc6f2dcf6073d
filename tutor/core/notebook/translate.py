"""A notebook's code read statement by statement into a lesson's givens, graph lines and steps.

Nothing is run: each statement is read with Python's own parser and written down in the lesson
language where it can be. Tensors written out in numbers become givens (trainable when they require
gradients), assignments become graph lines, and every value the notebook prints or displays becomes
a step. Whatever cannot be written down is left out, with one line saying where and why.
"""

from __future__ import annotations

import ast
import re
import unicodedata
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

from tutor.core.errors import ExprError
from tutor.core.expr.syntax import ASK_CALLS, GRAPH_CALLS, check_tree, parse_expr
from tutor.core.notebook import torch_names as tn
from tutor.core.notebook.calls import Calls, GradMode
from tutor.core.notebook.cell import Cell, Notebook, NotebookRefused
from tutor.core.notebook.expressions import MAX_GIVEN_NUMBERS, Expressions, snippet
from tutor.core.notebook.values import (
    Config,
    Dtype,
    Function,
    Method,
    Module,
    Namespace,
    NoneVal,
    Num,
    Optimizer,
    Seq,
    Shape,
    Str,
    Tensor,
    Unknown,
    Unsupported,
    Val,
    call,
    name,
)

MAX_WORK = 400_000          # expression nodes read, counting every pass through a loop or a called function
MAX_CALL_DEPTH = 8
MAX_STEPS = 150
MAX_NUMBERS = 15_000        # numbers written out in all givens: the lesson file stays well under its size cap
RESERVED = frozenset({"pi", "e", "float32", "float64", "int64"})


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


@dataclass
class Given:
    name: str
    value: Any                  # a number, nested lists, or an expression string
    used: bool = False


@dataclass
class Line:
    name: str
    text: str


@dataclass
class StepDraft:
    id: str
    ask: str
    kind: str                   # "node", "grad", "update", "trained", "shape", "value"
    label: str
    code: str                   # what the notebook printed, as written (`w.grad`)
    markdown: str = ""
    comments: list = field(default_factory=list)
    needs: tuple | None = None  # (updates k, {identity: updates}) for a value after an update
    where: str = ""


@dataclass
class Frame:
    env: dict
    cell: Cell                   # the cell the code is written in
    run_cell: Cell               # the cell whose running brought us here (its output)
    depth: int = 0
    globals_: set = field(default_factory=set)


@dataclass
class Program:
    """A translated notebook, ready to be written as a lesson."""

    givens: dict
    lines: list
    steps: list
    config: Config | None
    train_params: list
    dtype: str
    intro: str
    title: str
    left_out: list


class Translator(Expressions, Calls):
    def __init__(self, notebook: Notebook, work: int = MAX_WORK):
        self.notebook = notebook
        self.work_left = work
        self.max_given_numbers = MAX_GIVEN_NUMBERS
        self.globals: dict[str, Any] = {}
        self.frame: Frame | None = None
        self.taken: set[str] = set(RESERVED)
        self.givens: dict[str, Given] = {}
        self.lines: list[Line] = []
        self.node_by_text: dict[str, str] = {}
        self.steps: list[StepDraft] = []
        self.step_by_ask: dict[str, StepDraft] = {}
        self.left_out: list[str] = []
        self._left_seen: set[str] = set()
        self.grads: dict[str, list[Val]] = {}
        self.retained: set[str] = set()
        self.current_round: dict[str, int] = {}
        self.identities: dict[str, str] = {}       # trainable identity -> given
        self.config: Config | None = None
        self.updated: list[str] = []
        self.no_grad = False
        self.default_dtype = "float32"
        self.dtype_votes: list[tuple[str, str]] = []
        self.pending_markdown: list[str] = []
        self.intro = ""
        self.title = ""
        self.events: list[tuple[list[StepDraft], str | None]] = []
        self.functions_called: set[int] = set()
        self.functions: list[tuple[Function, str]] = []
        self.name_hint = "param"
        self.numbers = 0
        self._suffix: dict[str, int] = {}

    # --- bookkeeping ---------------------------------------------------------------------------

    @property
    def current(self) -> Frame:
        """The frame being read: set by run_cell before any statement is read."""
        if self.frame is None:
            raise RuntimeError("a statement read outside a cell")
        return self.frame

    def spend(self, node: ast.AST | None = None, amount: int = 1) -> None:
        self.work_left -= amount
        if self.work_left < 0:
            raise NotebookRefused(f"too much to translate (more than {MAX_WORK:,} steps of reading; "
                                  "a loop or a function that calls itself?)")

    def where(self, node: ast.AST | None, frame: Frame | None = None) -> str:
        frame = frame or self.frame
        line = getattr(node, "lineno", None) or 1
        if frame is None:
            return "the notebook"
        if self.notebook.form == "script":
            return f"line {frame.cell.line_offset + line}"
        return f"cell {frame.cell.number}, line {line}"

    def leave_out(self, node: ast.AST | None, reason: str, fallback: ast.AST | None = None) -> str:
        where = self.where(node if getattr(node, "lineno", None) else fallback)
        code = snippet(node if node is not None else fallback)
        text = f"{where}: `{code}` {reason}; left out" if code else f"{where}: {reason}; left out"
        if text not in self._left_seen:
            self._left_seen.add(text)
            self.left_out.append(text)
        return where

    def fresh(self, base: str) -> str:
        base = _ascii_name(base)
        candidate, n = base, self._suffix.get(base, 1)
        while candidate in self.taken:
            n += 1
            candidate = f"{base}_{n}"
        self._suffix[base] = n
        self.taken.add(candidate)
        return candidate

    def new_identity(self, given: str) -> str:
        identity = f"{given}#{len(self.identities) + 1}"
        self.identities[identity] = given
        return identity

    def use_given(self, given: str) -> None:
        if given in self.givens:
            self.givens[given].used = True

    def vote(self, dtype: str, node: ast.AST | None) -> None:
        if dtype in ("float32", "float64"):
            self.dtype_votes.append((dtype, self.where(node)))

    def vote_dtype(self, t: Tensor, node: ast.AST | None) -> None:
        if t.dtype in ("float32", "float64"):
            self.vote(t.dtype, node)
        elif t.dtype is None:
            self.vote(self.default_dtype, node)
        elif t.dtype not in ("int64", "int32", "bool"):
            raise Unsupported(node, f"uses {t.dtype}, which the lesson language does not compute in")

    def lookup(self, key: str) -> Any:
        frame = self.frame
        if frame is not None and key in frame.env and key not in frame.globals_:
            return frame.env[key]
        return self.globals.get(key)

    def bind(self, key: str, value: Any) -> None:
        frame = self.frame
        if frame is not None and frame.depth > 0 and key not in frame.globals_:
            frame.env[key] = value
        else:
            self.globals[key] = value

    def refresh(self, v: Val) -> Val:
        """The trainable tensor itself as it is now: an update in place shows through every name for it."""
        if not v.live or not v.identity:
            return v
        k = self.current_round.get(v.identity, 0)
        return replace(v, trained={v.identity: k}, config=self.config if k else None)

    # --- the notebook --------------------------------------------------------------------------

    def run(self) -> Program:
        for cell in self.notebook.cells:
            if cell.kind == "markdown":
                self.pending_markdown.append(cell.source)
                if not self.title:
                    self.title = _heading(cell.source)
                continue
            self.run_cell(cell)
        for fn, where in self.functions:
            if id(fn.node) not in self.functions_called:
                self.left_out.append(f"{where}: `def {fn.node.name}()` is never called, so nothing in it is "
                                     "part of the lesson; left out")
        return self.program()

    def run_cell(self, cell: Cell) -> None:
        source = self.magics(cell)
        frame = Frame(self.globals, cell, cell)
        self.frame = frame
        body = self.parse_cell(source)
        self.events = []
        for i, stmt in enumerate(body):
            echo = (i == len(body) - 1 and self.notebook.form != "script" and isinstance(stmt, ast.Expr)
                    and not _ends_with_semicolon(source, stmt))
            self.statement(stmt, echo=echo)
        self.attach_output(cell)

    def parse_cell(self, source: str) -> list[ast.stmt]:
        """The cell's statements; a part that does not parse is left out and the rest still read."""
        whole = _parse(source)
        if isinstance(whole, ast.Module):
            return whole.body
        lines = source.splitlines()
        body: list[ast.stmt] = []
        i = 0
        while i < len(lines):
            self.spend(None, 10)
            if not lines[i].strip() or lines[i].lstrip().startswith("#"):
                i += 1
                continue
            end, parsed = i + 1, None
            while end <= min(len(lines), i + 200):
                parsed = _parse("\n".join(lines[i:end]))
                if isinstance(parsed, ast.Module) or parsed not in ("incomplete",):
                    break
                end += 1
            if isinstance(parsed, ast.Module):
                ast.increment_lineno(parsed, i)
                body += parsed.body
                i = end
                continue
            reason = "is nested too deeply to read" if parsed == "deep" else "is not valid Python"
            code = " ".join(lines[i].split())
            code = code if len(code) <= 60 else code[:57] + "..."
            self.left_out.append(f"{self.where(ast.Pass(lineno=i + 1))}: `{code}` {reason}; left out")
            i += 1
        return body

    def magics(self, cell: Cell) -> str:
        """IPython's `!command` and `%magic` lines are not Python: each is reported and read as `pass`."""
        lines = cell.source.splitlines()
        for i, line in enumerate(lines):
            stripped = line.lstrip()
            if stripped.startswith(("!", "%")):
                code = " ".join(stripped.split())
                code = code if len(code) <= 60 else code[:57] + "..."
                where = f"line {cell.line_offset + i + 1}" if self.notebook.form == "script" else \
                    f"cell {cell.number}, line {i + 1}"
                self.left_out.append(f"{where}: `{code}` is a shell or IPython command, not Python; not run, left out")
                lines[i] = line[: len(line) - len(stripped)] + "pass"
        return "\n".join(lines)

    def statement(self, stmt: ast.stmt, echo: bool = False) -> None:
        self.spend(stmt)
        try:
            self.exec_stmt(stmt, echo)
        except _Return:
            raise
        except Unsupported as err:
            origin = self.leave_out(err.node, err.reason, stmt)
            for target in _targets(stmt):
                self.bind(target, Unknown(origin, target))
        except (RecursionError, MemoryError):
            origin = self.leave_out(stmt, "is nested too deeply to read")
            for target in _targets(stmt):
                self.bind(target, Unknown(origin, target))
        except (TypeError, ValueError, KeyError, AttributeError, IndexError, ArithmeticError) as err:
            # code the translator did not foresee: that statement is left out, the rest still read
            origin = self.leave_out(stmt, f"could not be translated ({type(err).__name__})")
            for target in _targets(stmt):
                self.bind(target, Unknown(origin, target))

    def exec_stmt(self, stmt: ast.stmt, echo: bool) -> None:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            return self.import_(stmt)
        if isinstance(stmt, ast.Assign):
            target = stmt.targets[0]
            self.name_hint = (f"{target.value.id}_{target.attr}" if isinstance(target, ast.Attribute)
                              and isinstance(target.value, ast.Name) else "param")
            value = self.ev(stmt.value)
            for target in stmt.targets:
                self.assign(target, value, stmt)
            return
        if isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            return self.assign(stmt.target, self.ev(stmt.value), stmt)
        if isinstance(stmt, ast.AugAssign):
            return self.aug_assign(stmt)
        if isinstance(stmt, ast.Expr):
            return self.expression_statement(stmt, echo)
        if isinstance(stmt, ast.FunctionDef):
            if stmt.decorator_list:
                raise Unsupported(stmt, "is decorated; the translator reads plain functions only")
            fn = Function(stmt, self.current.cell)
            self.bind(stmt.name, fn)
            if self.current.depth == 0:
                self.functions.append((fn, self.where(stmt)))
            return
        if isinstance(stmt, ast.With):
            return self.with_(stmt)
        if isinstance(stmt, ast.For):
            return self.for_(stmt)
        if isinstance(stmt, ast.If):
            return self.if_(stmt)
        if isinstance(stmt, ast.Return):
            if self.current.depth == 0:
                raise Unsupported(stmt)
            raise _Return(self.ev(stmt.value) if stmt.value is not None else NoneVal())
        if isinstance(stmt, (ast.Pass, ast.Assert)):
            return None
        if isinstance(stmt, ast.Global):
            self.current.globals_.update(stmt.names)
            return None
        if isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    self.bind(target.id, Unknown(self.where(stmt), target.id))
            return None
        if isinstance(stmt, ast.ClassDef):
            raise Unsupported(stmt, "defines a class; the translator reads plain functions only")
        kinds = {ast.While: "`while` loop", ast.Try: "`try` block", ast.AsyncFunctionDef: "async function",
                 ast.Raise: "`raise`", ast.Break: "`break`", ast.Continue: "`continue`"}
        kind = kinds.get(type(stmt))
        raise Unsupported(stmt, f"is a {kind}, which a lesson does not have" if kind else
                          "is not part of the lesson language")

    def import_(self, stmt: ast.Import | ast.ImportFrom) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name in tn.NAMESPACES:
                    if alias.asname:
                        self.bind(alias.asname, Namespace(alias.name))
                    else:
                        self.bind(alias.name.split(".")[0], Namespace(alias.name.split(".")[0]))
                elif alias.name not in tn.QUIET_IMPORTS:
                    self.import_left_out(stmt, alias.asname or alias.name.split(".")[0], f"import {alias.name}")
            return
        module = stmt.module or ""
        if module in tn.QUIET_IMPORTS:
            return
        for alias in stmt.names:
            full = f"{module}.{alias.name}"
            local = alias.asname or alias.name
            if module in tn.NAMESPACES and alias.name != "*":
                value = self.namespace_attr(Namespace(module), alias.name, stmt)
                self.bind(local, value)
            else:
                self.import_left_out(stmt, local, f"from {module} import {alias.name}" if module else full)

    def import_left_out(self, stmt: ast.AST, local: str, code: str) -> None:
        where = self.where(stmt)
        text = f"{where}: `{code}` imports a module the lesson language does not have; not imported, left out"
        if text not in self._left_seen:
            self._left_seen.add(text)
            self.left_out.append(text)
        self.bind(local, Unknown(where, local))

    # --- assignments ---------------------------------------------------------------------------

    def assign(self, target: ast.expr, value: Any, stmt: ast.stmt) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, self.named(target.id, value, stmt))
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, Seq) or len(value.items) != len(target.elts):
                raise Unsupported(stmt, "unpacks something other than a list of the same length")
            for t, v in zip(target.elts, value.items, strict=True):
                self.assign(t, v, stmt)
            return
        if isinstance(target, ast.Attribute):
            return self.set_attribute(target, value, stmt)
        raise Unsupported(stmt, "changes part of a tensor in place; the lesson writes each value once")

    def named(self, key: str, value: Any, stmt: ast.AST) -> Any:
        """What a name holds after `key = value`: a given, a graph line, or the value itself."""
        if isinstance(value, Tensor):
            return self.given_from_tensor(self.fresh(key), value, stmt)
        if isinstance(value, Num) and value.given is None and not isinstance(value.value, bool):
            given = self.fresh(key)
            self.givens[given] = Given(given, _number_value(value))
            return replace(value, given=given)
        if isinstance(value, Module) and not value.name:
            value.name = key
        if isinstance(value, Optimizer) and not value.name:
            value.name = key
        if not isinstance(value, Val) or value.ask_only or value.given or value.node or value.identity:
            return value
        return self.as_node(value, key, stmt)

    def as_node(self, v: Val, key: str, stmt: ast.AST | None) -> Val:
        if v.node:
            return v
        text = v.text
        existing = self.node_by_text.get(text)
        if existing is None:
            try:
                check_tree(ast.parse(text, mode="eval").body, GRAPH_CALLS)
            except (ExprError, SyntaxError) as err:
                raise Unsupported(stmt, f"cannot be a graph line ({err})") from None
            existing = self.fresh(key)
            self.lines.append(Line(existing, text))
            self.node_by_text[text] = existing
        return replace(v, expr=name(existing), node=existing, given=None, identity=None, live=False)

    def given_from_tensor(self, given: str, t: Tensor, stmt: ast.AST | None) -> Val:
        if self.numbers + t.count > MAX_NUMBERS:
            raise Unsupported(stmt, f"would write more than {MAX_NUMBERS:,} numbers into the lesson; too many to "
                                    "work by hand")
        self.numbers += t.count
        self.vote_dtype(t, stmt)
        self.givens[given] = Given(given, t.data)
        identity = None
        if t.requires_grad:
            identity = given
            self.identities[identity] = given
        return Val(name(given), leaves=frozenset({(given, identity)}), trained={identity: 0} if identity else {},
                   shape=t.shape, given=given, identity=identity, live=bool(identity),
                   integer=t.dtype in ("int64", "int32"))

    def set_attribute(self, target: ast.Attribute, value: Any, stmt: ast.stmt) -> None:
        owner_node, attr = target.value, target.attr
        if attr == "data":  # w.data = ... and m.weight.data = ...: the same as assigning w / m.weight
            if isinstance(owner_node, ast.Attribute):
                return self.set_attribute(owner_node, value, stmt)
            raise Unsupported(stmt, "replaces a tensor's numbers in place; give the tensor its numbers when made")
        owner = self.ev(owner_node)
        if isinstance(owner, Module) and attr in ("weight", "bias"):
            if isinstance(value, NoneVal) and attr == "bias":
                owner.params["bias"] = False
                return
            if isinstance(value, Tensor):
                value = self.given_from_tensor(self.fresh(f"{owner.name or 'layer'}_{attr}"), value, stmt)
            if not isinstance(value, Val) or not value.given:
                raise Unsupported(stmt, "sets a layer's weights to computed values; a lesson's weights are numbers")
            if not value.identity or value.trained.get(value.identity, 0):
                if value.trained and any(value.trained.values()):
                    raise Unsupported(stmt, "sets a layer's weights to updated values; the lesson's weights are "
                                            "the numbers written out")
                value = self.parameter([value], {}, stmt)
            owner.params[attr] = value
            return
        if isinstance(owner, Val) and attr == "requires_grad":
            flag = bool(getattr(value, "value", False))
            if not owner.given or not flag:
                raise Unsupported(stmt, "changes requires_grad of a computed tensor")
            for key, held in list(self.globals.items()) + (list(self.frame.env.items()) if self.frame else []):
                if isinstance(held, Val) and held.given == owner.given and held.identity is None:
                    identity = owner.given
                    self.identities[identity] = owner.given
                    self.bind(key, replace(held, identity=identity, trained={identity: 0}, live=True,
                                           leaves=frozenset({(owner.given, identity)})))
            return
        if isinstance(owner, Val) and attr == "grad" and isinstance(value, NoneVal):
            if owner.identity:
                self.grads[owner.identity] = []
            return
        raise Unsupported(stmt, "sets an attribute the lesson language does not have")

    def aug_assign(self, stmt: ast.AugAssign) -> None:
        target: ast.expr = stmt.target
        if isinstance(target, ast.Attribute) and target.attr == "data":
            target = target.value
        current = self.ev(target)
        change = self.ev(stmt.value)
        if isinstance(current, Val) and current.identity and current.live and isinstance(stmt.op, ast.Sub):
            self.inplace_update(current, change, stmt)
            return
        if isinstance(current, Val) and current.identity and current.live:
            raise Unsupported(stmt, "changes a trainable tensor in place in a way that is not a gradient step")
        result = self.binop(type(stmt.op), current, change, stmt)
        self.assign(target, result, stmt)

    def inplace_update(self, p: Val, change: Any, node: ast.AST) -> Any:
        """`w -= lr * w.grad` (and w.sub_(...)): one gradient step on the trainable tensor itself."""
        if not p.identity or not p.live:
            raise Unsupported(node, "changes a computed tensor in place")
        step = change.step if isinstance(change, Val) else None
        if isinstance(change, Val) and change.grad_of is not None:
            step = (change.grad_of, "1", 1.0)
        if step is None or step[0][1] != p.identity:
            raise Unsupported(node, "changes a trainable tensor by something other than a multiple of its own "
                                    "gradient")
        (loss, identity, k), rate_text, rate = step
        if k != self.current_round.get(identity, 0):
            raise Unsupported(node, "steps with a gradient taken before an earlier update")
        config = self.make_config(self.grad_loss(loss), rate_text, rate, "sgd", (), node)
        self.register_update(config, identity, node)
        self.current_round[identity] = k + 1
        return NoneVal()

    def grad_loss(self, loss_name: str) -> Val:
        return Val(name(loss_name), node=loss_name)

    def make_config(self, loss: Val, rate_text: str, rate: float, rule: str, options: tuple, node: ast.AST) -> Config:
        if not loss.node:
            raise Unsupported(node)
        return Config(loss.node, rate_text, rate, rule, tuple(options))

    def register_update(self, config: Config, identity: str, node: ast.AST) -> None:
        if self.config is None:
            self.config = config
        elif self.config != config:
            raise Unsupported(node, "updates with another loss, rate or rule than an earlier update; a lesson "
                                    "trains one way")
        if identity not in self.updated:
            self.updated.append(identity)

    def update_of(self, a: Val, b: Val, node: ast.AST) -> Val | None:
        """`p - lr * grad`: p after one gradient step (a value of its own, p itself unchanged)."""
        step = b.step or ((b.grad_of, "1", 1.0) if b.grad_of is not None else None)
        if step is None or not a.identity or step[0][1] != a.identity:
            return None
        (loss, identity, k), rate_text, rate = step
        if a.trained.get(identity) != k:
            return None
        config = self.make_config(self.grad_loss(loss), rate_text, rate, "sgd", (), node)
        self.register_update(config, identity, node)
        return replace(a, trained={identity: k + 1}, config=config, live=False, step=None, grad_of=None)

    def binop(self, op: type, left: Any, right: Any, node: ast.AST) -> Any:
        result = super().binop(op, left, right, node)
        if op is ast.Mult and isinstance(result, Val):
            for rate, g in ((left, right), (right, left)):
                if isinstance(rate, Num) and isinstance(g, Val) and g.grad_of is not None:
                    text = ast.unparse(self.to_val(rate, node).expr)
                    return replace(result, step=(g.grad_of, text, float(rate.value)))
        return result

    # --- control flow --------------------------------------------------------------------------

    def with_(self, stmt: ast.With) -> None:
        modes = []
        for item in stmt.items:
            context = self.ev(item.context_expr)
            if not isinstance(context, GradMode) or item.optional_vars is not None:
                raise Unsupported(item.context_expr, "opens something the lesson language does not have; "
                                  "nothing inside it was read")
            modes.append(context.enabled)
        saved = self.no_grad
        self.no_grad = not modes[-1] if modes else saved
        try:
            for s in stmt.body:
                self.statement(s)
        finally:
            self.no_grad = saved

    def for_(self, stmt: ast.For) -> None:
        items = self.ev(stmt.iter)
        if not isinstance(items, Seq) or stmt.orelse:
            raise Unsupported(stmt.iter, "loops over something other than a range or a list written in the code")
        for item in items.items:
            if isinstance(stmt.target, ast.Name) and isinstance(item, Num):
                self.bind(stmt.target.id, item)  # a loop counter is structure, not a given
            else:
                self.assign(stmt.target, item, stmt)
            for s in stmt.body:
                self.statement(s)

    def if_(self, stmt: ast.If) -> None:
        test = stmt.test
        if (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
                and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
                and test.comparators[0].value == "__main__"):
            branch = stmt.body
        else:
            condition = self.ev(test)
            if not isinstance(condition, Num):
                raise Unsupported(test, "decides on a tensor's value; the lesson has no branches")
            branch = stmt.body if condition.value else stmt.orelse
        for s in branch:
            self.statement(s)

    def call_function(self, fn: Function, args: list, kwargs: dict, node: ast.AST) -> Any:
        frame = self.current
        if frame.depth >= MAX_CALL_DEPTH:
            raise Unsupported(node, f"calls functions more than {MAX_CALL_DEPTH} deep")
        spec = fn.node.args
        if spec.vararg or spec.kwarg or spec.kwonlyargs or spec.posonlyargs:
            raise Unsupported(node, "calls a function with *args, **kwargs or keyword-only parameters")
        params = [a.arg for a in spec.args]
        if len(args) > len(params):
            raise Unsupported(node, "passes more arguments than the function takes")
        env = dict(zip(params, args, strict=False))
        for key, value in kwargs.items():
            if key not in params or key in env:
                raise Unsupported(node, f"passes {key}= to a function that does not take it")
            env[key] = value
        defaults = dict(zip(params[len(params) - len(spec.defaults):], spec.defaults, strict=False))
        for key in params:
            if key not in env:
                if key not in defaults:
                    raise Unsupported(node, f"leaves out the argument {key}")
                env[key] = self.ev(defaults[key])
        self.functions_called.add(id(fn.node))
        self.frame = Frame(env, fn.cell, frame.run_cell, frame.depth + 1)
        try:
            for s in fn.node.body:
                self.statement(s)
        except _Return as ret:
            return ret.value
        finally:
            self.frame = frame
        return NoneVal()

    # --- statements that show values -----------------------------------------------------------

    def expression_statement(self, stmt: ast.Expr, echo: bool) -> None:
        value_node = stmt.value
        if isinstance(value_node, ast.Call):
            func = self.ev(value_node.func)
            if isinstance(func, Namespace) and func.path in ("builtins.print", "builtins.display"):
                self.show(value_node)
                return
            if isinstance(func, Unknown):
                raise Unsupported(value_node, f"uses `{func.name or snippet(value_node.func)}`, which was left out "
                                  f"({func.origin})")
            args = [self.ev(a) for a in value_node.args]
            kwargs = {k.arg: self.ev(k.value) for k in value_node.keywords if k.arg is not None}
            if len(kwargs) != len(value_node.keywords) or any(isinstance(a, ast.Starred) for a in value_node.args):
                raise Unsupported(value_node, "unpacks arguments with * or **")
            result = self.apply(func, args, kwargs, value_node)
            if echo and not isinstance(result, (NoneVal, Module, Optimizer)):
                self.record([self.ask(result, value_node, "")], None)
            return
        value = self.ev(value_node)
        if echo:
            self.record([self.ask(value, value_node, "")], None)
        elif isinstance(value, Str):
            return

    def show(self, node: ast.Call) -> None:
        """print(...) and display(...): each value shown becomes a step; the text around it labels it."""
        made: list[StepDraft] = []
        label = ""
        prefix: str | None = None
        for arg in node.args:
            for kind, part in _shown_parts(arg):
                if kind == "text":
                    label += part
                    continue
                if prefix is None:
                    prefix = label
                try:
                    made += [s for s in [self.ask(self.ev(part), part, label)] if s]
                except Unsupported as err:
                    self.leave_out(err.node, err.reason, part)
                except (TypeError, ValueError, KeyError, AttributeError, IndexError, ArithmeticError) as err:
                    self.leave_out(part, f"could not be translated ({type(err).__name__})")
                label = ""
        self.record(made, (prefix or "").strip() or None)

    def record(self, steps: list, prefix: str | None) -> None:
        flat = []
        for s in steps:
            if s:
                flat += s if isinstance(s, list) else [s]
        self.events.append((flat, prefix))  # a print with no step still marks where its output starts

    def ask(self, obj: Any, node: ast.AST, label: str) -> Any:
        """A step asking for a shown value, or a line saying why it is left out (None)."""
        label = label.strip().rstrip(":=").strip()
        if isinstance(obj, Seq):
            made = []
            for i, item in enumerate(obj.items, start=1):
                if isinstance(item, Str):
                    continue
                try:
                    made.append(self.ask(item, node, f"{label} (item {i})" if label else f"item {i}"))
                except Unsupported as err:
                    self.leave_out(err.node, err.reason, node)
            flat = []
            for m in made:
                if m:
                    flat += m if isinstance(m, list) else [m]
            return flat
        if isinstance(obj, Str):
            return None
        if isinstance(obj, Shape):
            v = obj.of
            if v.lead:
                raise Unsupported(node, "is a shape with batch dimensions the lesson leaves out")
            text = f"shape({v.text})" + (f"[{obj.index}]" if obj.index is not None else "")
            return self.new_step(text, "shape", label, node, None)
        if isinstance(obj, Num):
            if obj.given:
                self.use_given(obj.given)
                raise Unsupported(node, f"is the number `{obj.given}`, which the lesson gives; not asked")
            raise Unsupported(node, "is a number written in the code; not asked")
        if isinstance(obj, Tensor):
            raise Unsupported(node, "is a tensor written out in the code; not asked")
        if isinstance(obj, NoneVal):
            raise Unsupported(node, "is None here (PyTorch keeps .grad only for tensors that require it, after "
                                    "backward())")
        if isinstance(obj, Module):
            raise Unsupported(node, "is a layer, not a value")
        if isinstance(obj, Optimizer):
            raise Unsupported(node, "is an optimizer, not a value")
        if isinstance(obj, (Function, Method, Namespace, Dtype)):
            raise Unsupported(node, "is not a value")
        if isinstance(obj, Unknown):
            raise Unsupported(node, f"uses `{obj.name or snippet(node)}`, which was left out ({obj.origin})")
        if not isinstance(obj, Val):
            raise Unsupported(node)
        return self.value_step(obj, node, label)

    def value_step(self, v: Val, node: ast.AST, label: str) -> StepDraft:
        rounds = set(v.trained.values())
        k = max(rounds, default=0)
        if k == 0 and v.given and not v.ask_only:
            hint = ""
            if v.identity and any(v.identity in {p.identity for p in getattr(o, "params", [])} and not o.stepped
                                  for o in self.all_optimizers()):
                hint = " (the notebook never calls its optimizer's step())"
            self.use_given(v.given)
            raise Unsupported(node, f"is the given `{v.given}` itself, unchanged{hint}; not asked")
        if k == 0:
            kind = "node" if v.node else ("grad" if v.grad_of else "value")
            return self.new_step(v.text, kind, label, node, None)
        if v.ask_only:
            raise Unsupported(node, "is a gradient after an update; the lesson asks gradients at its own numbers")
        config = v.config or self.config
        if config is None:
            raise Unsupported(node)
        if v.identity and v.given and k == 1 and config.rule == "sgd" and not config.options:
            rate = "" if config.lr == "1" else f"{config.lr} * "
            text = f"{v.given} - {rate}grad({config.loss}, {v.given})"
            return self.new_step(text, "update", label, node, None)
        extra = (f", {k}" if k > 1 else "") + "".join(f", {key}={value}" for key, value in config.options)
        text = f"{config.rule}({v.text}, {config.lr}{extra})"
        return self.new_step(text, "trained", label, node, (k, dict(v.trained)))

    def all_optimizers(self) -> list:
        found = [v for v in self.globals.values() if isinstance(v, Optimizer)]
        if self.frame is not None and self.frame.env is not self.globals:
            found += [v for v in self.frame.env.values() if isinstance(v, Optimizer)]
        return found

    def new_step(self, text: str, kind: str, label: str, node: ast.AST, needs: tuple | None) -> StepDraft:
        try:
            parse_expr(text, ASK_CALLS)
        except ExprError as err:
            raise Unsupported(node, f"cannot be asked in the lesson language ({err})") from None
        existing = self.step_by_ask.get(text)
        if existing is not None:
            return existing
        if len(self.steps) >= MAX_STEPS:
            raise Unsupported(node, f"would be step {MAX_STEPS + 1}; a lesson has at most {MAX_STEPS}")
        step = StepDraft(self.step_id(text, kind), text, kind, label, snippet(node, 80), where=self.where(node))
        if not self.steps and not self.intro:
            # the text before the first question is the setting; the nearest piece of it is the question
            pending = self.pending_markdown
            self.intro = "\n\n".join(pending[:-1] if len(pending) > 1 else pending)
            step.markdown = pending[-1] if len(pending) > 1 else ""
        else:
            step.markdown = "\n\n".join(self.pending_markdown)
        self.pending_markdown = []
        self.steps.append(step)
        self.step_by_ask[text] = step
        return step

    def step_id(self, text: str, kind: str) -> str:
        base = text
        if kind == "grad" and (m := re.fullmatch(r"grad\((\w+), (\w+)\)", text)):
            base = f"d{m.group(1)}_d{m.group(2)}"
        elif kind == "update":
            base = text.split(" ", 1)[0] + "_updated"
        elif kind == "trained" and (m := re.fullmatch(r"\w+\((\w+),.*", text)):
            base = m.group(1) + "_after_update"
        elif kind == "shape":
            base = "shape_" + text[6:]
        base = re.sub(r"[^A-Za-z0-9]+", "_", base).strip("_")[:60] or "step"
        if not base[0].isalnum():
            base = "s" + base
        candidate, n = base, 1
        taken = {s.id for s in self.steps}
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        return candidate

    def attach_output(self, cell: Cell) -> None:
        """The cell's printed output, kept beside the steps it shows (a comment to compare with)."""
        events, text = self.events, cell.output.rstrip("\n")
        if not events or not text.strip():
            return
        where = f"cell {cell.number}" if self.notebook.form != "script" else "the script"
        chunks: list[tuple[list, str]] = []
        if len(events) == 1:
            chunks = [(events[0][0], text)]
        elif all(prefix for _, prefix in events):
            starts: list[tuple[int, list[StepDraft]]] = []
            position = 0
            for steps, prefix in events:
                if not prefix or (found := text.find(prefix, position)) < 0:
                    starts = []
                    break
                starts.append((found, steps))
                position = found + len(prefix)
            for i, (start, steps) in enumerate(starts):
                end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
                chunks.append((steps, text[start:end].rstrip("\n")))
        if not chunks:
            first = next((steps for steps, _ in events if steps), [])
            chunks = [(first, text)]
        if not chunks[0][0]:
            chunks = [c for c in chunks if c[0]] or chunks
            if not chunks[0][0]:
                return
        for steps, chunk in chunks:
            lines = chunk.splitlines()[:12]
            if lines and steps:
                steps[0].comments.append((where, lines))

    # --- gradients -----------------------------------------------------------------------------

    def backward(self, v: Val, kwargs: dict, node: ast.AST) -> NoneVal:
        if "gradient" in kwargs or "inputs" in kwargs:
            raise Unsupported(node, "calls backward() with options the lesson language does not have")
        if not v.trained:
            raise Unsupported(node, "calls backward() on a value that depends on no tensor with requires_grad=True")
        if v.shape is not None and v.lead == 0 and len(v.shape) and _count(v.shape) != 1:
            raise Unsupported(node, "calls backward() on a tensor with more than one number")
        loss = self.as_node(v, "L", node)
        for identity in v.trained:
            self.grads.setdefault(identity, []).append(loss)
        for retained in self.retained:
            self.grads.setdefault("node:" + retained, []).append(loss)
        return NoneVal()

    def grad_of(self, v: Val, node: ast.AST) -> Any:
        if v.identity and v.live and v.given:
            key, target = v.identity, v.given
        elif v.node and v.node in self.retained:
            key, target = "node:" + v.node, v.node
        else:
            return NoneVal()
        losses = self.grads.get(key) or []
        if not losses:
            return NoneVal()
        parts = [self.gradient(loss, v, target, key, node) for loss in losses]
        total = parts[0]
        for extra in parts[1:]:
            total = self.combined([total, extra], ast.BinOp(total.expr, ast.Add(), extra.expr), node,
                                  shape=v.shape, lead=v.lead)
        return total

    def gradient(self, loss: Val, of: Val, target: str, identity: str | None, node: ast.AST) -> Val:
        """grad(loss, target), refused when the lesson's gradient would not be PyTorch's."""
        if identity and not identity.startswith("node:"):
            if identity in loss.cut:
                raise Unsupported(node, "is a gradient through a tensor cut off by .detach() or no_grad()")
            others = {i for g, i in loss.leaves if g == target and i != identity}
            if others:
                raise Unsupported(node, f"is a gradient with respect to `{target}` where the loss also uses "
                                        f"`{target}` another way; the lesson's gradient would add the two")
        if not loss.node:
            raise Unsupported(node, "differentiates a value that is not a graph line")
        k = loss.trained.get(identity, 0) if identity else 0
        return Val(call("grad", name(loss.node), name(target)), ask_only=True, leaves=loss.leaves,
                   trained=dict(loss.trained), lead=of.lead, shape=of.shape,
                   grad_of=(loss.node, identity, k) if identity else None)

    def autograd_grad(self, args: list, kwargs: dict, node: ast.AST) -> Seq:
        outputs = args[0] if args else kwargs.get("outputs")
        inputs = args[1] if len(args) > 1 else kwargs.get("inputs")
        for key in kwargs:
            if key not in ("outputs", "inputs", "retain_graph", "create_graph", "allow_unused"):
                raise Unsupported(node, f"passes {key}=, which the lesson language does not have")
        if isinstance(outputs, Seq) and len(outputs.items) == 1:
            outputs = outputs.items[0]
        if not isinstance(outputs, Val) or not outputs.trained:
            raise Unsupported(node, "differentiates something that depends on no tensor with requires_grad=True")
        loss = self.as_node(outputs, "L", node)
        targets = inputs.items if isinstance(inputs, Seq) else [inputs]
        out = []
        for t in targets:
            if not isinstance(t, Val):
                raise Unsupported(node)
            t = self.refresh(t)
            if t.identity and t.given:
                out.append(self.gradient(loss, t, t.given, t.identity, node))
            elif t.node:
                out.append(self.gradient(loss, t, t.node, None, node))
            else:
                raise Unsupported(node, "differentiates with respect to an expression; name it first")
        return Seq(out, "tuple")

    # --- the result ----------------------------------------------------------------------------

    def program(self) -> Program:
        dtype = self.dtype()
        params: list[str] = []
        for identity in self.updated:
            given = self.identities.get(identity, identity)
            if given in params:
                self.left_out.append(f"the notebook: `{given}` is trained as two different tensors; the lesson "
                                     "trains it once; its updates left out")
                self.config = None
                params = []
                break
            params.append(given)
        steps = []
        for step in self.steps:
            if step.needs is not None:
                k, trained = step.needs
                if self.config is None or any(trained.get(i, 0) not in (k,) for i in self.updated if i in trained):
                    self.left_out.append(f"{step.where}: `{step.code}` mixes tensors before and after the update; "
                                         "left out")
                    continue
            steps.append(step)
        return Program(self.givens, self.lines, steps, self.config, params, dtype, self.intro, self.title,
                       self.left_out)

    def dtype(self) -> str:
        kinds = {d for d, _ in self.dtype_votes}
        if kinds == {"float32"}:
            return "float32"
        if len(kinds) > 1:
            first32 = next(w for d, w in self.dtype_votes if d == "float32")
            self.left_out.append(f"{first32}: the notebook mixes float32 and float64 tensors; the lesson computes "
                                 "everything in float64, so float32 round-off is left out")
        return "float64"


def _parse(source: str) -> ast.Module | str:
    """The parsed code, or why not: "incomplete" (more lines may finish it), "deep", or "invalid"."""
    try:
        with warnings.catch_warnings():  # the notebook's own warnings (an escape in a string) are not ours
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except SyntaxError as err:
        message = err.msg or ""
        if "was never closed" in message or "unexpected EOF" in message or "expected an indented block" in message:
            return "incomplete"
        return "deep" if "too many nested" in message else "invalid"
    except (RecursionError, MemoryError, ValueError):
        return "deep"


def _shown_parts(arg: ast.expr) -> list[tuple[str, Any]]:
    """A print argument as text and values in order: f-strings, '...'.format(...), '...' % (...)."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [("text", arg.value + " ")]
    if isinstance(arg, ast.JoinedStr):
        parts: list[tuple[str, Any]] = []
        for v in arg.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                parts.append(("text", v.value))
            elif isinstance(v, ast.FormattedValue):
                parts.append(("value", v.value))
        return parts
    if (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format"
            and isinstance(arg.func.value, ast.Constant) and isinstance(arg.func.value.value, str)):
        head = arg.func.value.value.split("{", 1)[0]
        return [("text", head)] + [("value", a) for a in arg.args] + [("value", k.value) for k in arg.keywords]
    if (isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mod) and isinstance(arg.left, ast.Constant)
            and isinstance(arg.left.value, str)):
        head = arg.left.value.split("%", 1)[0]
        items = arg.right.elts if isinstance(arg.right, ast.Tuple) else [arg.right]
        return [("text", head)] + [("value", a) for a in items]
    return [("value", arg)]


def _targets(stmt: ast.stmt) -> list[str]:
    """Names a statement would have bound: they now hold nothing the lesson has."""
    found: list[str] = []
    nodes = []
    if isinstance(stmt, ast.Assign):
        nodes = stmt.targets
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        nodes = [stmt.target]
    elif isinstance(stmt, (ast.For,)):
        nodes = [stmt.target]
        for s in stmt.body:
            found += _targets(s)
    elif isinstance(stmt, (ast.With, ast.If)):
        for s in stmt.body + getattr(stmt, "orelse", []):
            found += _targets(s)
    elif isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
        return [stmt.name]
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"]
    for n in nodes:
        if isinstance(n, ast.Name):
            found.append(n.id)
        elif isinstance(n, (ast.Tuple, ast.List)):
            found += [x.id for x in n.elts if isinstance(x, ast.Name)]
    return found


def _ascii_name(text: str) -> str:
    """A lesson name for a notebook name: ASCII, not starting with '_' (α becomes alpha)."""
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
        else:
            try:
                word = unicodedata.name(ch).split()[-1].lower()
            except ValueError:
                word = "x"
            out.append(word if word.isalpha() and word.isascii() else "x")
    base = re.sub(r"[^A-Za-z0-9_]", "_", "".join(out)).lstrip("_") or "v"
    return base if not base[0].isdigit() else "v" + base


def _heading(markdown: str) -> str:
    for line in markdown.splitlines():
        m = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
        if m:
            return re.sub(r"[*_`$\\]", "", m.group(1)).strip()[:80]
    return ""


def _ends_with_semicolon(source: str, stmt: ast.stmt) -> bool:
    lines = source.splitlines()
    end = getattr(stmt, "end_lineno", None)
    if not end or end > len(lines):
        return False
    return lines[end - 1].split("#", 1)[0].rstrip().endswith(";")


def _number_value(value: Num) -> Any:
    expr = value.expr
    if isinstance(expr, ast.Constant) or (isinstance(expr, ast.UnaryOp) and isinstance(expr.operand, ast.Constant)):
        return value.value
    return ast.unparse(expr)


def _count(shape: tuple) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def translate(notebook: Notebook, work: int = MAX_WORK) -> Program:
    return Translator(notebook, work).run()


__all__ = ["translate", "Program", "Translator", "StepDraft", "Str", "Unknown"]
