"""Every name the expression language knows, by where it may be used."""

CONSTANTS = frozenset({"pi", "e"})
DTYPES = frozenset({"float32", "float64", "int64"})

ELEMENTWISE = frozenset(
    {"sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu"}
)
REDUCTIONS_AND_SHAPE = frozenset(
    {"sum", "mean", "max", "min", "numel", "reshape", "flatten", "vec", "hom",
     "cat", "stack", "zeros", "ones", "eye", "unvec", "argmax", "outer", "dot"}
)
LAYERS = frozenset(
    {"linear", "softmax", "log_softmax", "cross_entropy", "mse_loss", "conv1d",
     "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "same_padding"}
)
# Only meaningful in a step's `ask` (they differentiate, train or measure the graph).
ASK_ONLY = frozenset({"grad", "jacobian", "shape", "sgd", "flops", "bytes"})
# Only meaningful in a `[drill]` value (they draw random numbers).
DRILL_ONLY = frozenset({"randint", "choice"})

FUNCTIONS = ELEMENTWISE | REDUCTIONS_AND_SHAPE | LAYERS | ASK_ONLY | DRILL_ONLY
# What a learner may call in a typed answer: constants folded to numbers.
ANSWER_FUNCTIONS = frozenset({"sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sigmoid"})

KEYWORDS = frozenset(
    {"dim", "stride", "padding", "dilation", "dtype", "steps", "keepdim", "reduction", "lr"}
)
# Asks whose answer is a whole number that must match exactly.
INTEGER_ASKS = frozenset({"numel", "bytes", "flops", "same_padding", "argmax"})
