"""Calls in a notebook: PyTorch functions, tensor methods, layers, optimizers, and the notebook's own functions."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tutor.core.notebook import torch_names as tn
from tutor.core.notebook.expressions import as_ast, pyconst
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
    broadcast,
    call,
    const,
    literal,
    name,
    numel,
)

MAX_UNROLL = 100
_GRAD_MODES = {"torch.no_grad": False, "torch.inference_mode": False, "torch.enable_grad": True,
               "torch.set_grad_enabled": None, "torch.autograd.no_grad": False}
_QUIET = frozenset({"torch.set_printoptions", "builtins.print"})
_NUMBER_BUILTINS: dict[str, Callable[[float], float]] = {"float": float, "int": int, "abs": abs, "round": round}


class GradMode:
    """`torch.no_grad()` and friends, used by `with`."""

    def __init__(self, enabled: bool):
        self.enabled = enabled


class Calls:
    """The calls half of the translator (mixed into Translator)."""

    if TYPE_CHECKING:
        # What the calls use of the class they are mixed into: Translator's state and bookkeeping,
        # and the expression half (Expressions). mypy checks Translator against these.
        max_given_numbers: int
        grads: dict[str, list[Val]]             # trainable identity (or "node:" + name) -> losses
        current_round: dict[str, int]
        retained: set[str]
        name_hint: str

        def fresh(self, base: str) -> str: ...
        def new_identity(self, given: str) -> str: ...
        def vote(self, dtype: str, node: ast.AST | None) -> None: ...
        def refresh(self, v: Val) -> Val: ...
        def given_from_tensor(self, given: str, t: Tensor, stmt: ast.AST | None) -> Val: ...
        def inplace_update(self, p: Val, change: Any, node: ast.AST) -> Any: ...
        def make_config(self, loss: Val, rate_text: str, rate: float, rule: str, options: tuple,
                        node: ast.AST) -> Config: ...
        def register_update(self, config: Config, identity: str, node: ast.AST) -> None: ...
        def call_function(self, fn: Function, args: list, kwargs: dict, node: ast.AST) -> Any: ...
        def backward(self, v: Val, kwargs: dict, node: ast.AST) -> NoneVal: ...
        def autograd_grad(self, args: list, kwargs: dict, node: ast.AST) -> Seq: ...
        def check_number(self, v: float | int, node: ast.AST | None) -> None: ...
        def binop(self, op: type, left: Any, right: Any, node: ast.AST) -> Any: ...
        def lead_of(self, a: Val, b: Val, node: ast.AST) -> int: ...
        def to_val(self, obj: Any, node: ast.AST | None) -> Val: ...
        def carried(self, v: Val, node: ast.AST | None) -> dict: ...
        def combined(self, vals: list[Val], expr: ast.expr, node: ast.AST | None, **fields: Any) -> Val: ...
        def detached(self, v: Val) -> Val: ...
        def tensor_val(self, t: Tensor, node: ast.AST | None) -> Val: ...

    def apply(self, func: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
        if isinstance(func, Namespace):
            return self.namespace_call(func.path, args, kwargs, node)
        if isinstance(func, Method):
            return self.method_call(func, args, kwargs, node)
        if isinstance(func, Module):
            if len(args) < 1 or kwargs:
                raise Unsupported(node)
            return self.module_call(func, args, node)
        if isinstance(func, Function):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, Str):
            raise Unsupported(node)
        raise Unsupported(node, "calls something that is not a function")

    # --- namespaces ----------------------------------------------------------------------------

    def namespace_call(self, path: str, args: list, kwargs: dict, node: ast.Call) -> Any:
        short = path.rsplit(".", 1)[-1]
        if path.startswith("builtins."):
            return self.builtin(short, args, kwargs, node)
        if path in _GRAD_MODES:
            enabled = _GRAD_MODES[path]
            if enabled is None:
                enabled = bool(pyconst(args[0], node)) if args else True
            return GradMode(enabled)
        if path in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            return self.parameter(args, kwargs, node)
        if path in ("torch.set_default_dtype", "torch.set_default_tensor_type"):
            dtype = args[0] if args else None
            if isinstance(dtype, Dtype) and dtype.name in ("float32", "float64"):
                self.default_dtype = dtype.name
                return NoneVal()
            raise Unsupported(node)
        if path in _QUIET:
            return NoneVal()
        if path.startswith("torch.nn.") and short in tn.MODULES and path.count(".") == 2:
            return self.construct_module(short, args, kwargs, node)
        if path.startswith("torch.optim.") and short in tn.OPTIMIZERS:
            return self.construct_optimizer(short, args, kwargs, node)
        if path == "torch.autograd.grad":
            return self.autograd_grad(args, kwargs, node)
        if path.endswith("manual_seed") or path.endswith("random.seed"):
            raise Unsupported(node, "sets a random seed; a lesson has no random numbers, only numbers written out")
        if path.startswith("torch.") and short in tn.RANDOM:
            raise Unsupported(node, "draws random numbers; a lesson needs its numbers written out")
        if path in ("torch." + c for c in tn.CONSTRUCTORS):
            return self.construct_tensor(short, args, kwargs, node)
        if path.startswith(("math.", "numpy.")) and all(isinstance(a, Num) for a in args) and not kwargs:
            return self.math_number(short, args, node)
        for prefix in tn.FUNCTION_NAMESPACES:
            if path.startswith(prefix) and path.count(".") == prefix.count("."):
                fname = {"expit": "sigmoid", "special": ""}.get(short, short)
                if fname in tn.FUNCTIONS:
                    return self.function(fname, args, kwargs, node)
        raise Unsupported(node)

    def math_number(self, fname: str, args: list[Num], node: ast.AST) -> Num:
        """math.sqrt(2), math.log(3): a number written in the code, kept exact as the lesson's expression."""
        ok = {"sqrt", "exp", "log", "sin", "cos", "tan", "tanh", "fabs"}
        if fname not in ok or len(args) != 1:
            raise Unsupported(node)
        try:
            value = getattr(math, fname)(args[0].value)
        except (ValueError, OverflowError):
            raise Unsupported(node, "cannot be computed (outside the function's domain)") from None
        self.check_number(value, node)
        return Num(value, call("abs" if fname == "fabs" else fname, args[0].expr))

    def builtin(self, fname: str, args: list, kwargs: dict, node: ast.Call) -> Any:
        if fname == "range":
            bounds = [pyconst(a, node) for a in args]
            if not bounds or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds):
                raise Unsupported(node, "loops over something other than a range of whole numbers")
            r = range(*bounds)
            if len(r) > MAX_UNROLL:
                raise Unsupported(node, f"loops {len(r)} times; the translator follows at most {MAX_UNROLL}")
            return Seq([Num(i, const(i)) for i in r], "range")
        if len(args) != 1 and fname not in ("round", "max", "min", "sum"):
            raise Unsupported(node)
        x = args[0] if args else None
        if fname in ("list", "tuple") and isinstance(x, Seq):
            return Seq(list(x.items), fname)
        if fname == "len":
            if isinstance(x, Seq):
                return Num(len(x.items), const(len(x.items)))
            if isinstance(x, Val) and x.shape is not None and (x.lead or x.shape):
                size = 1 if x.lead else x.shape[0]
                return Num(size, const(size))
            raise Unsupported(node)
        if isinstance(x, Num) and fname in ("float", "int", "abs", "round") and len(args) == 1:
            value = _NUMBER_BUILTINS[fname](x.value)
            return Num(value, x.expr if fname != "abs" else call("abs", x.expr))
        if fname in ("max", "min") and all(isinstance(a, Num) for a in args) and len(args) >= 2:
            best = (max if fname == "max" else min)(args, key=lambda a: a.value)
            return best
        if fname == "sum":
            items = x.items if isinstance(x, Seq) else None
            if items is not None and items:
                total = items[0]
                for item in items[1:]:
                    total = self.binop(ast.Add, total, item, node)
                return total
            v = self.to_val(x, node)
            if v.lead:
                return replace(v, lead=v.lead - 1)
            if v.rank == 1:
                return self.reduce("sum", v, {}, node)
            if v.rank is not None and v.rank >= 2:
                return self.reduce("sum", v, {"dim": Num(0, const(0))}, node)
            raise Unsupported(node, "sums over the first dimension of a tensor of unknown shape")
        if isinstance(x, (Val, Tensor)):
            v = self.to_val(x, node)
            if fname in ("float", "round"):
                return replace(v, lead=0) if v.shape in ((), None) or numel(v.shape) == 1 else v
            if fname == "abs":
                return self.function("abs", [v], {}, node)
        raise Unsupported(node)

    # --- tensors written out -------------------------------------------------------------------

    def construct_tensor(self, kind: str, args: list, kwargs: dict, node: ast.Call) -> Any:
        kwargs = dict(kwargs)
        requires_grad = bool(pyconst(kwargs.pop("requires_grad", Num(False, const(0))), node))
        dtype_obj = kwargs.pop("dtype", None)
        kwargs.pop("device", None)
        if kwargs:
            raise Unsupported(node, f"passes {', '.join(kwargs)}, which a lesson's tensor does not have")
        dtype = {"Tensor": "float32", "FloatTensor": "float32", "DoubleTensor": "float64",
                 "LongTensor": "int64"}.get(kind)
        if isinstance(dtype_obj, Dtype):
            dtype = dtype_obj.name
        elif dtype_obj is not None and not isinstance(dtype_obj, NoneVal):
            raise Unsupported(node)
        if kind in ("tensor", "Tensor", "FloatTensor", "DoubleTensor", "LongTensor", "as_tensor"):
            if len(args) != 1:
                raise Unsupported(node)
            if isinstance(args[0], Val):
                v = args[0]
                if requires_grad or not v.given:
                    raise Unsupported(node, "copies a computed tensor into a new one")
                return self.detached(v)
            data, shape, count, floats = self.tensor_data(args[0], node, 0)
            if dtype is None:
                dtype = None if floats else "int64"
            return Tensor(data, shape, dtype, requires_grad, count)
        return self.filled_tensor(kind, args, dtype, requires_grad, node)

    def tensor_data(self, obj: Any, node: ast.AST, depth: int) -> tuple[Any, tuple, int, bool]:
        """Nested lists of numbers (an exact expression as a string): data, shape, count, any floats."""
        if depth > 32:
            raise Unsupported(node, "nests lists too deeply")
        if isinstance(obj, Num):
            expr = obj.expr
            plain = isinstance(expr, ast.Constant) or (isinstance(expr, ast.UnaryOp) and isinstance(expr.operand, ast.Constant))
            value = (int(obj.value) if isinstance(obj.value, bool) else obj.value) if plain else ast.unparse(expr)
            return value, (), 1, isinstance(obj.value, float)
        if isinstance(obj, Seq):
            if not obj.items:
                raise Unsupported(node, "is an empty tensor")
            parts = [self.tensor_data(i, node, depth + 1) for i in obj.items]
            shapes = {p[1] for p in parts}
            if len(shapes) != 1:
                raise Unsupported(node, "has rows of different lengths")
            count = sum(p[2] for p in parts)
            if count > self.max_given_numbers:
                raise Unsupported(node, f"writes out more than {self.max_given_numbers:,} numbers; too many for a lesson")
            return [p[0] for p in parts], (len(parts), *parts[0][1]), count, any(p[3] for p in parts)
        raise Unsupported(node, "builds a tensor from something other than numbers written in the code")

    def filled_tensor(self, kind: str, args: list, dtype: str | None, requires_grad: bool, node: ast.Call) -> Any:
        if kind in ("ones_like", "zeros_like", "full_like"):
            if not args or not isinstance(args[0], (Val, Tensor)):
                raise Unsupported(node)
            like = self.to_val(args[0], node)
            if like.shape is None or like.lead:
                raise Unsupported(node, "copies the shape of a tensor whose shape is not known here")
            sizes = [Num(s, const(s)) for s in like.shape]
            args = ([Seq(sizes, "tuple")] + list(args[1:2])) if kind == "full_like" else [Seq(sizes, "tuple")]
            kind = kind.removesuffix("_like")
        if kind == "full":
            if len(args) != 2:
                raise Unsupported(node)
            fill = args[1]
            if not isinstance(fill, Num):
                raise Unsupported(node)
            inner = self.filled_tensor("ones", [args[0]], dtype, False, node)
            text = f"{ast.unparse(fill.expr)} * {inner.data}"
            is_float = isinstance(fill.value, float)
            return Tensor(text, inner.shape, dtype or (None if is_float else "int64"), requires_grad, inner.count)
        values = [pyconst(a, node) for a in args]
        if len(values) == 1 and isinstance(values[0], tuple):
            values = list(values[0])
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise Unsupported(node)
        if kind in ("ones", "zeros", "eye"):
            if not all(isinstance(v, int) and v >= 0 for v in values) or (kind == "eye" and len(values) > 2):
                raise Unsupported(node)
            shape = tuple(values) if kind != "eye" else (values[0], values[-1])
        elif kind == "arange":
            r = _arange(values)
            if r is None:
                raise Unsupported(node)
            shape = (r,)
            if dtype is None and all(isinstance(v, int) for v in values):
                dtype = "int64"
        elif kind == "linspace":
            if len(values) != 3 or not isinstance(values[2], int) or values[2] < 1:
                raise Unsupported(node)
            shape = (values[2],)
        else:
            raise Unsupported(node)
        count = numel(shape)
        if count > self.max_given_numbers:
            raise Unsupported(node, f"holds more than {self.max_given_numbers:,} numbers; too many for a lesson")
        text = ast.unparse(call(kind, *(const(v) for v in values)))
        return Tensor(text, shape, dtype, requires_grad, count)

    def parameter(self, args: list, kwargs: dict, node: ast.AST) -> Val:
        """torch.nn.Parameter(t): a new trainable tensor holding t's numbers."""
        if len(args) != 1:
            raise Unsupported(node)
        requires_grad = bool(pyconst(kwargs.get("requires_grad", Num(True, const(1))), node))
        source = args[0]
        if isinstance(source, Tensor):
            source = self.given_from_tensor(self.fresh(self.name_hint), source, node)
        if not isinstance(source, Val) or not source.given:
            raise Unsupported(node, "makes a parameter of a computed value; a lesson's parameters are numbers")
        if not requires_grad:
            return self.detached(source)
        identity = self.new_identity(source.given)
        return Val(name(source.given), leaves=frozenset({(source.given, identity)}), trained={identity: 0},
                   lead=source.lead, shape=source.shape, given=source.given, identity=identity, live=True)

    # --- methods -------------------------------------------------------------------------------

    def method_call(self, m: Method, args: list, kwargs: dict, node: ast.Call) -> Any:
        of, attr = m.of, m.name
        if isinstance(of, Tensor):
            return self.tensor_method(of, attr, args, kwargs, node)
        if isinstance(of, Seq):
            if attr == "append" and len(args) == 1 and of.kind == "list":
                of.items.append(args[0])
                return NoneVal()
            raise Unsupported(node)
        if isinstance(of, Str):
            if attr == "format":
                return Seq(list(args) + list(kwargs.values()), "format")
            raise Unsupported(node)
        if isinstance(of, Optimizer):
            return self.optimizer_method(of, attr, args, node)
        if isinstance(of, Module):
            return self.module_method(of, attr, args, node)
        if isinstance(of, Shape):
            raise Unsupported(node)
        if isinstance(of, Val):
            return self.val_method(of, attr, args, kwargs, node)
        raise Unsupported(node)

    def tensor_method(self, t: Tensor, attr: str, args: list, kwargs: dict, node: ast.Call) -> Any:
        if attr in ("double", "float", "long") and not args:
            return Tensor(t.data, t.shape, {"double": "float64", "float": "float32", "long": "int64"}[attr],
                          t.requires_grad, t.count)
        if attr == "to" and len(args) == 1 and isinstance(args[0], Dtype):
            return Tensor(t.data, t.shape, args[0].name, t.requires_grad, t.count)
        if attr == "requires_grad_":
            flag = bool(pyconst(args[0], node)) if args else True
            return Tensor(t.data, t.shape, t.dtype, flag, t.count)
        return self.val_method(self.tensor_val(t, node), attr, args, kwargs, node)

    def val_method(self, v: Val, attr: str, args: list, kwargs: dict, node: ast.Call) -> Any:
        if attr in ("item",):
            if v.shape is not None and numel(v.shape) != 1:
                raise Unsupported(node, "takes .item() of a tensor with more than one number")
            return replace(v, lead=0) if v.shape == () or v.shape is None else v
        if attr in ("detach",):
            return self.detached(v)
        if attr in ("clone", "numpy", "tolist", "cpu", "contiguous"):
            return v
        if attr in ("double", "float", "to", "type"):
            target = {"double": "float64", "float": "float32"}.get(attr)
            if attr in ("to", "type") and args and isinstance(args[0], Dtype):
                target = args[0].name
            if target:
                self.vote(target, node)
            return v
        if attr == "size":
            if args:
                i = pyconst(args[0], node)
                return Shape(v, i) if isinstance(i, int) else Shape(v)
            return Shape(v)
        if attr in ("view", "reshape"):
            sizes = args[0] if len(args) == 1 and isinstance(args[0], Seq) else Seq(list(args), "tuple")
            return self.reshape(v, pyconst(sizes, node), node)
        if attr in ("view_as", "reshape_as") and args:
            like = self.to_val(args[0], node)
            if like.shape is None:
                raise Unsupported(node)
            return self.reshape(v, (1,) * like.lead + like.shape, node)
        if attr == "backward":
            return self.backward(v, kwargs, node)
        if attr == "retain_grad":
            if v.node:
                self.retained.add(v.node)
            return NoneVal()
        if attr == "requires_grad_":
            raise Unsupported(node, "makes a computed tensor trainable; the lesson trains only givens")
        if attr in ("zero_",) and v.grad_of is not None:
            self.grads[v.grad_of[1]] = []
            return NoneVal()
        if attr == "sub_" and len(args) == 1:
            return self.inplace_update(v, args[0], node)
        if attr == "add_" and len(args) == 1 and "alpha" in kwargs and isinstance(kwargs["alpha"], Num):
            rate = kwargs["alpha"]
            return self.inplace_update(v, self.binop(ast.Mult, Num(-rate.value, ast.UnaryOp(ast.USub(), rate.expr)),
                                                     args[0], node), node)
        if attr == "copy_" and len(args) == 1:
            raise Unsupported(node, "copies numbers into a tensor in place; give the tensor its numbers when made")
        if attr in tn.FUNCTIONS or attr in ("abs", "exp", "log", "sqrt"):
            return self.function(attr, [v, *args], kwargs, node)
        raise Unsupported(node)

    # --- functions -----------------------------------------------------------------------------

    def bind_args(self, spec: tn.Spec, args: list, kwargs: dict, node: ast.AST) -> dict:
        if len(args) > len(spec.params):
            raise Unsupported(node, "passes more arguments than PyTorch's function takes")
        bound = dict(zip(spec.params, args, strict=False))
        for key, value in kwargs.items():
            if key in bound:
                raise Unsupported(node, f"passes {key} twice")
            if key not in spec.params and key not in spec.defaults:
                raise Unsupported(node, f"passes {key}=, which the lesson language does not have")
            bound[key] = value
        for key in list(bound):
            if key in spec.defaults and _same(pyconst_or(bound[key]), spec.defaults[key]):
                del bound[key]
        return bound

    def function(self, fname: str, args: list, kwargs: dict, node: ast.AST) -> Any:
        spec = tn.FUNCTIONS[fname]
        bound = self.bind_args(spec, args, kwargs, node)
        lesson = spec.lesson
        if lesson in ("+", "-", "*", "/", "**", "@"):
            ops = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "**": ast.Pow, "@": ast.MatMult}
            other_key = spec.params[1]
            if "input" not in bound or other_key not in bound or set(bound) - {"input", other_key, "alpha"}:
                raise Unsupported(node)
            other = bound[other_key]
            if "alpha" in bound:
                other = self.binop(ast.Mult, bound["alpha"], other, node)
            return self.binop(ops[lesson], bound["input"], other, node)
        if lesson in ("cat", "stack"):
            return self.join(lesson, bound, node)
        if lesson == "where":
            parts = [self.to_val(bound.get(k), node) for k in ("condition", "input", "other")]
            return self.elementwise("where", parts, {}, node)
        if lesson == "scaled_dot_product_attention":
            return self.attention(bound, node)
        if "input" not in bound:
            raise Unsupported(node)
        x = self.to_val(bound.pop("input"), node)
        if lesson in ("square", "neg", "reciprocal", "rsqrt", "log2", "log10", "t", "transpose", "reshape",
                      "squeeze", "unsqueeze", "max", "min", "l1_loss", "argmax", "flatten"):
            return self.special(lesson, x, bound, node)
        if lesson in ("sum", "mean", "var", "std"):
            return self.reduce(lesson, x, bound, node)
        if lesson in ("softmax", "log_softmax"):
            return self.softmax(lesson, x, bound, node)
        if lesson in ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
                      "avg_pool1d", "avg_pool2d"):
            weight = bound.pop("weight", None)
            return self.layer(lesson, x, self.to_val(weight, node) if weight is not None else None, bound, node)
        if lesson in ("cross_entropy", "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"):
            return self.loss(lesson, x, self.to_val(bound.pop("target"), node), bound, node)
        if lesson == "linear":
            return self.linear(x, bound, node)
        if lesson == "norm":
            if bound:
                raise Unsupported(node, "takes a norm other than the 2-norm of all entries")
            squared = self.binop(ast.Pow, x, Num(2, const(2)), node)
            return self.elementwise("sqrt", [self.reduce("sum", squared, {}, node)], {}, node)
        inputs = [x]
        return self.elementwise(lesson, inputs, bound, node)

    def keyword_values(self, lesson: str, bound: dict, node: ast.AST) -> dict[str, ast.expr]:
        out = {}
        for key, value in bound.items():
            key = {"unbiased": "correction"}.get(key, key)
            if not tn.language_accepts(lesson, key):
                raise Unsupported(node, f"passes {key}=, which the lesson's {lesson}() does not take")
            if key == "correction" and isinstance(value, Num) and isinstance(value.value, bool):
                value = Num(int(value.value), const(int(value.value)))
            out[key] = self.argument(value, node)
        return out

    def argument(self, value: Any, node: ast.AST) -> ast.expr:
        if isinstance(value, (Val, Tensor)):
            return self.to_val(value, node).expr
        if isinstance(value, Num):
            return self.to_val(value, node).expr if not isinstance(value.value, bool) else const(int(value.value))
        return as_ast(pyconst(value, node))

    def elementwise(self, lesson: str, inputs: list[Val], bound: dict, node: ast.AST) -> Val:
        keywords = self.keyword_values(lesson, bound, node)
        shape, lead = inputs[0].shape, inputs[0].lead
        for other in inputs[1:]:
            lead = self.lead_of(replace(inputs[0], shape=shape, lead=lead), other, node)
            shape = broadcast(shape, other.shape)
        return self.combined(inputs, call(lesson, *(v.expr for v in inputs), **keywords), node, shape=shape, lead=lead)

    def dim(self, v: Val, value: Any, node: ast.AST) -> int | None:
        """A notebook dim as the lesson's (None: the dim is one the lesson leaves out)."""
        d = pyconst(value, node)
        if not isinstance(d, int) or isinstance(d, bool):
            raise Unsupported(node, "reduces over several dims at once")
        if not v.lead:
            return d
        if d < 0:
            if v.rank is None:
                raise Unsupported(node, "reduces a tensor of unknown shape with batch dimensions the lesson leaves out")
            d += v.rank + v.lead
        return None if d < v.lead else d - v.lead

    def reduce(self, lesson: str, v: Val, bound: dict, node: ast.AST) -> Val:
        bound = dict(bound)
        keep = bool(pyconst(bound.pop("keepdim", Num(False, const(0))), node))
        if "dim" not in bound or isinstance(bound["dim"], NoneVal):
            bound.pop("dim", None)
            if keep:
                raise Unsupported(node, "keeps every dimension of a full reduction")
            keywords = self.keyword_values(lesson, bound, node)
            return self.combined([v], call(lesson, v.expr, **keywords), node, shape=(), lead=0)
        d = self.dim(v, bound.pop("dim"), node)
        if d is None:  # reducing a size-1 dim the lesson leaves out changes nothing
            return replace(v, lead=v.lead - (0 if keep else 1))
        keywords = self.keyword_values(lesson, bound, node)
        keywords["dim"] = const(d)
        if keep:
            keywords["keepdim"] = const(1)
        shape = None
        if v.shape is not None and -len(v.shape) <= d < len(v.shape):
            dd = d % len(v.shape)
            shape = v.shape[:dd] + ((1,) if keep else ()) + v.shape[dd + 1:]
        return self.combined([v], call(lesson, v.expr, **keywords), node, shape=shape, lead=v.lead)

    def softmax(self, lesson: str, v: Val, bound: dict, node: ast.AST) -> Val:
        value = bound.pop("dim", None)
        if value is None or isinstance(value, NoneVal):
            rank = None if v.rank is None else v.rank + v.lead
            if rank is None:
                raise Unsupported(node, "leaves softmax's dim to PyTorch's guess for a tensor of unknown shape")
            value = Num(0 if rank in (0, 1, 3) else 1, const(0))
        d = self.dim(v, value, node)
        if d is None:
            raise Unsupported(node, "takes a softmax over a batch dimension the lesson leaves out")
        keywords = self.keyword_values(lesson, bound, node)
        return self.combined([v], call(lesson, v.expr, dim=const(d), **keywords), node, shape=v.shape, lead=v.lead)

    def special(self, kind: str, v: Val, bound: dict, node: ast.AST) -> Any:
        if kind == "square":
            return self.binop(ast.Pow, v, Num(2, const(2)), node)
        if kind == "neg":
            return v.plain(ast.UnaryOp(ast.USub(), v.expr), **self.carried(v, node))
        if kind == "reciprocal":
            return self.binop(ast.Div, Num(1, const(1)), v, node)
        if kind == "rsqrt":
            return self.binop(ast.Div, Num(1, const(1)), self.elementwise("sqrt", [v], {}, node), node)
        if kind in ("log2", "log10"):
            base = 2 if kind == "log2" else 10
            return self.binop(ast.Div, self.elementwise("log", [v], {}, node),
                              Num(math.log(base), call("log", const(base))), node)
        if kind in ("t", "transpose"):
            dims = {pyconst(bound.get("dim0"), node), pyconst(bound.get("dim1"), node)} if kind == "transpose" else None
            if v.lead or (v.rank is not None and v.rank > 2) or (v.rank is None and dims not in (None, {0, 1})):
                raise Unsupported(node, "transposes other than a matrix's rows and columns")
            if dims is not None and dims not in ({0, 1}, {-1, -2}, {0, -1}, {1, -2}):
                raise Unsupported(node)
            shape = tuple(reversed(v.shape)) if v.shape is not None else None
            return v.plain(ast.Attribute(v.expr, "T", ast.Load()), shape=shape, **self.carried(v, node))
        if kind == "reshape":
            return self.reshape(v, pyconst(bound.get("shape"), node), node)
        if kind == "squeeze":
            if "dim" in bound:
                d = pyconst(bound["dim"], node)
                if isinstance(d, int) and v.lead and (d == 0 or (v.rank is not None and d < v.lead)):
                    return replace(v, lead=v.lead - 1)
                if v.shape is not None and isinstance(d, int):
                    dd = self.dim(v, bound["dim"], node)
                    if dd is not None and -len(v.shape) <= dd < len(v.shape) and v.shape[dd] != 1:
                        return v
                    if dd is not None and -len(v.shape) <= dd < len(v.shape):
                        shape = v.shape[: dd % len(v.shape)] + v.shape[dd % len(v.shape) + 1:]
                        return self.reshape(replace(v, lead=0), (1,) * v.lead + shape, node)
                raise Unsupported(node, "squeezes a dim of a tensor whose shape is not known here")
            if v.shape is not None:
                return self.reshape(replace(v, lead=0), tuple(s for s in v.shape if s != 1), node)
            raise Unsupported(node, "squeezes a tensor whose shape is not known here")
        if kind == "unsqueeze":
            d = pyconst(bound.get("dim"), node)
            if not isinstance(d, int):
                raise Unsupported(node)
            rank = None if v.rank is None else v.rank + v.lead
            if d < 0 and rank is not None:
                d += rank + 1
            if 0 <= d <= v.lead:
                return replace(v, lead=v.lead + 1)
            if v.shape is not None and d > v.lead:
                dd = d - v.lead
                return self.reshape(v, (1,) * v.lead + v.shape[:dd] + (1,) + v.shape[dd:], node)
            raise Unsupported(node, "adds a dimension to a tensor whose shape is not known here")
        if kind == "flatten":
            if set(bound) - set():
                raise Unsupported(node, "flattens only some dimensions")
            if v.rank == 1 and not v.lead:
                return v
            shape = (numel(v.shape),) if v.shape is not None else None
            return self.combined([v], call("flatten", v.expr), node, shape=shape, lead=0)
        if kind == "argmax":
            if "dim" in bound:
                raise Unsupported(node, "takes argmax along a dim (the lesson's argmax is over all entries)")
            return self.combined([v], call("argmax", v.expr), node, shape=(), lead=0, integer=True)
        if kind in ("max", "min"):
            if "dim" not in bound:
                if set(bound):
                    raise Unsupported(node, "takes the elementwise maximum of two tensors")
                return self.combined([v], call(kind, v.expr), node, shape=(), lead=0)
            values = self.reduce(kind, v, bound, node)
            return Seq([values, Unknown("indices are not part of the lesson language", "indices")], "tuple",
                       ("values", "indices"))
        if kind == "l1_loss":
            target = self.to_val(bound.pop("target"), node)
            reduction = pyconst(bound.pop("reduction", Str("mean")), node)
            diff = self.elementwise("abs", [self.binop(ast.Sub, v, target, node)], {}, node)
            if reduction == "none":
                return diff
            return self.reduce("sum" if reduction == "sum" else "mean", diff, {}, node)
        raise Unsupported(node)

    def reshape(self, v: Val, sizes: Any, node: ast.AST) -> Val:
        """view/reshape: leading 1s become dims the lesson leaves out; the rest is the lesson's reshape."""
        if isinstance(sizes, int):
            sizes = (sizes,)
        if not isinstance(sizes, tuple) or not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes):
            raise Unsupported(node, "reshapes to sizes that are not whole numbers written in the code")
        lead = 0
        rest = list(sizes)
        while rest and rest[0] == 1:
            rest.pop(0)
            lead += 1
        n = numel(v.shape) if v.shape is not None else None
        if rest.count(-1) > 1:
            raise Unsupported(node)
        if -1 in rest and n is not None:
            known = numel(tuple(s for s in rest if s != -1))
            if known == 0 or n % known:
                raise Unsupported(node, "reshapes to sizes that do not fit the tensor")
            rest[rest.index(-1)] = n // known
        if n is not None and -1 not in rest and numel(tuple(rest)) != n:
            raise Unsupported(node, "reshapes to sizes that do not fit the tensor")
        if not rest:
            if n not in (1, None):
                raise Unsupported(node)
            if v.shape in ((), None):
                return replace(v, lead=lead)
            return self.combined([v], ast.Subscript(call("flatten", v.expr), const(0), ast.Load()), node,
                                 shape=(), lead=lead)
        if v.shape is not None and tuple(rest) == v.shape:
            return replace(v, lead=lead)
        if rest == [-1]:
            if v.rank == 1:
                return replace(v, lead=lead)
            return self.combined([v], call("flatten", v.expr), node, shape=(n,) if n is not None else None, lead=lead)
        return self.combined([v], call("reshape", v.expr, literal(tuple(rest))), node,
                             shape=tuple(rest) if -1 not in rest else None, lead=lead)

    def join(self, lesson: str, bound: dict, node: ast.AST) -> Val:
        tensors = bound.get("tensors")
        if not isinstance(tensors, Seq) or not tensors.items:
            raise Unsupported(node)
        vals = [self.to_val(t, node) for t in tensors.items]
        if any(v.lead for v in vals):
            raise Unsupported(node, f"{lesson}s tensors with batch dimensions the lesson leaves out")
        keywords = {}
        if "dim" in bound:
            keywords["dim"] = const(pyconst(bound["dim"], node))
        expr = call(lesson, ast.List([v.expr for v in vals], ast.Load()), **keywords)
        return self.combined(vals, expr, node, shape=None, lead=0)

    def attention(self, bound: dict, node: ast.AST) -> Val:
        """F.scaled_dot_product_attention(q, k, v): the lesson's attention over the same three tensors."""
        bound = dict(bound)
        for key in ("query", "key", "value"):
            if key not in bound:
                raise Unsupported(node, f"leaves out the argument {key}")
        q, k, v = (self.to_val(bound.pop(key), node) for key in ("query", "key", "value"))
        if q.lead or k.lead or v.lead:
            raise Unsupported(node, "takes attention over tensors with batch dimensions the lesson leaves out")
        keywords = self.keyword_values("scaled_dot_product_attention", bound, node)
        shape = None
        if q.shape is not None and v.shape is not None and len(q.shape) == len(v.shape) == 2:
            shape = (q.shape[0], v.shape[1])
        return self.combined([q, k, v], call("scaled_dot_product_attention", q.expr, k.expr, v.expr, **keywords),
                             node, shape=shape, lead=0)

    def layer(self, lesson: str, x: Val, w: Val | None, bound: dict, node: ast.AST) -> Val:
        """A convolution or pooling, in the exercise layout when the notebook only added batch and channel."""
        spatial = 2 if lesson.endswith("2d") else 1
        bound = dict(bound)
        if isinstance(bound.get("padding"), Str):
            mode = bound["padding"].value
            if mode == "valid":
                bound["padding"] = Num(0, const(0))
            elif mode == "same" and w is not None:
                bound.pop("padding")
                bound["padding"] = ("same",)
            else:
                raise Unsupported(node)
        exercise = x.rank == spatial and (w is None or w.rank == spatial)
        if not exercise and (x.lead or (w is not None and w.lead)):
            w_shape = w.shape if w is not None else ()
            if x.shape is None or w_shape is None:
                raise Unsupported(node, "cannot tell the shapes this layer is given")
            x = self.reshape(replace(x, lead=0), (1,) * x.lead + x.shape, node) if x.lead else x
            x = replace(x, lead=0) if x.lead else x
            if w is not None and w.lead:
                w = self.reshape(replace(w, lead=0), (1,) * w.lead + w_shape, node)
                w = replace(w, lead=0)
        if x.lead and not exercise:
            raise Unsupported(node)
        keywords: dict[str, ast.expr] = {}
        for key, value in bound.items():
            if key == "bias":
                if isinstance(value, NoneVal):
                    continue
                bias = self.to_val(value, node)
                keywords["bias"] = bias.expr
                continue
            if value == ("same",) and w is not None:
                keywords["padding"] = call("same_padding", x.expr, w.expr, **{k: keywords[k] for k in ("stride", "dilation")
                                                                             if k in keywords})
                continue
            if not tn.language_accepts(lesson, key):
                raise Unsupported(node, f"passes {key}=, which the lesson's {lesson}() does not take")
            keywords[key] = self.argument(value, node)
        kernel = None
        args = [x.expr]
        if w is not None:
            args.append(w.expr)
        else:
            kernel = keywords.pop("kernel_size", None)
            if kernel is None:
                raise Unsupported(node)
            args.append(kernel)
        parts = [x] + ([w] if w is not None else []) + ([self.to_val(bound["bias"], node)]
                                                          if "bias" in keywords and "bias" in bound else [])
        shape = _layer_shape(lesson, x, w, args[1] if w is None else None, keywords) if exercise else None
        return self.combined(parts, call(lesson, *args, **keywords), node, shape=shape, lead=x.lead if exercise else 0)

    def loss(self, lesson: str, a: Val, b: Val, bound: dict, node: ast.AST) -> Val:
        bound = dict(bound)
        reduction = pyconst(bound.pop("reduction", Str("mean")), node)
        if a.lead != b.lead and not (b.shape == () and b.lead == 0):
            raise Unsupported(node, "compares tensors with different batch dimensions the lesson leaves out")
        keywords = self.keyword_values(lesson, bound, node)
        if reduction == "mean":
            return self.combined([a, b], call(lesson, a.expr, b.expr, **keywords), node, shape=(), lead=0)
        if lesson == "mse_loss" and reduction in ("sum", "none"):
            squared = self.binop(ast.Pow, self.binop(ast.Sub, a, b, node), Num(2, const(2)), node)
            return squared if reduction == "none" else self.reduce("sum", squared, {}, node)
        if lesson == "cross_entropy" and reduction == "sum" and a.rank == 1:
            return self.combined([a, b], call(lesson, a.expr, b.expr, **keywords), node, shape=(), lead=0)
        raise Unsupported(node, f"uses reduction={reduction!r}, which the lesson's {lesson}() does not have")

    def linear(self, x: Val, bound: dict, node: ast.AST) -> Val:
        w = self.to_val(bound.pop("weight"), node)
        b = bound.pop("bias", None)
        if w.lead:
            raise Unsupported(node)
        parts = [x, w]
        args = [x.expr, w.expr]
        if b is not None and not isinstance(b, NoneVal):
            bv = self.to_val(b, node)
            parts.append(bv)
            args.append(bv.expr)
        shape = None
        if x.shape is not None and w.shape is not None and len(w.shape) == 2 and x.shape:
            shape = x.shape[:-1] + (w.shape[0],)
        return self.combined(parts, call("linear", *args), node, shape=shape, lead=x.lead)

    # --- layers --------------------------------------------------------------------------------

    def construct_module(self, kind: str, args: list, kwargs: dict, node: ast.Call) -> Module:
        spec = tn.MODULES[kind]
        if kind == "Sequential":
            if kwargs or not all(isinstance(a, Module) for a in args):
                raise Unsupported(node, "holds something other than layers")
            return Module("sequential", {}, children=list(args))
        if len(args) > len(spec.params):
            raise Unsupported(node)
        options = dict(zip(spec.params, (pyconst(a, node) for a in args), strict=False))
        for key, value in kwargs.items():
            if key not in spec.params and key not in spec.defaults:
                raise Unsupported(node, f"passes {key}=, which the lesson language does not have")
            options[key] = pyconst(value, node)
        for key, value in spec.defaults.items():
            options.setdefault(key, value)
        params: dict = {}
        if spec.lesson in ("conv1d", "conv2d", "linear"):
            params["weight"] = None
            params["bias"] = None if options.get("bias", True) else False
        return Module(spec.lesson, options, params)

    def module_attr(self, m: Module, attr: str, node: ast.AST) -> Any:
        if attr in m.params:
            value = m.params[attr]
            if value is None:
                raise Unsupported(node, "is PyTorch's random initial value; set it to numbers first")
            if value is False:
                return NoneVal()
            return self.refresh(value)
        return Method(m, attr)

    def module_method(self, m: Module, attr: str, args: list, node: ast.AST) -> Any:
        if attr == "parameters" and not args:
            return Seq(self.module_params(m, node), "list")
        if attr == "zero_grad":
            for p in self.module_params(m, node):
                if p.identity:
                    self.grads[p.identity] = []
            return NoneVal()
        if attr in ("eval", "train", "double", "float"):
            if attr in ("double", "float"):
                self.vote("float64" if attr == "double" else "float32", node)
            return m
        if attr == "forward" and len(args) == 1:
            return self.module_call(m, args, node)
        raise Unsupported(node)

    def module_params(self, m: Module, node: ast.AST) -> list[Val]:
        out = []
        for child in [m, *m.children]:
            for key, value in child.params.items():
                if value is None:
                    raise Unsupported(node, f"has PyTorch's random initial {key}; set it to numbers first")
                if value is not False:
                    out.append(self.refresh(value))
        return out

    def module_call(self, m: Module, args: list, node: ast.AST) -> Any:
        lesson, o = m.kind, m.options
        if lesson == "sequential":
            x = args[0]
            for child in m.children:
                x = self.module_call(child, [x], node)
            return x
        x = self.to_val(args[0], node)
        if lesson == "identity":
            return x
        if lesson in ("conv1d", "conv2d", "linear"):
            weight = m.params.get("weight")
            if weight is None:
                raise Unsupported(node, "uses a layer whose weights are PyTorch's random initial values; set its "
                                  "weight (and bias) to numbers first")
            bias = m.params.get("bias")
            if bias is None:
                raise Unsupported(node, "uses a layer whose bias is PyTorch's random initial value; set it to "
                                  "numbers or make the layer with bias=False")
            bound: dict = {"weight": self.refresh(weight)}
            if bias is not False:
                bound["bias"] = self.refresh(bias)
            if lesson == "linear":
                return self.linear(x, bound, node)
            if o.get("padding_mode", "zeros") != "zeros":
                raise Unsupported(node, "pads with something other than zeros")
            for key in ("stride", "padding", "dilation", "groups"):
                value = o.get(key)
                if value not in (1 if key != "padding" else 0, (1, 1) if key != "padding" else (0, 0), None):
                    bound[key] = Str(value) if isinstance(value, str) else _as_obj(value)
            w = self.to_val(bound.pop("weight"), node)
            return self.layer(lesson, x, w, bound, node)
        if lesson.startswith(("max_pool", "avg_pool")):
            bound = {"kernel_size": _as_obj(o["kernel_size"])}
            for key in ("stride", "padding"):
                if o.get(key) not in (None, 0) and not (key == "stride" and o.get(key) == o["kernel_size"]):
                    bound[key] = _as_obj(o[key])
            if o.get("dilation", 1) != 1 or o.get("ceil_mode") or o.get("return_indices"):
                raise Unsupported(node, "pools with options the lesson language does not have")
            if not o.get("count_include_pad", True) or o.get("divisor_override") is not None:
                raise Unsupported(node, "pools with options the lesson language does not have")
            return self.layer(lesson, x, None, bound, node)
        if lesson in ("softmax", "log_softmax"):
            return self.softmax(lesson, x, {"dim": _as_obj(o.get("dim"))} if o.get("dim") is not None else {}, node)
        if lesson in ("cross_entropy", "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                      "l1_loss"):
            if len(args) != 2:
                raise Unsupported(node)
            options = {k: _as_obj(v) for k, v in o.items() if k in ("reduction",) and v != "mean"}
            if any(o.get(k) != v for k, v in tn.MODULES[_module_name(lesson)].defaults.items() if k != "reduction"):
                raise Unsupported(node, "uses loss options the lesson language does not have")
            if lesson == "l1_loss":
                return self.special("l1_loss", x, {"target": args[1], **options}, node)
            return self.loss(lesson, x, self.to_val(args[1], node), options, node)
        keywords = {k: _as_obj(v) for k, v in o.items()
                    if k not in ("inplace",) and v != tn.MODULES[_module_name(lesson)].defaults.get(k)}
        return self.function(lesson, [x], keywords, node)

    # --- gradients and updates -----------------------------------------------------------------

    def construct_optimizer(self, kind: str, args: list, kwargs: dict, node: ast.AST) -> Optimizer:
        spec = tn.OPTIMIZERS[kind]
        bound = dict(zip(spec.params, args, strict=False))
        for key, value in kwargs.items():
            if key not in spec.params and key not in spec.defaults:
                raise Unsupported(node, f"passes {key}=, which the lesson language does not have")
            bound[key] = value
        params = bound.pop("params", None)
        if not isinstance(params, Seq) or not all(isinstance(p, Val) and p.identity for p in params.items):
            raise Unsupported(node, "optimizes something other than a list of trainable tensors")
        lr = bound.pop("lr", None)
        if lr is None:
            lr = Num(spec.defaults["lr"], const(spec.defaults["lr"])) if "lr" in spec.defaults else None
        if not isinstance(lr, Num) or isinstance(lr.value, bool) or not lr.value > 0:
            raise Unsupported(node, "needs its learning rate written as a positive number")
        options = []
        for key, value in bound.items():
            if _same(pyconst_or(value), spec.defaults.get(key, object())):
                continue
            if key in ("amsgrad", "maximize", "foreach", "capturable", "differentiable", "fused"):
                raise Unsupported(node, f"uses {key}, which the lesson's {spec.lesson}() does not have")
            constant = pyconst(value, node)
            options.append((key, ast.unparse(as_ast(constant))))
        return Optimizer(spec.lesson, list(params.items), lr, tuple(options))

    def optimizer_method(self, opt: Optimizer, attr: str, args: list, node: ast.AST) -> Any:
        if attr == "zero_grad":
            for p in opt.params:
                self.grads[p.identity] = []
            return NoneVal()
        if attr != "step" or args:
            raise Unsupported(node)
        rate = self.to_val(opt.lr, node)
        for p in opt.params:
            losses = self.grads.get(p.identity) or []
            if not losses:
                continue
            if len(losses) > 1:
                raise Unsupported(node, "steps with gradients added up over several backward() calls; call "
                                  "zero_grad() between them")
            loss = losses[0]
            k = self.current_round.get(p.identity, 0)
            if loss.trained.get(p.identity, 0) != k:
                raise Unsupported(node, "steps with a gradient taken before an earlier update")
            config = self.make_config(loss, rate.text, float(opt.lr.value), opt.kind, opt.options, node)
            self.register_update(config, p.identity, node)
            self.current_round[p.identity] = k + 1
        opt.stepped += 1
        return NoneVal()


def _as_obj(value: Any) -> Any:
    if isinstance(value, bool):
        return Num(value, const(int(value)))
    if isinstance(value, (int, float)):
        return Num(value, const(value))
    if isinstance(value, tuple):
        return Seq([_as_obj(v) for v in value], "tuple")
    if isinstance(value, str):
        return Str(value)
    if value is None:
        return NoneVal()
    raise TypeError(value)


def _module_name(lesson: str) -> str:
    for key, spec in tn.MODULES.items():
        if spec.lesson == lesson:
            return key
    raise KeyError(lesson)


def pyconst_or(value: Any) -> Any:
    try:
        return pyconst(value, None)
    except Unsupported:
        return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (Val, Tensor, Module)):
        return False
    try:
        return type(a) is type(b) and a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                                 and not isinstance(a, bool) and not isinstance(b, bool) and a == b)
    except Exception:  # noqa: BLE001  comparing odd objects is never a match
        return False


