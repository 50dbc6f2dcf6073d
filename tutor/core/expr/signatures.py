"""The language's one signature table: each function's parameters, where it may be used, its cost and shape rule.

Plain data (no torch), so the loader, the answer parser and LaTeX can read names without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass

GIVEN, GRAPH, ASK, DRILL, ANSWER = "given", "graph", "ask", "drill", "answer"
LESSON = frozenset({GIVEN, GRAPH, ASK})  # everywhere a lesson computes; drills draw numbers instead

# Cost rules: what one call is charged before (or, for cheap ones, after) it runs.
COSTS = {
    "free": "nothing beyond the numbers of its result (shape questions, counts)",
    "elementwise": "one operation per element of the result",
    "reduction": "one operation per element of the input",
    "matmul": "result size × the inner size",
    "per-output": "result size × work per output element (kernel window, inner size), predicted on meta tensors",
    "graph": "the graph's own work again, once per row, step or pass",
    "draw": "one per number drawn",
}
# Shape rules: how the result's shape follows from the arguments.
SHAPES = {
    "same": "the shape of the (broadcast) inputs",
    "reduced": "the input without `dim` (kept as size 1 with keepdim=1); a scalar without dim",
    "given": "the sizes written in the call",
    "layer": "PyTorch's own rule for the layer, computed on meta tensors before anything runs",
    "scalar": "a single number",
    "integer": "a whole number (a count), checked exactly",
    "tuple": "a shape, typed as 4x24",
    "like-x": "shaped like its second argument",
    "like-index": "shaped like the index",
    "one-hot": "the index's shape, then num_classes",
    "layout": "the entries rearranged or joined, by PyTorch's rule for the call",
}


@dataclass(frozen=True)
class Signature:
    """One function: `name(params..., keywords...)`; params from `required` on have defaults."""

    name: str
    params: tuple[str, ...]
    required: int
    doc: str
    keywords: tuple[str, ...] = ()      # keyword-only parameters
    where: frozenset[str] = LESSON
    cost: str = "elementwise"
    shape: str = "same"
    variadic: str | None = None         # name of a *args parameter (zeros(2, 3), cat(a, b, ...))
    defaults: tuple[tuple[str, str], ...] = ()  # parameter -> default as written in the docs
    category: str = "elementwise"
    positional_only: bool = False       # randint(0, 9, (2, 3)): drills take no keywords

    def accepts(self, keyword: str) -> bool:
        if self.positional_only:
            return False
        return keyword in self.params[1:] or keyword in self.keywords

    @property
    def max_positional(self) -> int | None:
        return None if self.variadic else len(self.params)

    def usage(self) -> str:
        shown = dict(self.defaults)
        parts = []
        for i, p in enumerate(self.params):
            parts.append(p if i < self.required or p not in shown else f"{p}={shown[p]}")
        if self.variadic:
            parts.append(f"*{self.variadic}")
        elif self.keywords:
            parts.append("*")  # keyword-only from here, as in PyTorch
        parts += [f"{k}={shown.get(k, 'None')}" for k in self.keywords]
        return f"{self.name}({', '.join(parts)})"


def _sig(name, params, required=None, doc="", **kw) -> Signature:
    params = tuple(params.split()) if isinstance(params, str) else tuple(params)
    defaults = kw.pop("defaults", {})
    return Signature(name, params, len(params) if required is None else required, doc,
                     defaults=tuple(defaults.items()), **kw)


_EW = dict(cost="elementwise", shape="same", category="elementwise")
_MATH = _EW | dict(where=LESSON | {ANSWER})
_RED = dict(cost="reduction", shape="reduced", category="reduction")
_SHAPE = dict(cost="elementwise", shape="layout", category="shape")
_LAYER = dict(cost="per-output", shape="layer", category="layer")
_CONV = "input weight bias stride padding dilation groups"
_CONV_DEFAULTS = dict(bias="None", stride="1", padding="0", dilation="1", groups="1")
_CONVT = "input weight bias stride padding output_padding groups dilation"
_CONVT_DEFAULTS = dict(bias="None", stride="1", padding="0", output_padding="0", groups="1", dilation="1")
_POOL = "input kernel_size stride padding"
_POOL_DEFAULTS = dict(stride="kernel_size", padding="0")
_OPT = dict(where=frozenset({ASK}), cost="graph", shape="same", category="ask")

SIGNATURES: tuple[Signature, ...] = (
    # elementwise
    _sig("sin", "input", doc="sine", **_MATH), _sig("cos", "input", doc="cosine", **_MATH),
    _sig("tan", "input", doc="tangent", **_MATH), _sig("exp", "input", doc="e to the power", **_MATH),
    _sig("log", "input", doc="natural logarithm", **_MATH), _sig("sqrt", "input", doc="square root", **_MATH),
    _sig("abs", "input", doc="absolute value", **_MATH), _sig("tanh", "input", doc="hyperbolic tangent", **_MATH),
    _sig("sigmoid", "input", doc="1 / (1 + exp(-x))", **_MATH),
    _sig("relu", "input", doc="max(x, 0)", **_EW),
    _sig("leaky_relu", "input negative_slope", 1, "x if x > 0 else negative_slope · x",
         defaults=dict(negative_slope="0.01"), **_EW),
    _sig("elu", "input alpha", 1, "x if x > 0 else alpha · (exp(x) − 1)", defaults=dict(alpha="1.0"), **_EW),
    _sig("gelu", "input", doc="x · Φ(x), the exact (erf) form", **_EW),
    _sig("softplus", "input beta threshold", 1, "log(1 + exp(beta · x)) / beta; linear above threshold",
         defaults=dict(beta="1", threshold="20"), **_EW),
    _sig("clamp", "input min max", 1, "limits x to [min, max] (either may be left out)",
         defaults=dict(min="None", max="None"), **_EW),
    _sig("where", "condition input other", doc="input where condition is non-zero, else other", **_EW),
    # reductions
    _sig("sum", "input dim keepdim", 1, "sum of all entries, or along dim",
         defaults=dict(dim="None", keepdim="0"), **_RED),
    _sig("mean", "input dim keepdim", 1, "mean of all entries, or along dim",
         defaults=dict(dim="None", keepdim="0"), **_RED),
    _sig("max", "input dim keepdim", 1, "largest entry, or the largest along dim (values only)",
         defaults=dict(dim="None", keepdim="0"), **_RED),
    _sig("min", "input dim keepdim", 1, "smallest entry, or the smallest along dim (values only)",
         defaults=dict(dim="None", keepdim="0"), **_RED),
    _sig("var", "input dim", 1, "variance; correction=1 divides by n − 1 (PyTorch's default), 0 by n",
         keywords=("correction", "keepdim"), defaults=dict(dim="None", correction="1", keepdim="0"), **_RED),
    _sig("std", "input dim", 1, "standard deviation, with correction as for var",
         keywords=("correction", "keepdim"), defaults=dict(dim="None", correction="1", keepdim="0"), **_RED),
    _sig("argmax", "input", doc="index of the largest entry of the flattened input", cost="reduction",
         shape="integer", category="reduction"),
    _sig("numel", "input", doc="number of entries", cost="free", shape="integer", category="shape"),
    # shape and construction
    _sig("reshape", "input", doc="the same entries in a new shape (one size may be -1)",
         variadic="shape", **_SHAPE),
    _sig("flatten", "input", doc="all entries as one vector (row-major)", **_SHAPE),
    _sig("vec", "input", doc="column-major vectorisation: the columns stacked", **_SHAPE),
    _sig("unvec", "input shape", doc="the inverse of vec: refill a matrix of shape column by column", **_SHAPE),
    _sig("hom", "input", doc="append a 1 (homogeneous coordinates)", **_SHAPE),
    _sig("cat", "", 0, "join along an existing dim: cat(a, b, dim=0) or cat([a, b])", variadic="tensors",
         keywords=("dim",), defaults=dict(dim="0"), **_SHAPE),
    _sig("stack", "", 0, "join along a new dim", variadic="tensors", keywords=("dim",),
         defaults=dict(dim="0"), **_SHAPE),
    _sig("zeros", "", 0, "a tensor of zeros: zeros(2, 3) or zeros((2, 3))", variadic="size",
         keywords=("dtype",), defaults=dict(dtype="lesson's"), cost="elementwise", shape="given",
         category="shape"),
    _sig("ones", "", 0, "a tensor of ones", variadic="size", keywords=("dtype",),
         defaults=dict(dtype="lesson's"), cost="elementwise", shape="given", category="shape"),
    _sig("eye", "n m", 1, "identity matrix (n × m)", keywords=("dtype",),
         defaults=dict(m="n", dtype="lesson's"), cost="elementwise", shape="given", category="shape"),
    _sig("arange", "start end step", 1, "start, start + step, ... below end; arange(n) is 0 ... n − 1",
         defaults=dict(end="None", step="1"), cost="elementwise", shape="given", category="shape"),
    _sig("linspace", "start end steps", doc="steps evenly spaced numbers from start to end, both included",
         cost="elementwise", shape="given", category="shape"),
    _sig("dot", "input other", doc="dot product of two vectors", cost="reduction", shape="scalar",
         category="shape"),
    _sig("outer", "input other", doc="outer product of two vectors", cost="elementwise", shape="layout",
         category="shape"),
    _sig("one_hot", "input num_classes", 1, "a row of zeros with a 1 at each index (whole numbers from 0); "
         "num_classes=-1 takes the largest index + 1", defaults=dict(num_classes="-1"), cost="elementwise",
         shape="one-hot", category="shape"),
    _sig("gather", "input dim index", doc="picks along dim: out[i][j] = input[index[i][j]][j] for dim=0, "
         "input[i][index[i][j]] for dim=1", cost="elementwise", shape="like-index", category="shape"),
    # layers
    _sig("linear", "input weight bias", 2, "x @ W.T + b, PyTorch's layout (W is out × in)",
         defaults=dict(bias="None"), **_LAYER),
    _sig("softmax", "input dim", 1, "exp(x) / sum(exp(x)) along dim", defaults=dict(dim="-1"),
         cost="elementwise", shape="same", category="layer"),
    _sig("log_softmax", "input dim", 1, "log(softmax(x)) along dim", defaults=dict(dim="-1"),
         cost="elementwise", shape="same", category="layer"),
    _sig("cross_entropy", "input target", doc="mean of −log softmax at the target class; target a class "
         "index, a vector of class indices (one per row) or probabilities shaped like the logits",
         cost="elementwise", shape="scalar", category="loss"),
    _sig("mse_loss", "input target", doc="mean of squared differences", cost="elementwise", shape="scalar",
         category="loss"),
    _sig("binary_cross_entropy", "input target", doc="mean of −(y log p + (1 − y) log(1 − p))",
         cost="elementwise", shape="scalar", category="loss"),
    _sig("binary_cross_entropy_with_logits", "input target",
         doc="binary_cross_entropy(sigmoid(z), y), computed stably", cost="elementwise", shape="scalar",
         category="loss"),
    _sig("layer_norm", "input normalized_shape weight bias eps", 2,
         "normalise over the last dims (biased variance), then · weight + bias",
         defaults=dict(weight="None", bias="None", eps="1e-05"), cost="elementwise", shape="same",
         category="layer"),
    _sig("batch_norm", "input", 1, "training-mode batch norm: each channel (dim 1) normalised with the "
         "batch's mean and biased variance, then · weight + bias", keywords=("weight", "bias", "eps"),
         defaults=dict(weight="None", bias="None", eps="1e-05"), cost="elementwise", shape="same",
         category="layer"),
    _sig("conv1d", _CONV, 2, "PyTorch's conv1d (cross-correlation)", defaults=_CONV_DEFAULTS, **_LAYER),
    _sig("conv2d", _CONV, 2, "PyTorch's conv2d (cross-correlation)", defaults=_CONV_DEFAULTS, **_LAYER),
    _sig("conv_transpose1d", _CONVT, 2, "PyTorch's conv_transpose1d (weight is in × out/groups × k)",
         defaults=_CONVT_DEFAULTS, **_LAYER),
    _sig("conv_transpose2d", _CONVT, 2, "PyTorch's conv_transpose2d (weight is in × out/groups × kh × kw)",
         defaults=_CONVT_DEFAULTS, **_LAYER),
    _sig("max_pool1d", _POOL, 2, "largest value in each window", defaults=_POOL_DEFAULTS, **_LAYER),
    _sig("max_pool2d", _POOL, 2, "largest value in each window", defaults=_POOL_DEFAULTS, **_LAYER),
    _sig("avg_pool1d", _POOL, 2, "mean of each window (padding counted as zeros)", defaults=_POOL_DEFAULTS,
         **_LAYER),
    _sig("avg_pool2d", _POOL, 2, "mean of each window (padding counted as zeros)", defaults=_POOL_DEFAULTS,
         **_LAYER),
    _sig("same_padding", "input weight stride dilation", 2,
         "smallest symmetric padding for which the convolution keeps the size",
         defaults=dict(stride="1", dilation="1"), cost="free", shape="integer", category="layer"),
    _sig("scaled_dot_product_attention", "query key value", 3,
         "softmax(Q Kᵀ · scale + causal mask) V; scale defaults to 1/sqrt(last size of Q)",
         keywords=("is_causal", "scale"), defaults=dict(is_causal="0", scale="None"), **_LAYER),
    # asks
    _sig("grad", "f x", doc="∂f/∂x of a scalar f, shaped like x", where=frozenset({ASK}), cost="graph",
         shape="like-x", category="ask", positional_only=True),
    _sig("jacobian", "f x", doc="numerator layout: (numel(f), numel(x))", where=frozenset({ASK}),
         cost="graph", shape="layer", category="ask", positional_only=True),
    _sig("shape", "input", doc="the shape, typed as 4x24 (computed on meta tensors, nothing runs)",
         where=frozenset({ASK}), cost="free", shape="tuple", category="ask"),
    _sig("flops", "input", doc="PyTorch's FLOP count (a multiply-add is 2), counted on meta tensors",
         where=frozenset({ASK}), cost="free", shape="integer", category="ask"),
    _sig("bytes", "input", doc="numel × element size", where=frozenset({ASK}), cost="free", shape="integer",
         category="ask"),
    _sig("sgd", "f lr steps", 2, "f after steps of torch.optim.SGD on [train].params",
         keywords=("momentum", "dampening", "nesterov", "weight_decay"),
         defaults=dict(steps="1", momentum="0", dampening="0", nesterov="0", weight_decay="0"), **_OPT),
    _sig("adam", "f lr steps", 2, "f after steps of torch.optim.Adam on [train].params; the step is "
         "lr · m̂ / (sqrt(v̂) + eps): eps is added after the square root, as in PyTorch",
         keywords=("betas", "eps", "weight_decay"),
         defaults=dict(steps="1", betas="(0.9, 0.999)", eps="1e-08", weight_decay="0"), **_OPT),
    _sig("rmsprop", "f lr steps", 2, "f after steps of torch.optim.RMSprop on [train].params; the step is "
         "lr · g / (sqrt(v) + eps): eps is added after the square root, as in PyTorch",
         keywords=("alpha", "eps", "weight_decay", "momentum", "centered"),
         defaults=dict(steps="1", alpha="0.99", eps="1e-08", weight_decay="0", momentum="0", centered="0"),
         **_OPT),
    # drills
    _sig("randint", "low high shape", 2, "whole numbers from low to high, both included",
         defaults=dict(shape="()"), where=frozenset({DRILL}), cost="draw", shape="given", category="drill",
         positional_only=True),
    _sig("choice", "options shape", 1, "one of the options for each entry", defaults=dict(shape="()"),
         where=frozenset({DRILL}), cost="draw", shape="given", category="drill", positional_only=True),
)

TABLE: dict[str, Signature] = {s.name: s for s in SIGNATURES}


def usable_in(where: str) -> frozenset[str]:
    return frozenset(s.name for s in SIGNATURES if where in s.where)
