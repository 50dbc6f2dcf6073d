"""The next course, tried: ten lessons written from public course material not used in lessons/ (makemore,
nanoGPT, fastbook, d2l, CS224n), as a teacher writes them with the docs alone.

Each lesson validates, passes `tutor check --seeds 3`, and reproduces the numbers its source prints (typed
below from the page, never read from the lesson). Then the typical slips a student makes on each step, worked
out by hand: each gets exactly the name given here, or none; first with the lesson's own [[steps.mistakes]],
then with every one of them removed (the tutor's own slips alone).
"""

import dataclasses
import math
from pathlib import Path

import pytest

from tutor.core.check.step import checker_for
from tutor.core.drill.audit import check_lesson
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.catalog import load_file
from tutor.core.vocabulary import Status

COURSE = Path(__file__).parents[1] / "fixtures" / "courses" / "next-course"
LESSONS = sorted(p.stem for p in COURSE.glob("*.toml"))


def load(lesson_id):
    entry = load_file(COURSE / f"{lesson_id}.toml")
    assert entry.lesson is not None, entry
    return entry.lesson


def without_mistakes(lesson):
    return dataclasses.replace(lesson, steps=tuple(dataclasses.replace(s, mistakes=()) for s in lesson.steps))


@pytest.fixture(scope="module")
def lives():
    return {}


def live_of(lives, lesson_id, own_mistakes=True):
    key = (lesson_id, own_mistakes)
    if key not in lives:
        lesson = load(lesson_id)
        lives[key] = LiveLesson(lesson if own_mistakes else without_mistakes(lesson))
    return lives[key]


def test_ten_lessons_each_crediting_its_source():
    assert len(LESSONS) >= 8
    for lesson_id in LESSONS:
        lesson = load(lesson_id)
        assert lesson.source and lesson.drill, lesson_id


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", LESSONS)
def test_each_lesson_passes_tutor_check_with_three_variants(lesson_id):
    assert check_lesson(load(lesson_id), 3) == []


# ---- the numbers the sources print --------------------------------------------------------------------

def value(lives, lesson_id, step_id):
    return live_of(lives, lesson_id).expected(step_id).value


def close(got, printed, within):
    flat_got = [float(v) for v in _flat(got)]
    flat_printed = [float(v) for v in _flat(printed)]
    return len(flat_got) == len(flat_printed) and all(abs(a - b) <= within for a, b in zip(flat_got, flat_printed,
                                                                                          strict=True))


def _flat(v):
    if isinstance(v, list):
        return [x for item in v for x in _flat(item)]
    return [v]


def test_fastbook_prints_these_probabilities_losses_and_mean(lives):
    # fastbook chapter 5 prints sm_acts, sm_acts[idx, targ], the per-image losses and F.cross_entropy to four
    # decimals, from activations it prints to four decimals (hence one unit of slack in the last place)
    assert close(value(lives, "fastbook-cross-entropy", "sm_first"), [0.6025, 0.3975], 1.5e-4)
    assert close(value(lives, "fastbook-cross-entropy", "picked"), [0.6025, 0.4979, 0.1332, 0.0034, 0.4041, 0.3661],
                 1.5e-4)
    assert close(value(lives, "fastbook-cross-entropy", "nll"), [0.5067, 0.6973, 2.0160, 5.6958, 0.9062, 1.0048],
                 1.5e-4)
    assert close(value(lives, "fastbook-cross-entropy", "loss"), 1.8045, 1.5e-4)


def test_makemore_prints_these_shapes_and_counts(lives):
    # part 2: Xtr is torch.Size([182625, 3]); C is 27 x 10; 11897 parameters
    assert value(lives, "makemore-mlp-shapes", "emb") == [182625, 3, 10]
    assert value(lives, "makemore-mlp-shapes", "params") == 11897
    # part 3: 12097 parameters (no b1), and the expected first loss -torch.tensor(1/27.0).log() = 3.2958
    assert value(lives, "makemore-batchnorm", "params") == 12097
    assert close(value(lives, "makemore-batchnorm", "uniform"), 3.2958, 5e-5)
    assert close(value(lives, "makemore-batchnorm", "uniform"), math.log(27), 1e-6)


def test_the_gpt_lecture_prints_its_averages_and_its_parameter_count(lives):
    assert value(lives, "nanogpt-averaging-trick", "sums") == [[2, 7], [8, 11], [14, 16]]
    assert close(value(lives, "nanogpt-averaging-trick", "wei"),
                 [[1, 0, 0], [0.5, 0.5, 0], [0.3333, 0.3333, 0.3333]], 5e-5)
    assert close(value(lives, "nanogpt-averaging-trick", "c"), [[2, 7], [4, 5.5], [4.6667, 5.3333]], 5e-5)
    assert value(lives, "nanogpt-parameter-count", "total") == 10_788_929  # "10.788929 M parameters"


