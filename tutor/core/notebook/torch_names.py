"""PyTorch's spellings of what the lesson language has: functions, methods, layers and optimizers.

Each entry names the language's function (checked against its signature table) and PyTorch's own
parameters in order, so positional arguments are read as PyTorch reads them. An argument left at
PyTorch's default is dropped; any other argument the language does not take makes the call
unsupported, and the translator says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tutor.core.expr.signatures import TABLE


@dataclass(frozen=True)
class Spec:
    lesson: str                                  # the language's function, or a special rule's name
    params: tuple[str, ...]                      # PyTorch's parameters, in order ("input" first)
    defaults: dict = field(default_factory=dict)  # PyTorch defaults: an argument equal to one is dropped
    rename: dict = field(default_factory=dict)   # PyTorch keyword -> the language's


def _spec(lesson: str, params: str, **defaults) -> Spec:
    return Spec(lesson, tuple(params.split()), defaults)


_UNARY = {n: _spec(n, "input") for n in ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sigmoid")}
_REDUCE = "input dim keepdim dtype"
_CONV = "input weight bias stride padding dilation groups"
_CONVT = "input weight bias stride padding output_padding groups dilation"

FUNCTIONS: dict[str, Spec] = {
    **_UNARY,
    "relu": _spec("relu", "input inplace", inplace=False),
    "gelu": _spec("gelu", "input approximate", approximate="none"),
    "leaky_relu": _spec("leaky_relu", "input negative_slope inplace", inplace=False),
    "elu": _spec("elu", "input alpha inplace", inplace=False),
    "softplus": _spec("softplus", "input beta threshold"),
    "clamp": _spec("clamp", "input min max"),
    "clip": _spec("clamp", "input min max"),
    "where": _spec("where", "condition input other"),
    "sum": _spec("sum", _REDUCE, dtype=None),
    "mean": _spec("mean", _REDUCE, dtype=None),
    "var": Spec("var", ("input", "dim", "unbiased", "keepdim"), {}, {}),
    "std": Spec("std", ("input", "dim", "unbiased", "keepdim"), {}, {}),
    "argmax": _spec("argmax", "input dim keepdim", dim=None, keepdim=False),
    "numel": _spec("numel", "input"),
    "softmax": _spec("softmax", "input dim dtype", dtype=None),
    "log_softmax": _spec("log_softmax", "input dim dtype", dtype=None),
    "linear": _spec("linear", "input weight bias"),
    "conv1d": _spec("conv1d", _CONV),
    "conv2d": _spec("conv2d", _CONV),
    "conv_transpose1d": _spec("conv_transpose1d", _CONVT),
    "conv_transpose2d": _spec("conv_transpose2d", _CONVT),
    "max_pool1d": _spec("max_pool1d", "input kernel_size stride padding dilation ceil_mode return_indices",
                        dilation=1, ceil_mode=False, return_indices=False),
    "max_pool2d": _spec("max_pool2d", "input kernel_size stride padding dilation ceil_mode return_indices",
                        dilation=1, ceil_mode=False, return_indices=False),
    "avg_pool1d": _spec("avg_pool1d", "input kernel_size stride padding ceil_mode count_include_pad",
                        ceil_mode=False, count_include_pad=True),
    "avg_pool2d": _spec("avg_pool2d", "input kernel_size stride padding ceil_mode count_include_pad "
                        "divisor_override", ceil_mode=False, count_include_pad=True, divisor_override=None),
    "layer_norm": _spec("layer_norm", "input normalized_shape weight bias eps"),
    "cross_entropy": _spec("cross_entropy", "input target weight size_average ignore_index reduce reduction "
                           "label_smoothing", weight=None, size_average=None, ignore_index=-100, reduce=None,
                           reduction="mean", label_smoothing=0.0),
    "mse_loss": _spec("mse_loss", "input target size_average reduce reduction weight", size_average=None,
                      reduce=None, reduction="mean", weight=None),
    "binary_cross_entropy": _spec("binary_cross_entropy", "input target weight size_average reduce reduction",
                                  weight=None, size_average=None, reduce=None, reduction="mean"),
    "binary_cross_entropy_with_logits": _spec(
        "binary_cross_entropy_with_logits", "input target weight size_average reduce reduction pos_weight",
        weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None),
    "scaled_dot_product_attention": _spec("scaled_dot_product_attention", "query key value attn_mask dropout_p "
                                          "is_causal scale", attn_mask=None, dropout_p=0.0),
    "dot": _spec("dot", "input other"),
    "outer": _spec("outer", "input vec2"),
    "ger": _spec("outer", "input vec2"),
    "cat": _spec("cat", "tensors dim"),
    "concat": _spec("cat", "tensors dim"),
    "concatenate": _spec("cat", "tensors dim"),
    "stack": _spec("stack", "tensors dim"),
    "flatten": _spec("flatten", "input start_dim end_dim", start_dim=0, end_dim=-1),
    # operators and special rules (the translator writes these itself)
    "add": _spec("+", "input other alpha", alpha=1),
    "sub": _spec("-", "input other alpha", alpha=1),
    "subtract": _spec("-", "input other alpha", alpha=1),
    "mul": _spec("*", "input other"),
    "multiply": _spec("*", "input other"),
    "div": _spec("/", "input other rounding_mode", rounding_mode=None),
    "divide": _spec("/", "input other rounding_mode", rounding_mode=None),
    "true_divide": _spec("/", "input other"),
    "pow": _spec("**", "input exponent"),
    "matmul": _spec("@", "input other"),
    "mm": _spec("@", "input mat2"),
    "mv": _spec("@", "input vec"),
    "square": _spec("square", "input"),
    "neg": _spec("neg", "input"),
    "negative": _spec("neg", "input"),
    "reciprocal": _spec("reciprocal", "input"),
    "rsqrt": _spec("rsqrt", "input"),
    "log2": _spec("log2", "input"),
    "log10": _spec("log10", "input"),
    "l1_loss": _spec("l1_loss", "input target size_average reduce reduction", size_average=None, reduce=None,
                     reduction="mean"),
    "max": _spec("max", "input dim keepdim"),
    "min": _spec("min", "input dim keepdim"),
    "t": _spec("t", "input"),
    "norm": _spec("norm", "input p dim keepdim dtype", p="fro", dim=None, keepdim=False, dtype=None),
    "transpose": _spec("transpose", "input dim0 dim1"),
    "reshape": _spec("reshape", "input shape"),
    "squeeze": _spec("squeeze", "input dim"),
    "unsqueeze": _spec("unsqueeze", "input dim"),
}

# Methods of a tensor with their own meaning (the rest are FUNCTIONS with the tensor as input).
VALUE_METHODS = frozenset({"item", "detach", "clone", "numpy", "tolist", "cpu", "contiguous", "float",
                           "double", "to", "type", "view", "view_as", "reshape_as", "size"})
EFFECT_METHODS = frozenset({"backward", "retain_grad", "requires_grad_", "zero_", "add_", "sub_", "mul_",
                            "div_", "copy_", "fill_", "zero_grad", "append", "step"})

# torch.nn layers: PyTorch's constructor parameters, in order.
MODULES: dict[str, Spec] = {
    "Conv1d": _spec("conv1d", "in_channels out_channels kernel_size stride padding dilation groups bias "
                    "padding_mode", stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros"),
    "Conv2d": _spec("conv2d", "in_channels out_channels kernel_size stride padding dilation groups bias "
                    "padding_mode", stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros"),
    "Linear": _spec("linear", "in_features out_features bias", bias=True),
    "MaxPool1d": _spec("max_pool1d", "kernel_size stride padding dilation return_indices ceil_mode",
                       stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False),
    "MaxPool2d": _spec("max_pool2d", "kernel_size stride padding dilation return_indices ceil_mode",
                       stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False),
    "AvgPool1d": _spec("avg_pool1d", "kernel_size stride padding ceil_mode count_include_pad",
                       stride=None, padding=0, ceil_mode=False, count_include_pad=True),
    "AvgPool2d": _spec("avg_pool2d", "kernel_size stride padding ceil_mode count_include_pad divisor_override",
                       stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None),
    "ReLU": _spec("relu", "inplace", inplace=False),
    "Sigmoid": _spec("sigmoid", ""),
    "Tanh": _spec("tanh", ""),
    "GELU": _spec("gelu", "approximate", approximate="none"),
    "LeakyReLU": _spec("leaky_relu", "negative_slope inplace", negative_slope=0.01, inplace=False),
    "ELU": _spec("elu", "alpha inplace", alpha=1.0, inplace=False),
    "Softplus": _spec("softplus", "beta threshold", beta=1, threshold=20),
    "Softmax": _spec("softmax", "dim"),
    "LogSoftmax": _spec("log_softmax", "dim"),
    "Identity": _spec("identity", ""),
    "MSELoss": _spec("mse_loss", "size_average reduce reduction", size_average=None, reduce=None,
                     reduction="mean"),
    "L1Loss": _spec("l1_loss", "size_average reduce reduction", size_average=None, reduce=None, reduction="mean"),
    "CrossEntropyLoss": _spec("cross_entropy", "weight size_average ignore_index reduce reduction label_smoothing",
                              weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                              label_smoothing=0.0),
    "BCELoss": _spec("binary_cross_entropy", "weight size_average reduce reduction", weight=None,
                     size_average=None, reduce=None, reduction="mean"),
    "BCEWithLogitsLoss": _spec("binary_cross_entropy_with_logits", "weight size_average reduce reduction "
                               "pos_weight", weight=None, size_average=None, reduce=None, reduction="mean",
                               pos_weight=None),
    "Sequential": _spec("sequential", ""),
}

OPTIMIZERS: dict[str, Spec] = {
    "SGD": _spec("sgd", "params lr momentum dampening weight_decay nesterov", momentum=0, dampening=0,
                 weight_decay=0, nesterov=False, maximize=False, foreach=None, differentiable=False, fused=None),
    "Adam": _spec("adam", "params lr betas eps weight_decay amsgrad", lr=0.001, betas=(0.9, 0.999), eps=1e-08,
                  weight_decay=0, amsgrad=False, maximize=False, foreach=None, capturable=False,
                  differentiable=False, fused=None),
}

# Names a notebook imports that the translator understands.
NAMESPACES = {
    "torch": "torch", "torch.nn": "torch.nn", "torch.nn.functional": "torch.nn.functional",
    "torch.optim": "torch.optim", "torch.autograd": "torch.autograd", "math": "math", "numpy": "numpy",
    "torch.special": "torch.special",
}
# Imports that bring nothing a lesson needs and need no mention (display, type hints).
QUIET_IMPORTS = frozenset({"IPython.display", "IPython", "typing", "__future__"})
FUNCTION_NAMESPACES = ("torch.", "torch.nn.functional.", "torch.special.", "math.", "numpy.")
DTYPES = {"float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
          "int64": "int64", "long": "int64", "int32": "int32", "int": "int32", "float16": "float16",
          "half": "float16", "bfloat16": "bfloat16", "bool": "bool"}
RANDOM = frozenset({"rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
                    "normal", "bernoulli", "multinomial", "poisson", "empty", "empty_like"})
CONSTRUCTORS = frozenset({"tensor", "Tensor", "FloatTensor", "DoubleTensor", "LongTensor", "as_tensor",
                          "ones", "zeros", "eye", "arange", "linspace", "full", "ones_like", "zeros_like",
                          "full_like"})
MATH_CONSTANTS = {"pi": "pi", "e": "e"}


def language_accepts(function: str, keyword: str) -> bool:
    sig = TABLE.get(function)
    return sig is not None and sig.accepts(keyword)



