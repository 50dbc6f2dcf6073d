"""Compiles a checked expression tree into closures over a Scope; torch does the arithmetic."""

from __future__ import annotations

import ast
import contextlib
import math
import operator
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from tutor.core.errors import ExprError
from tutor.core.expr import budget, limits
from tutor.core.expr.syntax import call_name

# Lesson tensors are tiny: a second intra-op thread only adds spin-waiting, which made a 3-element
# conv1d take 13 ms instead of 0.04 ms on a busy 2-core machine, and lab machines run many sessions.
torch.set_num_threads(1)

Value = Any  # torch.Tensor | int | float | tuple
Compiled = Callable[["Scope"], Value]

CONSTANTS = {"pi": math.pi, "e": math.e}
DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64}


@dataclass
class Scope:
    """Names bound so far, the lesson's dtype, and (for asks) the lesson being evaluated."""

    dtype: torch.dtype
    env: dict[str, Value] = field(default_factory=dict)
    lesson: Any = None  # tutor.core.evaluate.live.LiveLesson, for sgd() and flops()
    meta: bool = False  # shapes only: tensors live on the meta device and nothing is computed

    def lookup(self, name: str, column: int | None) -> Value:
        if name in self.env:
            value = self.env[name]
            # a single number keeps its value: it may be a size (zeros(batch, c, h, w), groups=M)
            if self.meta and isinstance(value, torch.Tensor) and not value.is_meta and not is_number(value):
                value = self.env[name] = as_meta(value)
            return value
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in DTYPES:
            return DTYPES[name]
        raise ExprError(f"unknown name {name!r}", column)


_flop_tally = threading.local()


def tally_flops(flops: int) -> None:
    """Adds PyTorch's FLOP count of one operation (2 per multiply-add) while flops() is counting."""
    counts = getattr(_flop_tally, "counts", None)
    if counts is not None:
        counts.append(int(flops))


@contextlib.contextmanager
def counting_flops() -> Iterator[list[int]]:
    outer = getattr(_flop_tally, "counts", None)
    counts: list[int] = []
    _flop_tally.counts = counts
    try:
        yield counts
    finally:
        _flop_tally.counts = outer


def as_meta(t: torch.Tensor) -> torch.Tensor:
    """The same shape and dtype on the meta device; keeps requires_grad so grad() still builds a graph."""
    m = torch.empty(t.shape, dtype=t.dtype, device="meta")
    return m.requires_grad_(True) if t.requires_grad and t.is_floating_point() else m


def meta_mode() -> bool:
    """Whether tensors are made on the meta device (shapes only), outside arithmetic on plain numbers."""
    return budget.shapes_only()


def is_number(v: Value) -> bool:
    """A plain number: a Python int or float, or a 0-d tensor that holds its value (not only its shape)."""
    if isinstance(v, torch.Tensor):
        return v.dim() == 0 and not v.is_meta
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def computing_numbers() -> contextlib.AbstractContextManager[None]:
    """Arithmetic on plain numbers runs for real, also on meta tensors: sizes such as c_in * k * k stay
    numbers that zeros(), reshape() and groups= can read."""
    return budget.numbers_for_real()


def to_tensor(value: Value, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if not value.is_meta and meta_mode():
            return as_meta(value)
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, int) and abs(value) > limits.MAX_INT and dtype == torch.int64:
            raise ExprError("number too large for int64")
        return torch.tensor(float(value), dtype=dtype, device="meta" if meta_mode() else None)
    if isinstance(value, tuple):
        return torch.tensor([float(limits.as_int(v, "shape entry")) for v in value], dtype=dtype)
    raise ExprError(f"expected a number or tensor, got {type(value).__name__}")


def _shape(v: Value) -> tuple[int, ...]:
    return tuple(v.shape) if isinstance(v, torch.Tensor) else ()


def _fmt(shape: tuple[int, ...]) -> str:
    return "scalar" if not shape else "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _scalar_arith(op: type[ast.operator], a: float | int, b: float | int) -> float | int:
    try:
        if op is ast.Pow:
            if isinstance(a, int) and isinstance(b, int) and b >= 0 and b * math.log2(abs(a) + 1) < 62:
                return a**b
            result = float(a) ** float(b)
            if isinstance(result, complex):
                raise ExprError("a negative number to a fractional power has no real value")
        elif op is ast.Div:
            result = a / b
        else:
            result = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}[op](a, b)
    except ZeroDivisionError:
        raise ExprError("division by zero") from None
    except OverflowError:
        raise ExprError("number too large") from None
    if isinstance(result, int) and abs(result) > limits.MAX_INT:
        result = float(result)
    if isinstance(result, float) and not math.isfinite(result):
        raise ExprError("number too large")
    return result


