"""The slips the next courses' learners make, named by the tutor alone (no [[steps.mistakes]] in these lessons),
and only when the slip alone explains the answer.

Every slipped answer is computed here independently, by hand or with torch directly.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from tutor.core.check.step import checker_for
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.load import parse_lesson


def lesson(graph: str, given: str, asks: dict[str, str], extra: str = "") -> LiveLesson:
    steps = "".join(f'[[steps]]\nid = "{k}"\nask = "{v}"\n' for k, v in asks.items())
    return LiveLesson(parse_lesson(f'graph = """\n{graph}\n"""\n{extra}\n[given]\n{given}\n{steps}', "t.toml"))


def named(live: LiveLesson, step: str, typed: str) -> str | None:
    verdict = checker_for(live).check(step, typed)
    assert verdict.status in ("wrong", "wrong_shape"), verdict
    return verdict.mistake


def typed(values) -> str:
    """A vector as "a b c", a matrix row by row as "a b; c d", six decimals."""
    t = torch.as_tensor(values, dtype=torch.float64)
    rows = t.reshape(-1, t.shape[-1]) if t.dim() > 1 else t.reshape(1, -1)
    return "; ".join(" ".join(f"{v:.6f}" for v in row) for row in rows.tolist())


# ---- the forgotten local derivative, on every activation and on several sets of numbers -------------------

ACTIVATIONS = {
    "relu": (torch.relu, "forgotten ReLU′ (the relu derivative)"),
    "tanh": (torch.tanh, "forgotten tanh′ (the tanh derivative)"),
    "sigmoid": (torch.sigmoid, "forgotten σ′ (the sigmoid derivative)"),
    "sin": (torch.sin, "forgotten sin′ (the sin derivative)"),
    "exp": (torch.exp, "forgotten exp′ (the exp derivative)"),
    "log": (torch.log, "forgotten log′ (the log derivative)"),
    "sqrt": (torch.sqrt, "forgotten sqrt′ (the sqrt derivative)"),
    "leaky_relu": (F.leaky_relu, "forgotten leaky ReLU′ (the leaky_relu derivative)"),
    "elu": (F.elu, "forgotten ELU′ (the elu derivative)"),
    "gelu": (F.gelu, "forgotten GELU′ (the gelu derivative)"),
    "softplus": (F.softplus, "forgotten softplus′ (the softplus derivative)"),
    "softmax": (lambda t: torch.softmax(t, -1), "forgotten softmax′ (the softmax derivative)"),
}
POSITIVE = [([0.5, 2.0, 1.5], [1.0, -1.0, 2.0]), ([1.5, 0.25, 3.0], [2.0, 1.0, -3.0]), ([2.0, 1.0, 0.5], [-1.0, 3.0, 1.0])]
SIGNED = [([0.5, -2.0, 1.5], [1.0, -1.0, 2.0]), ([-1.5, 0.25, 3.0], [2.0, 1.0, -3.0]), ([2.0, -1.0, -0.5], [-1.0, 3.0, 1.0])]
PIECEWISE = {"relu", "leaky_relu", "elu"}  # derivative 1 for a positive input: the slip needs a negative one


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("numbers", range(3))
def test_the_forgotten_derivative_of_every_activation_is_named_on_every_set_of_numbers(act, numbers):
    fn, label = ACTIVATIONS[act]
    z, g = (SIGNED if act in PIECEWISE else POSITIVE)[numbers]
    live = lesson(f"a = w * z\ny = {act}(a)\nL = sum(y * g)", f"w = 1.5\nz = {z}\ng = {g}", {"dL_dz": "grad(L, z)"})
    zt, gt = torch.tensor(z, dtype=torch.float64), torch.tensor(g, dtype=torch.float64)
    # without the activation's derivative the upstream gradient g flows straight to a = w z: dL/dz = 1.5 g
    slipped = 1.5 * gt
    right = torch.autograd.functional.vjp(lambda t: fn(1.5 * t), zt, gt)[1]
    assert not torch.allclose(right, slipped)
    assert named(live, "dL_dz", typed(slipped)) == label


def test_the_upstream_factor_itself_is_the_forgotten_relu_not_a_coincidence():
    # s = u · relu(W x): without ReLU′, ∂s/∂z is u itself, a given
    live = lesson("z = W @ x\nh = relu(z)\ns = dot(u, h)", "W = [[1, 0], [0, -1], [2, 1]]\nx = [1, 2]\nu = [2, -1, 3]",
                  {"delta": "grad(s, z)"})
    assert named(live, "delta", "2 -1 3") == "forgotten ReLU′ (the relu derivative)"


# ---- parameter counts with a group of tensors left out -----------------------------------------------------

COUNT = '''
h = layer_norm(x @ W1 + b1, 4, g, beta)
y = linear(h, W2, b2)
'''
COUNT_GIVEN = '''
x = "zeros(2, 3)"
W1 = "zeros(3, 4)"
b1 = "zeros(4)"
g = "ones(4)"
beta = "zeros(4)"
W2 = "zeros(5, 4)"
b2 = "zeros(5)"
'''
ALL = "numel(W1) + numel(b1) + numel(g) + numel(beta) + numel(W2) + numel(b2)"


@pytest.mark.parametrize("answer, label", [
    (12 + 4 + 4 + 4 + 20 + 5 - 4 - 5, "biases left out of the count"),                 # b1 and b2
    (12 + 4 + 20 + 5, "the norm's gain and bias left out of the count"),                # g and beta
    (4 + 4 + 4 + 20 + 5, "W1 left out of the count"),
    (12 + 4 + 4 + 4 + 5, "W2 left out of the count"),
])
def test_a_count_missing_a_group_of_tensors_names_the_group(answer, label):
    live = lesson(COUNT, COUNT_GIVEN, {"params": ALL})
    assert live.expected("params").value == 12 + 4 + 4 + 4 + 20 + 5
    assert named(live, "params", str(answer)) == label


def test_two_tensors_of_one_size_left_out_alone_name_neither():
    # g and beta hold 4 numbers each (and so does b1, a group of its own): 49 - 4 = 45 is any of them
    live = lesson(COUNT, COUNT_GIVEN.replace('b1 = "zeros(4)"', 'b1 = "zeros(4)"\nb3 = "zeros(4)"'),
                  {"params": "numel(W1) + numel(g) + numel(beta) + numel(W2) + numel(b2)"})
    assert named(live, "params", str(12 + 4 + 20 + 5)) is None


def test_a_stacked_tensor_counted_by_its_slice_is_that_tensor():
    live = lesson("y = x", 'x = 1\nW = "zeros(6, 3, 4)"\nb = "zeros(6, 4)"', {"block": "numel(W[0]) + numel(b[0])"})
    assert named(live, "block", "12") == "biases left out of the count"


# ---- reductions, norms, powers ----------------------------------------------------------------------------

def test_a_reduction_along_the_other_axis():
    live = lesson("m = mean(Z, dim=0)\nw = T / sum(T, dim=1, keepdim=1)",
                  "Z = [[0, 5], [4, 1], [4, 1], [4, 1]]\nT = [[1, 0], [1, 1]]", {"m": "m", "w": "w"})
    assert named(live, "m", "2.5 2.5 2.5 2.5") == "reduction over the other axis"     # each row's mean
    assert named(live, "w", "0.5 0; 0.5 1") == "reduction over the other axis"        # columns summed: 2 and 1


def test_layer_norm_with_the_unbiased_variance():
    live = lesson("y = layer_norm(X, 3)", "X = [[1, 2, 6], [0, 0, 3]]", {"y": "y"})
    X = torch.tensor([[1.0, 2, 6], [0, 0, 3]], dtype=torch.float64)
    slipped = (X - X.mean(1, keepdim=True)) / torch.sqrt(X.var(1, keepdim=True) + 1e-5)
    assert named(live, "y", typed(slipped)) == "unbiased variance in the normalization (divided by n − 1)"


def test_the_power_rules_factor_forgotten_but_a_squared_errors_two_stays_the_half_factor():
    live = lesson("f = x[0] ** 3 + 2 * x[1] ** 2", "x = [2, -1]", {"g": "grad(f, x)"})
    assert named(live, "g", "4 -2") == "the power rule's factor forgotten"            # 3·4 -> 4, 2·2·(-1) -> -2
    squared = lesson("L = (y - t) ** 2", "y = 5\nt = 2", {"dL_dy": "grad(L, y)"})
    assert named(squared, "dL_dy", "3") == "the ½ factor"


# ---- optimizers -----------------------------------------------------------------------------------------------

TRAIN = '[train]\nloss = "L"\nparams = ["w"]\nlr = 0.1\nsteps = 5'


@pytest.mark.parametrize("ask, make", [
    ("rmsprop(w, 0.1, alpha=0.9)", lambda p: torch.optim.RMSprop(p, lr=0.1, alpha=0.9, maximize=True)),
    ("adam(w, 0.1)", lambda p: torch.optim.Adam(p, lr=0.1, maximize=True)),
    ("sgd(w, 0.1)", lambda p: torch.optim.SGD(p, lr=0.1, maximize=True)),
])
def test_an_optimizer_step_up_the_gradient_is_the_wrong_sign(ask, make):
    w = torch.tensor([1.0, -3.0], dtype=torch.float64, requires_grad=True)
    opt = make([w])
    (w ** 2).sum().backward()
    opt.step()
    live = lesson("L = sum(w ** 2)", "w = [1.0, -3.0]", {"step": ask}, TRAIN)
    assert named(live, "step", typed(w.detach())) == "update with the wrong sign"


def test_one_rmsprop_step_where_three_were_asked():
    w = torch.tensor([1.0, -3.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.RMSprop([w], lr=0.1)
    (w ** 2).sum().backward()
    opt.step()
    live = lesson("L = sum(w ** 2)", "w = [1.0, -3.0]", {"three": "rmsprop(w, 0.1, 3)"}, TRAIN)
    assert named(live, "three", typed(w.detach())) == "one step instead of several"


# ---- cross-entropy over a batch, softmax, lookups ---------------------------------------------------------------

CE = "p = softmax(z, dim=1)\nL = cross_entropy(z, y)"
CE_GIVEN = 'z = ["[0, log(3)]", "[log(4), 0]"]\ny = [1, 1]'


def test_the_batch_means_1_over_n_and_the_forgotten_minus_y():
    live = lesson(CE, CE_GIVEN, {"L": "L", "dz": "grad(L, z)", "p": "p"})
    p = torch.tensor([[0.25, 0.75], [0.8, 0.2]])
    onehot = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    assert named(live, "L", f"{-math.log(0.75) - math.log(0.2):.6f}") == "forgotten 1/N of the mean"
    assert named(live, "dz", typed(p - onehot)) == "forgotten 1/N of the mean"
    assert named(live, "dz", typed(p / 2)) == "softmax probabilities instead of p − y"
    assert named(live, "p", typed(torch.sigmoid(torch.log(torch.tensor([[1.0, 3.0], [4.0, 1.0]]))))) == \
        "sigmoid of each entry instead of softmax"


def test_a_gradient_asked_for_one_row_names_the_same_slips_for_that_row():
    live = lesson(CE, CE_GIVEN, {"row": "grad(L, z)[1]"})
    # row 1: p = [0.8, 0.2], y = class 1, so the answer is (p - y) / 2 = [0.4, -0.4]
    assert named(live, "row", "0.8 -0.8") == "forgotten 1/N of the mean"
    assert named(live, "row", "0.4 0.1") == "softmax probabilities instead of p − y"


def test_a_row_picked_twice_whose_gradients_are_overwritten():
    live = lesson("emb = C[X]\nell = sum(emb * G)", "C = [[1, 0], [0, 2], [-1, 1]]\nX = [[1, 0, 1]]\n"
                  "G = [[[1, 2], [3, 4], [5, 6]]]", {"dC": "grad(ell, C)", "shape": "shape(emb)"})
    # positions 0 and 2 both pick row 1 of C: added [6, 8]; overwritten, the last wins: [5, 6]
    assert named(live, "dC", "3 4; 5 6; 0 0") == "gradients of a row picked twice not added"
    assert named(live, "shape", "3x2") == "batch dimension left out"
