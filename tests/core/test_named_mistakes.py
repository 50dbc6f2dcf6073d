"""Named mistakes: a wrong answer that matches a common error is told which error it was.

Each mistaken answer below is worked out by hand here, independently of the code under test.
"""

import pytest

from tutor.core.check.step import checker_for
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.load import parse_lesson


def lesson(graph: str, given: str, asks: dict[str, str], extra: str = "") -> LiveLesson:
    steps = "".join(f'[[steps]]\nid = "{k}"\nask = "{v}"\n' for k, v in asks.items())
    text = f'title = "t"\ngraph = """\n{graph}\n"""\n[given]\n{given}\n{steps}{extra}'
    return LiveLesson(parse_lesson(text, "t.toml"))


SINE = lesson("y = sin(w @ x) - b\nL = (y_hat - y) ** 2",
              'x = [2, 1]\nw = ["pi/2", "pi"]\nb = 1\ny_hat = 2\nalpha = 0.5',
              {"dy_dw": "grad(y, w)", "dL_dw": "grad(L, w)", "update": "w - alpha * grad(L, w)"},
              '[train]\nloss = "L"\nparams = ["w"]\nlr = 0.5\nsteps = 5\n')

X3 = "x = [[1, 0, 2], [2, 1, -1], [0, 0, 2]]\nw = [[1, -1], [0, 2]]"
CONV = lesson("", X3, {"c1": "conv2d(x, w)", "c2": "conv2d(x, w, stride=3, padding=1)",
                       "pool": "max_pool2d(x, 2, stride=1)", "pool_default": "max_pool2d(x, 2)"})
SIGNAL = lesson("", "x = [1, 2, 3, 4, 5]\nk = [1, 1]",
                {"strided": "conv1d(x, k, stride=2)", "dilated": "conv1d(x, k, dilation=2)"})


def named(live: LiveLesson, step: str, answer: str):
    verdict = checker_for(live).check(step, answer)
    assert verdict.status in ("wrong", "wrong_shape"), verdict
    return verdict.mistake, verdict.message


@pytest.mark.parametrize("live, step, answer, mistake, words", [
    # the seed notebook printed dL/dw as "the gradient of y": dy/dw is [2, 1]
    (SINE, "dy_dw", "-12 -6", "∂L/∂w instead of ∂y/∂w", "∂L/∂w"),
    (SINE, "dL_dw", "12 6", "sign flipped", "sign"),
    (SINE, "dL_dw", "-6 -3", "the ½ factor", "½"),
    # w + 0.5 * [-12, -6] = [pi/2 - 6, pi - 3]
    (SINE, "update", "-4.4292 0.1416", "update with the wrong sign", "against the gradient"),
    # w - [-12, -6] = [pi/2 + 12, pi + 6]
    (SINE, "update", "13.5708 9.1416", "update without the learning rate", "learning rate"),
    # the kernel flipped to [[2, 0], [-1, 1]], slid over x by hand
    (CONV, "c1", "1 -2; 4 4", "true convolution (flipped kernel)", "cross-correlation"),
    # without the padding, a stride-3 2x2 window fits once: the top-left sum 1 - 0 + 0 + 2*1 = 3
    (CONV, "c2", "3", "padding ignored", "Pad the input"),
    (CONV, "pool_default", "2 2; 2 2", "pooling with stride 1", "kernel size"),
    # stride ignored: every adjacent pair summed
    (SIGNAL, "strided", "3 5 7 9", "stride ignored", "stride"),
    (SIGNAL, "dilated", "3 5 7 9", "dilation ignored", "Dilation"),
    # dilation read as 3: x[i] + x[i+3]
    (SIGNAL, "dilated", "5 7", "dilation misread (off by one)", "gaps"),
])
def test_mistakes_in_gradients_updates_and_convolutions(live, step, answer, mistake, words):
    got, message = named(live, step, answer)
    assert got == mistake
    assert words in message


def test_transposed_matrix_and_jacobian_layout():
    live = lesson("z = W @ x", "W = [[1, 2, 3], [4, 5, 6]]\nx = [1, 1, 1]\na = [1, 2]\nb = [3, 4]",
                  {"o": "outer(a, b)", "j": "jacobian(z, x)", "js": "shape(jacobian(z, x))"})
    assert named(live, "o", "3 6; 4 8")[0] == "transposed matrix"
    assert named(live, "j", "1 4; 2 5; 3 6")[0] == "Jacobian in the other layout"
    assert named(live, "js", "3x2")[0] == "Jacobian in the other layout"


