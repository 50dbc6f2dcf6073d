"""Slips students really make, each on a lesson where it happens, named with its exact label.

The lessons are in tests/fixtures/slips (written the way a teacher writes one) or built in; every
mistaken answer is worked by hand in the comment beside it.
"""

from pathlib import Path

import pytest

from tutor.core.check.step import checker_for
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.catalog import Catalog
from tutor.core.lesson.load import load_lesson

SLIPS = Path(__file__).parent.parent / "fixtures" / "slips"
_LIVE: dict[str, LiveLesson] = {}


def check(lesson: str, step: str, typed: str):
    if lesson not in _LIVE:
        path = SLIPS / f"{lesson}.toml"
        _LIVE[lesson] = LiveLesson(load_lesson(path) if path.exists() else Catalog.load().lesson(lesson))
    return checker_for(_LIVE[lesson]).check(step, typed)


@pytest.mark.parametrize("lesson, step, typed, label", [
    # z = ln 3: sigma = 3/4, sigma' = 3/16; tanh = 4/5, tanh' = 9/25; t = 0, x = 2.
    # dL/dw = 2 * 3/4 * 3/16 * 2 = 0.5625; without sigma': 2 * 3/4 * 2 = 3
    ("activations", "dL_dw", "3", "forgotten σ′ (the sigmoid derivative)"),
    # dM/dw = 2 * 4/5 * 9/25 * 2 = 1.152; without tanh': 2 * 4/5 * 2 = 3.2
    ("activations", "dM_dw", "3.2", "forgotten tanh′ (the tanh derivative)"),
    # y = [2, 6], errors [1, 4]: dL/dw = (2*1*1 + 2*4*3) / 2 = 13; summed instead of averaged: 26
    ("mean-loss", "dL_dw", "26", "forgotten 1/N of the mean"),
    # Mazur's E = ½ sum (target - out)²: forgetting the ½ doubles dE/dw5 = 0.082167041
    ("mazur-2-2-2-network", "dE_dw5", "0.164334081", "forgotten ½"),
    # the lesson's loss (o - t)² has no ½: adding one halves dL/do = 2 (o - t) = -6
    ("relu-mlp-backprop", "dL_do", "-3", "the ½ factor"),
    # four 3x3x3 kernels, no bias: 108 weights; counting a bias per kernel gives 112
    ("layer-counts", "n_kernel", "112", "bias counted"),
    # (2, 4, 8, 8): the batch of 2 left out
    ("layer-counts", "out_shape", "4x8x8", "batch dimension left out"),
    ("layer-counts", "out_numbers", "256", "batch dimension left out"),           # 2*4*8*8 = 512
    ("layer-counts", "linear_params", "15", "biases left out of the count"),      # 3*5 + 3 = 18
    # n=10, k=3, s=2, p=1: floor(9/2) + 1 = 5; rounding up: ceil(9/2) + 1 = 6
    ("output-sizes", "strided", "6", "output size rounded up"),
    # n=11, k=3, p=2: 11 + 4 - 3 + 1 = 13; padding one end only: 11 + 2 - 3 + 1 = 11; no +1: 12
    ("output-sizes", "padded", "11", "padding on one side only"),
    ("output-sizes", "padded", "12", "the +1 left out of the output size"),
    # windows [1,5,2], [5,2,3], [2,3,4]: max [5, 5, 4]; averages [8/3, 10/3, 3]
    ("pooling-softmax", "pooled", "2.67 3.33 3", "average instead of max pooling"),
    # 5 wins two windows: dS/dx = [0, 2, 0, 0, 1]; writing instead of adding gives [0, 1, 0, 0, 1]
    ("pooling-softmax", "dS_dx", "0 1 0 0 1", "overlapping windows not accumulated"),
    # softmax down the columns: e/(e + e^3) = 0.1192, e^3/(e + e^3) = 0.8808 in each column
    ("pooling-softmax", "probs", "0.1192 0.1192; 0.8808 0.8808", "softmax over the wrong axis"),
    ("pooling-softmax", "hom_shape", "(2,)", "the homogeneous 1 left out"),          # (3,) with the 1
    # mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5: unbiased 5/3, biased 5/4
    ("pooling-softmax", "variance", "1.25", "biased variance (divided by n)"),
    # w = 1, dL/dw = 2(w - 3), rate 1/8: -4 -> w = 1.5; -3 -> w = 1.875. One step stops at 1.5
    ("two-steps", "after_two", "1.5", "one SGD step instead of several"),
])
def test_a_slip_is_named_where_it_happens(lesson, step, typed, label):
    verdict = check(lesson, step, typed)
    assert verdict.status in ("wrong", "wrong_shape")
    assert verdict.mistake == label


def test_the_activation_slip_is_not_also_called_another_gradient():
    # with f = sigmoid(z), dz/dw is the same number as the forgotten sigma': one story, one name
    lesson = SLIPS / "activations.toml"
    assert lesson.exists()
    assert "∂" not in check("activations", "dL_dw", "3").mistake


def test_the_right_answers_are_right():
    # the numbers above, typed correctly
    assert check("activations", "dL_dw", "0.5625").status == "correct"
    assert check("activations", "dM_dw", "1.152").status == "correct"
    assert check("mean-loss", "dL_dw", "13").status == "correct"
    assert check("output-sizes", "strided", "5").status == "correct"
    assert check("output-sizes", "padded", "13").status == "correct"
    assert check("pooling-softmax", "dS_dx", "0 2 0 0 1").status == "correct"
    assert check("pooling-softmax", "variance", "5/3").status == "correct"
    assert check("two-steps", "after_two", "1.875").status == "correct"
