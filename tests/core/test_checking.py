"""Checking: the contract's rounding rule, shapes, tolerances, exact integers and shapes, messages."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.core.answer.judge import Verdict, check_answer, missing_verdict
from tutor.core.evaluate.results import Expected
from tutor.core.lesson.model import Tolerance
from tutor.core.text.shapes import dims_text, shape_text


def value(v, shape=()):
    return Expected("value", v, shape)


def status(text, expected, tolerance=None):
    return check_answer(text, expected, tolerance).status


@pytest.mark.parametrize("typed, expected", [
    ("0.73", 0.7311), ("-0.20", -0.1966), ("2.58", 2.5750), ("-1", -0.99999982), ("0.7311", 0.7310586),
    ("7.5708", 7.570796326794897), ("pi/2 + 6", 7.570796326794897), ("0.74", 0.7311), ("3", 3.0000004),
])
def test_contract_examples_that_pass(typed, expected):
    assert status(typed, value(expected)) == "correct"


def test_one_significant_figure_is_too_coarse_not_wrong():
    verdict = check_answer("0.07", value(0.0725))
    assert verdict.status == "imprecise"
    assert verdict.message == (
        "Right as far as it goes; give at least 2 significant figures (e.g. 3 decimals here)."
    )


@pytest.mark.parametrize("typed, expected", [
    ("0.71", 0.7311),      # two units off in the last place
    ("0.72", 0.7311),
    ("0.9", 0.7311),
    ("-11", -12.0),        # whole-number answers get no rounding forgiveness
    ("2.9", 3.0),
    ("0.7", -0.7),
    ("7.57", 7.5808),
])
def test_wrong_values(typed, expected):
    assert status(typed, value(expected)) == "wrong"


def test_computed_answers_get_no_rounding_forgiveness():
    assert status("0.73", value(0.7311)) == "correct"
    assert status("73/100", value(0.7311)) == "wrong"


def test_wrong_entries_are_named_by_index():
    expected = value([[3.0, -4.0], [1.0, 6.0]], (2, 2))
    verdict = check_answer("3 4; -1 6", expected)
    assert verdict.status == "wrong"
    assert verdict.wrong == ((0, 1), (1, 0))
    assert verdict.message == "2 of 4 entries are off: row 1 col 2, row 2 col 1."


def test_wrong_vector_entry_is_named_one_based():
    verdict = check_answer("-12 -7", value([-12.0, -6.0], (2,)))
    assert verdict.wrong == ((1,),)
    assert verdict.message == "1 of 2 entries is off: entry 2."


def test_all_entries_off_and_long_lists_are_shortened():
    assert check_answer("1 1 1", value([5.0, 6.0, 7.0], (3,))).message == "All 3 entries are off."
    verdict = check_answer(" ".join("0" for _ in range(10)), value([0.0] * 2 + [1.0] * 8, (10,)))
    assert verdict.message == (
        "8 of 10 entries are off: entry 3, entry 4, entry 5, entry 6, entry 7, entry 8, …."
    )


def test_wrong_takes_precedence_over_imprecise_but_both_are_recorded():
    verdict = check_answer("[0.07, 9]", value([0.0725, 0.5], (2,)))
    assert verdict.status == "wrong"
    assert verdict.wrong == ((1,),)
    assert verdict.imprecise == ((0,),)


def test_imprecise_entry_of_a_vector_is_named():
    verdict = check_answer("[0.07, 0.5]", value([0.0725, 0.5], (2,)))
    assert verdict.status == "imprecise"
    assert "entry 1 is too coarse" in verdict.message


@pytest.mark.parametrize("typed, expected", [
    ("-12 -6", value([[-12.0], [-6.0]], (2, 1))),
    ("-12 -6", value([[-12.0, -6.0]], (1, 2))),
    ("[-12, -6]", value([-12.0, -6.0], (2,))),
    ("[0.5]", value(0.5)),
    ("-12; -6", value([-12.0, -6.0], (2,))),
])
def test_a_flat_list_stands_for_a_vector_however_it_is_held(typed, expected):
    assert status(typed, expected) == "correct"


def test_wrong_shape_names_both_shapes():
    verdict = check_answer("1 2 3; 4 5 6", value([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], (3, 2)))
    assert verdict.status == "wrong_shape"
    assert verdict.message == "You gave a 2×3 matrix; the answer is a 3×2 matrix."
    assert (verdict.answer_shape, verdict.expected_shape) == ((2, 3), (3, 2))


@pytest.mark.parametrize("typed, expected, message", [
    ("1 2 3 4", value([[1.0, 2.0], [3.0, 4.0]], (2, 2)),
     "You gave a vector of 4; the answer is a 2×2 matrix."),
    ("1 2", value(1.0), "You gave a vector of 2; the answer is a single number."),
    ("1 2 3", value([1.0, 2.0], (2,)), "You gave a vector of 3; the answer is a vector of 2."),
    ("1 2; 3 4", value([1.0, 2.0, 3.0, 4.0], (4,)), "You gave a 2×2 matrix; the answer is a vector of 4."),
])
def test_other_wrong_shapes(typed, expected, message):
    verdict = check_answer(typed, expected)
    assert (verdict.status, verdict.message) == ("wrong_shape", message)


def test_tolerance_replaces_the_default_rule():
    assert status("1.1", value(1.0), Tolerance(rtol=0.2)) == "correct"
    assert status("1.1", value(1.0)) == "wrong"
    assert status("0.73", value(0.7311), Tolerance(atol=1e-4)) == "wrong"
    assert status("0.07", value(0.0725), Tolerance(atol=0.01)) == "correct"


@pytest.mark.parametrize("typed, verdict", [
    ("6", "correct"), ("6.0", "correct"), ("6e0", "correct"), ("12/2", "correct"), ("6.5", "wrong"),
    ("5.9", "wrong"), ("5.99999", "wrong"), ("7", "wrong"),
])
def test_integers_must_match_exactly(typed, verdict):
    assert status(typed, Expected("integer", 6, ())) == verdict


def test_big_counts_in_scientific_notation():
    assert status("1.2e12", Expected("integer", 1_200_000_000_000, ())) == "correct"


@pytest.mark.parametrize("typed", ["4x24", "4×24", "4 x 24", "(4, 24)", "[4, 24]", "4, 24"])
def test_shape_answers_in_every_syntax(typed):
    assert status(typed, Expected("shape", [4, 24], (2,))) == "correct"


@pytest.mark.parametrize("typed, dims, verdict", [
    ("()", [], "correct"), ("scalar", [1], "correct"), ("1x1", [], "correct"), ("(1,)", [1, 1], "correct"),
    ("(4,)", [4, 1], "correct"), ("4x1", [4], "correct"), ("1x4", [4], "wrong"), ("4x1", [1, 4], "wrong"),
    ("(4,)", [1, 4], "wrong"), ("4", [4], "correct"), ("2x3x4", [2, 3, 4], "correct"),
])
def test_shape_equivalences(typed, dims, verdict):
    assert status(typed, Expected("shape", dims, (len(dims),))) == verdict


@pytest.mark.parametrize("typed, message", [
    ("24x4", "Rows and columns are swapped."),
    ("4x25", "The number of columns is off."),
    ("5x24", "The number of rows is off."),
    ("5x25", "Both the number of rows and the number of columns are off."),
    ("4x24x1x2", "The answer has two sizes, rows × columns; yours has 4 sizes."),
])
def test_wrong_shape_answers_say_what_is_off_without_giving_it_away(typed, message):
    verdict = check_answer(typed, Expected("shape", [4, 24], (2,)))
    assert (verdict.status, verdict.message) == ("wrong", message)


def test_shape_asks_read_the_answer_as_a_shape():
    assert status("4x24", value([[0.0] * 24] * 4, (4, 24))) == "unparsed"


def test_unparsed_says_where_and_is_not_an_attempt():
    verdict = check_answer("1 +", value(1.0))
    assert verdict.status == "unparsed"
    assert verdict.position == 3
    assert verdict.message == "Couldn't read that: expected a number after '+' (at character 4)."
    assert not verdict.counts_as_attempt


def test_missing_is_not_an_attempt_but_a_wrong_answer_is():
    assert missing_verdict().status == "missing"
    assert check_answer("   ", value(1.0)).status == "missing"
    assert not missing_verdict().counts_as_attempt
    assert check_answer("2", value(1.0)).counts_as_attempt


def test_shapes_are_worded_one_way_everywhere():
    shapes = [(), (3,), (4, 24), (2, 3, 4)]
    assert [shape_text(s) for s in shapes] == ["scalar", "vector of 3", "4×24", "2×3×4"]
    assert [dims_text(s) for s in shapes] == ["()", "(3,)", "4×24", "2×3×4"]


def test_non_finite_expected_values_are_never_matched():
    assert status("1", value(float("nan"))) == "wrong"
    assert status("1 1", value([1.0, float("inf")], (2,))) == "wrong"


_EXPECTED = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(value),
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=4).map(lambda xs: value(xs, (len(xs),))),
    st.integers(-10**6, 10**6).map(lambda n: Expected("integer", n, ())),
    st.lists(st.integers(0, 64), max_size=4).map(lambda dims: Expected("shape", dims, (len(dims),))),
)
_TYPED = st.one_of(st.text(max_size=60), st.text(alphabet="0123456789.-+ ,;[]()x/*e", max_size=30))


@settings(deadline=1000)  # bounded work, not speed: the machine is shared
@given(_TYPED, _EXPECTED, st.one_of(st.none(), st.builds(Tolerance, st.floats(0, 1), st.floats(0, 1))))
def test_checking_never_raises_and_always_gives_a_known_verdict(typed, expected, tolerance):
    verdict = check_answer(typed, expected, tolerance)
    assert isinstance(verdict, Verdict)
    assert verdict.status in {"correct", "wrong", "wrong_shape", "imprecise", "unparsed", "missing"}
    assert verdict.message


@given(st.lists(st.floats(-100, 100).filter(lambda x: abs(x) > 0.01), min_size=1, max_size=5), st.data())
def test_messages_never_reveal_the_expected_numbers(expected_values, data):
    typed = data.draw(st.lists(st.floats(-100, 100), min_size=1, max_size=5))
    text = " ".join(f"{x:.2f}" for x in typed)
    message = check_answer(text, value(expected_values, (len(expected_values),))).message
    assert not re.search(r"\d\.\d", message)  # counts and positions only, never a decimal value


# ---- the amended contract (2026-11-28) ------------------------------------------------------------

@pytest.mark.parametrize("typed, expected, verdict", [
    ("3", 2.1213, "wrong"),         # not a rounding of 2.1213: wrong, never "right as far as it goes"
    ("2", 2.1213, "imprecise"),     # 2.1213 correctly rounded to units: asks for more digits
    ("0.07", 0.0725, "imprecise"),
    ("0.08", 0.0725, "wrong"),      # within one unit, but not the correct rounding, and one figure
    ("-1", -0.197, "wrong"),
    ("0", 0.3, "wrong"),            # no significant figure at all
])
def test_too_coarse_only_for_a_correct_rounding(typed, expected, verdict):
    assert status(typed, value(expected)) == verdict


@pytest.mark.parametrize("typed, verdict", [
    ("1.57+6, 3.14+3", "correct"),    # held to the hundredths its numbers were typed to
    ("7.57 6.14", "correct"),
    ("1.5+6, 3.1+3", "correct"),      # tenths: 7.6 and 6.1 are within a tenth
    ("1.57+6, 3.15+3", "correct"),    # 6.15 carries a rounding: within one hundredth
    ("1.57+6, 3.13+3", "wrong"),      # 6.13 is two hundredths off
    ("pi/2 + 6, pi + 3", "wrong"),    # typed exactly, so held to 1e-6: pi + 3 is not 6.1416
])
def test_an_expression_is_held_to_its_finest_decimal_place(typed, verdict):
    assert status(typed, value([7.5708, 6.1416], (2,))) == verdict


def test_an_exact_expression_is_held_to_one_in_a_million():
    assert status("pi/2 + 6", value(7.570796326794897)) == "correct"
    assert status("73/100", value(0.7311)) == "wrong"


@pytest.mark.parametrize("typed", ["2; 0; 1", "[[2], [0], [1]]"])
def test_a_column_typed_for_a_row_is_a_wrong_shape_naming_both(typed):
    verdict = check_answer(typed, value([[2.0, 0.0, 1.0]], (1, 3)))
    assert verdict.status == "wrong_shape"
    assert verdict.message == "You gave a 3×1 column; the answer is a 1×3 row."


@pytest.mark.parametrize("typed", ["2 0 1", "[2, 0, 1]", "[[2, 0, 1]]", "2, 0, 1"])
def test_a_flat_list_or_a_row_is_right_for_a_row(typed):
    assert status(typed, value([[2.0, 0.0, 1.0]], (1, 3))) == "correct"


def test_thousands_commas_are_named():
    verdict = check_answer("13,893,632", Expected("integer", 13893632, ()))
    assert verdict.status == "wrong_shape"
    assert verdict.message == ("The commas were read as separators between 3 numbers; "
                               "type the number without commas: 13893632.")
    assert status("13893632", Expected("integer", 13893632, ())) == "correct"


@pytest.mark.parametrize("typed, expected", [
    ("5x1", [5, 3]), ("24x4", [4, 24]), ("4x24x1", [4, 24]), ("1x2x5", [1, 3, 4]),
])
def test_shape_messages_say_rows_and_columns_and_never_repeat_the_answer(typed, expected):
    message = check_answer(typed, Expected("shape", expected, (len(expected),))).message
    assert "dimension 1" not in message and "You gave" not in message
    assert "ransposed" not in message
    assert message.count(".") == 1


# ---- the amended contract (2026-12-04): defaults teachers need not remember ---------------------

def _live(text: str):
    from tutor.core.check.step import checker_for
    from tutor.core.evaluate.live import LiveLesson
    from tutor.core.lesson.load import parse_lesson

    return checker_for(LiveLesson(parse_lesson(text, "t.toml")))


COUNTS = '''
graph = """
W = zeros(n_out, n_in)
b = zeros(n_out)
"""
[given]
n_in = 2048
n_out = 1000
a = 3
[[steps]]
id = "params"
ask = "n_out * n_in + n_out"
[[steps]]
id = "halves"
ask = "n_out * n_in / 2"
[[steps]]
id = "numels"
ask = "numel(W) + numel(b)"
[[steps]]
id = "forward"
ask = "a * 2 + 1"
'''


@pytest.mark.parametrize("step, typed, verdict, message", [
    # a count one too low is wrong without any tolerance, however big the count
    ("params", "2048999", "wrong", "This count must match exactly."),
    ("params", "2049000", "correct", "Correct."),
    ("halves", "1023999", "wrong", "This count must match exactly."),   # whole-number division
    ("halves", "1024000", "correct", "Correct."),
    ("params", "2048000", "wrong", "The count is off; check your working."),  # not a near miss
    ("params", "2.049e6", "correct", "Correct."),
])
def test_a_value_built_from_sizes_by_counting_is_a_count(step, typed, verdict, message):
    result = _live(COUNTS).check(step, typed)
    assert (result.status, result.message) == (verdict, message)


def test_sizes_counted_make_a_count_but_other_whole_numbers_stay_values():
    live = _live(COUNTS)
    assert [live.expected(s).kind for s in ("params", "halves", "numels", "forward")] == \
        ["integer", "integer", "integer", "value"]


def test_a_parameter_count_without_its_biases_says_what_is_off_and_names_it():
    verdict = _live(COUNTS).check("numels", "2048000")
    assert verdict.mistake == "biases left out of the count"
    assert verdict.message == ("The count is off; check your working. "
                               "Biases are learnable parameters too: count them with the weights.")


@pytest.mark.parametrize("typed, expected, verdict", [
    ("0.0003003", value(0.0003), "wrong"),                      # small values are held to their own size
    ("0.0003", value(0.0003003), "imprecise"),                  # a correct rounding with one figure
    ("0.0003003", value(0.00030030001), "correct"),
    ("0", Expected("value", 1.7484555e-07, (), 1e-6), "correct"),  # float32 sin(2π): noise around 0
    ("0", Expected("value", 1.7e-07, (), 1e-12), "wrong"),         # a float64 value that small is a value
    ("-1", Expected("value", -0.99999982, (), 1e-6), "correct"),
    ("pi", Expected("value", 3.1415925, (), 1e-6), "correct"),
])
def test_small_values_are_held_relative_to_their_size_and_float_noise_stays_forgiven(typed, expected, verdict):
    assert status(typed, expected) == verdict


def test_every_entry_is_held_to_the_finest_decimal_place_typed_in_any_entry():
    verdict = check_answer("2.5 1", value([2.5, 1.4], (2,)))
    assert (verdict.status, verdict.message) == ("wrong", "1 of 2 entries is off: entry 2.")
    # an entry right at its own precision stays right
    assert status("0.015 0.63 0.35", value([0.01545, 0.6312, 0.3534], (3,))) == "correct"


def test_a_message_names_every_entry_that_is_not_right():
    # entry 1 is a whole number typed for a value with a fraction: off, not quietly a coarse rounding
    verdict = check_answer("1 0.52 3.1 4", value([1.4, 0.52, 3.6, 4.0], (4,)))
    assert verdict.message == "2 of 4 entries are off: entry 1, entry 3."
    verdict = check_answer("0.02 0.5 9.4", value([0.0154, 0.5, 2.0], (3,)))
    assert verdict.message == "1 of 3 entries is off: entry 3; entry 1 is too coarse."
    assert (verdict.wrong, verdict.imprecise) == (((2,),), ((0,),))


@pytest.mark.parametrize("typed, expected", [("140", 138.83), ("100", 138.83), ("1000", 1388.3)])
def test_trailing_zeros_of_a_whole_number_may_be_placeholders(typed, expected):
    verdict = check_answer(typed, value(expected))
    assert verdict.status == "imprecise"
    assert verdict.message == ("Right as far as it goes; give more digits "
                               "(the zeros at the end of a whole number only place it).")


def test_placeholder_zeros_are_not_a_licence_for_any_nearby_number():
    assert status("150", value(138.83)) == "wrong"
    assert status("140", value(144.9)) == "imprecise"   # 144.9 is 140 to two figures
    assert status("140", value(145.1)) == "wrong"       # 145.1 is 150 to two figures


def test_a_correct_rounding_that_is_exactly_a_named_mistake_asks_for_digits_and_mentions_it():
    live = _live('graph = "s = sigmoid(x)"\n[given]\nx = 1\n[[steps]]\nid = "s"\nask = "s"\n'
                 '[[steps.mistakes]]\nwhen = "x - 0.3"\nsay = "That subtracts 0.3 instead of squashing."\n')
    verdict = live.check("s", "0.7")
    assert verdict.status == "imprecise" and verdict.mistake is None
    assert verdict.message == ("Right as far as it goes; give at least 2 significant figures (e.g. 2 decimals "
                               "here). If you meant exactly 0.7, that may be a known slip: That subtracts 0.3 "
                               "instead of squashing.")
    assert live.check("s", "0.70").mistake == "That subtracts 0.3 instead of squashing"
