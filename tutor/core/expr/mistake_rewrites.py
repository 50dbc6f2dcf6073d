"""Rewrites of a lesson's expressions that reproduce common mistakes (flipped kernel, wrong sign...)."""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Callable

import torch

from tutor.core.expr.compile import Compiler
from tutor.core.expr.functions import plain, tensor
from tutor.core.expr.slip_functions import ACTIVATIONS, SLIP_FUNCTIONS
from tutor.core.expr.special import ALL_FUNCTIONS

CONVS = {"conv1d", "conv2d"}
POOLS = {"max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"}


def _flip(s, w):
    t = tensor(s, w)
    spatial = 2 if t.dim() in (2, 4) else 1
    return torch.flip(t, dims=list(range(t.dim() - spatial, t.dim())))


def _mse_sum(s, a, b):
    a, b = tensor(s, a), tensor(s, b)
    return torch.sum((a - b.expand_as(a)) ** 2)


def _mse_half(s, a, b):
    a, b = tensor(s, a), tensor(s, b)
    return 0.5 * torch.mean((a - b.expand_as(a)) ** 2)


_EXTRA = {"_flip": plain(_flip), "_mse_sum": plain(_mse_sum, 2, 2), "_mse_half": plain(_mse_half, 2, 2),
          "_as_float64_bytes": plain(lambda s, x: int(tensor(s, x).numel() * 8))}


_COMPILER: Compiler | None = None


def compiler() -> Compiler:
    """The language's compiler, plus the functions that compute slips (built once)."""
    global _COMPILER
    if _COMPILER is None:
        _COMPILER = Compiler({**ALL_FUNCTIONS, **_EXTRA, **SLIP_FUNCTIONS})
    return _COMPILER


def call(name: str, *args: ast.expr, **kw: ast.expr) -> ast.Call:
    return ast.Call(ast.Name(name, ast.Load()), list(args), [ast.keyword(k, v) for k, v in kw.items()])


def _kw(node: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in node.keywords if k.arg == name), None)


def _fname(node: ast.AST) -> str | None:
    return node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else None


def _positional(node: ast.Call, index: int, keyword: str) -> ast.expr | None:
    k = _kw(node, keyword)
    return k.value if k else (node.args[index] if len(node.args) > index else None)


def _drop(node: ast.Call, index: int, keyword: str) -> None:
    node.keywords = [k for k in node.keywords if k.arg != keyword]
    if len(node.args) > index:
        node.args = node.args[:index]


def _is_zero_or_one(node: ast.expr | None, value: int) -> bool:
    return isinstance(node, ast.Constant) and node.value == value


def copy_tree(node):
    """A deep copy of an expression tree (much faster than copy.deepcopy, which is generic)."""
    if isinstance(node, list):
        return [copy_tree(n) for n in node]
    if not isinstance(node, ast.AST):
        return node
    new = node.__class__()
    for name in node._fields:
        if hasattr(node, name):
            setattr(new, name, copy_tree(getattr(node, name)))
    for name in node._attributes:
        if hasattr(node, name):
            setattr(new, name, getattr(node, name))
    return new


@dataclass(frozen=True)
class Rewrite:
    """A mistake as a change to a call: `edit` returns the replacement node, or None if it does not apply."""

    name: str
    say: str
    edit: Callable[[ast.AST, object, str | None], ast.AST | None]
    root_only: bool = False  # the edit applies to a whole line or ask, not to calls inside it
    applies: Callable[[object, ast.AST], bool] = lambda lesson, ask: True  # may this step make the slip?

    def apply(self, tree: ast.AST, lesson, target: str | None) -> ast.AST | None:
        """A rewritten copy of `tree`, or None when the mistake cannot occur in it."""
        tree = copy_tree(tree)
        if self.root_only:
            new = self.edit(tree, lesson, target)
            return None if new is None else ast.fix_missing_locations(new)
        changed = False

        class Edit(ast.NodeTransformer):
            def visit(self, node):
                nonlocal changed
                node = self.generic_visit(node)
                new = outer.edit(node, lesson, target)
                if new is not None:
                    changed = True
                    return ast.copy_location(new, node) if hasattr(node, "lineno") else new
                return node

        outer = self
        tree = Edit().visit(tree)
        return ast.fix_missing_locations(tree) if changed else None


def _flip_kernel(node, lesson, target):
    if _fname(node) in CONVS and len(node.args) >= 2 and _fname(node.args[1]) != "_flip":
        node.args[1] = call("_flip", node.args[1])
        return node
    return None


def _no_padding(node, lesson, target):
    name = _fname(node)
    index = {**{c: 4 for c in CONVS}, **{p: 3 for p in POOLS}}.get(name)
    if index is None:
        return None
    pad = _positional(node, index, "padding")
    if pad is None or _is_zero_or_one(pad, 0):
        return None
    _drop(node, index, "padding")
    return node


