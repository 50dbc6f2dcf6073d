"""Issue 8's misfiring named mistakes, each on the built-in lesson where it was found.

A mistake is named only when exactly one candidate explains the answer and the answer is not also
another node's value or a plain rounding; the numbers in the comments are worked by hand.
"""

import math

import pytest

from tutor.core.check.step import checker_for
from tutor.core.drill import variants as drill
from tutor.core.evaluate.live import LiveLesson


def verdict(live, lesson_id, step, typed):
    return checker_for(live(lesson_id)).check(step, typed)


@pytest.mark.parametrize("lesson_id, step, typed", [
    ("conv1d-maxpool-backprop", "forward", "1"),          # f = max(2, 1) = 2: no loss in this lesson
    ("conv2d-stride-padding", "conv_s3p1", "1 0; 0 1"),   # a convolution: no loss, no ½ to forget
])
def test_no_half_factor_on_a_lesson_without_a_loss(live, lesson_id, step, typed):
    v = verdict(live, lesson_id, step, typed)
    assert v.status == "wrong"
    assert v.mistake is None
    assert "½" not in v.message


def test_max_pool_gradient_sent_to_the_loser_is_not_a_flipped_kernel(live):
    # c = [2*1 + 1*0, 1*1 + 2*0] = [2, 1]; the max is c1, so df/dc = [1, 0]; [0, 1] routes it to c2
    v = verdict(live, "conv1d-maxpool-backprop", "df_dc", "0 1")
    assert v.status == "wrong"
    assert v.mistake == "gradient sent to an entry that lost the max"
    assert "flip" not in v.message


def test_the_relu_diagonal_is_not_called_the_value_of_b(live):
    # z = W x + b = [-1, 2]; the ReLU Jacobian is diag(0, 1). "0 1" is its diagonal and also b:
    # two stories, so neither is named
    v = verdict(live, "jacobian-linear-relu", "J_h_z", "0 1")
    assert v.status == "wrong_shape"
    assert v.mistake is None
    assert "value of b" not in v.message


def test_26_operations_per_output_is_not_called_macs(live):
    # 3*3*3 = 27 products and 26 additions: 26 is the additions alone, not a MAC count (27)
    v = verdict(live, "conv-layer-cost", "ops_per_output", "26")
    assert v.status == "wrong"
    assert v.mistake is None
    assert "MAC" not in v.message


def test_a_sign_slip_on_dl_do_is_not_called_dl_dt(live):
    v = verdict(live, "relu-mlp-backprop", "dL_do", "6")
    assert v.status == "wrong"
    assert v.mistake == "sign flipped"
    assert "∂L/∂t" not in v.message


def test_length_three_is_not_called_dilation_ignored_when_rounding_up_gives_three(live):
    # n=7, p=1, d=2, k=3, s=3: floor((7 + 2 - 4 - 1)/3) + 1 = 2; rounding up gives 3, and so does d = 1
    v = verdict(live, "conv1d-dilation", "length", "3")
    assert v.status == "wrong"
    assert v.mistake is None
    assert "ilation" not in v.message


def test_an_unflipped_kernel_in_the_backward_pass_is_never_told_it_flipped(tmp_path):
    # y = conv1d(x, k) with k = [1, 2]; L = sum(y * g) with g = [1, 10]. dL/dx is the full convolution
    # of g with the flipped kernel: [1*1, 1*2 + 10*1, 10*2] = [1, 12, 20]. Sliding k as written gives
    # [2*1, 1*1 + 2*10, 1*10] = [2, 21, 10].
    from tutor.core.lesson.load import parse_lesson

    text = ('title = "t"\ngraph = """\ny = conv1d(x, k)\nL = sum(y * g)\n"""\n[given]\n'
            'x = [1, 2, 3]\nk = [1, 2]\ng = [1, 10]\n[[steps]]\nid = "dx"\nask = "grad(L, x)"\n')
    live = LiveLesson(parse_lesson(text + '[[steps]]\nid = "dk"\nask = "grad(L, k)"\n', "t.toml"))
    v = checker_for(live).check("dx", "2 21 10")
    assert v.mistake == "kernel not flipped in the backward pass"
    assert "You flipped" not in v.message
    # dL/dk = [sum g_i x_i, sum g_i x_(i+1)] = [1 + 20, 2 + 30] = [21, 32]; reversed, [32, 21]
    assert checker_for(live).check("dk", "21 32").status == "correct"
    assert checker_for(live).check("dk", "32 21").mistake == "kernel gradient reversed"


def test_a_lessons_own_mistake_is_labelled_in_plain_text_without_a_prefix():
    from tutor.core.lesson.load import parse_lesson

    text = ('title = "t"\ngraph = """\nL = (y - t) ** 2\n"""\n[given]\ny = 3\nt = 1\n'
            '[[steps]]\nid = "d"\nask = "grad(L, y)"\n[[steps.mistakes]]\nwhen = "grad(L, t)"\n'
            "say = 'That is $\\partial\\mathcal{L}/\\partial t$. Differentiate with respect to $y$.'\n")
    v = checker_for(LiveLesson(parse_lesson(text, "t.toml"))).check("d", "-4")  # dL/dy = 2(3 - 1) = 4; dL/dt = -4
    assert v.mistake == "That is ∂ℒ/∂t"


def test_a_sine_variant_with_positive_y_is_never_told_y_is_negative(catalog):
    # w = [pi/6, 0], x = [1, 0], b = 0: y = sin(pi/6) = 0.5 > 0, y_hat = 2: L = 1.5**2 = 2.25, and the
    # sign slip (y_hat + y)**2 = 6.25 is told nothing false about y. (The lesson no longer names that slip
    # itself: on its own numbers its value is the given b, so it could never be named there.)
    sine = catalog.lesson("sine-neuron")
    live = LiveLesson(sine, overrides={"w": [math.pi / 6, 0.0], "x": [1, 0], "b": 0, "y_hat": 2})
    assert abs(live.scope.env["y"].item() - 0.5) < 1e-6
    v = checker_for(live).check("loss", "6.25")
    assert v.status == "wrong"
    assert "negative" not in v.message and "negative" not in (v.mistake or "")
    # and on the drill's own variants, wherever the slip differs from the answer
    for seed in range(50):
        variant = LiveLesson(drill.variant([sine], seed))
        y, y_hat = variant.scope.env["y"].item(), variant.scope.env["y_hat"].item()
        v = checker_for(variant).check("loss", repr((y_hat + y) ** 2))
        assert "negative" not in v.message or y < 0, (seed, y, v.message)
