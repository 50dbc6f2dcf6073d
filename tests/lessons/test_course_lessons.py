"""Lessons written from public course material reproduce the numbers that material prints.

Each expected number below is typed by hand from the course page named in the test (CS231n's notes,
Mazur's post, micrograd's README, Dive into Deep Learning, Alammar's Illustrated Transformer), to the
precision the page prints it; none is read from a lesson file. Where the page's number is not what
its own text describes, the test says why and checks the described computation instead.
"""

import math

import pytest

from tutor.core.expr.syntax import parse_expr

COURSE_TOPICS = {"backprop", "classifiers", "cnn-layers", "optimizers", "modern-layers", "real-networks"}  # public course material


def solved(live_lesson, step_id):
    return live_lesson.expected(step_id).value


def flat(v):
    if isinstance(v, (list, tuple)):
        return [x for item in v for x in flat(item)]
    return [v]


def prints_as(value, *printed: str) -> bool:
    """True when each live number rounds to the printed one at the printed number of decimals."""
    got = flat(value)
    if len(got) != len(printed):
        return False
    for g, p in zip(got, printed, strict=False):
        decimals = len(p.split(".")[1]) if "." in p else 0
        if abs(g - float(p)) > 0.5 * 10 ** -decimals + 1e-12:
            return False
    return True


def test_every_course_lesson_credits_its_source(catalog):
    course = [e for e in catalog.entries if e.topic in COURSE_TOPICS]
    assert len(course) >= 20
    for entry in course:
        assert entry.lesson.source and entry.lesson.drill, entry.id


# ---- CS231n, Backpropagation, Intuitions -------------------------------------------------------------

def test_cs231n_add_multiply_circuit(live):
    circuit = live("cs231n-add-multiply-circuit")
    # f(x, y, z) = (x + y) z at x = -2, y = 5, z = -4: q = 3, f = -12; dfdz = 3, dfdx = dfdy = -4.
    assert prints_as(solved(circuit, "q"), "3")
    assert prints_as(solved(circuit, "f"), "-12")
    assert prints_as(solved(circuit, "df_dz"), "3")
    assert prints_as(solved(circuit, "df_dq"), "-4")
    assert prints_as(solved(circuit, "df_dx"), "-4")
    assert prints_as(solved(circuit, "df_dy"), "-4")


def test_cs231n_sigmoid_neuron_names_its_node_dot(live):
    neuron = live("cs231n-sigmoid-neuron")
    # w = [2, -3, -3], x = [-1, -2]: the figure shows 0.73 out, and gradients
    # w0 -0.20, x0 0.39, w1 -0.39, x1 -0.59, w2 0.20.
    assert prints_as(solved(neuron, "f"), "0.73")
    assert prints_as(solved(neuron, "dw"), "-0.20", "-0.39", "0.20")
    assert prints_as(solved(neuron, "dx"), "0.39", "-0.59")


# ---- Mazur, A Step by Step Backpropagation Example ---------------------------------------------------

def test_mazur_forward_and_error(live):
    net = live("mazur-2-2-2-network")
    assert prints_as(solved(net, "out_h1"), "0.593269992")
    assert prints_as(solved(net, "out_o1"), "0.75136507")
    assert prints_as(solved(net, "E_total"), "0.298371109")


def test_mazur_backward_and_updates(live):
    net = live("mazur-2-2-2-network")
    assert prints_as(solved(net, "dE_dw5"), "0.082167041")
    assert prints_as(solved(net, "w5_new"), "0.35891648")
    assert prints_as(solved(net, "w1_new"), "0.149780716")


def _mazur_error_after(steps: int, hidden_sees_updated_output_weights: bool) -> float:
    """Mazur's network in plain Python, independent of the tutor."""
    sig = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    i1, i2, b1, b2, t1, t2, eta = 0.05, 0.10, 0.35, 0.60, 0.01, 0.99, 0.5
    w = [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]

    def forward(w):
        h1, h2 = sig(w[0] * i1 + w[1] * i2 + b1), sig(w[2] * i1 + w[3] * i2 + b1)
        o1, o2 = sig(w[4] * h1 + w[5] * h2 + b2), sig(w[6] * h1 + w[7] * h2 + b2)
        return h1, h2, o1, o2, (t1 - o1) ** 2 / 2 + (t2 - o2) ** 2 / 2

    for _ in range(steps):
        h1, h2, o1, o2, _ = forward(w)
        d1, d2 = -(t1 - o1) * o1 * (1 - o1), -(t2 - o2) * o2 * (1 - o2)
        new = w[:4] + [w[4] - eta * d1 * h1, w[5] - eta * d1 * h2, w[6] - eta * d2 * h1, w[7] - eta * d2 * h2]
        out = new if hidden_sees_updated_output_weights else w
        dh1 = (d1 * out[4] + d2 * out[6]) * h1 * (1 - h1)
        dh2 = (d1 * out[5] + d2 * out[7]) * h2 * (1 - h2)
        w = [w[0] - eta * dh1 * i1, w[1] - eta * dh1 * i2, w[2] - eta * dh2 * i1, w[3] - eta * dh2 * i2] + new[4:]
    return forward(w)[4]


