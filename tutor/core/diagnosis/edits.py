"""Edits of expression trees that reproduce common slips, and what they ask of a lesson's graph."""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Set
from typing import TypeGuard

CONVS = {"conv1d", "conv2d"}
POOLS = {"max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"}
MAX_POOLS = {"max_pool1d", "max_pool2d"}


def call(name: str, *args: ast.expr, **kw: ast.expr) -> ast.Call:
    return ast.Call(ast.Name(name, ast.Load()), list(args), [ast.keyword(k, v) for k, v in kw.items()])


def _kw(node: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in node.keywords if k.arg == name), None)


def _fname(node: ast.AST | None) -> str | None:
    return node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else None


def _calls(node: ast.AST | None, names: Set[str] | tuple[str, ...]) -> TypeGuard[ast.Call]:
    """Whether `node` is a call of one of `names` by name."""
    return _fname(node) in names


def _positional(node: ast.Call, index: int, keyword: str) -> ast.expr | None:
    k = _kw(node, keyword)
    return k.value if k else (node.args[index] if len(node.args) > index else None)


def _drop(node: ast.Call, index: int, keyword: str) -> None:
    node.keywords = [k for k in node.keywords if k.arg != keyword]
    if len(node.args) > index:
        node.args = node.args[:index]


def _is_zero_or_one(node: ast.expr | None, value: int) -> bool:
    return isinstance(node, ast.Constant) and node.value == value


def flip_kernel(node, lesson, target):
    if _fname(node) in CONVS and len(node.args) >= 2 and _fname(node.args[1]) != "_flip":
        node.args[1] = call("_flip", node.args[1])
        return node
    return None


def no_padding(node, lesson, target):
    name = _fname(node)
    if name in CONVS:
        index = 4
    elif name in POOLS:
        index = 3
    else:
        return None
    pad = _positional(node, index, "padding")
    if pad is None or _is_zero_or_one(pad, 0):
        return None
    _drop(node, index, "padding")
    return node


def conv_stride_one(node, lesson, target):
    if _fname(node) not in CONVS:
        return None
    stride = _kw(node, "stride")
    if stride is None or _is_zero_or_one(stride.value, 1):
        return None
    node.keywords = [k for k in node.keywords if k.arg != "stride"]
    return node


def pool_stride(node, lesson, target, to_kernel: bool):
    if _fname(node) not in POOLS:
        return None
    stride = _positional(node, 2, "stride")
    if to_kernel and stride is not None and not _same_node(stride, node.args[1] if len(node.args) > 1 else None):
        node.keywords = [k for k in node.keywords if k.arg != "stride"]
        node.args = node.args[:2] + ([ast.Constant(None)] if len(node.args) > 3 else []) + node.args[3:]
        if len(node.args) > 2 and isinstance(node.args[2], ast.Constant) and node.args[2].value is None:
            node.args[2] = copy.deepcopy(node.args[1])
        return node
    if not to_kernel and stride is None:
        node.keywords.append(ast.keyword("stride", ast.Constant(1)))
        return node
    return None


def _same_node(a, b) -> bool:
    return a is not None and b is not None and ast.dump(a) == ast.dump(b)


def dilation_changed(node, lesson, target, shift: int | None):
    if _fname(node) not in CONVS:
        return None
    k = _kw(node, "dilation")
    if k is None or _is_zero_or_one(k.value, 1):
        return None
    k.value = ast.Constant(1) if shift is None else ast.BinOp(k.value, ast.Add(), ast.Constant(shift))
    return node


OPTIMIZERS = {"sgd", "adam", "rmsprop"}


def update_sign(node, lesson, target):
    if target is None and isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) \
            and isinstance(node.left, ast.Name) and _mentions_grad(node.right):
        return ast.BinOp(node.left, ast.Add(), node.right)
    name = _fname(node)
    if target is None and name in OPTIMIZERS and len(node.args) >= 2:
        node.func = ast.Name("_ascent_" + name, ast.Load())  # steps up the gradient
        return node
    return None


