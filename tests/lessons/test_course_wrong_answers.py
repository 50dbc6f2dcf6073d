"""Typical student slips on the course lessons: the tutor names the slip when it is the explanation,
and never names a coincidence.

Each wrong answer below was worked out by hand the way a student gets it wrong (a flipped sign, a
forgotten sigmoid derivative, a forgotten 1/2, a transposed result, ...).
"""

import pytest

from tutor.core.check.step import checker_for
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.catalog import Catalog


@pytest.fixture(scope="module")
def check():
    catalog, cache = Catalog.load(), {}

    def run(lesson_id, step_id, text):
        if lesson_id not in cache:
            cache[lesson_id] = LiveLesson(catalog.lesson(lesson_id))
        return checker_for(cache[lesson_id]).check(step_id, text)

    return run


# (lesson, step, answer, the tutor's label for the slip)
NAMED_BY_THE_TUTOR = [
    ("cs231n-add-multiply-circuit", "f", "12", "sign flipped"),
    ("cs231n-add-multiply-circuit", "df_dx", "1", "∂q/∂x instead of ∂f/∂x"),          # upstream gradient forgotten
    ("cs231n-sigmoid-neuron", "dx", "2 -3", "∂dot/∂x instead of ∂f/∂x"),              # sigmoid derivative forgotten
    ("mazur-2-2-2-network", "out_h1", "0.3775", "the value of net_h1"),              # activation forgotten
    ("mazur-2-2-2-network", "dE_dw5", "-0.082167041", "sign flipped"),
    ("mazur-2-2-2-network", "w5_new", "0.44108352", "update with the wrong sign"),
    ("micrograd-readme", "dg_da", "-138.8338", "sign flipped"),
    ("cs231n-svm-vs-softmax", "dce_ds", "0.0154 0.6312 0.3534", "softmax probabilities instead of p − y"),
    ("d2l-cross-correlation", "Y", "5 11; 23 29", "true convolution (flipped kernel)"),
    ("d2l-cross-correlation", "Y", "19 37; 25 43", "transposed matrix"),
    ("d2l-padding-stride-shapes", "same", "6x6", "padding ignored"),
    ("cs231n-sigmoid-neuron", "dw", "0.2 0.39 -0.2", "sign flipped"),          # rounded entries, sign flipped
    ("mazur-2-2-2-network", "dE_dw5", "0.164334081", "forgotten ½"),           # derivative of an error with ½
    ("d2l-padding-stride-shapes", "stride2", "5x5", "output size rounded up"),  # ceil instead of floor
    ("momentum-steps", "w1", "0 0", "update without the learning rate"),
    ("momentum-steps", "w2", "3 -1.5", "one SGD step instead of several"),
    ("binary-cross-entropy", "dL_dz", "0.125 -0.1", "sign flipped"),
    ("tanh-rnn-step", "h1", "1.09861 -0.693147", "the value of a1"),            # tanh forgotten
    ("first-conv-layer-costs", "out_shape", "1x96x54x54", "the +1 left out of the output size"),
    ("first-conv-layer-costs", "weight_bytes", "34848", "elements instead of bytes"),
]


@pytest.mark.parametrize("lesson_id, step_id, text, label", NAMED_BY_THE_TUTOR)
def test_a_typical_slip_gets_its_name(check, lesson_id, step_id, text, label):
    verdict = check(lesson_id, step_id, text)
    assert verdict.status == "wrong"
    assert verdict.mistake == label


def test_two_slips_giving_the_same_number_name_neither(check):
    # with eta = 0.5, w5 - dE/dw5 (no learning rate) equals w5 - 0.5 * (2 dE/dw5) (the ½ of E forgotten)
    assert check("mazur-2-2-2-network", "w5_new", "0.317832959").mistake is None