def test_mazur_error_after_one_step_follows_the_posts_text_not_its_printout(live):
    # The post prints 0.291027924 after the first round. Its text says every gradient uses the
    # original weights (what SGD and the tutor do); that gives 0.291027774. The printed number is
    # what you get when the hidden layer's gradients use the already-updated output weights.
    after = solved(live("mazur-2-2-2-network"), "E_after_one")
    assert prints_as(after, "0.291027774")
    assert not prints_as(after, "0.291027924")
    assert prints_as(_mazur_error_after(1, hidden_sees_updated_output_weights=False), "0.291027774")
    assert prints_as(_mazur_error_after(1, hidden_sees_updated_output_weights=True), "0.291027924")


# ---- micrograd's README ------------------------------------------------------------------------------

def test_micrograd_readme_prints(live):
    micro = live("micrograd-readme")
    assert prints_as(solved(micro, "g"), "24.7041")
    assert prints_as(solved(micro, "dg_da"), "138.8338")
    assert prints_as(solved(micro, "dg_db"), "645.5773")


# ---- CS231n, Linear classification --------------------------------------------------------------------

def test_cs231n_multiclass_svm_example(live):
    svm = live("cs231n-multiclass-svm")
    # scores [13, -7, 11], first class correct, delta 10: max(0, -10) + max(0, 8) = 8.
    assert prints_as(solved(svm, "L"), "8")
    assert prints_as(solved(svm, "margins"), "0", "0", "8")


def test_cs231n_svm_vs_softmax_figure(live):
    both = live("cs231n-svm-vs-softmax")
    # The figure: "The final loss for this example is 1.58 for the SVM and 1.04 for the Softmax".
    assert prints_as(solved(both, "hinge"), "1.58")
    assert prints_as(solved(both, "ce"), "1.04")
    assert prints_as(solved(both, "p")[1:], "0.631", "0.353")


# ---- Alammar, The Illustrated Transformer -------------------------------------------------------------

def test_alammar_attention_scores(live):
    attention = live("alammar-attention-scores")
    # Scores 112 and 96, divided by 8 (sqrt of 64): 14 and 12; softmax 0.88 and 0.12.
    assert prints_as(solved(attention, "scaled"), "14", "12")
    assert prints_as(solved(attention, "weights"), "0.88", "0.12")


# ---- Dive into Deep Learning, chapter 7 ----------------------------------------------------------------

def test_d2l_cross_correlation_channels_and_pooling(live):
    conv = live("d2l-cross-correlation")
    assert prints_as(solved(conv, "Y"), "19", "25", "37", "43")
    assert prints_as(solved(conv, "Y2"), "56", "72", "104", "120")
    assert prints_as(solved(conv, "maxpool"), "4", "5", "7", "8")
    assert prints_as(solved(conv, "avgpool"), "2", "3", "5", "6")


def test_d2l_padding_and_stride_shapes(live):
    shapes = live("d2l-padding-stride-shapes")
    assert tuple(solved(shapes, "same")) == (8, 8)
    assert tuple(solved(shapes, "rect")) == (8, 8)
    assert tuple(solved(shapes, "stride2")) == (4, 4)
    assert tuple(solved(shapes, "odd")) == (2, 2)


def test_d2l_transposed_convolution(live):
    tconv = live("d2l-transposed-convolution")
    assert prints_as(solved(tconv, "Y"), "0", "0", "1", "0", "4", "6", "4", "12", "9")
    assert prints_as(solved(tconv, "Y_pad"), "4")
    assert prints_as(solved(tconv, "Y_stride"), "0", "0", "0", "1", "0", "0", "2", "3",
                     "0", "2", "0", "3", "4", "6", "6", "9")
    # d2l: tconv(conv(X)).shape == X.shape for a 16x16 X, kernel 5, padding 2, stride 3.
    assert tuple(solved(tconv, "round_trip")) == (16, 16)