def update_without_rate(node, lesson, target):
    if target is None and isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) \
            and isinstance(node.left, ast.Name) and isinstance(node.right, ast.BinOp) \
            and isinstance(node.right.op, ast.Mult):
        grad_side = [s for s in (node.right.left, node.right.right) if _mentions_grad(s)]
        if len(grad_side) == 1:
            return ast.BinOp(node.left, ast.Sub(), grad_side[0])
    if target is None and _fname(node) == "sgd" and len(node.args) >= 2 and not _is_zero_or_one(node.args[1], 1):
        node.args[1] = ast.Constant(1)
        return node
    return None


def _mentions_grad(node: ast.AST) -> bool:
    return any(_fname(n) == "grad" for n in ast.walk(node))


def mse_replaced(replacement: str):
    def edit(node, lesson, target):
        if _fname(node) == "mse_loss":
            node.func = ast.Name(replacement, ast.Load())
            return node
        return None

    return edit


def _loss_name(lesson) -> str | None:
    """The lesson's loss: [train].loss when it is a name, else the last graph line if it is a squared error."""
    if lesson.train is not None and isinstance(lesson.train.loss.tree, ast.Name):
        return lesson.train.loss.tree.id
    if lesson.graph and squared_error(lesson.graph[-1].expr.tree) is not None:
        return lesson.graph[-1].target
    return None


def _loss_tree(lesson) -> ast.AST | None:
    name = _loss_name(lesson)
    lines = [a for a in lesson.graph if a.target == name and a.op == "="]
    return lines[-1].expr.tree if lines else None


def squared_error(tree: ast.AST) -> str | None:
    """"plain" for (a - b) ** 2 (or its sum/mean), "half" for the same with a ½ in front, else None."""
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult):
        for half, rest in ((tree.left, tree.right), (tree.right, tree.left)):
            if _is_half(half) and squared_error(rest) == "plain":
                return "half"
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Div) and _is_const(tree.right, 2) \
            and squared_error(tree.left) == "plain":
        return "half"
    if _calls(tree, ("sum", "mean")) and len(tree.args) == 1:
        return squared_error(tree.args[0])
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Add):  # one squared error per output, summed
        left, right = squared_error(tree.left), squared_error(tree.right)
        return left if left == right else None
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Pow) and _is_const(tree.right, 2) \
            and isinstance(tree.left, ast.BinOp) and isinstance(tree.left.op, ast.Sub):
        return "plain"
    return None


def _is_const(node, value) -> bool:
    return isinstance(node, ast.Constant) and not isinstance(node.value, bool) and node.value == value


def _is_half(node) -> bool:
    if _is_const(node, 0.5):
        return True
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and _is_const(node.left, 1) \
        and _is_const(node.right, 2)


def _loss_kind(lesson) -> str | None:
    tree = _loss_tree(lesson)
    return squared_error(tree) if tree is not None else None


def half_loss(node, lesson, target):
    if target is not None and target == _loss_name(lesson) and _loss_kind(lesson) == "plain":
        return ast.BinOp(ast.Constant(0.5), ast.Mult(), node)
    return None


def drop_half(node, lesson, target):
    if target is None or target != _loss_name(lesson) or _loss_kind(lesson) != "half":
        return None
    return _without_half(node)


def _without_half(node):
    if not isinstance(node, ast.BinOp):
        return None  # the ½ sits inside a sum or mean: left alone
    if isinstance(node.op, ast.Add):
        left, right = _without_half(node.left), _without_half(node.right)
        return None if left is None or right is None else ast.BinOp(left, ast.Add(), right)
    if isinstance(node.op, ast.Div):
        return node.left
    return node.right if _is_half(node.left) else node.left


def swap_reduction(src: str, dst: str):
    def edit(node, lesson, target):
        if target is not None and target == _loss_name(lesson) and _fname(node) == src:
            node.func = ast.Name(dst, ast.Load())
            return node
        if src == "mean" and target is not None and _fname(node) == "cross_entropy" and len(node.args) == 2:
            node.func = ast.Name("_cross_entropy_sum", ast.Load())  # cross_entropy's mean over a batch
            return node
        return None

    return edit


