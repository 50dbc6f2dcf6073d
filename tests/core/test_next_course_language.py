"""The language the next courses need: embedding lookups, one_hot, gather, rmsprop, real-size layers in the
graph, sizes read from givens, limits that say how to get under them, names written as names.

Every expected number is worked out by hand here or by calling torch directly, never read from the tutor.
"""

import math
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from tutor.core.check.step import checker_for
from tutor.core.errors import LessonError, LessonErrors
from tutor.core.evaluate.live import LiveLesson
from tutor.core.expr import budget, limits, syntax
from tutor.core.lesson.load import parse_lesson
from tutor.core.text.latex import to_unicode

DOCS = (Path(__file__).parents[2] / "docs" / "lesson-authoring.md").read_text(encoding="utf-8")


def lesson(given: str, asks: list[str], graph: str = "", extra: str = "") -> LiveLesson:
    steps = "".join(f'[[steps]]\nid = "s{i}"\nask = "{a}"\n' for i, a in enumerate(asks))
    return LiveLesson(parse_lesson(f'graph = """\n{graph}\n"""\n{extra}\n[given]\n{given}\n{steps}', "t.toml"))


def values(given: str, asks: list[str], graph: str = "", extra: str = "") -> list:
    live = lesson(given, asks, graph, extra)
    return [live.expected(f"s{i}").value for i in range(len(asks))]


C = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]
X = [[0, 2, 2], [3, 0, 1]]


# ---- indexing with a tensor of indices ------------------------------------------------------------

def test_an_embedding_lookup_picks_a_row_for_every_index_and_sends_gradients_back_to_those_rows():
    emb, shape, grad = values(f"C = {C}\nX = {X}\nG = {[[[1, 10], [100, 1000], [2, 20]], [[3, 30], [4, 40], [5, 50]]]}",
                              ["emb", "shape(emb)", "grad(L, C)"], "emb = C[X]\nL = sum(emb * G)")
    assert emb == [[C[0], C[2], C[2]], [C[3], C[0], C[1]]]
    assert shape == [2, 3, 2]
    # row 0 is picked twice (positions (0,0) and (1,1)): its gradient is the sum of both upstream rows;
    # row 2 is picked twice too; row 1 once; row 3 once
    assert grad == [[1 + 4, 10 + 40], [5, 50], [100 + 2, 1000 + 20], [3, 30]]


def test_one_entry_per_row_as_makemore_and_fastai_pick_the_probability_of_the_target():
    probs = [[0.1, 0.9], [0.7, 0.3], [0.4, 0.6]]
    picked, nll = values(f"P = {probs}\nY = [1, 0, 1]", ["P[arange(3), Y]", "-mean(log(P[arange(3), Y]))"])
    assert picked == pytest.approx([0.9, 0.7, 0.6])
    assert nll == pytest.approx(-(math.log(0.9) + math.log(0.7) + math.log(0.6)) / 3)


def test_a_fraction_as_an_index_is_refused_with_a_reason():
    live = lesson(f"C = {C}\nX = [0.5, 1]", ["C[X]"])
    with pytest.raises(LessonError, match="whole numbers"):
        live.expected("s0")


def test_an_index_out_of_range_names_the_shape():
    live = lesson(f"C = {C}\nX = [0, 4]", ["C[X]"])
    with pytest.raises(LessonError, match=r"index out of range for shape \(4, 2\)"):
        live.expected("s0")


def test_a_single_number_still_removes_an_axis():
    assert values(f"C = {C}\ni = 2", ["C[i]", "C[i, 1]"]) == [C[2], C[2][1]]


# ---- one_hot and gather ---------------------------------------------------------------------------

def test_one_hot_is_pytorchs_in_the_lessons_dtype():
    got, inferred = values("Y = [0, 2, 1]", ["one_hot(Y, 4)", "one_hot(Y)"])
    assert got == F.one_hot(torch.tensor([0, 2, 1]), 4).tolist()
    assert inferred == F.one_hot(torch.tensor([0, 2, 1])).tolist()
    with pytest.raises(LessonError, match="from 0 to 3"):
        lesson("Y = [0, 4]", ["one_hot(Y, 4)"]).expected("s0")