def _arange(values: list) -> int | None:
    if len(values) == 1:
        start, end, step = 0, values[0], 1
    elif len(values) == 2:
        (start, end), step = values, 1
    elif len(values) == 3:
        start, end, step = values
    else:
        return None
    if step == 0:
        return None
    n = math.ceil((end - start) / step)
    return n if 0 < n <= 100_000 else None


def _layer_shape(lesson: str, x: Val, w: Val | None, kernel: ast.expr | None, keywords: dict) -> tuple | None:
    """The output shape of a layer in the exercise layout, when every size is a number written out."""
    if x.shape is None:
        return None

    def number(key: str, default: Any) -> Any:
        expr = keywords.get(key)
        if expr is None:
            return default
        try:
            return ast.literal_eval(expr)
        except (ValueError, TypeError, SyntaxError):
            return None

    spatial = len(x.shape)
    k: Any      # the kernel's size: the weight's shape, or the number or tuple written out
    if w is not None:
        if w.shape is None:
            return None
        k = w.shape
    else:
        try:
            k = ast.literal_eval(kernel) if kernel is not None else None
        except (ValueError, TypeError, SyntaxError):
            return None
    stride = number("stride", None if w is None else 1)
    padding, dilation = number("padding", 0), number("dilation", 1)
    if k is None or stride is None and w is not None:
        return None
    values = []
    for v in (k, stride if stride is not None else k, padding, dilation):
        if isinstance(v, int):
            v = (v,) * spatial
        if not isinstance(v, tuple) or len(v) != spatial or not all(isinstance(i, int) for i in v):
            return None
        values.append(v)
    ks, ss, ps, ds = values
    if lesson.startswith("conv_transpose"):
        return None
    out = tuple((n + 2 * p - d * (kk - 1) - 1) // s + 1 for n, kk, s, p, d in zip(x.shape, ks, ss, ps, ds, strict=True))
    return out if all(o > 0 for o in out) else None