def test_d2l_cross_entropy_of_a_batch_with_class_indices(live):
    batch = live("d2l-cross-entropy-batch")
    # d2l prints cross_entropy(y_hat, y) as tensor([2.3026, 0.6931]); the batch mean is their average.
    assert prints_as(solved(batch, "first"), "2.3026")
    assert prints_as(solved(batch, "second"), "0.6931")
    assert abs(solved(batch, "batch") - (math.log(10) + math.log(2)) / 2) < 1e-12


# ---- Dive into Deep Learning 11.3, Vaswani et al.: attention -------------------------------------------

def test_d2l_attention_over_equal_keys(live):
    attention = live("dot-product-attention")
    # d2l: with equal keys and valid lengths 2 and 6 the outputs are [2, 3, 4, 5] and [10, 11, 12, 13].
    assert prints_as(solved(attention, "out_two"), "2.0000", "3.0000", "4.0000", "5.0000")
    assert prints_as(solved(attention, "out_six"), "10.0000", "11.0000", "12.0000", "13.0000")
    # hand-worked: scores (ln 3, 0) give weights 3/4 and 1/4 of the rows [0, 1, 2, 3] and [4, 5, 6, 7].
    assert prints_as(solved(attention, "weights_pref"), "0.75", "0.25")
    assert prints_as(solved(attention, "out_pref"), "1", "2", "3", "4")


# ---- CS231n, Convolutional Networks: real layer sizes ---------------------------------------------------

def test_alexnet_conv1_costs_at_real_size(live):
    alexnet = live("first-conv-layer-costs")
    # CS231n: output [55x55x96]; 96 * 11 * 11 * 3 = 34,848 weights and 34,944 parameters with biases.
    assert list(solved(alexnet, "out_shape")) == [1, 96, 55, 55]
    assert solved(alexnet, "weights") == 34_848
    assert solved(alexnet, "params") == 34_944
    # hand-worked: 290,400 outputs of 363 multiply-adds each, 2 FLOPs per multiply-add; 4 bytes a value.
    assert solved(alexnet, "flops") == 2 * 290_400 * 363
    assert solved(alexnet, "out_bytes") == 290_400 * 4
    assert solved(alexnet, "weight_bytes") == 34_848 * 4


def test_vgg16_conv3x3_costs_at_real_size(live):
    vgg = live("vgg16-conv3x3-costs")
    # CS231n's VGGNet table: CONV3-64 [224x224x64], memory 224*224*64 = 3.2M, weights (3*3*64)*64 = 36,864.
    assert list(solved(vgg, "out_shape")) == [1, 64, 224, 224]
    assert solved(vgg, "weights") == 36_864
    assert solved(vgg, "out_bytes") == 224 * 224 * 64 * 4
    assert solved(vgg, "flops") == 2 * 224 * 224 * 64 * 3 * 3 * 64


# ---- hand-worked: the course topics' new layers and optimizers ----------------------------------------

def test_batch_norm_forward(live):
    bn = live("batch-norm-forward")
    # columns [1, 3, 1, 3] and [0, 4, 4, 0]: means 2 and 2, batch variances 1 and 4;
    # normalized [-1, 1, -1, 1] and [-1, 1, 1, -1], then times gamma = [2, 1] plus beta = [0, 1].
    assert prints_as(solved(bn, "mu"), "2", "2")
    assert prints_as(solved(bn, "sigma2"), "1", "4")
    assert prints_as(solved(bn, "Y"), "-2.0000", "0.0000", "2.0000", "2.0000", "-2.0000", "2.0000", "2.0000", "0.0000")


def test_tanh_rnn_steps(live):
    rnn = live("tanh-rnn-step")
    # h1 = tanh(ln 3, -ln 2) = (0.8, -0.6); a2 = (ln 2 + 0.8 + 0.6, -0.6).
    assert prints_as(solved(rnn, "h1"), "0.8", "-0.6")
    h2 = [math.tanh(math.log(2) + 1.4), math.tanh(-0.6)]
    assert prints_as(solved(rnn, "h2"), *(f"{v:.9f}" for v in h2))


def test_momentum_steps(live):
    momentum = live("momentum-steps")
    # gradient of |w|^2/2 is w; lr 0.25, mu 0.9: v1 = w0, w1 = 0.75 w0; v2 = 0.9 w0 + 0.75 w0 = 1.65 w0,
    # w2 = 0.75 w0 - 0.4125 w0 = 0.3375 w0; two plain steps give 0.75^2 w0.
    assert prints_as(solved(momentum, "w1"), "3", "-1.5")
    assert prints_as(solved(momentum, "w2"), "1.35", "-0.675")
    assert prints_as(solved(momentum, "plain2"), "2.25", "-1.125")