def test_softmax_cross_entropy_quantities():
    live = lesson("p = softmax(z)\nL = cross_entropy(z, y)", "z = [1, 2, 3]\ny = [0, 0, 1]",
                  {"p": "p", "dz": "grad(L, z)"})
    # softmax([1, 2, 3]) = e^k / (e + e^2 + e^3)
    mistake, message = named(live, "dz", "0.0900 0.2447 0.6652")
    assert mistake == "softmax probabilities instead of p − y" and "p − y" in message
    assert named(live, "p", "1 2 3")[0] == "logits instead of probabilities"


def test_mse_mean_sum_and_half():
    live = lesson("yhat = w * x\nL = mse_loss(yhat, t)", "w = 1\nx = [1, 2]\nt = [0, 0]", {"L": "L"})
    assert named(live, "L", "5")[0] == "MSE summed instead of averaged"      # 1 + 4
    assert named(live, "L", "1.25")[0] == "an extra ½ in the MSE"           # (1 + 4) / 2 / 2


def test_flops_macs_and_bytes():
    live = lesson("y = conv2d(x, w, padding=1)", 'x = "zeros(1, 3, 8, 8)"\nw = "zeros(4, 3, 3, 3)"',
                  {"f": "flops(y)", "ops": "flops(y) - numel(y)", "b": "bytes(zeros(4, 3, 3, 3, dtype=float32))"})
    macs = 27 * 4 * 8 * 8  # one multiply-add per kernel tap per output
    assert named(live, "f", str(macs))[0] == "multiply-accumulates instead of FLOPs"
    assert named(live, "ops", str(2 * macs))[0] == "PyTorch's FLOP count instead of this convention"
    assert named(live, "b", str(4 * 27 * 4 * 8))[0] == "bits instead of bytes"
    assert named(live, "b", str(4 * 27))[0] == "elements instead of bytes"
    assert named(live, "b", str(4 * 27 * 8))[0] == "float64 instead of float32"


def test_a_lessons_own_named_mistake():
    extra = '[[steps.mistakes]]\nwhen = "x + w"\nsay = "You added instead of multiplying."\n'
    live = lesson("y = x * w", "x = 3\nw = 4", {"y": "y"}, extra)
    mistake, message = named(live, "y", "7")
    assert mistake == "You added instead of multiplying"
    assert "added instead of multiplying" in message


def test_a_plainly_wrong_answer_names_nothing():
    assert named(SINE, "dL_dw", "3 100")[0] is None


def test_a_sign_slip_that_is_also_another_nodes_value_names_nothing():
    # y = sin(2*pi) - 1 = -1; typing 1 could be a sign slip or the value of b: nothing is named
    live = lesson("y = sin(w @ x) - b", 'x = [2, 1]\nw = ["pi/2", "pi"]\nb = 1', {"y": "y"})
    assert named(live, "y", "1")[0] is None


def test_two_slips_giving_the_same_answer_name_nothing():
    # a 2x2 window with stride 2 over a 3x3 input fits once, [[2]]; so does the stride-1 output without its
    # last row and column: either slip gives 2, so neither is named
    assert named(CONV, "pool", "2")[0] is None


def test_pooling_stride_taken_as_the_kernel_size_when_it_alone_explains():
    # x = 0..15 as 4x4; 2x2 windows with stride 2 have maxima 5, 7, 13, 15 (stride 1 gives a 3x3 answer)
    grid = lesson("", "x = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]",
                  {"pool": "max_pool2d(x, 2, stride=1)"})
    assert named(grid, "pool", "5 7; 13 15")[0] == "pooling stride taken as the kernel size"


def test_an_answer_that_is_a_plain_rounding_names_nothing():
    # 0.3 rounded to units is 0: also what the lesson's mistake gives, but "0" says no more than a rounding
    extra = '[[steps.mistakes]]\nwhen = "x - 0.3"\nsay = "You subtracted the offset twice."\n'
    live = lesson("y = x", "x = 0.3", {"y": "y"}, extra)
    assert named(live, "y", "0")[0] is None
    assert named(live, "y", "0.0")[0] == "You subtracted the offset twice"


def test_a_candidate_list_cut_short_by_the_budget_names_nothing(monkeypatch):
    from tutor.core.diagnosis import diagnose as mistakes

    monkeypatch.setattr(mistakes, "MIN_OPS", 0)
    monkeypatch.setattr(mistakes, "MAX_OPS_FACTOR", 0)
    live = lesson("y = sin(w @ x) - b\nL = (y_hat - y) ** 2",
                  'x = [2, 1]\nw = ["pi/2", "pi"]\nb = 1\ny_hat = 2', {"dL_dw": "grad(L, w)"})
    assert not checker_for(live).mistake_candidates("dL_dw").complete
    assert named(live, "dL_dw", "12 6")[0] is None
