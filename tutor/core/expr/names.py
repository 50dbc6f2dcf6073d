"""Every name the expression language knows, by where it may be used (read from the signature table)."""

from tutor.core.expr.signatures import ANSWER, ASK, DRILL, GRAPH, SIGNATURES, TABLE, usable_in

CONSTANTS = frozenset({"pi", "e"})
DTYPES = frozenset({"float32", "float64", "int64"})


def _category(*kinds: str) -> frozenset[str]:
    return frozenset(s.name for s in SIGNATURES if s.category in kinds)


ELEMENTWISE = _category("elementwise")
REDUCTIONS_AND_SHAPE = _category("reduction", "shape")
LAYERS = _category("layer", "loss")
# Only meaningful in a step's `ask` (they differentiate, train or measure the graph).
ASK_ONLY = usable_in(ASK) - usable_in(GRAPH)
# Only meaningful in a `[drill]` value (they draw random numbers).
DRILL_ONLY = usable_in(DRILL)

FUNCTIONS = frozenset(TABLE)
# What a learner may call in a typed answer: constants folded to numbers.
ANSWER_FUNCTIONS = usable_in(ANSWER)

KEYWORDS = frozenset(k for s in SIGNATURES for k in s.params[1:] + s.keywords)
# Asks whose answer is a whole number that must match exactly.
INTEGER_ASKS = frozenset(s.name for s in SIGNATURES if s.shape == "integer")