def test_d2l_rmsprop_prints_x1_with_eps_inside_the_root_and_pytorch_differs_in_the_sixth_decimal(lives):
    got = value(lives, "d2l-rmsprop", "x20")
    # the book's own loop (eps = 1e-6 inside the square root) prints "epoch 20, x1: -0.010599"
    x1, x2, s1, s2 = -5.0, -2.0, 0.0, 0.0
    for _ in range(20):
        g1, g2 = 0.2 * x1, 4 * x2
        s1, s2 = 0.9 * s1 + 0.1 * g1 ** 2, 0.9 * s2 + 0.1 * g2 ** 2
        x1, x2 = x1 - 0.4 / math.sqrt(s1 + 1e-6) * g1, x2 - 0.4 / math.sqrt(s2 + 1e-6) * g2
    assert f"{x1:.6f}" == "-0.010599"
    assert f"{got:.6f}" == "-0.010598" and abs(got - x1) < 5e-7  # PyTorch adds eps after the root


def test_d2l_layer_and_batch_norm_print_plus_and_minus_one(lives):
    assert close(value(lives, "d2l-layer-vs-batch-norm", "ln"), [[-1, 1], [-1, 1]], 5e-5)
    assert close(value(lives, "d2l-layer-vs-batch-norm", "bn"), [[-1, -1], [1, 1]], 5e-5)
    assert value(lives, "d2l-layer-vs-batch-norm", "out_shape") == [2, 3, 4]


# ---- typical slips ----------------------------------------------------------------------------------------