def _broadcast(a: Value, b: Value, symbol: str) -> int:
    """Checks broadcasting by hand (torch.broadcast_shapes costs more than the arithmetic here); the result's size."""
    sa, sb = _shape(a), _shape(b)
    if sa == sb or not sa or not sb:
        return math.prod(sa or sb)  # same shape, or a scalar: no bigger than an operand
    out = []
    for da, db in zip(reversed((1,) * (len(sb) - len(sa)) + sa), reversed((1,) * (len(sa) - len(sb)) + sb), strict=False):
        if da != db and da != 1 and db != 1:
            raise ExprError(f"cannot apply '{symbol}' to shapes {_fmt(sa)} and {_fmt(sb)}")
        out.append(max(da, db))
    limits.check_numel(out)
    return math.prod(out)


def _matmul_shape(a: torch.Tensor, b: torch.Tensor) -> None:
    sa, sb = tuple(a.shape), tuple(b.shape)
    if not sa or not sb:
        raise ExprError("'@' needs vectors or matrices, not scalars; use '*' for scalars")
    inner_a = sa[-1]
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        raise ExprError(f"cannot multiply shapes {_fmt(sa)} @ {_fmt(sb)}: inner sizes {inner_a} and {inner_b} differ")
    rows = math.prod(sa[:-1]) if len(sa) > 1 else 1
    cols = sb[-1] if len(sb) > 1 else 1
    limits.check_numel((rows, cols))
    limits.check_work(rows * cols * inner_a, "'@'")
    budget.charge(rows * cols * inner_a, rows * cols, "'@'")
    tally_flops(2 * rows * cols * inner_a)


_TENSOR_OPS: dict[type[ast.operator], Callable[..., torch.Tensor]] = {
    ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div,
    ast.Pow: torch.pow, ast.MatMult: torch.matmul,
}
_SYMBOL: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}


def binary(op: type[ast.operator], a: Value, b: Value, dtype: torch.dtype, column: int | None = None) -> Value:
    """Applies an arithmetic operator with the language's checks; used by graph `+=` too."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        raise ExprError(f"'{_SYMBOL[op]}' cannot be applied to a shape tuple", column)
    if meta_mode() and is_number(a) and is_number(b):
        with computing_numbers():
            return binary(op, a, b, dtype, column)
    if not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
        if op is ast.MatMult:
            raise ExprError("'@' needs vectors or matrices, not numbers", column)
        return _scalar_arith(op, a, b)
    if op is ast.MatMult:
        a, b = to_tensor(a, dtype), to_tensor(b, dtype)
        _matmul_shape(a, b)
        return _no_wrap(torch.matmul(a, b), op, a, b)
    size = _broadcast(a, b, _SYMBOL[op])
    budget.charge(size, size, f"'{_SYMBOL[op]}'")
    if op is ast.Pow and not isinstance(b, torch.Tensor):
        if isinstance(a, torch.Tensor) and not a.is_floating_point() and isinstance(b, float):
            a = a.double()
        return _no_wrap(torch.pow(to_tensor(a, dtype), b), op, a, b)
    if _plain_number(a) and _floating(b):  # a number beside a float tensor: torch keeps the tensor's dtype,
        return _TENSOR_OPS[op](float(a), b)  # and wrapping the number in a tensor of its own costs more
    if _plain_number(b) and _floating(a):
        return _TENSOR_OPS[op](a, float(b))
    a, b = to_tensor(a, dtype), to_tensor(b, dtype)
    return _no_wrap(_TENSOR_OPS[op](a, b), op, a, b)


def _plain_number(v: Value) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _floating(v: Value) -> bool:
    return isinstance(v, torch.Tensor) and v.is_floating_point() and (v.is_meta or not meta_mode())


_WRAPS = (ast.Add, ast.Sub, ast.Mult, ast.Pow, ast.MatMult)


def _no_wrap(result: torch.Tensor, op: type[ast.operator], a: Value, b: Value) -> torch.Tensor:
    """int64 arithmetic wraps around silently in torch; recompute in float64 and refuse if it would."""
    if result.dtype != torch.int64 or op not in _WRAPS or result.is_meta:
        return result
    exact = _TENSOR_OPS[op](_as_double(a), _as_double(b))
    if bool((exact.abs() >= 2.0**63).any()):
        raise ExprError(f"int64 overflow in '{_SYMBOL[op]}': the result does not fit in 64 bits")
    return result


def _as_double(v: Value) -> Value:
    return v.double() if isinstance(v, torch.Tensor) else float(v)


_COMPARE: dict[type[ast.cmpop], Callable[..., torch.Tensor]] = {ast.Lt: torch.lt, ast.Gt: torch.gt, ast.LtE: torch.le, ast.GtE: torch.ge, ast.Eq: torch.eq}


def compare(op: type[ast.cmpop], a: Value, b: Value, dtype: torch.dtype) -> torch.Tensor:
    """A mask of 1s and 0s in the lesson's dtype, so it multiplies like any tensor (x * (x > 0))."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        raise ExprError("a shape cannot be compared")
    if meta_mode() and is_number(a) and is_number(b):
        with computing_numbers():
            return compare(op, a, b, dtype)
    size = _broadcast(a, b, "comparison")
    budget.charge(size, size, "a comparison")
    a, b = to_tensor(a, dtype), to_tensor(b, dtype)
    return _COMPARE[op](a, b).to(dtype)