def _conv_stride_one(node, lesson, target):
    if _fname(node) not in CONVS:
        return None
    stride = _kw(node, "stride")
    if stride is None or _is_zero_or_one(stride.value, 1):
        return None
    node.keywords = [k for k in node.keywords if k.arg != "stride"]
    return node


def _pool_stride(node, lesson, target, to_kernel: bool):
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


def _dilation(node, lesson, target, shift: int | None):
    if _fname(node) not in CONVS:
        return None
    k = _kw(node, "dilation")
    if k is None or _is_zero_or_one(k.value, 1):
        return None
    k.value = ast.Constant(1) if shift is None else ast.BinOp(k.value, ast.Add(), ast.Constant(shift))
    return node


def _update_sign(node, lesson, target):
    if target is None and isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) \
            and isinstance(node.left, ast.Name) and _mentions_grad(node.right):
        return ast.BinOp(node.left, ast.Add(), node.right)
    if target is None and _fname(node) == "sgd" and len(node.args) >= 2:
        node.args[1] = ast.UnaryOp(ast.USub(), node.args[1])
        return node
    return None


def _update_without_rate(node, lesson, target):
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


def _mse(replacement: str):
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
    if _fname(tree) in ("sum", "mean") and len(tree.args) == 1:
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


def _half_loss(node, lesson, target):
    if target is not None and target == _loss_name(lesson) and _loss_kind(lesson) == "plain":
        return ast.BinOp(ast.Constant(0.5), ast.Mult(), node)
    return None


def _drop_half(node, lesson, target):
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


def _swap_reduction(src: str, dst: str):
    def edit(node, lesson, target):
        if target is not None and target == _loss_name(lesson) and _fname(node) == src:
            node.func = ast.Name(dst, ast.Load())
            return node
        return None

    return edit


def _macs(node, lesson, target):
    if target is None and _fname(node) == "flops":  # root only: a count that is itself FLOPs
        return ast.BinOp(node, ast.Div(), ast.Constant(2))
    return None


def _plain_flops(node, lesson, target):
    if target is None and isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and _fname(node.left) == "flops":
        return node.left
    return None


def _bytes_as(kind: str):
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

def _derivative(lesson, ask) -> bool:
    return any(_fname(n) in ("grad", "jacobian") for n in ast.walk(ask))


def _forward(lesson, ask) -> bool:
    return not _derivative(lesson, ask)


def _differentiated(ask) -> set[str]:
    return {n.args[1].id for n in ast.walk(ask)
            if _fname(n) in ("grad", "jacobian") and len(n.args) == 2 and isinstance(n.args[1], ast.Name)}


def _conv_args(lesson, ask, index: int) -> set[str]:
    trees = [a.expr.tree for a in lesson.graph] + [ask]
    return {n.args[index].id for t in trees for n in ast.walk(t)
            if _fname(n) in CONVS and len(n.args) > index and isinstance(n.args[index], ast.Name)}


def _back_to_conv_input(lesson, ask) -> bool:
    return bool(_differentiated(ask) & _conv_args(lesson, ask, 0))


def _back_to_kernel(lesson, ask) -> bool:
    return bool(_differentiated(ask) & _conv_args(lesson, ask, 1))


def _renamed(names: set[str], prefix: str, guard: Callable[[ast.Call], bool] = lambda n: True):
    """An edit that swaps a call of one of `names` for `prefix + name` (a slip function)."""
    def edit(node, lesson, target):
        name = _fname(node)
        if name in names and guard(node):
            node.func = ast.Name(prefix + name, ast.Load())
            return node
        return None

    return edit


def _padded(node: ast.Call) -> bool:
    pad = _positional(node, 4, "padding")
    return pad is not None and not _is_zero_or_one(pad, 0)


def _hom_dropped(node, lesson, target):
    return node.args[0] if _fname(node) == "hom" and len(node.args) == 1 else None


def _one_sgd_step(node, lesson, target):
    if target is not None or _fname(node) != "sgd":
        return None
    steps = _positional(node, 2, "steps")
    if steps is None or _is_zero_or_one(steps, 1) or _is_zero_or_one(steps, 0):
        return None
    _drop(node, 2, "steps")
    return node


def _bias_term(node) -> bool:
    return _fname(node) == "numel" and len(node.args) == 1 and isinstance(node.args[0], ast.Name) \
        and node.args[0].id.lower().startswith("b") and not node.args[0].id.lower().startswith("batch")


def _biases_left_out(node, lesson, target):
    if target is None and isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        if _bias_term(node.right):
            return node.left
        if _bias_term(node.left):
            return node.right
    return None