REDUCTIONS = {"sum", "mean", "var", "std", "max", "min"}


def other_axis(node, lesson, target):
    """sum(x, dim=1) as sum(x, dim=0): a matrix reduced along the other axis."""
    name = _fname(node)
    if name not in REDUCTIONS or _positional(node, 1, "dim") is None:
        return None
    node.func = ast.Name("_other_axis_" + name, ast.Load())
    return node


def power_without_factor(node, lesson, target):
    """x ** n whose derivative forgets the factor n; not in the loss line, whose squared error has its own slips."""
    if target is not None and target == _loss_name(lesson) and _loss_kind(lesson) is not None:
        return None  # a squared-error loss's factor 2 is "the ½ factor" / "forgotten ½"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) \
            and isinstance(node.right.value, (int, float)) and not isinstance(node.right.value, bool) \
            and node.right.value > 1:
        return call("_power_no_factor", node.left, node.right)
    return None


def softmax_as_sigmoid(node, lesson, target):
    if _fname(node) == "softmax" and node.args:
        return call("sigmoid", node.args[0])
    return None


def lookup_overwritten(node, lesson, target):
    """C[X] whose gradient overwrites a row picked twice instead of adding."""
    if _looked_up(lesson, node):
        return call("_lookup_overwrite", node.value, node.slice)
    return None


def unbiased_norm(node, lesson, target):
    name = _fname(node)
    if name in NORMS:
        node.func = ast.Name("_unbiased_" + name, ast.Load())
        return node
    return None


def as_macs(node, lesson, target):
    if target is None and _fname(node) == "flops":  # root only: a count that is itself FLOPs
        return ast.BinOp(node, ast.Div(), ast.Constant(2))
    return None


def plain_flops(node, lesson, target):
    if target is None and isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and _fname(node.left) == "flops":
        return node.left
    return None


def bytes_as(kind: str):
    def edit(node, lesson, target):
        if target is not None or _fname(node) != "bytes":
            return None
        if kind == "bits":
            return ast.BinOp(node, ast.Mult(), ast.Constant(8))
        if kind == "elements":
            node.func = ast.Name("numel", ast.Load())
            return node
        node.func = ast.Name("_as_float64_bytes", ast.Load())
        return node

    return edit


# ---- where a slip can happen -----------------------------------------------------------------

def asks_derivative(lesson, ask) -> bool:
    return any(_fname(n) in ("grad", "jacobian") for n in ast.walk(ask))


def asks_forward_value(lesson, ask) -> bool:
    return not asks_derivative(lesson, ask)


def _differentiated(ask) -> set[str]:
    return {n.args[1].id for n in ast.walk(ask)
            if _calls(n, ("grad", "jacobian")) and len(n.args) == 2 and isinstance(n.args[1], ast.Name)}


def _conv_args(lesson, ask, index: int) -> set[str]:
    trees = [a.expr.tree for a in lesson.graph] + [ask]
    args = [n.args[index] for t in trees for n in ast.walk(t) if _calls(n, CONVS) and len(n.args) > index]
    return {arg.id for arg in args if isinstance(arg, ast.Name)}


def back_to_conv_input(lesson, ask) -> bool:
    return bool(_differentiated(ask) & _conv_args(lesson, ask, 0))


def back_to_kernel(lesson, ask) -> bool:
    return bool(_differentiated(ask) & _conv_args(lesson, ask, 1))


def call_swapped(names: set[str], prefix: str, guard: Callable[[ast.Call], bool] = lambda n: True):
    """An edit that swaps a call of one of `names` for `prefix + name` (a slip function)."""
    def edit(node, lesson, target):
        name = _fname(node)
        if name in names and guard(node):
            node.func = ast.Name(prefix + name, ast.Load())
            return node
        return None

    return edit