def test_gather_is_torch_gather_and_differentiable():
    z = [[2.0, 1.0, 0.5], [0.0, 3.0, 1.0]]
    got, grad = values(f"z = {z}\nY = [[2], [1]]", ["gather(z, 1, Y)", "grad(sum(gather(z, 1, Y)), z)"])
    assert got == torch.gather(torch.tensor(z), 1, torch.tensor([[2], [1]])).tolist() == [[0.5], [3.0]]
    assert grad == [[0, 0, 1], [0, 1, 0]]


# ---- rmsprop --------------------------------------------------------------------------------------

TRAIN = '[train]\nloss = "L"\nparams = ["w"]\nlr = 0.1\nsteps = 5'


@pytest.mark.parametrize("ask, kw, steps", [
    ("rmsprop(L, 0.01, steps=7)", dict(lr=0.01), 7),
    ("rmsprop(L, 0.01, 7, alpha=0.9, eps=0.001, weight_decay=0.1)", dict(lr=0.01, alpha=0.9, eps=0.001,
                                                                         weight_decay=0.1), 7),
    ("rmsprop(L, 0.01, 5, momentum=0.5, centered=1)", dict(lr=0.01, momentum=0.5, centered=True), 5),
])
def test_rmsprop_follows_torch_optim(ask, kw, steps):
    w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([3.0, 1.0], dtype=torch.float64)
    opt = torch.optim.RMSprop([w], foreach=False, **kw)
    for _ in range(steps):
        opt.zero_grad()
        (((w * x).sum() - 1) ** 2 + (w ** 2).sum()).backward()
        opt.step()
    expected = float(((w * x).sum() - 1) ** 2 + (w ** 2).sum())
    got = values("w = [1.0, -2.0]\nx = [3.0, 1.0]", [ask], "L = (sum(w * x) - 1) ** 2 + sum(w ** 2)", TRAIN)[0]
    assert got == pytest.approx(expected, rel=1e-10)


def test_rmsprops_eps_is_added_after_the_square_root_as_the_docs_say():
    # one step from w = 1 on L = w**2: g = 2, v = (1 - 0.9) * 4 = 0.4; with eps = 0.1 outside the root the
    # step is 0.1 * 2 / (sqrt(0.4) + 0.1); inside it would be 0.1 * 2 / sqrt(0.4 + 0.1)
    got = values("w = 1", ["rmsprop(w, 0.1, alpha=0.9, eps=0.1)"], "L = w ** 2", TRAIN)[0]
    assert got == pytest.approx(1 - 0.2 / (math.sqrt(0.4) + 0.1), rel=1e-12)
    assert got != pytest.approx(1 - 0.2 / math.sqrt(0.5), rel=1e-6)
    assert "added after the square root" in DOCS


# ---- real-size layers in the graph ----------------------------------------------------------------

REAL = '''
graph = """
x = zeros(batch, c, h, w)
y = conv2d(x, k, stride=s, padding=1, groups=M)
"""
[given]
batch = 32
c = 64
h = 224
w = 224
s = 1
M = 2
k = "zeros(128, 32, 3, 3)"
[[steps]]
id = "shape"
ask = "shape(y)"
[[steps.mistakes]]
when = "shape(zeros(batch, 128, h - 2, w - 2))"
say = "That leaves out the padding."
[[steps]]
id = "flops"
ask = "flops(y)"
[[steps]]
id = "numel"
ask = "numel(y)"
[[steps]]
id = "value"
ask = "sum(y)"
'''


def test_a_graph_line_too_big_to_compute_is_known_by_its_shapes_until_a_value_is_asked():
    live = LiveLesson(parse_lesson(REAL, "real.toml"))
    assert live.shapes_only
    assert live.expected("shape").value == [32, 128, 224, 224]
    # sizes read from givens (groups=M, stride=s) stay numbers on meta tensors: 2 FLOPs per multiply-add,
    # each output sums 32 channels (64 / groups) times 3x3
    assert live.expected("flops").value == 2 * (32 * 128 * 224 * 224) * (32 * 3 * 3)
    assert live.expected("numel").value == 32 * 128 * 224 * 224
    with pytest.raises(LessonError) as info:
        live.expected("value")
    assert "the limit is 5,000,000 per tensor: use smaller sizes, or ask only for its shape" in str(info.value)


