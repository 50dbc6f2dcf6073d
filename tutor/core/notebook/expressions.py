"""Python expressions of a notebook read as values of the lesson language (never evaluated by Python).

Numbers written in the code are folded here by plain arithmetic on Python numbers (bounded), so
`torch.pi / 2` stays the exact `pi/2` of the lesson; everything about tensors is only written down.
"""

from __future__ import annotations

import ast
import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tutor.core.notebook import torch_names as tn
from tutor.core.notebook.values import (
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
    broadcast,
    call,
    const,
    literal,
    merge,
    name,
    numel,
)

MAX_GIVEN_NUMBERS = 10_000      # one tensor written out in a lesson
MAX_DEPTH = 80                  # nesting of one expression
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_OUTSIDE = {
    "open": "is Python's open(), which reads or writes files; not run",
    "eval": "runs text as code; not run", "exec": "runs text as code; not run",
    "compile": "turns text into code; not run", "__import__": "imports a module; not run",
    "input": "waits for typed input; not run", "globals": "reaches Python's own state; not run",
    "getattr": "reaches attributes by name; not run", "setattr": "changes attributes by name; not run",
}
_COMPARE = (ast.Lt, ast.Gt, ast.LtE, ast.GtE, ast.Eq)
_BUILTINS = frozenset({"print", "display", "range", "float", "int", "abs", "sum", "round", "len", "list",
                       "tuple", "max", "min"})


def snippet(node: ast.AST | None, limit: int = 60) -> str:
    """The code of `node` as the notebook wrote it, a call's arguments shown as (...) when long."""
    if node is None:
        return ""
    if isinstance(node, ast.ClassDef):
        return f"class {node.name}"
    if isinstance(node, ast.FunctionDef):
        return f"def {node.name}()"
    if isinstance(node, (ast.For, ast.While, ast.With, ast.If, ast.Try)):
        head = {ast.For: "for", ast.While: "while", ast.With: "with", ast.If: "if", ast.Try: "try"}[type(node)]
        return f"{head} ..."
    try:
        text = ast.unparse(node)
    except (ValueError, TypeError, RecursionError, AttributeError):
        return type(node).__name__
    if len(text) > limit and isinstance(node, ast.Call):
        try:
            text = ast.unparse(node.func) + "(...)"
        except (ValueError, TypeError, RecursionError):
            pass
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def pyconst(obj: Any, node: ast.AST | None) -> Any:
    """A Python constant (number, string, None, tuple of them) from a value, for layer options."""
    if isinstance(obj, Num):
        return obj.value
    if isinstance(obj, Str):
        return obj.value
    if isinstance(obj, NoneVal):
        return None
    if isinstance(obj, Dtype):
        return obj
    if isinstance(obj, Seq):
        return tuple(pyconst(i, node) for i in obj.items)
    raise Unsupported(node, "needs a number written in the code here")


def as_ast(value: Any) -> ast.expr:
    if isinstance(value, bool):
        return const(int(value))
    if isinstance(value, (int, float)):
        return const(value)
    if isinstance(value, tuple):
        return literal(value)
    raise TypeError(value)


