"""What the learner may type: every contract syntax parses, and everything else is refused with a reason."""

import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.core.answer.parse import Digits, ParsedAnswer, describe, parse_answer
from tutor.core.errors import AnswerParseError
from tutor.core.expr import names


def read(text, kind="value"):
    parsed = parse_answer(text, kind)
    return parsed.values, parsed.shape


def refused(text, kind="value") -> AnswerParseError:
    with pytest.raises(AnswerParseError) as caught:
        parse_answer(text, kind)
    return caught.value


@pytest.mark.parametrize("text, value", [
    ("-12", -12), ("0.86", 0.86), ("7.5708", 7.5708), ("pi/2 + 6", math.pi / 2 + 6), ("3/4", 0.75),
    ("1e-3", 0.001), ("sqrt(2)/2", math.sqrt(2) / 2), ("-pi", -math.pi), ("2*pi", 2 * math.pi),
    ("e", math.e), ("2**3", 8), ("-2**2", -4), ("2**-1", 0.5), ("  0.5  ", 0.5), ("−3", -3),
    ("2×3", 6), ("(0.5)", 0.5), ("1 - 2", -1), ("1-2", -1), ("2 * -3", -6), (".5", 0.5),
    ("sigmoid(0)", 0.5), ("log(e)", 1), ("abs(-2)", 2), ("π", math.pi),
])
def test_scalars_in_every_contract_syntax(text, value):
    values, shape = read(text)
    assert shape == ()
    assert values == pytest.approx((value,))


@pytest.mark.parametrize("text", [
    "[-12, -6]", "-12 -6", "-12, -6", "(−12, −6)", "-12 −6", "[-12 -6]", " -12,-6 ",
])
def test_vectors(text):
    assert read(text) == ((-12, -6), (2,))


@pytest.mark.parametrize("text", [
    "[[3, -4], [1, 6]]", "3 -4; 1 6", "3 -4; 1 6;", "[3 -4; 1 6]", "[3, -4]; [1, 6]", "((3, -4), (1, 6))",
])
def test_matrices(text):
    assert read(text) == ((3, -4, 1, 6), (2, 2))


def test_semicolons_make_a_column_and_deeper_lists_keep_their_nesting():
    assert read("1; 2; 3") == ((1, 2, 3), (3, 1))
    assert read("[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]") == (tuple(range(1, 9)), (2, 2, 2))


def test_whitespace_separates_elements_only_where_matlab_would():
    assert read("1 -2")[1] == (2,)
    assert read("1 - 2")[1] == ()
    assert read("pi/2 + 6")[1] == ()
    assert read("1 2 3")[1] == (3,)
    assert read("(1 -2)") == ((-1,), ())          # inside ( ) whitespace never separates
    assert read("[1 -(2)]") == ((1, -2), (2,))


@pytest.mark.parametrize("text, decimals, figures, placeholders", [
    ("0.0725", 4, 3, 0), ("0.07", 2, 1, 0), ("-0.20", 2, 2, 0), ("2.58", 2, 3, 0), ("-12", 0, 2, 0),
    ("100", 0, 1, 2), ("7.5708", 4, 5, 0), ("1e-3", 3, 1, 0), ("1.50e2", 0, 3, 0), ("0", 0, 0, 0),
    ("140", 0, 2, 1), ("100.", 0, 3, 0),
])
def test_literal_digits_record_what_was_typed(text, decimals, figures, placeholders):
    # trailing zeros of a whole number typed without a point may only place it ("140": one placeholder)
    assert parse_answer(text).literal_digits == (Digits(decimals, figures, placeholders),)


@pytest.mark.parametrize("text", ["pi/2 + 6", "3/4", "sqrt(2)/2", "2*0.5"])
def test_computed_elements_count_as_exact(text):
    assert parse_answer(text).literal_digits == (None,)


def test_digits_are_kept_per_element():
    assert parse_answer("[0.07, 3/4]").literal_digits == (Digits(2, 1), None)


@pytest.mark.parametrize("name", sorted(names.ANSWER_FUNCTIONS))
def test_every_answer_function_is_usable(name):
    assert read(f"{name}(0.5)")[1] == ()


@pytest.mark.parametrize("text, reason, position", [
    ("", "type an answer", 0),
    ("   ", "type an answer", 0),
    ("2^3", "use ** for powers", 1),
    ("1 +", "expected a number after '+'", 3),
    ("3 -4; 1 6 7", "rows have different lengths: row 1 has 2 numbers, row 2 has 3", 6),
    ("x", "unknown name 'x': answers are numbers, e.g. 0.5, pi/2, sqrt(2)/2", 0),
    ("2 + y", "unknown name 'y'", 4),
    ("Pi", "did you mean pi?", 0),
    ("relu(2)", "relu isn't available in answers", 0),
    ("9**9**9", "number too large", 1),
    ("1e400", "number too large", 0),
    ("exp(1000)", "number too large", 0),
    ("1/0", "division by zero", 1),
    ("0**-1", "division by zero", 1),
    ("log(0)", "log(0) is not a finite number", 0),
    ("sqrt(-1)", "sqrt(-1) is not a real number", 0),
    ("(-8)**(1/3)", "not a real number", 4),
    ("1.2.3", "only one decimal point", 3),
    ("[1, 2", "missing ']'", 5),
    ("[1, 2)", "expected ']' but found ')'", 5),
    ("1)", "unmatched ')'", 1),
    ("2pi", "missing operator before 'pi'", 1),
    ("(1 2)", "separate numbers with commas", 3),
    ("sqrt 2", "sqrt needs parentheses", 5),
    ("sqrt(1, 2)", "sqrt takes one number", 6),
    ("[1, [2]]", "mix numbers and lists", 4),
    ("[1, 2] * 2", "lists can't be used in arithmetic", 7),
    ("; 1", "empty row", 0),
    ("1 $ 2", "unexpected character '$'", 2),
])
def test_refusals_say_why_and_where(text, reason, position):
    error = refused(text)
    assert reason in error.message
    assert error.position == position


