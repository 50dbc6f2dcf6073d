"""One signature table: every call is checked against it at load time, and the docs are generated from it."""

import ast
from pathlib import Path

import pytest

from tutor.core.errors import ExprError, LessonErrors
from tutor.core.evaluate.live import LiveLesson
from tutor.core.expr import names, reference
from tutor.core.expr.signatures import SIGNATURES, TABLE
from tutor.core.expr.special import ALL_FUNCTIONS
from tutor.core.expr.syntax import parse_expr
from tutor.core.lesson.load import parse_lesson

DOCS = Path(__file__).parents[2] / "docs" / "lesson-authoring.md"

# One call per function that passes every parameter after the first by its keyword, so a keyword in the
# table that the implementation does not take fails here.
GIVEN = '''
x = [-1.0, 0.5, 2.0]
M = [[1.0, 2.0], [4.0, 3.0]]
s = [[[1.0, 2.0, 3.0, 4.0]]]
k = [[[1.0, -1.0]]]
img = [[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]
ker = [[[[1.0, 0.0], [0.0, 1.0]]]]
q = [[1.0, 0.0], [0.0, 1.0]]
w = [1.0, -2.0]
'''
GRAPH = "L = sum(w ** 2)"
TRAIN = '[train]\nloss = "L"\nparams = ["w"]\nlr = 0.1\nsteps = 3'
CALLS = [
    "leaky_relu(x, negative_slope=0.2)", "elu(x, alpha=2)", "softplus(x, beta=2, threshold=10)",
    "clamp(x, min=-1, max=1)", "where(x > 0, input=x, other=0 * x)",
    "sum(M, dim=0, keepdim=1)", "mean(M, dim=0, keepdim=1)", "max(M, dim=0, keepdim=1)",
    "min(M, dim=0, keepdim=1)", "var(M, dim=0, correction=0, keepdim=1)", "std(M, dim=0, correction=0, keepdim=1)",
    "cat(M, M, dim=1)", "stack(M, M, dim=1)", "zeros(2, dtype=float32)", "ones(2, dtype=float32)",
    "eye(2, m=3, dtype=float32)", "arange(0, end=3, step=0.5)", "linspace(0, end=1, steps=3)",
    "dot(w, other=w)", "outer(w, other=w)", "unvec(flatten(M), shape=(2, 2))",
    "linear(M, weight=M, bias=w)", "softmax(x, dim=0)", "log_softmax(x, dim=0)",
    "cross_entropy(M, target=[0, 1])", "mse_loss(x, target=x)", "binary_cross_entropy(sigmoid(x), target=x * 0)",
    "binary_cross_entropy_with_logits(x, target=x * 0)",
    "layer_norm(M, normalized_shape=2, weight=w, bias=w, eps=0.001)", "batch_norm(M, weight=w, bias=w, eps=0.001)",
    "conv1d(s, weight=k, bias=[1], stride=1, padding=1, dilation=1, groups=1)",
    "conv2d(img, weight=ker, bias=[1], stride=1, padding=1, dilation=1, groups=1)",
    "conv_transpose1d(s, weight=k, bias=[1], stride=2, padding=1, output_padding=1, groups=1, dilation=1)",
    "conv_transpose2d(img, weight=ker, bias=[1], stride=2, padding=1, output_padding=1, groups=1, dilation=1)",
    "max_pool1d(s, kernel_size=2, stride=1, padding=1)", "max_pool2d(img, kernel_size=2, stride=1, padding=1)",
    "avg_pool1d(s, kernel_size=2, stride=1, padding=1)", "avg_pool2d(img, kernel_size=2, stride=1, padding=1)",
    "same_padding(s, weight=k, stride=1, dilation=2)",
    "scaled_dot_product_attention(q, key=q, value=q, is_causal=1, scale=0.5)",
    "sgd(L, lr=0.1, steps=2, momentum=0.9, dampening=0, nesterov=1, weight_decay=0.1)",
    "adam(L, lr=0.1, steps=2, betas=(0.8, 0.9), eps=0.001, weight_decay=0.1)",
    "rmsprop(L, lr=0.1, steps=2, alpha=0.9, eps=0.001, weight_decay=0.1, momentum=0.5, centered=1)",
    "one_hot([0, 2], num_classes=3)", "gather(M, dim=1, index=[[0], [1]])",
    "grad(L, w)", "jacobian(w * 2, w)",
]


def test_every_keyword_in_the_table_is_taken_by_its_function():
    used = {(c.func.id, kw.arg) for call in CALLS for c in ast.walk(ast.parse(call)) if isinstance(c, ast.Call)
            for kw in c.keywords}
    table = {(s.name, k) for s in SIGNATURES if not s.positional_only for k in s.params[1:] + s.keywords}
    assert table - used == set(), "keywords with no example call"
    steps = "".join(f'[[steps]]\nid = "s{i}"\nask = "{c}"\n' for i, c in enumerate(CALLS))
    live = LiveLesson(parse_lesson(f'graph = "{GRAPH}"\n{TRAIN}\n[given]\n{GIVEN}\n{steps}'))
    for i, _ in enumerate(CALLS):
        live.expected(f"s{i}")  # raises, naming the step, if a keyword is not taken


def test_the_table_and_the_implementations_name_the_same_functions():
    implemented = set(ALL_FUNCTIONS) | {"randint", "choice"}  # drills are drawn by tutor.core.drill.draw
    assert implemented == set(TABLE)
    assert set(TABLE) == names.FUNCTIONS


@pytest.mark.parametrize("text, words", [
    ("relu(x, dim=0)", "relu() has no keyword 'dim' (it takes no keywords)"),
    ("sum(x, keepdims=1)", "sum() has no keyword 'keepdims' (it takes dim, keepdim)"),
    ("conv2d(x)", "conv2d() takes 2 to 7 arguments, got 1"),
    ("sin(x, x)", "sin() takes 1 argument, got 2"),
    ("softmax(x, 0, dim=0)", "'dim' is given twice"),
    ("layer_norm(x)", "layer_norm() takes 2 to 5 arguments, got 1"),
])
def test_wrong_calls_are_refused_with_the_usage(text, words):
    with pytest.raises(ExprError) as info:
        parse_expr(text)
    assert words in str(info.value)


def test_a_wrong_keyword_is_refused_when_the_lesson_loads():
    with pytest.raises(LessonErrors) as info:
        parse_lesson('graph = "y = relu(x, dim=0)"\n[given]\nx = [1, -1]\n[[steps]]\nid = "y"\nask = "y"\n')
    assert "graph line 1" in str(info.value) and "relu() has no keyword 'dim'" in str(info.value)


def test_drill_draws_take_no_keywords():
    with pytest.raises(ExprError, match="no keyword 'shape'"):
        parse_expr("randint(0, 9, shape=(2, 3))", frozenset({"randint"}))


def test_answer_functions_and_latex_names_come_from_the_table():
    assert {s.name for s in SIGNATURES if "answer" in s.where} == names.ANSWER_FUNCTIONS
    assert {"sin", "cos", "exp", "log", "sqrt"} <= names.ANSWER_FUNCTIONS and "relu" not in names.ANSWER_FUNCTIONS


def test_the_docs_reference_is_generated_from_the_table():
    text = DOCS.read_text(encoding="utf-8")
    assert reference.section_of(text) == reference.markdown(), \
        "run python -m tutor.core.expr.reference and paste it into docs/lesson-authoring.md"
