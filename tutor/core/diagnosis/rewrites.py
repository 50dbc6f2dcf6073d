"""Rewrites of a lesson's expressions that reproduce common mistakes (flipped kernel, wrong sign...)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

import torch

from tutor.core.diagnosis.edits import (
    CONVS,
    MAX_POOLS,
    POOLS,
    as_macs,
    asks_derivative,
    asks_forward_value,
    back_to_conv_input,
    back_to_kernel,
    bias_counted,
    bytes_as,
    call_swapped,
    conv_stride_one,
    dilation_changed,
    drop_half,
    flip_kernel,
    half_loss,
    hom_dropped,
    is_padded,
    lookup_overwritten,
    mse_replaced,
    no_padding,
    numel_per_sample,
    one_sgd_step,
    one_step,
    other_axis,
    plain_flops,
    pool_stride,
    power_without_factor,
    rename_call,
    softmax_as_sigmoid,
    swap_reduction,
    unbiased_norm,
    update_sign,
    update_without_rate,
    variance_correction,
    windows_overlap,
)
from tutor.core.diagnosis.slips import ACTIVATIONS, SLIP_FUNCTIONS
from tutor.core.expr.compile import Compiler
from tutor.core.expr.functions import plain, tensor
from tutor.core.expr.special import ALL_FUNCTIONS, ASCENT_FUNCTIONS


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
        _COMPILER = Compiler({**ALL_FUNCTIONS, **ASCENT_FUNCTIONS, **_EXTRA, **SLIP_FUNCTIONS})
    return _COMPILER


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


_NAMED_ACTIVATION = {"sigmoid": ("σ′", "σ′(z) = σ(z)(1 − σ(z))"), "tanh": ("tanh′", "tanh′(z) = 1 − tanh²(z)"),
                     "relu": ("ReLU′", "ReLU′(z): 1 where z > 0, else 0"), "sin": ("sin′", "sin′(z) = cos(z)"),
                     "cos": ("cos′", "cos′(z) = −sin(z)"), "exp": ("exp′", "exp′(z) = exp(z)"),
                     "log": ("log′", "log′(z) = 1/z"), "sqrt": ("sqrt′", "sqrt′(z) = 1/(2 sqrt(z))"),
                     "leaky_relu": ("leaky ReLU′", "1 where z > 0, else the negative slope"),
                     "elu": ("ELU′", "1 where z > 0, else alpha · exp(z)"),
                     "gelu": ("GELU′", "GELU′(z) = Φ(z) + z φ(z)"),
                     "softplus": ("softplus′", "softplus′(z) = σ(z)"),
                     "softmax": ("softmax′", "the softmax Jacobian, diag(p) − p pᵀ"),
                     "log_softmax": ("log_softmax′", "the Jacobian of log softmax, I − 1 pᵀ")}


def _activation_rewrites() -> list[Rewrite]:
    out = []
    for name in ACTIVATIONS:
        short, rule = _NAMED_ACTIVATION[name]
        out.append(Rewrite(f"forgotten {short} (the {name} derivative)",
                           f"The chain rule passes through {name}: multiply by its derivative, {rule}.",
                           call_swapped({name}, "_no_d_"), applies=asks_derivative))
    return out


REWRITES: list[Rewrite] = [
    Rewrite("update with the wrong sign", "Gradient descent steps against the gradient: w − α·∇L, not w + α·∇L.",
            update_sign),
    Rewrite("update without the learning rate", "The step is scaled by the learning rate: w − α·∇L.",
            update_without_rate),
    Rewrite("one SGD step instead of several",
            "Repeat the update as many times as asked, recomputing the gradient at the new weights each time.",
            one_sgd_step),
    Rewrite("one step instead of several",
            "Repeat the update as many times as asked, carrying the optimizer's state from step to step.",
            one_step({"adam", "rmsprop"})),
    Rewrite("true convolution (flipped kernel)",
            "You flipped the kernel (true convolution). PyTorch's conv computes cross-correlation: "
            "slide the kernel as written.", flip_kernel, applies=asks_forward_value),
    Rewrite("kernel not flipped in the backward pass",
            "The gradient with respect to a convolution's input slides the flipped kernel over the upstream "
            "gradient (a full convolution); yours used the kernel as written.",
            call_swapped(CONVS, "_unflipped_back_"), applies=back_to_conv_input),
    Rewrite("kernel gradient reversed",
            "The gradient with respect to the kernel is laid out like the kernel: tap j pairs with the inputs "
            "that tap j touched. Yours is in reverse order.",
            call_swapped(CONVS, "_unflipped_back_"), applies=back_to_kernel),
    Rewrite("padding ignored", "Pad the input with zeros on every side first, as the step states.", no_padding),
    Rewrite("padding on one side only", "Padding p adds p zeros at each end of every spatial axis, not just one.",
            call_swapped(CONVS, "_one_side_", is_padded)),
    Rewrite("output size rounded up",
            "A window that runs past the (padded) edge is dropped: the output size rounds down (floor).",
            call_swapped(CONVS | MAX_POOLS, "_ceil_")),
    Rewrite("the +1 left out of the output size",
            "The output size is ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1: the first window counts too.",
            call_swapped(CONVS | POOLS, "_no_plus_one_")),
    Rewrite("stride ignored", "Move the kernel by the stride, not one position at a time.", conv_stride_one),
    Rewrite("pooling stride taken as the kernel size",
            "PyTorch's pooling defaults to stride = kernel size, but this step states its own stride.",
            lambda n, l, t: pool_stride(n, l, t, to_kernel=True)),
    Rewrite("pooling with stride 1",
            "The pooling window moves by the kernel size here (PyTorch's default stride), not by 1.",
            lambda n, l, t: pool_stride(n, l, t, to_kernel=False)),
    Rewrite("average instead of max pooling", "Max-pooling keeps the largest entry of each window, not the average.",
            call_swapped(MAX_POOLS, "_avg_for_")),
    Rewrite("gradient sent to an entry that lost the max",
            "A max passes the gradient only to the entry that won (the largest in its window).",
            call_swapped(MAX_POOLS, "_min_route_"), applies=asks_derivative),
    Rewrite("overlapping windows not accumulated",
            "Where pooling windows overlap, an entry that wins several windows collects the gradient of each: "
            "add them up.", call_swapped(MAX_POOLS, "_not_accumulated_", windows_overlap), applies=asks_derivative),
    Rewrite("dilation ignored", "Dilation d spreads the kernel taps d apart (d − 1 zeros between them).",
            lambda n, l, t: dilation_changed(n, l, t, None)),
    Rewrite("dilation misread (off by one)",
            "Dilation d puts the taps d apart, i.e. d − 1 gaps between them, not d.",
            lambda n, l, t: dilation_changed(n, l, t, 1)),
    *_activation_rewrites(),
    Rewrite("softmax over the wrong axis", "Softmax normalises along the other axis here: check which entries "
            "should sum to 1.", lambda n, l, t: rename_call(n, "softmax", "_softmax_other_axis")),
    Rewrite("sigmoid of each entry instead of softmax",
            "Softmax normalises the whole row: exponentiate each entry and divide by the row's sum. A sigmoid of "
            "each entry alone does not sum to 1.", softmax_as_sigmoid, applies=asks_forward_value),
    Rewrite("reduction over the other axis", "That reduces along the other axis: dim=0 runs down each column, "
            "dim=1 along each row.", other_axis),
    Rewrite("the power rule's factor forgotten", "The derivative of xⁿ is n·xⁿ⁻¹: the exponent comes down as a "
            "factor.", power_without_factor, applies=asks_derivative),
    Rewrite("gradients of a row picked twice not added",
            "A row of the table picked at several positions collects the gradient of each: add them "
            "(dC[ix] += ...), do not overwrite.", lookup_overwritten, applies=asks_derivative),
    Rewrite("unbiased variance in the normalization (divided by n − 1)",
            "Layer norm and batch norm divide by the biased standard deviation: the squared deviations are "
            "averaged over n, not n − 1.", unbiased_norm),
    Rewrite("the homogeneous 1 left out", "hom(x) appends a 1 to x: it has one more entry than x.", hom_dropped),
    Rewrite("MSE summed instead of averaged", "PyTorch's mse_loss takes the mean over entries, not the sum.",
            mse_replaced("_mse_sum")),
    Rewrite("an extra ½ in the MSE", "This loss has no ½ factor: it is the plain mean of squared errors.",
            mse_replaced("_mse_half")),
    Rewrite("the ½ factor", "This loss is a squared error with no ½ in front: its derivative keeps the factor 2.",
            half_loss, root_only=True),
    Rewrite("forgotten ½", "This loss has a ½ in front: it cancels the 2 from the square's derivative.",
            drop_half, root_only=True),
    Rewrite("forgotten 1/N of the mean", "The loss averages (mean): divide the sum by the number of entries.",
            swap_reduction("mean", "sum")),
    Rewrite("mean instead of sum", "The loss sums, it does not average.", swap_reduction("sum", "mean")),
    Rewrite("bias counted", "This layer has no bias: count the weights only.", bias_counted),
    Rewrite("biased variance (divided by n)",
            "This variance is the unbiased one, PyTorch's default: divide by n − 1, not n.", variance_correction(0)),
    Rewrite("unbiased variance (divided by n − 1)",
            "This variance is the biased one (correction=0): divide by n, not n − 1.", variance_correction(1)),
    Rewrite("batch dimension left out", "The count covers the whole batch: every sample has its own outputs.",
            numel_per_sample),
    Rewrite("multiply-accumulates instead of FLOPs",
            "That counts multiply-accumulates (MACs); a MAC is 2 FLOPs (a multiply and an add).", as_macs,
            root_only=True),
    Rewrite("PyTorch's FLOP count instead of this convention",
            "That is PyTorch's count, 2 per multiply-add; summing k products takes only k − 1 additions.",
            plain_flops),
    Rewrite("bits instead of bytes", "That is in bits; a byte is 8 bits.", bytes_as("bits")),
    Rewrite("elements instead of bytes", "That counts numbers; multiply by the bytes per number.",
            bytes_as("elements")),
    Rewrite("float64 instead of float32", "float32 takes 4 bytes per number, not 8.", bytes_as("float64")),
]