@pytest.mark.parametrize("text", [
    "9**9**9", "9" * 2000, "1" * 10_000, "(" * 1000, "[" * 1000, "-" * 1999 + "1", "sqrt(" * 400,
    "__import__('os')", "__import__('os').system('ls')", "\x00", "1\x002", "1 + \x00",
    "ℵ₀ ∞ 😀", "1e99999999999", "2**2**2**2**2**2", "((((" * 250, "[" * 20 + "1" + "]" * 20 + "]",
])
def test_hostile_inputs_are_refused_quickly(text):
    start = time.process_time()
    with pytest.raises(AnswerParseError):
        parse_answer(text)
    # runaway work would take seconds of CPU; the benchmark holds the real latency budget
    assert time.process_time() - start < 1.0


@pytest.mark.parametrize("text, dims", [
    ("4x24", (4, 24)), ("4×24", (4, 24)), ("4 x 24", (4, 24)), ("(4, 24)", (4, 24)), ("[4, 24]", (4, 24)),
    ("4, 24", (4, 24)), ("4X24", (4, 24)), ("4 24", (4, 24)), ("(4,)", (4,)), ("4", (4,)), ("4,", (4,)),
    ("1x1", (1, 1)), ("()", ()), ("[]", ()), ("scalar", ()), ("Scalar", ()), ("2x3x4x5", (2, 3, 4, 5)),
    ("0x3", (0, 3)),
])
def test_shapes_in_every_syntax(text, dims):
    assert read(text, "shape") == (dims, (len(dims),))


@pytest.mark.parametrize("text, reason", [
    ("4x", "expected a size after 'x'"), ("x4", "expected a size before 'x'"), ("4,,2", "expected a size"),
    ("4.5", "whole number"), ("-3", "can't be negative"), ("(4, 24", "missing ')'"), ("4)", "unmatched ')'"),
    ("(4, 24]", "expected ')'"), ("((4))", "unexpected '('"), ("4 by 24", "unexpected 'b'"),
    ("", "type an answer"),
])
def test_bad_shapes_are_refused_with_a_reason(text, reason):
    assert reason in refused(text, "shape").message


def test_integer_answers_are_read_as_values():
    assert read("1.2e3", "integer") == ((1200,), ())


@pytest.mark.parametrize("text, preview", [
    ("7.5708", "scalar: 7.5708"), ("pi/2 + 6", "scalar: 7.5708"), ("-12 -6", "vector of 2: [-12, -6]"),
    ("3 -4; 1 6", "2×2 matrix: [[3, -4], [1, 6]]"), ("[[[1, 2]]]", "1×1×2 array: [[[1, 2]]]"),
])
def test_preview_shows_how_the_answer_was_read(text, preview):
    assert describe(parse_answer(text)) == preview


def test_preview_of_shapes():
    assert describe(parse_answer("(4, 24)", "shape")) == "shape 4×24"
    assert describe(parse_answer("4", "shape")) == "shape (4,)"


def _number_text(x: float) -> str:
    return repr(x).replace("-", "−") if x < -1e5 else repr(x)  # exercise the unicode minus too


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


@given(st.lists(finite, min_size=2, max_size=8), st.sampled_from([" ", ", ", ",", "  "]), st.booleans())
def test_any_list_of_numbers_reads_back_exactly(numbers, separator, brackets):
    text = separator.join(_number_text(x) for x in numbers)
    values, shape = read(f"[{text}]" if brackets else text)
    assert shape == (len(numbers),)
    assert values == tuple(numbers)


@given(st.integers(1, 4), st.integers(1, 4), st.data())
def test_any_matrix_reads_back_exactly(rows, cols, data):
    matrix = [data.draw(st.lists(finite, min_size=cols, max_size=cols)) for _ in range(rows)]
    text = "; ".join(" ".join(repr(x) for x in row) for row in matrix)
    values, shape = read(text)
    assert values == tuple(x for row in matrix for x in row)
    if rows > 1:
        assert shape == (rows, cols)
    else:  # a single row without ';' is a plain list, or a scalar when it holds one number
        assert shape == ((cols,) if cols > 1 else ())


answer_like = st.text(alphabet="0123456789.eE+-−*/^()[],; x×πpisqrtlogexp \t", max_size=80)


@settings(deadline=1000)  # bounded work, not speed: the machine is shared
@given(st.one_of(st.text(max_size=200), answer_like), st.sampled_from(["value", "shape", "integer"]))
def test_any_text_parses_or_is_refused_with_a_position(text, kind):
    try:
        parsed = parse_answer(text, kind)
    except AnswerParseError as error:
        assert error.message
        assert error.position is not None and 0 <= error.position <= len(text)
        return
    assert isinstance(parsed, ParsedAnswer)
    assert len(parsed.values) == len(parsed.literal_digits)
    if parsed.kind == "value":
        assert len(parsed.values) == math.prod(parsed.shape)
    assert all(math.isfinite(v) for v in parsed.values)
    describe(parsed)