def _numel_per_sample(node, lesson, target):
    if target is None and _fname(node) == "numel" and len(node.args) == 1:
        node.func = ast.Name("_numel_without_batch", ast.Load())
        return node
    return None


def _correction(to: int):
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
            name = _fname(n)
            if name in CONVS | {"linear"} and len(n.args) >= 2 and isinstance(n.args[1], ast.Name):
                if len(n.args) < 3 and _kw(n, "bias") is None:
                    found.add(n.args[1].id)
    return found


def _bias_counted(node, lesson, target):
    if target is None and _fname(node) == "numel" and len(node.args) == 1 and isinstance(node.args[0], ast.Name) \
            and node.args[0].id in _layer_weights_without_bias(lesson):
        node.func = ast.Name("_numel_with_bias", ast.Load())
        return node
    return None


def _overlapping(node: ast.Call) -> bool:
    stride = _positional(node, 2, "stride")
    kernel = node.args[1] if len(node.args) > 1 else None
    return stride is not None and not _same_node(stride, kernel)


MAX_POOLS = {"max_pool1d", "max_pool2d"}
_NAMED_ACTIVATION = {"sigmoid": ("σ′", "σ′(z) = σ(z)(1 − σ(z))"), "tanh": ("tanh′", "tanh′(z) = 1 − tanh²(z)"),
                     "relu": ("ReLU′", "ReLU′(z): 1 where z > 0, else 0"), "sin": ("sin′", "sin′(z) = cos(z)"),
                     "cos": ("cos′", "cos′(z) = −sin(z)"), "exp": ("exp′", "exp′(z) = exp(z)")}


def _activation_rewrites() -> list[Rewrite]:
    out = []
    for name in ACTIVATIONS:
        short, rule = _NAMED_ACTIVATION[name]
        out.append(Rewrite(f"forgotten {short} (the {name} derivative)",
                           f"The chain rule passes through {name}: multiply by its derivative, {rule}.",
                           _renamed({name}, "_no_d_"), applies=_derivative))
    return out