def test_a_shape_mistake_built_from_givens_is_named_as_one_with_literal_sizes():
    live = LiveLesson(parse_lesson(REAL, "real.toml"))
    verdict = checker_for(live).check("shape", "32x128x222x222")
    assert verdict.mistake == "That leaves out the padding"
    small = LiveLesson(parse_lesson(REAL.replace("batch = 32", "batch = 2").replace("h = 224", "h = 8")
                                    .replace("w = 224", "w = 8"), "small.toml"))
    assert not small.shapes_only
    assert checker_for(small).check("shape", "2x128x6x6").mistake == "That leaves out the padding"


def test_an_embedding_lookup_of_a_whole_training_set_answers_its_shape_without_computing_it():
    # makemore part 2: C[Xtr] for 182625 contexts of 3 characters, 10 numbers each: 5,478,750 numbers
    live = lesson("n = 182625\nblock = 3\nn_embd = 10\nC = \"zeros(27, n_embd)\"\nX = \"zeros(n, block)\"",
                  ["shape(emb)", "numel(emb)", "shape(reshape(emb, (n, block * n_embd)))"], "emb = C[X]")
    assert live.shapes_only
    assert [live.expected(f"s{i}").value for i in range(3)] == [[182625, 3, 10], 5_478_750, [182625, 30]]


# ---- limits: the numbers the docs state, and how to get under them --------------------------------

def test_every_limit_in_a_message_is_the_one_the_docs_state():
    for number in (limits.MAX_ELEMENTS, limits.MAX_WORK, budget.MAX_ELEMENTS, budget.MAX_OPS,
                   limits.MAX_JACOBIAN_ROWS, limits.MAX_SGD_STEPS, syntax.MAX_TEXT, syntax.MAX_NODES, limits.MAX_INT):
        assert f"{number:,}" in DOCS, number
    assert f"{budget.SECONDS:g} seconds" in DOCS and f"{syntax.MAX_DEPTH} levels" in DOCS
    for how in (limits.HOW_SMALLER, budget.HOW, syntax.SPLIT):
        assert how in " ".join(DOCS.split()), how


@pytest.mark.parametrize("given, ask, limit, how", [
    ('x = "ones(3000, 3000)"', "x", "the limit is 5,000,000 per tensor", limits.HOW_SMALLER),
    # not "Tensor.item() cannot be called on meta tensors": the value of a given too big to hold
    ('x = "ones(3000, 3000)"', "sum(x)", "the limit is 5,000,000 per tensor", limits.HOW_SMALLER),
    ("n = 3000", "sum(ones(n, n))", "the limit is 5,000,000 per tensor", limits.HOW_SMALLER),
    ('a = "ones(2000, 2000)"\nb = "ones(2000, 100)"', "a @ b", "the limit is 300,000,000 per operation",
     limits.HOW_SMALLER),
    ('x = "ones(1000000)"', "sum(x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x "
     "* x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x * x)",
     "one evaluation may make 40,000,000", budget.HOW),
    ('x = [1, 2]', "jacobian(ones(30000) * sum(x), x)", "the limit is 20,000 rows", "ask for the Jacobian of a slice"),
])
def test_a_limit_message_says_the_limit_and_how_to_get_under_it(given, ask, limit, how):
    with pytest.raises((LessonError, LessonErrors)) as info:  # a given too big is refused when it loads
        lesson(given, [ask]).expected("s0")
    message = str(info.value)
    assert limit in message and how in message


# ---- names written as names -----------------------------------------------------------------------

@pytest.mark.parametrize("latex, shown", [
    ("$n_embd$", "n_embd"), ("$n_embd = 10$", "n_embd = 10"), ("$d_model$", "d_model"),
    ("$\\text{block\\_size} \\times n_embd$", "block_size × n_embd"),
    ("$W_1$", "W₁"), ("$x_i$", "xᵢ"), ("$h_{t-1}$", "hₜ₋₁"), ("$C_{in}$", "Cᵢₙ"),
])
def test_a_name_with_an_underscore_reads_as_written_and_scripts_stay_scripts(latex, shown):
    assert to_unicode(latex) == shown


def test_no_message_says_the_limit_without_its_number():
    # one wording for the per-tensor limit everywhere it is raised
    text = (Path(__file__).parents[2] / "tutor" / "core").rglob("*.py")
    for path in text:
        for line in path.read_text(encoding="utf-8").splitlines():
            assert not re.search(r"the limit is \{[A-Z_]+:,\}\"\)", line), (path, line)