class Expressions:
    """The expression half of the translator (mixed into Translator, which holds the state)."""

    if TYPE_CHECKING:
        # What the expressions use of the class they are mixed into: Translator's state and
        # bookkeeping, and the calls half (Calls). mypy checks Translator against these.
        no_grad: bool

        def spend(self, node: ast.AST | None = None, amount: int = 1) -> None: ...
        def lookup(self, key: str) -> Any: ...
        def use_given(self, given: str) -> None: ...
        def vote_dtype(self, t: Tensor, node: ast.AST | None) -> None: ...
        def refresh(self, v: Val) -> Val: ...
        def grad_of(self, v: Val, node: ast.AST) -> Any: ...
        def update_of(self, a: Val, b: Val, node: ast.AST) -> Val | None: ...
        def apply(self, func: Any, args: list, kwargs: dict, node: ast.Call) -> Any: ...
        def module_attr(self, m: Module, attr: str, node: ast.AST) -> Any: ...

    # --- names ---------------------------------------------------------------------------------

    def ev(self, node: ast.expr, depth: int = 0) -> Any:
        self.spend(node)
        if depth > MAX_DEPTH:
            raise Unsupported(node, "is nested too deeply")
        method = getattr(self, "ev_" + type(node).__name__, None)
        if method is None:
            raise Unsupported(node)
        return method(node, depth + 1)

    def ev_Constant(self, node: ast.Constant, depth: int) -> Any:
        v = node.value
        if v is None:
            return NoneVal()
        if isinstance(v, str):
            return Str(v)
        if isinstance(v, bool):
            return Num(v, const(int(v)))
        if isinstance(v, (int, float)):
            self.check_number(v, node)
            return Num(v, const(v))
        raise Unsupported(node)

    def check_number(self, v: float | int, node: ast.AST | None) -> None:
        if isinstance(v, float) and not math.isfinite(v):
            raise Unsupported(node, "is not a finite number")
        if isinstance(v, int) and abs(v) > 2**53:
            raise Unsupported(node, "is too large a whole number for a lesson (at most 2**53)")

    def ev_Name(self, node: ast.Name, depth: int) -> Any:
        found = self.lookup(node.id)
        if found is not None:
            return self.refresh(found) if isinstance(found, Val) else found
        if node.id in _BUILTINS:
            return Namespace("builtins." + node.id)
        if node.id in _OUTSIDE:
            raise Unsupported(node, _OUTSIDE[node.id])
        raise Unsupported(node, "is never defined in the notebook")

    def ev_Attribute(self, node: ast.Attribute, depth: int) -> Any:
        base = self.ev(node.value, depth)
        attr = node.attr
        if isinstance(base, Namespace):
            return self.namespace_attr(base, attr, node)
        if isinstance(base, Unknown):
            raise Unsupported(node, f"uses `{base.name or snippet(node.value)}`, which was left out ({base.origin})")
        if isinstance(base, Val):
            return self.val_attr(base, attr, node)
        if isinstance(base, Tensor):
            if attr in ("double", "float", "long", "to", "requires_grad_"):
                return Method(base, attr)
            return self.val_attr(self.tensor_val(base, node.value), attr, node)
        if isinstance(base, Module):
            return self.module_attr(base, attr, node)
        if isinstance(base, Seq) and attr in base.names:
            return base.items[base.names.index(attr)]
        if isinstance(base, (Optimizer, Shape, Seq)):
            return Method(base, attr)
        raise Unsupported(node)

    def namespace_attr(self, base: Namespace, attr: str, node: ast.AST) -> Any:
        path = f"{base.path}.{attr}"
        if path in tn.NAMESPACES.values():
            return Namespace(path)
        if base.path in ("torch", "math", "numpy") and attr in tn.MATH_CONSTANTS:
            return Num(math.pi if attr == "pi" else math.e, name(tn.MATH_CONSTANTS[attr]))
        if base.path == "math" and attr in ("inf", "nan"):
            raise Unsupported(node, "is not a finite number")
        if base.path == "torch" and attr in tn.DTYPES:
            return Dtype(tn.DTYPES[attr])
        return Namespace(path)

    def val_attr(self, v: Val, attr: str, node: ast.Attribute) -> Any:
        if attr == "T":
            if v.lead:
                raise Unsupported(node, "transposes a tensor with batch dimensions the lesson leaves out")
            shape = tuple(reversed(v.shape)) if v.shape is not None else None
            return v.plain(ast.Attribute(v.expr, "T", ast.Load()), shape=shape)
        if attr in ("data",):
            return self.detached(v)
        if attr == "grad":
            return self.grad_of(v, node)
        if attr == "shape":
            return Shape(v)
        if attr == "requires_grad":
            return Num(v.requires_grad, const(int(v.requires_grad)))
        if attr in ("values",):
            return v
        return Method(v, attr)

    # --- operators -----------------------------------------------------------------------------

    def ev_UnaryOp(self, node: ast.UnaryOp, depth: int) -> Any:
        operand = self.ev(node.operand, depth)
        if isinstance(node.op, ast.Not):
            if isinstance(operand, Num):
                return Num(not operand.value, const(int(not operand.value)))
            raise Unsupported(node)
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise Unsupported(node)
        if isinstance(operand, Num):
            value = -operand.value if isinstance(node.op, ast.USub) else operand.value
            expr = ast.UnaryOp(node.op, operand.expr) if isinstance(node.op, ast.USub) else operand.expr
            return Num(value, expr)
        v = self.to_val(operand, node.operand)
        if isinstance(node.op, ast.UAdd):
            return v
        return v.plain(ast.UnaryOp(ast.USub(), v.expr), **self.carried(v, node))

    def ev_BinOp(self, node: ast.BinOp, depth: int) -> Any:
        left, right = self.ev(node.left, depth), self.ev(node.right, depth)
        if isinstance(node.op, ast.Mod) and isinstance(left, Str):
            return Seq(list(right.items) if isinstance(right, Seq) else [right], "format")
        return self.binop(type(node.op), left, right, node)

    def binop(self, op: type, left: Any, right: Any, node: ast.AST) -> Any:
        if op not in _BINOPS:
            raise Unsupported(node)
        if isinstance(left, Num) and isinstance(right, Num):
            return self.fold(op, left, right, node)
        if isinstance(left, Seq) or isinstance(right, Seq):
            raise Unsupported(node, "does arithmetic on a Python list")
        a, b = self.to_val(left, node), self.to_val(right, node)
        if op is ast.Sub and (update := self.update_of(a, b, node)) is not None:
            return update
        expr = ast.BinOp(a.expr, op(), b.expr)
        if op is ast.MatMult:
            if a.lead or b.lead:
                raise Unsupported(node, "multiplies matrices with batch dimensions the lesson leaves out")
            return self.combined([a, b], expr, node, shape=_matmul_shape(a.shape, b.shape), lead=0)
        return self.combined([a, b], expr, node, shape=broadcast(a.shape, b.shape), lead=self.lead_of(a, b, node))

    def lead_of(self, a: Val, b: Val, node: ast.AST) -> int:
        """The leading size-1 dims an element-wise result keeps (the notebook's rank minus the lesson's)."""
        if a.lead == b.lead:
            return a.lead
        if a.shape == () and a.lead == 0:
            return b.lead
        if b.shape == () and b.lead == 0:
            return a.lead
        if a.rank is not None and b.rank is not None:
            return max(a.rank + a.lead, b.rank + b.lead) - max(a.rank, b.rank)
        raise Unsupported(node, "combines tensors of unknown shapes with batch dimensions the lesson leaves out")

    def fold(self, op: type, a: Num, b: Num, node: ast.AST) -> Num:
        x, y = a.value, b.value
        try:
            if op is ast.Add:
                v = x + y
            elif op is ast.Sub:
                v = x - y
            elif op is ast.Mult:
                v = x * y
            elif op is ast.Div:
                v = x / y
            elif op is ast.Pow:
                if abs(y) > 64 or abs(x) > 1e6:
                    raise Unsupported(node, "is too large a power to write in a lesson")
                v = x**y
            else:
                raise Unsupported(node)
        except (ZeroDivisionError, OverflowError, TypeError, ValueError):
            raise Unsupported(node, "cannot be computed (a division by zero or an overflow)") from None
        if isinstance(v, complex):
            raise Unsupported(node, "is not a real number")
        self.check_number(v, node)
        return Num(v, ast.BinOp(a.expr, op(), b.expr))

    def ev_Compare(self, node: ast.Compare, depth: int) -> Any:
        if len(node.ops) != 1 or not isinstance(node.ops[0], (*_COMPARE, ast.NotEq, ast.Is, ast.IsNot)):
            raise Unsupported(node)
        left, right = self.ev(node.left, depth), self.ev(node.comparators[0], depth)
        op = node.ops[0]
        if isinstance(left, (Num, Str, NoneVal)) and isinstance(right, (Num, Str, NoneVal)):
            # compared as Python compares them; a comparison Python refuses (None < 1) is caught below
            x: Any = getattr(left, "value", None)
            y: Any = getattr(right, "value", None)
            table = {ast.Lt: lambda: x < y, ast.Gt: lambda: x > y, ast.LtE: lambda: x <= y,
                     ast.GtE: lambda: x >= y, ast.Eq: lambda: x == y, ast.NotEq: lambda: x != y,
                     ast.Is: lambda: x is y, ast.IsNot: lambda: x is not y}
            try:
                result = bool(table[type(op)]())
            except TypeError:
                raise Unsupported(node) from None
            return Num(result, const(int(result)))
        if not isinstance(op, _COMPARE):
            raise Unsupported(node)
        a, b = self.to_val(left, node), self.to_val(right, node)
        expr = ast.Compare(a.expr, [op], [b.expr])
        return self.combined([a, b], expr, node, shape=broadcast(a.shape, b.shape), lead=self.lead_of(a, b, node))

    def ev_List(self, node: ast.List, depth: int) -> Seq:
        return Seq([self.ev(e, depth) for e in node.elts], "list")

    def ev_Tuple(self, node: ast.Tuple, depth: int) -> Seq:
        return Seq([self.ev(e, depth) for e in node.elts], "tuple")

    def ev_JoinedStr(self, node: ast.JoinedStr, depth: int) -> Str:
        return Str("".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)))

    def ev_Subscript(self, node: ast.Subscript, depth: int) -> Any:
        base = self.ev(node.value, depth)
        if isinstance(base, Unknown):
            raise Unsupported(node, f"uses `{base.name or snippet(node.value)}`, which was left out ({base.origin})")
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if isinstance(base, Seq):
            index = pyconst(self.ev(node.slice, depth), node.slice)
            if not isinstance(index, int) or not -len(base.items) <= index < len(base.items):
                raise Unsupported(node, "indexes a list with something other than a position inside it")
            return base.items[index]
        if isinstance(base, Shape):
            index = pyconst(self.ev(node.slice, depth), node.slice)
            if not isinstance(index, int):
                raise Unsupported(node)
            return Shape(base.of, index)
        if isinstance(base, Module) and base.children:
            index = pyconst(self.ev(node.slice, depth), node.slice)
            if isinstance(index, int) and -len(base.children) <= index < len(base.children):
                return base.children[index]
            raise Unsupported(node)
        if isinstance(base, Tensor):
            base = self.tensor_val(base, node.value)
        if not isinstance(base, Val):
            raise Unsupported(node)
        return self.index(base, parts, node, depth)

    def index(self, v: Val, parts: list[ast.expr], node: ast.AST, depth: int) -> Val:
        comps: list[Any] = []
        for p in parts:
            if isinstance(p, ast.Slice):
                bounds = [None if b is None else pyconst(self.ev(b, depth), b) for b in (p.lower, p.upper, p.step)]
                if not all(b is None or isinstance(b, int) for b in bounds):
                    raise Unsupported(node, "slices with something other than whole numbers")
                comps.append(slice(*bounds))
            else:
                item = self.ev(p, depth)
                if isinstance(item, NoneVal):
                    comps.append(None)
                    continue
                value = pyconst(item, p) if isinstance(item, Num) else item
                if isinstance(value, bool) or not isinstance(value, int):
                    raise Unsupported(node, "indexes a tensor with a tensor (the lesson indexes by position)")
                comps.append(value)
        lead, kept = v.lead, 0
        added = 0
        while comps and comps[0] is None:
            added += 1
            comps.pop(0)
        while lead and comps:
            c = comps[0]
            if c in (0, -1):
                comps.pop(0)
                lead -= 1
            elif isinstance(c, slice) and c == slice(None):
                comps.pop(0)
                lead -= 1
                kept += 1
            else:
                raise Unsupported(node, "indexes batch dimensions the lesson leaves out")
        if any(c is None for c in comps):
            raise Unsupported(node, "adds a dimension in the middle (the lesson writes shapes as they are)")
        if not comps:
            return replace(v, lead=lead + kept + added)
        if lead:
            raise Unsupported(node, "indexes a tensor with batch dimensions the lesson leaves out")
        shape = _indexed_shape(v.shape, comps)
        elts = [ast.Slice(*(None if b is None else const(b) for b in (c.start, c.stop, c.step)))
                if isinstance(c, slice) else const(c) for c in comps]
        index = elts[0] if len(elts) == 1 else ast.Tuple(elts, ast.Load())
        expr = ast.Subscript(v.expr, index, ast.Load())
        return v.plain(expr, shape=shape, lead=kept + added, **self.carried(v, node))

    # --- building values -----------------------------------------------------------------------

    def to_val(self, obj: Any, node: ast.AST | None) -> Val:
        """A value the lesson can compute with, or Unsupported saying why this one is not."""
        if isinstance(obj, Val):
            return obj
        if isinstance(obj, Num):
            if obj.given:
                self.use_given(obj.given)
                return Val(name(obj.given), leaves=frozenset({(obj.given, None)}), shape=(), given=obj.given,
                           integer=isinstance(obj.value, int))
            return Val(obj.expr, shape=(), integer=isinstance(obj.value, int) and not isinstance(obj.value, bool))
        if isinstance(obj, Tensor):
            return self.tensor_val(obj, node)
        if isinstance(obj, Unknown):
            raise Unsupported(node, f"uses `{obj.name or snippet(node)}`, which was left out ({obj.origin})")
        if isinstance(obj, Seq) and obj.items and all(isinstance(i, (Num, Val, Tensor)) for i in obj.items):
            raise Unsupported(node, "builds a tensor from a Python list of values")
        if isinstance(obj, Shape):
            raise Unsupported(node, "computes with a shape")
        if isinstance(obj, Module):
            raise Unsupported(node, "is a layer, not a value")
        if isinstance(obj, NoneVal):
            raise Unsupported(node, "is None")
        raise Unsupported(node)

    def carried(self, v: Val, node: ast.AST | None) -> dict:
        """What a value computed from `v` alone keeps: its dependencies, and no gradient under no_grad."""
        out = merge([v], node)
        if self.no_grad:
            out["cut"] = out["cut"] | frozenset(out["trained"])
            out["trained"] = {}
        return out

    def combined(self, vals: list[Val], expr: ast.expr, node: ast.AST | None, **fields: Any) -> Val:
        out = merge(vals, node)
        if self.no_grad:
            out["cut"] = out["cut"] | frozenset(out["trained"])
            out["trained"] = {}
        return Val(expr, **out, **fields)

    def detached(self, v: Val) -> Val:
        """`.data`, `.detach()`: the same numbers, cut off from the gradient (a leaf stays itself for .grad)."""
        if v.identity:
            return v   # w.data is w: printing it is printing w, and w.data -= ... updates w
        return replace(v, trained={}, cut=v.cut | frozenset(v.trained))

    def tensor_val(self, t: Tensor, node: ast.AST | None) -> Val:
        """A tensor written out in numbers and used on the spot: a literal in the lesson's expression."""
        if t.requires_grad:
            raise Unsupported(node, "differentiates a tensor that has no name; give it one")
        self.vote_dtype(t, node)
        expr = ast.parse(t.data, mode="eval").body if isinstance(t.data, str) else _data_ast(t.data)
        return Val(expr, shape=t.shape)

    def ev_Call(self, node: ast.Call, depth: int) -> Any:
        func = self.ev(node.func, depth)
        if isinstance(func, Unknown):
            raise Unsupported(node, f"uses `{func.name or snippet(node.func)}`, which was left out ({func.origin})")
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise Unsupported(node, "unpacks arguments with * or **")
        args = [self.ev(a, depth) for a in node.args]
        kwargs = {k.arg: self.ev(k.value, depth) for k in node.keywords}
        return self.apply(func, args, kwargs, node)


def _data_ast(data: Any) -> ast.expr:
    if isinstance(data, list):
        return ast.List([_data_ast(d) for d in data], ast.Load())
    if isinstance(data, str):
        return ast.parse(data, mode="eval").body
    return const(data)


def _matmul_shape(a: tuple | None, b: tuple | None) -> tuple | None:
    if a is None or b is None:
        return None
    if len(a) == 1 and len(b) == 1:
        return ()
    if len(a) == 2 and len(b) == 1:
        return (a[0],)
    if len(a) == 1 and len(b) == 2:
        return (b[1],)
    if len(a) == 2 and len(b) == 2:
        return (a[0], b[1])
    return None


def _indexed_shape(shape: tuple | None, comps: list) -> tuple | None:
    if shape is None or len(comps) > len(shape):
        return None
    out = []
    for size, c in zip(shape, comps, strict=False):
        if isinstance(c, slice):
            out.append(len(range(*c.indices(size))))
        elif not -size <= c < size:
            return None
    return tuple(out) + tuple(shape[len(comps):])


__all__ = ["Expressions", "snippet", "pyconst", "as_ast", "MAX_GIVEN_NUMBERS", "numel", "call", "Function"]