def is_padded(node: ast.Call) -> bool:
    pad = _positional(node, 4, "padding")
    return pad is not None and not _is_zero_or_one(pad, 0)


def hom_dropped(node, lesson, target):
    return node.args[0] if _fname(node) == "hom" and len(node.args) == 1 else None


def one_step(optimizers: set[str]):
    def edit(node, lesson, target):
        return one_sgd_step(node, lesson, target, optimizers)

    return edit


def one_sgd_step(node, lesson, target, optimizers: frozenset[str] | set[str] = frozenset({"sgd"})):
    if target is not None or _fname(node) not in optimizers:
        return None
    steps = _positional(node, 2, "steps")
    if steps is None or _is_zero_or_one(steps, 1) or _is_zero_or_one(steps, 0):
        return None
    _drop(node, 2, "steps")
    return node


# ---- parameter counts: which tensor each term counts, and its role ----------------------------------

NORMS = {"layer_norm", "batch_norm"}
_NORM_NAME = re.compile(r"^(ln|bn|norm)|gain|gamma|beta|_ln|norm", re.IGNORECASE)
_BIAS_NAME = re.compile(r"^b(\d|_|$)|bias|_b$", re.IGNORECASE)


def tensor_name(node: ast.AST) -> str | None:
    """The tensor a `numel(...)` term counts: numel(W) and numel(W[0]) count W (one slice of a stacked W)."""
    if not _calls(node, {"numel"}) or len(node.args) != 1:
        return None
    arg = node.args[0]
    while isinstance(arg, ast.Subscript):
        arg = arg.value
    return arg.id if isinstance(arg, ast.Name) else None


def count_terms(tree: ast.expr) -> list[ast.expr]:
    """The terms of a sum: numel(C) + numel(W1) + numel(b1) gives its three numel calls."""
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Add):
        return count_terms(tree.left) + count_terms(tree.right)
    return [tree]


