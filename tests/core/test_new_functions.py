"""The course functions and optimizers, each checked against numbers worked out independently.

Independent means by hand in the test, or with torch.nn.functional / torch.optim called directly here.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from tutor.core.errors import LessonError, LessonErrors
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.load import parse_lesson


def value(ask: str, given: str = "", graph: str = "", extra: str = ""):
    text = f'graph = """\n{graph}\n"""\n{extra}\n[given]\n{given}\n[[steps]]\nid = "s"\nask = "{ask}"\n'
    return LiveLesson(parse_lesson(text, "t.toml")).expected("s").value


def flat(data) -> list[float]:
    return torch.tensor(data, dtype=torch.float64).reshape(-1).tolist()


def t(data) -> torch.Tensor:
    return torch.tensor(data, dtype=torch.float64)


Z = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]
ZG = "z = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]"


def test_batched_cross_entropy_with_a_vector_of_class_indices():
    # by hand: mean over rows of logsumexp(row) - row[target]
    rows = [(Z[0], 0), (Z[1], 1)]
    hand = sum(math.log(sum(math.exp(v) for v in r)) - r[k] for r, k in rows) / 2
    assert value("cross_entropy(z, y)", f"{ZG}\ny = [0, 1]") == pytest.approx(hand, rel=1e-12)


def test_cross_entropy_refuses_class_indices_out_of_range():
    with pytest.raises(LessonErrors, match="class indices"):
        LiveLesson(parse_lesson(f'graph = "L = cross_entropy(z, y)"\n[given]\n{ZG}\ny = [0, 3]\n'
                                '[[steps]]\nid = "s"\nask = "L"\n')).expected("s")


def test_var_and_std_with_correction():
    xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]  # mean 5, squared deviations sum to 32
    given = f"x = {xs}"
    assert value("var(x)", given) == pytest.approx(32 / 7)
    assert value("var(x, correction=0)", given) == pytest.approx(4.0)
    assert value("std(x, correction=0)", given) == pytest.approx(2.0)
    assert value("std(x)", given) == pytest.approx(math.sqrt(32 / 7))


def test_sum_mean_max_with_dim_and_keepdim():
    given = "M = [[1, 5], [3, -2]]"
    assert value("sum(M, dim=0)", given) == [4, 3]
    assert value("sum(M, 1, 1)", given) == [[6], [1]]
    assert value("sum(M, keepdim=1)", given) == [[7]]
    assert value("mean(M, dim=1, keepdim=1)", given) == [[3], [0.5]]
    assert value("max(M, dim=0)", given) == [3, 5]
    assert value("sum(M, dim=(0, 1))", given) == 7


def test_binary_cross_entropy_and_with_logits():
    p, y = [0.9, 0.2], [1.0, 0.0]
    hand = -(math.log(0.9) + math.log(0.8)) / 2
    assert value("binary_cross_entropy(p, y)", f"p = {p}\ny = {y}") == pytest.approx(hand)
    z = [2.0, -1.0]
    hand = -(math.log(1 / (1 + math.exp(-2))) + math.log(1 - 1 / (1 + math.exp(1)))) / 2
    assert value("binary_cross_entropy_with_logits(z, y)", f"z = {z}\ny = {y}") == pytest.approx(hand)


def test_layer_norm_and_training_mode_batch_norm():
    x = [[1.0, 2.0, 3.0], [2.0, 4.0, 9.0]]
    ln = value("layer_norm(x, 3)", f"x = {x}")
    # row 0: mean 2, biased variance 2/3
    s = math.sqrt(2 / 3 + 1e-5)
    assert ln[0] == pytest.approx([-1 / s, 0, 1 / s])
    bn = value("batch_norm(x, weight=[1, 2, 1], bias=[0, 0, 1])", f"x = {x}")
    expected = F.batch_norm(t(x), None, None, t([1, 2, 1]), t([0, 0, 1]), training=True)
    assert flat(bn) == pytest.approx(flat(expected.tolist()))
    # by hand, column 0: values 1 and 2, mean 1.5, biased variance 0.25
    assert bn[0][0] == pytest.approx(-0.5 / math.sqrt(0.25 + 1e-5))


def test_conv_with_bias_and_groups_and_transposed_conv():
    x = [[[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, -1.0]]]  # (1, 2, 4)
    w = [[[1.0, -1.0]], [[2.0, 0.5]]]  # (2, 1, 2): one filter per channel
    got = value("conv1d(x, w, bias=[10, 20], groups=2)", f"x = {x}\nw = {w}")
    # channel 0: 1-2, 2-3, 3-4 -> -1 +10; channel 1: 0*2+1*.5, 1*2+0, 0-0.5 -> +20
    assert got == [[[9, 9, 9], [20.5, 22, 19.5]]]
    # a transposed conv of [1, 2] with kernel [1, 1, 1] at stride 2: [1, 1, 1+2, 2, 2]
    assert value("conv_transpose1d([[[1, 2]]], [[[1, 1, 1]]], stride=2)") == [[[1, 1, 3, 2, 2]]]
    w2 = torch.arange(8.0, dtype=torch.float64).reshape(1, 2, 2, 2)
    x2 = torch.arange(9.0, dtype=torch.float64).reshape(1, 1, 3, 3) - 4
    got = value("conv_transpose2d(x, w, padding=1, output_padding=1, stride=2)",
                f"x = {x2.tolist()}\nw = {w2.tolist()}")
    assert flat(got) == pytest.approx(flat(F.conv_transpose2d(x2, w2, padding=1, output_padding=1, stride=2)))


def test_scaled_dot_product_attention_by_hand():
    q, k, v = [[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[10.0, 0.0], [0.0, 10.0]]
    # scores 1/sqrt(2) and 0 -> weights softmax
    a = math.exp(1 / math.sqrt(2))
    w0, w1 = a / (a + 1), 1 / (a + 1)
    got = value("scaled_dot_product_attention(q, k, v)", f"q = {q}\nk = {k}\nv = {v}")
    assert flat(got) == pytest.approx([10 * w0, 10 * w1])
    causal = value("scaled_dot_product_attention(k, k, v, is_causal=1)", f"k = {k}\nv = {v}")
    assert causal[0] == pytest.approx([10.0, 0.0])  # the first query sees only the first key


def test_where_comparisons_and_clamp():
    given = "x = [-2, -0.5, 0, 3]"
    assert value("where(x > 0, x, 0 * x)", given) == [0, 0, 0, 3]
    assert value("x * (x >= 0)", given) == [0, 0, 0, 3]
    assert value("(x < 0) + (x == 0) * 10 + (x <= -2) * 100", given) == [101, 1, 10, 0]
    assert value("clamp(x, -1, 1)", given) == [-1, -0.5, 0, 1]
    assert value("clamp(x, min=0)", given) == [0, 0, 0, 3]


def test_activations_match_their_formulas():
    given = "x = [-1.0, 2.0]"
    assert value("leaky_relu(x)", given) == pytest.approx([-0.01, 2.0])
    assert value("leaky_relu(x, 0.2)", given) == pytest.approx([-0.2, 2.0])
    assert value("elu(x, alpha=2)", given) == pytest.approx([2 * (math.exp(-1) - 1), 2.0])
    phi = lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2)))  # noqa: E731
    assert value("gelu(x)", given) == pytest.approx([-phi(-1), 2 * phi(2)])
    assert value("softplus(x)", given) == pytest.approx([math.log(1 + math.exp(-1)), math.log(1 + math.exp(2))])
    assert value("softplus(x, beta=2)", given) == pytest.approx([math.log(1 + math.exp(-2)) / 2,
                                                                  math.log(1 + math.exp(4)) / 2])


def test_arange_and_linspace():
    assert value("arange(4)") == [0, 1, 2, 3]
    assert value("arange(1, 2, 0.25)") == [1, 1.25, 1.5, 1.75]
    assert value("linspace(0, 1, 5)") == [0, 0.25, 0.5, 0.75, 1]


TRAIN = '[train]\nloss = "L"\nparams = ["w"]\nlr = 0.1\nsteps = 5'


def _torch_optimizer_run(make, steps: int, **kw) -> float:
    w = t([1.0, -2.0]).requires_grad_(True)
    x = t([3.0, 1.0])
    opt = make([w], **kw)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((w * x).sum() - 1) ** 2 + (w ** 2).sum()
        loss.backward()
        opt.step()
    return float(((w * x).sum() - 1) ** 2 + (w ** 2).sum())


@pytest.mark.parametrize("ask, make, steps, kw", [
    ("sgd(L, 0.01, steps=7)", torch.optim.SGD, 7, dict(lr=0.01)),
    ("sgd(L, 0.01, 7, momentum=0.9)", torch.optim.SGD, 7, dict(lr=0.01, momentum=0.9)),
    ("sgd(L, 0.01, 7, momentum=0.9, nesterov=1)", torch.optim.SGD, 7, dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("sgd(L, 0.01, 7, weight_decay=0.1, momentum=0.5, dampening=0.5)", torch.optim.SGD, 7,
     dict(lr=0.01, weight_decay=0.1, momentum=0.5, dampening=0.5)),
    ("adam(L, 0.1, steps=9)", torch.optim.Adam, 9, dict(lr=0.1)),
    ("adam(L, 0.1, 9, betas=(0.5, 0.9), eps=0.001, weight_decay=0.01)", torch.optim.Adam, 9,
     dict(lr=0.1, betas=(0.5, 0.9), eps=0.001, weight_decay=0.01)),
])
def test_optimizers_follow_torch_optim(ask, make, steps, kw):
    got = value(ask, "w = [1.0, -2.0]\nx = [3.0, 1.0]", "L = (sum(w * x) - 1) ** 2 + sum(w ** 2)", TRAIN)
    assert got == pytest.approx(_torch_optimizer_run(make, steps, foreach=False, **kw), rel=1e-10)


def test_one_momentum_step_by_hand():
    # L = w**2 at w = 1: grad 2. Step 1: v = 2, w = 1 - 0.1*2 = 0.8. Step 2: grad 1.6, v = 0.9*2 + 1.6 = 3.4,
    # w = 0.8 - 0.34 = 0.46
    got = value("sgd(w, 0.1, steps=2, momentum=0.9)", "w = 1", "L = w ** 2",
                '[train]\nloss = "L"\nparams = ["w"]\nlr = 0.1\nsteps = 5')
    assert got == pytest.approx(0.46)


def test_first_adam_step_moves_each_weight_by_about_lr():
    # the bias-corrected first step is lr * g / (|g| + eps): about lr against the gradient's sign
    got = value("adam(w, 0.1)", "w = [1.0, -3.0]", "L = sum(w ** 3)",
                '[train]\nloss = "L"\nparams = ["w"]\nlr = 0.1\nsteps = 5')
    assert got == pytest.approx([0.9, -3.1], abs=1e-6)


def test_mazur_ten_thousand_steps_reach_the_published_error():
    from pathlib import Path

    from tutor.core.expr.syntax import parse_expr
    from tutor.core.lesson.load import load_lesson

    path = Path(__file__).parents[2] / "lessons" / "backprop" / "mazur-2-2-2-network.toml"
    live = LiveLesson(load_lesson(path))
    error = float(live.evaluate(parse_expr("sgd(E_total, 0.5, steps=10000)")).detach())
    # Mazur: "after repeating this process 10,000 times ... the error plummets to 0.0000351085"
    assert error == pytest.approx(0.0000351085, rel=1e-3)


def test_optimizer_keywords_are_checked():
    with pytest.raises(LessonError, match="nesterov"):
        value("sgd(L, 0.1, nesterov=1)", "w = 1", "L = w ** 2", TRAIN)
    with pytest.raises(LessonError, match="betas"):
        value("adam(L, 0.1, betas=0.9)", "w = 1", "L = w ** 2", TRAIN)