# (lesson, step, the slip as typed, its name with the lesson's own mistakes, its name with none of them)
# None: no name, because no single slip alone explains the answer.
SLIPS = [
    # fastbook: sigmoid of each activation (the book's own wrong first try), the other class, no minus, log10,
    # the sum, nll_loss without the log, the mean's 1/N, the sign
    ("fastbook-cross-entropy", "sm_first", "0.6623 0.5641", "sigmoid of each entry instead of softmax",
     "sigmoid of each entry instead of softmax"),
    ("fastbook-cross-entropy", "picked", "0.3975 0.5021 0.8668 0.9966 0.5959 0.6339", "You picked the other class",
     None),
    ("fastbook-cross-entropy", "nll", "-0.5067 -0.6973 -2.0159 -5.6958 -0.9062 -1.0048", "sign flipped",
     "sign flipped"),
    ("fastbook-cross-entropy", "nll", "0.2201 0.3028 0.8755 2.4736 0.3936 0.4364", "That is the base-10 logarithm",
     None),
    ("fastbook-cross-entropy", "loss", "10.8267", "That is the sum over the batch", "forgotten 1/N of the mean"),
    ("fastbook-cross-entropy", "loss", "-0.3345", "That is nll_loss of the probabilities themselves", None),
    ("fastbook-cross-entropy", "grad_fourth", "0.9966 -0.9966", "forgotten 1/N of the mean",
     "forgotten 1/N of the mean"),
    ("fastbook-cross-entropy", "grad_fourth", "-0.1661 0.1661", "sign flipped", "sign flipped"),
    # makemore part 2 at real size
    ("makemore-mlp-shapes", "emb", "182625x3", "That is the shape of Xₜᵣ", None),
    ("makemore-mlp-shapes", "emb", "3x10", "batch dimension left out", "batch dimension left out"),
    ("makemore-mlp-shapes", "embcat", "30x182625", "transposed shape", "transposed shape"),
    ("makemore-mlp-shapes", "h", "182625x30", None, None),
    ("makemore-mlp-shapes", "params", "11670", "biases left out of the count", "biases left out of the count"),
    ("makemore-mlp-shapes", "params", "11627", "C left out of the count", "C left out of the count"),
    ("makemore-mlp-shapes", "flops", "1095750000", "multiply-accumulates instead of FLOPs",
     "multiply-accumulates instead of FLOPs"),
    ("makemore-mlp-shapes", "emb_bytes", "43830000", "float64 instead of float32", "float64 instead of float32"),
    ("makemore-mlp-shapes", "emb_bytes", "5478750", "elements instead of bytes", "elements instead of bytes"),
    # makemore part 3
    ("makemore-batchnorm", "params", "12297", "This model has no b₁",
     None),
    ("makemore-batchnorm", "params", "11697", "the norm's gain and bias left out of the count",
     "the norm's gain and bias left out of the count"),
    ("makemore-batchnorm", "params", "12070", "biases left out of the count", "biases left out of the count"),
    ("makemore-batchnorm", "uniform", "1.4314", "That is the base-10 logarithm", None),
    ("makemore-batchnorm", "uniform", "0.037", None, None),
    ("makemore-batchnorm", "zstd", "1.7321 1.7321", "biased variance (divided by n)", "biased variance (divided by n)"),
    ("makemore-batchnorm", "zmean", "2.5 2.5 2.5 2.5", "reduction over the other axis", "reduction over the other axis"),
    ("makemore-batchnorm", "znorm", "-1.5 1.5; 0.5 -0.5; 0.5 -0.5; 0.5 -0.5",
     "That is the normalized batch before the gain and shift", None),
    # makemore part 4
    ("makemore-backprop-ninja", "probs", "0.25 0.6667 0.8333; 0.75 0.3333 0.1667", "softmax over the wrong axis",
     "softmax over the wrong axis"),
    ("makemore-backprop-ninja", "dlogits", "0.125 0.25 -0.375; -0.4 0.2 0.2", "The dlogits /= n is missing",
     "forgotten 1/N of the mean"),
    ("makemore-backprop-ninja", "dlogits", "0.0625 0.125 0.3125; 0.3 0.1 0.1", "softmax probabilities instead of p − y",
     "softmax probabilities instead of p − y"),
    ("makemore-backprop-ninja", "dlogits", "-0.0625 -0.125 0.1875; 0.2 -0.1 -0.1", "sign flipped", "sign flipped"),
    ("makemore-backprop-ninja", "dC", "-1 1; 2 0; 0 0; 0 1", "gradients of a row picked twice not added",
     "gradients of a row picked twice not added"),
    ("makemore-backprop-ninja", "dC", "1 2; 0 1; -1 1; 2 0", None, None),
    ("makemore-backprop-ninja", "emb", "[[[1, 0], [-1, 1]], [[3, -1], [1, 0]]]", None, None),
    # the GPT lecture's averaging trick
    ("nanogpt-averaging-trick", "wei", "1 0 0; 1 1 0; 1 1 1", "the value of tril", "the value of tril"),
    ("nanogpt-averaging-trick", "wei", "0.3333 0 0; 0.3333 0.5 0; 0.3333 0.5 1", "That divides each column by its sum",
     "reduction over the other axis"),
    ("nanogpt-averaging-trick", "c", "2 7; 8 11; 14 16", "Those are the running sums", None),
    ("nanogpt-averaging-trick", "c", "2 4 4.6667; 7 5.5 5.3333", "transposed matrix", "transposed matrix"),
    ("nanogpt-averaging-trick", "att", "0.3333 0.3333 0.3333; 0.6 0.2 0.2; 0.125 0.25 0.625",
     "The future is not masked", None),
    ("nanogpt-averaging-trick", "out", "2 7; 4 5.5; 4.6667 5.3333", "That is the plain average (equal weights)", None),
    # the GPT lecture's parameter count
    ("nanogpt-parameter-count", "attention", "591360",
     "Those projections have no bias", None),
    ("nanogpt-parameter-count", "attention", "589824", "biases left out of the count",
     "biases left out of the count"),
    ("nanogpt-parameter-count", "block", "1771776", "the norm's gain and bias left out of the count",
     "the norm's gain and bias left out of the count"),
    ("nanogpt-parameter-count", "block", "1771008", "biases left out of the count", "biases left out of the count"),
    ("nanogpt-parameter-count", "total", "10690625", "pos_emb left out of the count", "pos_emb left out of the count"),
    ("nanogpt-parameter-count", "total", "10788864", "b_head left out of the count", "b_head left out of the count"),
    ("nanogpt-parameter-count", "bytes", "4718592", "float64 instead of float32", "float64 instead of float32"),
    ("nanogpt-parameter-count", "logits", "256x65", "batch dimension left out", "batch dimension left out"),
    # d2l RMSProp
    ("d2l-rmsprop", "g", "-0.5 -4", "the power rule's factor forgotten", "the power rule's factor forgotten"),
    ("d2l-rmsprop", "g", "1 8", "sign flipped", "sign flipped"),
    ("d2l-rmsprop", "s1", "1 64", "The new squared gradient enters with weight 1 - γ, not 1", None),
    ("d2l-rmsprop", "x1", "-6.2649 -3.2649", "update with the wrong sign", "update with the wrong sign"),
    ("d2l-rmsprop", "x1", "-1 -1.5", "That divides by s itself", None),
    ("d2l-rmsprop", "x1", "-4.6 -1.6", "That corrects s for its start at 0, as Adam does", None),
    ("d2l-rmsprop", "x20", "-3.7351", "That is x₁ after one step", "one step instead of several"),
    ("d2l-rmsprop", "sgd20", "-4.6", "one SGD step instead of several", "one SGD step instead of several"),
    # d2l GRU
    ("d2l-gru-step", "r", "0 0.5", "the value of a_r", "the value of a_r"),
    ("d2l-gru-step", "z", "0.5 -2", "the value of a_z", "the value of a_z"),
    ("d2l-gru-step", "h_tilde", "0.9051 0", "The reset gate is missing", None),
    ("d2l-gru-step", "h_new", "0.7168 -0.8378", "The gates are swapped", None),
    ("d2l-gru-step", "h_new", "1.1595 0.2414", None, None),
    ("d2l-gru-step", "d_ah", "0.3775 0.8808", "forgotten tanh′ (the tanh derivative)",
     "forgotten tanh′ (the tanh derivative)"),
    ("d2l-gru-step", "d_ah", "0.2804 0.87", None, None),
    ("d2l-gru-step", "d_az", "-0.3483 -1.3606", "forgotten σ′ (the sigmoid derivative)",
     "forgotten σ′ (the sigmoid derivative)"),
    ("d2l-gru-step", "d_az", "0.0818 0.1429", "sign flipped", "sign flipped"),
    # d2l layer norm against batch norm
    ("d2l-layer-vs-batch-norm", "row_var", "0.5 0.5", "unbiased variance (divided by n − 1)",
     "unbiased variance (divided by n − 1)"),
    ("d2l-layer-vs-batch-norm", "ln", "-1 -1; 1 1", "That normalizes each feature over the batch", None),
    ("d2l-layer-vs-batch-norm", "ln", "-0.7071 0.7071; -0.7071 0.7071",
     "unbiased variance in the normalization (divided by n − 1)",
     "unbiased variance in the normalization (divided by n − 1)"),
    ("d2l-layer-vs-batch-norm", "bn", "-1 1; -1 1", "That normalizes each example along its row", None),
    ("d2l-layer-vs-batch-norm", "ln_params", "12", None, None),
    ("d2l-layer-vs-batch-norm", "out_shape", "3x4", "batch dimension left out", "batch dimension left out"),
    # CS224n's window of word vectors
    ("cs224n-window-gradients", "x", "1 0 2 -1", None, None),
    ("cs224n-window-gradients", "delta", "2 -1 3", "forgotten ReLU′ (the relu derivative)",
     "forgotten ReLU′ (the relu derivative)"),
    ("cs224n-window-gradients", "dW", "4 -2 0; -2 1 0; 2 -1 0; 0 0 0", "transposed matrix", "transposed matrix"),
    ("cs224n-window-gradients", "dx", "-2 2 -3 3", "sign flipped", "sign flipped"),
    ("cs224n-window-gradients", "dL", "2 -2; 3 -3; 0 0; 0 0", None, None),
    ("cs224n-window-gradients", "db", "2 -1 3", "forgotten ReLU′ (the relu derivative)",
     "forgotten ReLU′ (the relu derivative)"),
]