# (lesson, step, answer, words of the lesson's own fix that the message must carry)
NAMED_BY_THE_LESSON = [
    ("cs231n-sigmoid-neuron", "dot", "4", "Add the bias"),
    ("cs231n-sigmoid-neuron", "f", "0.27", "Mind the sign in the exponent"),
    ("mazur-2-2-2-network", "E_total", "0.596742218", "has a ½ in front"),
    ("mazur-2-2-2-network", "dE_dw5", "0.43983", "The sigmoid of the output neuron is missing"),
    ("mazur-2-2-2-network", "E_after_one", "0.298371109", "That is the error before the update"),
    ("cs231n-multiclass-svm", "L", "18", "The correct class's own term is left out"),
    ("cs231n-multiclass-svm", "margins", "10 0 8", "Write 0 for the correct class"),
    ("cs231n-multiclass-svm", "dL_ds", "0 0 1", "The correct class's score gets a gradient too"),
    ("cs231n-svm-vs-softmax", "hinge", "2.58", "The correct class's own term is left out"),
    ("cs231n-svm-vs-softmax", "ce", "0.45", "base-10 logarithm"),
    ("alammar-attention-scores", "scaled", "1.75 1.5", "not by $d_k$"),
    ("d2l-cross-correlation", "maxpool", "2 3; 5 6", "That is average pooling"),
    ("d2l-cross-correlation", "avgpool", "4 5; 7 8", "That is max pooling"),
    ("d2l-padding-stride-shapes", "stride2", "8x8", "That ignores the stride"),
    ("momentum-steps", "w2", "2.25 -1.125", "That is two plain SGD steps"),
    ("momentum-steps", "w2", "2.1 -1.05", "The new velocity also takes the new gradient"),
    ("adam-steps", "adam1", "-18 0.999", "That is a plain SGD step"),
    ("adam-steps", "m1", "200 0.01", "before the correction"),
    ("weight-decay", "w1", "1.5 0", "weight decay adds"),
    ("batch-norm-forward", "sigma2", "1.33333 5.33333", "That divides by $m - 1$"),
    ("batch-norm-forward", "Y", "-1 -1; 1 1; -1 1; 1 -1", "the layer still scales by"),
    ("tanh-rnn-step", "a1", "1.09861 0.693147", "That picks a column"),
    ("tanh-rnn-step", "h2", "0.6 0", "The previous state is missing"),
    ("tanh-rnn-step", "dh2_dh1", "-0.652575 0.711578", "Use the transpose"),
    ("dot-product-attention", "weights_pref", "0.825444 0.174556", "Divide the scores by"),
    ("binary-cross-entropy", "L", "0.510826", "the loss is the mean"),
    ("binary-cross-entropy", "dL_dz", "-0.25 0.2", "That is the gradient of the sum"),
    ("d2l-transposed-convolution", "Y", "0 3 2; 6 14 6; 2 3 0", "slides the kernel as written"),
    ("d2l-cross-entropy-batch", "batch", "2.99573", "the default reduction is the mean"),
    ("d2l-cross-entropy-batch", "dL_dlogits", "-0.9 0.3 0.6; 0.3 0.2 -0.5", "That is the gradient of the sum"),
    ("first-conv-layer-costs", "out_shape", "1x96x217x217", "That ignores the stride"),
    ("first-conv-layer-costs", "weights", "11616", "Each filter spans every input channel"),
    ("first-conv-layer-costs", "flops", "105415200", "That counts multiply-adds"),
    ("first-conv-layer-costs", "params", "34848", "add one bias per filter"),
    ("vgg16-conv3x3-costs", "out_shape", "1x64x222x222", "That leaves out the padding"),
    ("vgg16-conv3x3-costs", "flops", "1849688064", "That counts multiply-adds"),
    ("vgg16-conv3x3-costs", "out_bytes", "3211264", "That is the number of values"),
    ("activation-functions", "relu_grad", "0 0 1 1 1", "At exactly 0 PyTorch takes the derivative of ReLU"),
    ("activation-functions", "leaky", "0 0 0 1 2", "That is the plain ReLU"),
    ("activation-functions", "leaky", "-0.02 -0.01 0 1 2", "PyTorch's default slope 0.01"),
    ("activation-functions", "dsigmoid", "0.75", "itself; its derivative is"),
    ("activation-functions", "dtanh", "0.2", "Square the tanh"),
]


@pytest.mark.parametrize("lesson_id, step_id, text, fix", NAMED_BY_THE_LESSON)
def test_a_slip_the_lesson_warns_about_gets_the_lessons_fix(check, lesson_id, step_id, text, fix):
    verdict = check(lesson_id, step_id, text)
    assert verdict.status in ("wrong", "wrong_shape")
    assert verdict.mistake and fix in verdict.message


# ---- found while trying the lessons as a student (fixed since; kept so they stay fixed) -----------

def test_an_answer_equal_to_several_nodes_is_not_named(check):
    # -4 is z, df/dq, df/dx and df/dy at once; the likely slip is z typed as df/dz (inputs swapped)
    assert check("cs231n-add-multiply-circuit", "df_dz", "-4").mistake is None


def test_an_answer_equal_to_a_node_and_a_gradient_is_not_named(check):
    # 3 is both q and df/dz
    assert check("cs231n-add-multiply-circuit", "df_dq", "3").mistake is None


def test_whole_numbers_that_are_not_roundings_count_as_off(check):
    # '-1' and '1' for -0.197 and 0.197 are not roundings of them
    verdict = check("cs231n-sigmoid-neuron", "dw", "-1 -2 1")
    assert verdict.status == "wrong"
    assert "All 3 entries are off" in verdict.message


def test_lesson_mistake_labels_are_plain_text(check):
    label = check("cs231n-sigmoid-neuron", "dot", "4").mistake
    assert label and "mathbf" not in label and "\\" not in label and "$" not in label


def test_padding_on_one_side_only_is_not_named_where_the_plus_one_gives_the_same_size(check):
    # n = 8, k = 3, padding 1 on one side only: 8 + 1 - 3 + 1 = 7; leaving out the +1 also gives 8 + 2 - 3 = 7
    assert check("d2l-padding-stride-shapes", "same", "7x7").mistake is None


def test_a_weight_count_slip_is_not_called_a_forgotten_batch(check):
    assert check("vgg16-conv3x3-costs", "weights", "576").mistake != "batch dimension left out"


def test_a_real_size_lesson_still_names_its_own_mistake(check):
    verdict = check("first-conv-layer-costs", "out_bytes", "290400")
    assert verdict.mistake and "That is the number of values" in verdict.message


def test_the_weights_after_one_step_where_two_were_asked_are_named(check):
    verdict = check("adam-steps", "adam2", "1.9 0.9")
    assert verdict.mistake and "That is the weights after one step" in verdict.message
