"""Every word true, part 2: each sentence, label and grade found false in the built-in lessons, as fixed.

Each test pins the exact text a learner reads, or the exact label or verdict, so that the sentence cannot
come back. The numbers typed below are worked out by hand from the lessons' givens.
"""

import math

import pytest

from tutor.core.check.step import checker_for
from tutor.core.drill.variants import accepted
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.catalog import Catalog
from tutor.core.lesson.prose import evaluator, lesson_texts, own_spans, render, without_own

CATALOG = Catalog.load()


def lesson(lesson_id):
    return CATALOG.lesson(lesson_id)


def step(lesson_id, step_id):
    return lesson(lesson_id).step(step_id)


def shown_on_variants(lesson_id) -> str:
    """All the prose a drill variant of the lesson shows, quotes unfilled."""
    return "\n".join(without_own(text) for _, text in lesson_texts(lesson(lesson_id)))


@pytest.fixture(scope="module")
def check(live):
    return lambda lesson_id, step_id, text: checker_for(live(lesson_id)).check(step_id, text)


# ---- text that was false -----------------------------------------------------------------------------

def test_sine_neuron_halves_the_rate_three_times_to_0_0625_and_that_settles(live):
    explain = step("sine-neuron", "update").explain
    assert "halve the rate with F2 three times (to 0.0625) and it settles." in explain
    assert 0.5 / 2 ** 3 == 0.0625
    _, losses = live("sine-neuron").run_sgd(0.0625, 40)
    assert abs(losses[-1] - 4.0) < 1e-3            # the lowest loss the sine allows: (2 - 0)^2
    _, jumping = live("sine-neuron").run_sgd(0.125, 40)
    assert max(jumping[-10:]) > 8                  # two halvings are not enough


def test_mazur_explains_the_posts_printout_only_on_its_own_numbers_and_truly():
    explain = step("mazur-2-2-2-network", "E_after_one").explain
    (span,) = own_spans(explain)
    assert " ".join(span.split()) == (
        "The post prints this error with a different seventh decimal: its number is the error after one round "
        "of the first version of its Python script (March 14, 2015), which took the hidden layer's gradients "
        "after it had already changed $w_5 \\dots w_8$. The version the post links to takes every gradient at "
        "the original weights, as the post's text says, and prints PyTorch's value to nine decimals.")
    assert "seventh decimal" not in without_own(explain)


def test_the_sigmoid_neuron_claims_two_significant_figures_and_they_hold_for_a_tiny_output():
    neuron = lesson("cs231n-sigmoid-neuron")
    assert "two significant figures are\nenough" in neuron.intro and "two decimals are enough" not in neuron.intro
    assert neuron.conventions.significant == 2
    # a variant with dot = 2·(-2) + 2·(-2) - 3 = -11: f = 1.67e-5
    tiny = LiveLesson(neuron, {"w": [2, 2, -3], "x": [-2, -2]})
    assert checker_for(tiny).check("f", "0.000017").status == "correct"
    assert checker_for(tiny).check("f", "0.00").status == "wrong"


def test_svm_vs_softmax_claims_two_significant_figures_which_its_own_probabilities_need(check):
    intro = lesson("cs231n-svm-vs-softmax").intro
    assert "two significant figures are\nenough" in intro and "two decimals are enough" not in intro
    assert lesson("cs231n-svm-vs-softmax").conventions.significant == 2
    assert check("cs231n-svm-vs-softmax", "p", "0.015 0.63 0.35").status == "correct"
    assert check("cs231n-svm-vs-softmax", "p", "0.02 0.63 0.35").status == "imprecise"


def test_cross_correlation_says_average_pooling_is_not_whole_and_declares_which_steps_are():
    d2l = lesson("d2l-cross-correlation")
    assert "Whole numbers throughout, except average pooling, whose means can be\nhalves or quarters" in d2l.intro
    assert d2l.conventions.whole_numbers == ("Y", "Y2", "maxpool")
    quarters = LiveLesson(d2l, {"X": [[0, 1, 4], [3, 4, 0], [2, 2, 1]]})
    assert quarters.expected("avgpool").value == [[2.0, 2.25], [2.75, 1.75]]


def test_every_vgg16_variant_is_a_vgg16_layer_and_the_text_says_what_vgg16_is_built_from():
    vgg = lesson("vgg16-conv3x3-costs")
    layers = {(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128), (56, 128, 256), (56, 256, 256),
              (28, 256, 512), (28, 512, 512), (14, 512, 512)}      # VGG-16's 3x3 convolutions, configuration D
    for seed in range(12):
        _, drawn, _ = accepted(vgg, seed)
        assert tuple(int(v) for v in drawn.given["layer"]) in layers
    assert "VGG-16 is built from one kind of layer" not in vgg.intro
    assert ("VGG-16's thirteen convolutions are all of one kind: $3\\times3$, stride 1\nand padding 1, so the "
            "spatial size never changes inside a block; a\n$2\\times2$ max-pooling between blocks halves it, and "
            "three fully connected\nlayers at the end hold most of the network's parameters.") in vgg.intro
    assert "A drill draws one of VGG-16's $3\\times3$ layers." in vgg.intro