def _adam(w: float, c: float, lr: float, steps: int, b1=0.9, b2=0.999, eps=1e-8) -> float:
    """Kingma & Ba's Algorithm 1 on the loss c w^2 / 2, in plain Python."""
    m = v = 0.0
    for t in range(1, steps + 1):
        g = c * w
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        w -= lr * (m / (1 - b1 ** t)) / (math.sqrt(v / (1 - b2 ** t)) + eps)
    return w


def test_adam_first_step_has_the_size_of_the_learning_rate(live):
    adam = live("adam-steps")
    # Kingma & Ba, section 2.1: the first step has magnitude alpha, whatever the gradient's scale:
    # w = [2, 1] with gradients 200 and 0.01 both move by 0.1.
    assert prints_as(solved(adam, "adam1"), "1.900000", "0.900000")
    assert prints_as(solved(adam, "sgd1"), "-18", "0.999")
    second = [_adam(2, 100, 0.1, 2), _adam(1, 0.01, 0.1, 2)]
    assert prints_as(solved(adam, "adam2"), *(f"{v:.9f}" for v in second))


def test_weight_decay_step(live):
    decay = live("weight-decay")
    # w - 0.5 * ((w - t) + 0.3 w) for w = [2, -1], t = [1, 1].
    assert prints_as(solved(decay, "g_total"), "1.6", "-2.3")
    assert prints_as(solved(decay, "w1"), "1.2", "0.15")


def test_binary_cross_entropy(live):
    bce = live("binary-cross-entropy")
    # p = (3/4, 1/5); loss = mean(ln 4/3, ln 5/4) = ln(5/3)/2; gradient (p - y)/2.
    assert prints_as(solved(bce, "p"), "0.75", "0.2")
    assert abs(solved(bce, "L") - math.log(5 / 3) / 2) < 1e-12
    assert abs(solved(bce, "L_logits") - math.log(5 / 3) / 2) < 1e-12
    assert prints_as(solved(bce, "dL_dz"), "-0.125", "0.1")


@pytest.mark.slow
def test_mazur_error_after_ten_thousand_steps(live):
    # The post: "After repeating this process 10,000 times ... the error plummets to 0.0000351085.
    # At this point, ... the two output neurons generate 0.015912196 (vs 0.01 target) and
    # 0.984065734 (vs 0.99 target)". Those three numbers do not come from one run: the error is SGD
    # as the post describes it after 9,999 rounds (one printed before the last update), and the
    # outputs match its code's order of updates after 10,000 (worked out in plain Python when writing
    # this test). The error is checked here live and in plain Python.
    after = live("mazur-2-2-2-network").evaluate(parse_expr("sgd(E_total, eta, steps=9999)"))
    assert prints_as(after.item(), "0.0000351085")
    assert prints_as(_mazur_error_after(9_999, hidden_sees_updated_output_weights=False), "0.0000351085")
    assert prints_as(_mazur_error_after(10_000, hidden_sees_updated_output_weights=False), "0.0000351019")


def test_activation_derivatives(live):
    act = live("activation-functions")
    assert prints_as(solved(act, "relu_grad"), "0", "0", "0", "1", "1")       # ReLU'(0) taken as 0
    assert prints_as(solved(act, "leaky"), "-0.2", "-0.1", "0", "1", "2")
    # at x0 = ln 3: sigma = 3/4, sigma' = 3/16; tanh = 8/10, tanh' = 0.36; softplus' = sigma = 3/4
    assert prints_as(solved(act, "dsigmoid"), "0.1875")
    assert prints_as(solved(act, "dtanh"), "0.36")
    assert prints_as(solved(act, "dsoftplus"), "0.75")
    # d2l 5.1.2: "When the input is 0, the derivative of the sigmoid function reaches a maximum of 0.25",
    # and the derivative of tanh "a maximum of 1". x = [-2, -1, 0, 1, 2].
    dsig = act.evaluate(parse_expr("grad(sum(sigmoid(x)), x)")).tolist()
    dtanh = act.evaluate(parse_expr("grad(sum(tanh(x)), x)")).tolist()
    assert prints_as(dsig[2], "0.25") and max(dsig) == dsig[2]
    assert prints_as(dtanh[2], "1") and max(dtanh) == dtanh[2]