def verdict_of(lives, lesson_id, step_id, text, own_mistakes):
    return checker_for(live_of(lives, lesson_id, own_mistakes)).check(step_id, text)


@pytest.mark.parametrize("lesson_id, step_id, text, named, _", SLIPS)
def test_a_typical_slip_gets_exactly_this_name(lives, lesson_id, step_id, text, named, _):
    verdict = verdict_of(lives, lesson_id, step_id, text, True)
    assert verdict.status in (Status.WRONG, Status.WRONG_SHAPE), verdict
    assert verdict.mistake == named, verdict.message


@pytest.mark.parametrize("lesson_id, step_id, text, _, named", SLIPS)
def test_with_the_lessons_own_mistakes_removed_the_tutors_slips_alone_name_this(lives, lesson_id, step_id, text, _,
                                                                                 named):
    verdict = verdict_of(lives, lesson_id, step_id, text, False)
    assert verdict.status in (Status.WRONG, Status.WRONG_SHAPE), verdict
    assert verdict.mistake == named, verdict.message


def test_the_trial_names_enough_slips():
    with_own = sum(named is not None for *_, named, _ in SLIPS) / len(SLIPS)
    alone = sum(named is not None for *_, named in SLIPS) / len(SLIPS)
    assert with_own >= 0.85 and alone >= 0.60, (with_own, alone)