def test_adam_quotes_section_2_1_for_the_bound_and_derives_the_first_step_itself():
    explain = step("adam-steps", "adam1").explain
    assert "Kingma and Ba point this out in section 2.1: the first step" not in explain
    assert " ".join(explain.split()) == (
        "At $t = 1$ the bias correction gives back $\\hat{\\mathbf{m}}_1 = \\mathbf{g}_1$ and "
        "$\\hat{\\mathbf{v}}_1 = \\mathbf{g}_1^2$, so the first step has size $\\alpha$ in every coordinate (up to "
        "$\\epsilon$), whatever the gradient's scale. Section 2.1 of Kingma and Ba makes the general point: the "
        "effective step $\\alpha\\,\\hat{\\mathbf{m}}_t/\\sqrt{\\hat{\\mathbf{v}}_t}$ is in common cases bounded by "
        "about $\\alpha$, so the learning rate sets the size of a step.")


def test_the_sigmoid_derivative_bounds_only_its_own_factor():
    assert step("activation-functions", "dsigmoid").explain == (
        "The sigmoid's derivative is largest at 0, where it is a quarter: each sigmoid a gradient passes through "
        "multiplies it by at most 1/4 (the weights between the layers may make it larger again).")


def test_the_batch_cross_entropy_does_not_promise_that_two_logarithms_are_enough():
    intro = lesson("d2l-cross-entropy-batch").intro
    assert "A calculator with a natural logarithm helps. Float64." in intro
    assert "\\ln 10" not in intro and "\\ln 2" not in intro


def test_attention_cites_the_edition_whose_example_it_uses():
    assert lesson("dot-product-attention").source.startswith(
        "Dive into Deep Learning (d2l.ai), editions before 1.0, section 10.3 Attention Scoring Functions (the 1.0 "
        "edition's section 11.3 draws random keys instead)")


def test_padding_and_stride_needs_no_article_before_its_size(live):
    intro = lesson("d2l-padding-stride-shapes").intro
    assert "an ${{ n }}" not in intro
    shown = render(without_own(intro), evaluator(LiveLesson(lesson("d2l-padding-stride-shapes"), {"n": 9})))
    assert "on a square input $X$ of\n$9\\times9$ pixels." in shown
    assert "`5x7` or `(5, 7)`" in intro   # a typing example that is no answer of the lesson's


def test_binary_cross_entropy_names_both_what_y_minus_p_gets_wrong(check):
    # p = (3/4, 1/5), y = (1, 0): y - p = (0.25, -0.2) is -2 times (p - y)/2
    verdict = check("binary-cross-entropy", "dL_dz", "0.25 -0.2")
    assert verdict.mistake == "The sign is flipped and the mean's 1/N is missing"
    assert verdict.message.endswith("The sign is flipped and the mean's $1/N$ is missing: the gradient is "
                                    "$(p - y)/N$.")


# ---- named mistakes that never or rarely fired -------------------------------------------------------

def test_the_chain_rule_no_longer_offers_a_mistake_three_slips_share():
    assert [m.when.text for m in step("chain-rule-scalar", "dL_da").mistakes] == ["grad(L, x)"]


def test_the_weight_decay_penalty_mistake_is_named_on_the_lessons_own_numbers(check):
    # w = (2, -1), λ = 0.3: the penalty is 0.15·5 = 0.75; without the ½ it is 1.5, which is no other number here
    verdict = check("weight-decay", "penalty", "1.5")
    assert verdict.mistake == "The penalty has λ/2 in front, so that its gradient is λw"


def test_the_other_pooling_window_is_said_where_it_is_also_the_reversed_kernel_gradient(check):
    # x = (2, 1, 2), w = (1, 0): c = (2, 1), the first window wins; (1, 2) is the other window, and also the
    # winner's window reversed, so the lesson's words are said as one of two possibilities
    verdict = check("conv1d-maxpool-backprop", "df_dw", "1 2")
    assert verdict.mistake is None
    assert verdict.message == (
        "All 2 entries are off. More than one slip gives exactly this. Perhaps: That is the window of the *other* "
        "convolution output. The gradient flows only through the one that won the max. Or: kernel gradient "
        "reversed; or gradient sent to an entry that lost the max.")


def test_a_gradient_sent_to_every_entry_is_not_called_average_pooling(check):
    # average pooling would give (0.5, 0.5); (1, 1) is the gradient sent to both entries
    verdict = check("conv1d-maxpool-backprop", "df_dc", "1 1")
    assert (verdict.mistake, verdict.message) == (None, "1 of 2 entries is off: entry 2.")


@pytest.mark.parametrize("typed, label", [
    ("1 2", "forgotten sin′ (the sin derivative)"),            # x itself: the cos factor forgotten
    ("-0.866 -1.73", "The derivative of the sine is the cosine"),  # sin(wᵀx)·x
])
def test_a_sine_neuron_variant_names_the_forgotten_cosine_and_sine_for_cosine(typed, label):
    # w·x = 5π/3 for x = (1, 2), w = (π, π/3): cos = 1/2, sin = -√3/2
    variant = LiveLesson(lesson("sine-neuron"), {"x": [1, 2], "w": [math.pi, math.pi / 3]})
    assert checker_for(variant).check("dy_dw", typed).mistake == label


# ---- grades that contradicted the contract or the README ----------------------------------------------

def test_micrograds_140_is_too_coarse_not_off(check):
    verdict = check("micrograd-readme", "dg_da", "140")     # ∂g/∂a = 138.8338
    assert (verdict.status, verdict.message) == (
        "imprecise", "Right as far as it goes; give more digits (the zeros at the end of a whole number only "
                     "place it).")