def _base(node: ast.AST | None) -> str | None:
    while isinstance(node, ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def parameter_roles(lesson) -> dict[str, str]:
    """"norm" for a normalization's gain and bias, "bias" for a layer's additive bias, read from how the graph
    uses each tensor (layer_norm's weight, linear's bias, the b of x @ W + b), else from its name (bngain,
    ln1_w, b_proj, lnf_b)."""
    roles: dict[str, str] = {}
    for a in lesson.graph:
        for n in ast.walk(a.expr.tree):
            if _calls(n, NORMS):
                for arg in [*(n.args[2:4] if _fname(n) == "layer_norm" else []),
                            *(k.value for k in n.keywords if k.arg in ("weight", "bias"))]:
                    base = _base(arg)
                    if base:
                        roles[base] = "norm"
            elif _calls(n, CONVS | {"linear"}):
                base = _base(_positional(n, 2, "bias"))
                if base:
                    roles.setdefault(base, "bias")
            elif isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
                for this, other in ((n.left, n.right), (n.right, n.left)):
                    base = _base(this)
                    if base and any(isinstance(m, ast.BinOp) and isinstance(m.op, ast.MatMult)
                                    for m in ast.walk(other)):
                        roles.setdefault(base, "bias")
    for name in [*lesson.given, *lesson.graph_names]:
        if name not in roles:
            if _NORM_NAME.search(name):
                roles[name] = "norm"
            elif _BIAS_NAME.search(name):
                roles[name] = "bias"
    return roles


LAYERS = CONVS | POOLS | NORMS | {"linear"}


def _looked_up(lesson, tree: ast.AST) -> bool:
    """C[X] with X a given tensor of indices: an embedding lookup, whose first sizes are X's (a batch)."""
    if not (isinstance(tree, ast.Subscript) and isinstance(tree.value, ast.Name) and isinstance(tree.slice, ast.Name)):
        return False
    raw = lesson.given.get(tree.slice.id)
    return raw is not None and not isinstance(raw, (int, float))


def batched(lesson, tree: ast.AST) -> bool:
    """Whether `tree` is a batch of data: a layer's input or output (its first size is the batch), an
    embedding lookup, or a reshape or product of one; never a weight (whose first size is the output
    channels or features)."""
    if _fname(tree) in LAYERS or _looked_up(lesson, tree):
        return True
    if not isinstance(tree, ast.Name):
        return False
    for a in lesson.graph:
        if a.target == tree.id and (_fname(a.expr.tree) in LAYERS or _looked_up(lesson, a.expr.tree)):
            return True
        for n in ast.walk(a.expr.tree):
            if _calls(n, LAYERS) and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == tree.id:
                return True
    return False


def numel_per_sample(node, lesson, target):
    if target is None and _fname(node) == "numel" and len(node.args) == 1 and batched(lesson, node.args[0]):
        node.func = ast.Name("_numel_without_batch", ast.Load())
        return node
    return None


def variance_correction(to: int):
    """var/std with the other correction: the biased (divide by n) or unbiased (divide by n − 1) estimate."""
    def edit(node, lesson, target):
        if _fname(node) not in ("var", "std"):
            return None
        k = _kw(node, "correction")
        now = k.value if k is not None else ast.Constant(1)
        if not _is_zero_or_one(now, 1 - to):
            return None
        node.keywords = [kw for kw in node.keywords if kw.arg != "correction"] + [
            ast.keyword("correction", ast.Constant(to))]
        return node

    return edit


def _layer_weights_without_bias(lesson) -> set[str]:
    """Weights of conv and linear calls that have no bias argument."""
    found = set()
    for a in lesson.graph:
        for n in ast.walk(a.expr.tree):
            if (_calls(n, CONVS | {"linear"}) and 2 <= len(n.args) < 3 and isinstance(n.args[1], ast.Name)
                    and _kw(n, "bias") is None):
                found.add(n.args[1].id)
    return found


def bias_counted(node, lesson, target):
    if target is None and _fname(node) == "numel" and len(node.args) == 1 and isinstance(node.args[0], ast.Name) \
            and node.args[0].id in _layer_weights_without_bias(lesson):
        node.func = ast.Name("_numel_with_bias", ast.Load())
        return node
    return None


def windows_overlap(node: ast.Call) -> bool:
    stride = _positional(node, 2, "stride")
    kernel = node.args[1] if len(node.args) > 1 else None
    return stride is not None and not _same_node(stride, kernel)



def rename_call(node, name: str, to: str):
    if _fname(node) == name:
        node.func = ast.Name(to, ast.Load())
        return node
    return None


def cross_entropy_inputs(lesson) -> list[tuple[str, ast.expr | None]]:
    """(logits name, target) for every cross_entropy(z, t) whose logits are a plain name (target None
    when the call has no second argument)."""
    found: list[tuple[str, ast.expr | None]] = []
    for a in lesson.graph:
        for node in ast.walk(a.expr.tree):
            if _calls(node, {"cross_entropy"}) and node.args and isinstance(node.args[0], ast.Name):
                found.append((node.args[0].id, node.args[1] if len(node.args) > 1 else None))
    return found


def softmax_of(lesson, tree: ast.AST) -> list[tuple[str, str]]:
    """(logits, probabilities) when the ask is softmax(z) or a graph name bound to softmax(z)."""
    node: ast.AST | None = tree
    name = None
    if isinstance(tree, ast.Name):
        name = tree.id
        lines = [a for a in lesson.graph if a.target == name]
        node = lines[-1].expr.tree if lines else None
    if _calls(node, {"softmax"}) and node.args and isinstance(node.args[0], ast.Name):
        return [(node.args[0].id, name or "p")]
    return []


def softmaxes(lesson, logits: str) -> list[tuple[str, str]]:
    """(name, logits) for every graph line `name = softmax(logits)`."""
    return [(a.target, logits) for a in lesson.graph
            if _fname(a.expr.tree) == "softmax" and a.expr.tree.args
            and isinstance(a.expr.tree.args[0], ast.Name) and a.expr.tree.args[0].id == logits]