REWRITES: list[Rewrite] = [
    Rewrite("update with the wrong sign", "Gradient descent steps against the gradient: w − α·∇L, not w + α·∇L.",
            _update_sign),
    Rewrite("update without the learning rate", "The step is scaled by the learning rate: w − α·∇L.",
            _update_without_rate),
    Rewrite("one SGD step instead of several",
            "Repeat the update as many times as asked, recomputing the gradient at the new weights each time.",
            _one_sgd_step),
    Rewrite("true convolution (flipped kernel)",
            "You flipped the kernel (true convolution). PyTorch's conv computes cross-correlation: "
            "slide the kernel as written.", _flip_kernel, applies=_forward),
    Rewrite("kernel not flipped in the backward pass",
            "The gradient with respect to a convolution's input slides the flipped kernel over the upstream "
            "gradient (a full convolution); yours used the kernel as written.",
            _renamed(CONVS, "_unflipped_back_"), applies=_back_to_conv_input),
    Rewrite("kernel gradient reversed",
            "The gradient with respect to the kernel is laid out like the kernel: tap j pairs with the inputs "
            "that tap j touched. Yours is in reverse order.",
            _renamed(CONVS, "_unflipped_back_"), applies=_back_to_kernel),
    Rewrite("padding ignored", "Pad the input with zeros on every side first, as the step states.", _no_padding),
    Rewrite("padding on one side only", "Padding p adds p zeros at each end of every spatial axis, not just one.",
            _renamed(CONVS, "_one_side_", _padded)),
    Rewrite("output size rounded up",
            "A window that runs past the (padded) edge is dropped: the output size rounds down (floor).",
            _renamed(CONVS | MAX_POOLS, "_ceil_")),
    Rewrite("the +1 left out of the output size",
            "The output size is ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1: the first window counts too.",
            _renamed(CONVS | POOLS, "_no_plus_one_")),
    Rewrite("stride ignored", "Move the kernel by the stride, not one position at a time.", _conv_stride_one),
    Rewrite("pooling stride taken as the kernel size",
            "PyTorch's pooling defaults to stride = kernel size, but this step states its own stride.",
            lambda n, l, t: _pool_stride(n, l, t, to_kernel=True)),
    Rewrite("pooling with stride 1",
            "The pooling window moves by the kernel size here (PyTorch's default stride), not by 1.",
            lambda n, l, t: _pool_stride(n, l, t, to_kernel=False)),
    Rewrite("average instead of max pooling", "Max-pooling keeps the largest entry of each window, not the average.",
            _renamed(MAX_POOLS, "_avg_for_")),
    Rewrite("gradient sent to an entry that lost the max",
            "A max passes the gradient only to the entry that won (the largest in its window).",
            _renamed(MAX_POOLS, "_min_route_"), applies=_derivative),
    Rewrite("overlapping windows not accumulated",
            "Where pooling windows overlap, an entry that wins several windows collects the gradient of each: "
            "add them up.", _renamed(MAX_POOLS, "_not_accumulated_", _overlapping), applies=_derivative),
    Rewrite("dilation ignored", "Dilation d spreads the kernel taps d apart (d − 1 zeros between them).",
            lambda n, l, t: _dilation(n, l, t, None)),
    Rewrite("dilation misread (off by one)",
            "Dilation d puts the taps d apart, i.e. d − 1 gaps between them, not d.",
            lambda n, l, t: _dilation(n, l, t, 1)),
    *_activation_rewrites(),
    Rewrite("softmax over the wrong axis", "Softmax normalises along the other axis here: check which entries "
            "should sum to 1.", lambda n, l, t: _rename_call(n, "softmax", "_softmax_other_axis")),
    Rewrite("the homogeneous 1 left out", "hom(x) appends a 1 to x: it has one more entry than x.", _hom_dropped),
    Rewrite("MSE summed instead of averaged", "PyTorch's mse_loss takes the mean over entries, not the sum.",
            _mse("_mse_sum")),
    Rewrite("an extra ½ in the MSE", "This loss has no ½ factor: it is the plain mean of squared errors.",
            _mse("_mse_half")),
    Rewrite("the ½ factor", "This loss is a squared error with no ½ in front: its derivative keeps the factor 2.",
            _half_loss, root_only=True),
    Rewrite("forgotten ½", "This loss has a ½ in front: it cancels the 2 from the square's derivative.",
            _drop_half, root_only=True),
    Rewrite("forgotten 1/N of the mean", "The loss averages (mean): divide the sum by the number of entries.",
            _swap_reduction("mean", "sum")),
    Rewrite("mean instead of sum", "The loss sums, it does not average.", _swap_reduction("sum", "mean")),
    Rewrite("biases left out of the count", "Biases are learnable parameters too: count them with the weights.",
            _biases_left_out),
    Rewrite("bias counted", "This layer has no bias: count the weights only.", _bias_counted),
    Rewrite("biased variance (divided by n)",
            "This variance is the unbiased one, PyTorch's default: divide by n − 1, not n.", _correction(0)),
    Rewrite("unbiased variance (divided by n − 1)",
            "This variance is the biased one (correction=0): divide by n, not n − 1.", _correction(1)),
    Rewrite("batch dimension left out", "The count covers the whole batch: every sample has its own outputs.",
            _numel_per_sample),
    Rewrite("multiply-accumulates instead of FLOPs",
            "That counts multiply-accumulates (MACs); a MAC is 2 FLOPs (a multiply and an add).", _macs,
            root_only=True),
    Rewrite("PyTorch's FLOP count instead of this convention",
            "That is PyTorch's count, 2 per multiply-add; summing k products takes only k − 1 additions.",
            _plain_flops),
    Rewrite("bits instead of bytes", "That is in bits; a byte is 8 bits.", _bytes_as("bits")),
    Rewrite("elements instead of bytes", "That counts numbers; multiply by the bytes per number.",
            _bytes_as("elements")),
    Rewrite("float64 instead of float32", "float32 takes 4 bytes per number, not 8.", _bytes_as("float64")),
]


def _rename_call(node, name: str, to: str):
    if _fname(node) == name:
        node.func = ast.Name(to, ast.Load())
        return node
    return None


def cross_entropy_inputs(lesson) -> list[tuple[str, ast.expr]]:
    """(logits name, target) for every cross_entropy(z, t) whose logits are a plain name."""
    found = []
    for a in lesson.graph:
        for node in ast.walk(a.expr.tree):
            if _fname(node) == "cross_entropy" and node.args and isinstance(node.args[0], ast.Name):
                found.append((node.args[0].id, node.args[1] if len(node.args) > 1 else None))
    return found


def softmax_of(lesson, tree: ast.AST) -> list[tuple[str, str]]:
    """(logits, probabilities) when the ask is softmax(z) or a graph name bound to softmax(z)."""
    node = tree
    name = None
    if isinstance(tree, ast.Name):
        name = tree.id
        lines = [a for a in lesson.graph if a.target == name]
        node = lines[-1].expr.tree if lines else None
    if _fname(node) == "softmax" and node.args and isinstance(node.args[0], ast.Name):
        return [(node.args[0].id, name or "p")]
    return []


def softmaxes(lesson, logits: str) -> list[tuple[str, str]]:
    """(name, logits) for every graph line `name = softmax(logits)`."""
    return [(a.target, logits) for a in lesson.graph
            if _fname(a.expr.tree) == "softmax" and a.expr.tree.args
            and isinstance(a.expr.tree.args[0], ast.Name) and a.expr.tree.args[0].id == logits]