def _list_value(items: list[Value], dtype: torch.dtype) -> torch.Tensor:
    if not items:
        raise ExprError("an empty list has no values")
    if all(isinstance(i, (int, float)) for i in items):
        limits.check_numel((len(items),))
        budget.charge(len(items), len(items), "a list")
        return torch.tensor([float(i) for i in items], dtype=dtype, device="meta" if meta_mode() else None)
    tensors = [to_tensor(i, dtype) for i in items]
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) != 1:
        raise ExprError("rows of a list must all have the same shape")
    limits.check_numel((len(items),) + tensors[0].shape)
    budget.charge(len(items) * tensors[0].numel(), len(items) * tensors[0].numel(), "a list")
    return torch.stack(tensors)


def _index(value: Value, idx: Value, column: int | None) -> Value:
    if not isinstance(value, torch.Tensor):
        if isinstance(value, tuple):
            if isinstance(idx, (torch.Tensor, tuple)):
                raise ExprError("a shape is indexed by one whole number, as in shape(x)[0]", column)
            try:
                return value[limits.as_int(idx, "index")]
            except IndexError:
                raise ExprError(f"index out of range for a shape of {len(value)} entries", column) from None
        raise ExprError("only tensors and shapes can be indexed", column)
    parts = idx if isinstance(idx, tuple) else (idx,)
    tensors = [p for p in parts if isinstance(p, torch.Tensor)]
    if tensors:  # C[X]: a row of C for every entry of X, as an embedding lookup (gradients flow to C)
        if len(parts) > value.dim():
            raise ExprError(f"too many indices for shape {_fmt(tuple(value.shape))}", column)
        try:
            picked = math.prod(torch.broadcast_shapes(*(t.shape for t in tensors)))
        except RuntimeError:
            raise ExprError("index tensors must have shapes that broadcast together", column) from None
        rest = [n for p, n in zip(parts + (slice(None),) * (value.dim() - len(parts)), value.shape, strict=True)
                if isinstance(p, slice)]
        limits.check_numel((picked, *rest), "indexing")
    try:
        out = value[idx]
        budget.charge(out.numel(), out.numel(), "indexing")
        return out
    except IndexError as err:
        raise ExprError(f"index out of range for shape {_fmt(tuple(value.shape))}: {_first_line(err)}",
                        column) from None


def as_index(value: Value, what: str = "index") -> int | torch.Tensor:
    """A whole number, or a tensor of whole numbers (class indices, characters) as PyTorch's int64 indices."""
    if isinstance(value, torch.Tensor) and value.dim() > 0:
        if value.is_floating_point() and not value.is_meta and not bool(torch.all(value == value.round())):
            raise ExprError(f"{what}: a tensor used as indices must hold whole numbers")
        return value.detach().round().long() if value.is_floating_point() else value.detach().long()
    return limits.as_int(value, what)


def _transpose(value: Value) -> Value:
    if not isinstance(value, torch.Tensor) or value.dim() < 2:
        return value  # a 1-D vector's transpose is itself, as in the exercises' w.T @ x
    return value.permute(*reversed(range(value.dim())))


