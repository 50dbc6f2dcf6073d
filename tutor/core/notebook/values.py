"""What a notebook's names hold while it is read: values written in the lesson language, and the rest.

A tensor or number the lesson can compute is a `Val`: an expression of the lesson language over the
lesson's own names, with what is needed to tell whether PyTorch would give the notebook's value
(which trainable tensors it depends on and after how many updates, leading size-1 dimensions the
lesson leaves out). Everything else the code handles (layers, optimizers, functions, lists, strings)
has a small class of its own; what cannot be followed is `Unknown`, naming where it was left out.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import Any


class Unsupported(Exception):
    """A piece of code the lesson language cannot express: `node` is the part, `reason` says why."""

    def __init__(self, node: ast.AST | None, reason: str = "is not part of the lesson language"):
        super().__init__(reason)
        self.node = node
        self.reason = reason


@dataclass(frozen=True)
class Config:
    """How trained values were updated: the loss differentiated, the rate, and the optimizer's rule."""

    loss: str                      # a graph name
    lr: str                        # the rate as the lesson writes it ("alpha", "0.5")
    lr_value: float
    rule: str = "sgd"              # "sgd" | "adam"
    options: tuple[tuple[str, str], ...] = ()   # momentum=..., betas=..., as the language writes them


@dataclass(frozen=True)
class Val:
    """A tensor or number the lesson computes, written in the lesson language."""

    expr: ast.expr
    ask_only: bool = False                       # holds grad(): only a step's ask may use it
    leaves: frozenset = frozenset()              # (given, trainable identity or None) it depends on
    trained: dict = field(default_factory=dict)  # trainable identity -> updates applied to it
    lead: int = 0                                # leading size-1 dims the notebook has and the lesson drops
    shape: tuple | None = None                   # the lesson's shape, when known
    given: str | None = None                     # exactly this given
    node: str | None = None                      # exactly this graph line's name
    identity: str | None = None                  # a trainable tensor itself (a leaf PyTorch fills .grad of)
    cut: frozenset = frozenset()                 # identities whose gradient a .detach() or no_grad cut off
    config: Config | None = None                 # how its updated tensors were updated
    integer: bool = False                        # a whole number (an index, a count)
    live: bool = False                           # the trainable tensor object itself: updates in place show
    grad_of: tuple | None = None                 # exactly grad(loss, identity) at round k: (loss, identity, k)
    step: tuple | None = None                    # rate × a grad_of: (grad_of, rate text, rate value)

    @property
    def text(self) -> str:
        return ast.unparse(self.expr)

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    @property
    def requires_grad(self) -> bool:
        return bool(self.trained)

    def plain(self, expr: ast.expr, **changes: Any) -> Val:
        """A new value computed from this one alone: no longer exactly a given, a node or a leaf."""
        return replace(self, expr=expr, given=None, node=None, identity=None, live=False, grad_of=None,
                       step=None, **changes)


@dataclass(frozen=True)
class Num:
    """A Python number (`alpha = 0.5`, `torch.pi / 2`): `expr` has no names; `given` once a name holds it."""

    value: float | int | bool
    expr: ast.expr
    given: str | None = None


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class NoneVal:
    pass


@dataclass(frozen=True)
class Dtype:
    name: str          # "float32" | "float64" | "int64" | ...


@dataclass(frozen=True)
class Namespace:
    """A module of names the translator knows (`torch`, `torch.nn.functional`, `math`)."""

    path: str


@dataclass(frozen=True)
class Unknown:
    """A value the lesson does not have: `origin` says where it was left out ("cell 3, line 2")."""

    origin: str
    name: str = ""


@dataclass
class Seq:
    """A Python list or tuple; `names` for a named tuple such as torch.max's (values, indices)."""

    items: list
    kind: str = "list"
    names: tuple[str, ...] = ()


@dataclass
class Tensor:
    """A tensor written out in numbers (`torch.tensor([[1, 2], [3, 4]])`): a given once a name holds it."""

    data: Any                       # nested lists of numbers and expression strings, or an expression string
    shape: tuple[int, ...]
    dtype: str | None               # "float32", "float64", "int64", or None for PyTorch's default
    requires_grad: bool = False
    count: int = 0                  # how many numbers it holds


@dataclass
class Shape:
    """`x.shape` or `x.size()`: the lesson asks it as shape(x)."""

    of: Val
    index: int | None = None


@dataclass
class Module:
    """A layer object (`torch.nn.Conv2d(...)`), an activation, a loss, or a container of them."""

    kind: str
    options: dict
    params: dict = field(default_factory=dict)      # "weight"/"bias" -> Val, None (random) or False (none)
    children: list = field(default_factory=list)    # nn.Sequential's layers
    name: str = ""


@dataclass
class Optimizer:
    kind: str                       # "sgd" | "adam"
    params: list                    # Vals that are trainable tensors
    lr: Any
    options: tuple = ()
    name: str = ""
    stepped: int = 0


@dataclass
class Function:
    node: ast.FunctionDef
    cell: Any


@dataclass
class Method:
    """`obj.name` before it is called."""

    of: Any
    name: str


def const(value: float | int) -> ast.expr:
    """A number as the language writes it (a negative one as unary minus)."""
    if isinstance(value, bool):
        value = int(value)
    if value < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


def name(identifier: str) -> ast.Name:
    return ast.Name(identifier, ast.Load())


def call(function: str, *args: ast.expr, **keywords: ast.expr) -> ast.Call:
    return ast.Call(name(function), list(args), [ast.keyword(k, v) for k, v in keywords.items()])


def literal(value: Any) -> ast.expr:
    """A Python value (number, tuple or list of them) as a language literal."""
    if isinstance(value, (tuple, list)):
        items = [literal(v) for v in value]
        return ast.Tuple(items, ast.Load()) if isinstance(value, tuple) else ast.List(items, ast.Load())
    return const(value)


def merge(vals: list[Val], node: ast.AST | None = None) -> dict:
    """What a value computed from `vals` depends on; refused when it mixes a tensor before and after an update."""
    trained: dict = {}
    config = None
    for v in vals:
        for identity, rounds in v.trained.items():
            if trained.setdefault(identity, rounds) != rounds:
                raise Unsupported(node, "mixes a tensor before and after its update; the lesson cannot "
                                        "hold both")
        if v.config is not None:
            if config is not None and config != v.config:
                raise Unsupported(node, "mixes two different updates; the lesson trains with one")
            config = v.config
    return dict(
        ask_only=any(v.ask_only for v in vals),
        leaves=frozenset().union(*(v.leaves for v in vals)),
        trained=trained,
        cut=frozenset().union(*(v.cut for v in vals)),
        config=config,
    )


def broadcast(a: tuple | None, b: tuple | None) -> tuple | None:
    if a is None or b is None:
        return None
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y) if 1 in (x, y) else x)
    return tuple(reversed(out))


def numel(shape: tuple) -> int:
    n = 1
    for s in shape:
        n *= s
    return n