class Compiler:
    """Turns a checked tree into a closure; function calls come from a table of builders."""

    def __init__(self, functions: dict[str, Callable[..., Compiled]]):
        self.functions = functions

    def compile(self, node: ast.AST) -> Compiled:
        col = getattr(node, "col_offset", None)
        if isinstance(node, ast.Constant):
            value = node.value
            return lambda s: value
        if isinstance(node, ast.Name):
            name = node.id
            return lambda s: s.lookup(name, col)
        if isinstance(node, ast.UnaryOp):
            inner = self.compile(node.operand)
            if isinstance(node.op, ast.UAdd):
                return inner
            return lambda s: _negate(inner(s), col)
        if isinstance(node, ast.BinOp):
            left, right, op = self.compile(node.left), self.compile(node.right), type(node.op)
            return _contained(lambda s: binary(op, left(s), right(s), s.dtype, col), col)
        if isinstance(node, ast.Compare):
            left, right, cmp = self.compile(node.left), self.compile(node.comparators[0]), type(node.ops[0])
            return _contained(lambda s: compare(cmp, left(s), right(s), s.dtype), col)
        if isinstance(node, ast.List):
            items = [self.compile(e) for e in node.elts]
            return lambda s: _list_value([i(s) for i in items], s.dtype)
        if isinstance(node, ast.Tuple):
            items = [self.compile(e) for e in node.elts]
            return lambda s: tuple(i(s) for i in items)
        if isinstance(node, ast.Attribute):  # only .T survives the syntax check
            inner = self.compile(node.value)
            return lambda s: _transpose(inner(s))
        if isinstance(node, ast.Subscript):
            return self._subscript(node, col)
        if isinstance(node, ast.Call):
            name = call_name(node)
            builder = self.functions.get(name)
            if builder is None:
                raise ExprError(f"unknown function {name!r}", col)
            return _with_context(name, builder(self, node), col)
        raise ExprError(f"{type(node).__name__} is not part of the language", col)

    def _subscript(self, node: ast.Subscript, col: int | None) -> Compiled:
        base = self.compile(node.value)
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        getters = [self._index_part(p) for p in parts]
        single = not isinstance(node.slice, ast.Tuple)

        def run(s: Scope) -> Value:
            idx = [g(s) for g in getters]
            return _index(base(s), idx[0] if single else tuple(idx), col)

        return run

    def _index_part(self, node: ast.AST) -> Compiled:
        if isinstance(node, ast.Slice):
            bounds = [self.compile(b) if b is not None else None for b in (node.lower, node.upper, node.step)]

            def run(s: Scope) -> slice:
                lo, hi, st = (None if b is None else limits.as_int(b(s), "slice bound") for b in bounds)
                if st is not None and st <= 0:
                    raise ExprError("a slice step must be positive")
                return slice(lo, hi, st)

            return run
        inner = self.compile(node)
        return lambda s: as_index(inner(s))


def _negate(v: Value, col: int | None) -> Value:
    if isinstance(v, tuple):
        raise ExprError("cannot negate a shape", col)
    return -v


def _with_context(name: str, fn: Compiled, col: int | None) -> Compiled:
    """Turns torch's own errors inside a function into a message that names the function."""

    def run(s: Scope) -> Value:
        try:
            out = fn(s)
        except ExprError:
            raise
        except CONTAINED as err:
            raise ExprError(f"{name}(): {_first_line(err)}", col) from None
        if isinstance(out, torch.Tensor):
            budget.charge(out.numel(), out.numel(), f"{name}()")
        return out

    return run


# Exceptions torch or Python raise on bad numbers; never shown as a traceback.
CONTAINED = (RuntimeError, ValueError, TypeError, IndexError, OverflowError, ZeroDivisionError,
             ArithmeticError, MemoryError, NotImplementedError)


def _first_line(err: BaseException) -> str:
    if isinstance(err, MemoryError):
        return "not enough memory"
    text = str(err).strip()
    return text.splitlines()[0][:200] if text else type(err).__name__


def _contained(fn: Compiled, col: int | None) -> Compiled:
    def run(s: Scope) -> Value:
        try:
            return fn(s)
        except ExprError:
            raise
        except CONTAINED as err:
            raise ExprError(_first_line(err), col) from None

    return run
