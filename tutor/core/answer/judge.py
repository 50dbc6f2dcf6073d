"""Grades a typed answer against the live expected value: shape first, then every element."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor.core.answer.parse import Digits, ParsedAnswer, parse_answer
from tutor.core.errors import AnswerParseError
from tutor.core.evaluate.results import Expected
from tutor.core.text.shapes import shape_text
from tutor.core.vocabulary import NOT_ATTEMPTS, Kind, Status

if TYPE_CHECKING:
    from tutor.core.lesson.model import Tolerance

__all__ = ["Verdict", "check_answer", "missing_verdict", "read_answer"]

EXACT_RTOL = 1e-6        # float32 noise: "-1" is right for -0.99999982
WHOLE_TOL = 1e-9         # how close a typed count must be to a whole number
MIN_SIGNIFICANT = 2      # fewer typed figures than this is "imprecise", not "correct"
MAX_LISTED = 6           # entries named in one message; more would not be read

OK, WRONG, IMPRECISE = "ok", "wrong", "imprecise"




@dataclass(frozen=True)
class Verdict:
    """The outcome of one answer, with what a student needs to fix it (never the expected numbers)."""

    status: Status
    message: str
    wrong: tuple[tuple[int, ...], ...] = ()        # indices into the expected value's shape
    imprecise: tuple[tuple[int, ...], ...] = ()
    answer_shape: tuple[int, ...] | None = None
    expected_shape: tuple[int, ...] | None = None
    position: int | None = None                    # where the text stopped parsing, 0-based
    mistake: str | None = None                     # the named mistake's plain-text label, set by diagnosis
    carried_from: tuple[str, ...] = ()             # earlier steps an error was carried forward from

    @property
    def counts_as_attempt(self) -> bool:
        return self.status not in NOT_ATTEMPTS


def missing_verdict() -> Verdict:
    """The verdict for a step that has no answer."""
    return Verdict(Status.MISSING, "No answer given.")


def read_answer(text: str | None, expected: Expected) -> ParsedAnswer | Verdict:
    """The typed text parsed for this expected value, or the verdict saying why it can't be read."""
    if text is None or not isinstance(text, str) or not text.strip():
        return missing_verdict()
    try:
        return parse_answer(text, "shape" if expected.kind == Kind.SHAPE else "value")
    except AnswerParseError as err:
        where = f" (at character {err.position + 1})" if err.position is not None else ""
        return Verdict(Status.UNPARSED, f"Couldn't read that: {err.message}{where}.", position=err.position)
    except Exception:  # one odd answer must never take the app down
        return _UNCHECKABLE


def check_answer(answer: str | ParsedAnswer | None, expected: Expected,
                 tolerance: Tolerance | None = None) -> Verdict:
    """Checks an answer (typed text, or one already parsed) against an expected value; never raises."""
    parsed = answer if isinstance(answer, ParsedAnswer) else read_answer(answer, expected)
    if isinstance(parsed, Verdict):
        return parsed
    try:
        return _check(parsed, expected, tolerance)
    except Exception:  # one odd answer or value must never take the app down
        return _UNCHECKABLE


_UNCHECKABLE = Verdict(Status.UNPARSED, "Couldn't check this answer; please try writing it another way.")


def _check(parsed: ParsedAnswer, expected: Expected, tolerance: Tolerance | None) -> Verdict:
    if expected.kind == Kind.SHAPE:
        return _check_shape(parsed, expected)
    want, shape = _flatten_expected(expected)
    if not _shapes_match(parsed.shape, shape):
        return Verdict(Status.WRONG_SHAPE, _shape_message(parsed, shape),
                       answer_shape=parsed.shape, expected_shape=shape)
    held = held_digits(parsed.literal_digits)
    judged = [
        _judge_integer(a, x) if expected.kind == Kind.INTEGER else _judge_entry(a, d, h, x, tolerance, expected.noise)
        for a, d, h, x in zip(parsed.values, parsed.literal_digits, held, want, strict=False)
    ]
    wrong = [k for k, j in enumerate(judged) if j == WRONG]
    coarse = [k for k, j in enumerate(judged) if j == IMPRECISE]

    def found(status: Status, message: str) -> Verdict:
        return Verdict(status, message, wrong=tuple(_unravel(k, shape) for k in wrong),
                       imprecise=tuple(_unravel(k, shape) for k in coarse),
                       answer_shape=parsed.shape, expected_shape=shape)

    if wrong:
        if expected.kind == Kind.INTEGER:
            return found(Status.WRONG, _count_message(parsed, held, want, shape))
        return found(Status.WRONG, _wrong_message(wrong, coarse, shape))
    if coarse:
        return found(Status.IMPRECISE, _imprecise_message(coarse, shape, parsed, held, want))
    return found(Status.CORRECT, "Correct.")


# ---- elements -----------------------------------------------------------------------------

def _judge_entry(a: float, typed: Digits | None, held: Digits | None, x: float, tolerance: Tolerance | None,
                 noise: float) -> str:
    """An entry right at its own precision is right; one that would only be too coarse is held to the finest
    decimal place typed in any entry, so "2.5 1" for [2.5, 1.4] has entry 2 off, not quietly "too coarse"."""
    verdict = _judge_value(a, typed, x, tolerance, noise)
    if verdict == IMPRECISE and held != typed:
        return _judge_value(a, held, x, tolerance, noise)
    return verdict


def held_digits(digits: tuple[Digits | None, ...]) -> list[Digits | None]:
    """Each typed entry as if written to the finest decimal place typed in any entry ("2.5 1" as 2.5 and 1.0)."""
    typed = [d.decimals for d in digits if d is not None]
    if len(typed) < 2:
        return list(digits)
    finest = max(typed)
    return [d if d is None or d.decimals >= finest else
            Digits(finest, d.significant + d.placeholders + (finest - d.decimals) if d.significant else 0)
            for d in digits]


def exactly(a: float, x: float, noise: float = 0.0) -> bool:
    """Equal up to float round-off: relative to the value's own size (so small values are held to their size),
    or within `noise` of it relative to max(1, |x|) (float32's sin(2π) is 1.7e-7, not 0)."""
    gap = abs(a - x)
    return gap <= EXACT_RTOL * abs(x) or gap <= noise * max(1.0, abs(x))


def _judge_value(a: float, digits: Digits | None, x: float, tolerance: Tolerance | None,
                 noise: float = EXACT_RTOL) -> str:
    x = float(x)
    if not math.isfinite(x):
        return WRONG
    gap = abs(a - x)
    if tolerance is not None:
        return OK if gap <= tolerance.atol + tolerance.rtol * abs(x) else WRONG
    # Round-off is forgiven around exact values only: a typed exact value (pi/2, 3/4) or a whole number.
    typed_exact = digits is None or a == round(a)
    if exactly(a, x, noise if typed_exact else 0.0):
        return OK
    # Rounding forgiveness is for rounded decimals; a whole-number answer ("3") is never "2.9".
    if digits is None or _is_whole(x, EXACT_RTOL):
        return WRONG
    if gap <= digits.unit * (1 + 1e-9) and digits.significant >= MIN_SIGNIFICANT:
        return OK  # rounded, or carrying rounding from an earlier hand step
    if gap <= digits.unit / 2 * (1 + 1e-9) and digits.significant >= 1:
        return IMPRECISE  # the answer correctly rounded to the places typed, but too few figures
    if placeholder_rounding(gap, digits):
        return IMPRECISE  # "140" for 138.83: its zeros only place the number
    return WRONG


def placeholder_rounding(gap: float, digits: Digits | None) -> bool:
    """A whole number whose trailing zeros are placeholders, correctly rounded to its last non-zero figure."""
    if digits is None or not digits.placeholders or digits.significant < 1:
        return False
    return gap <= digits.unit * 10 ** digits.placeholders / 2 * (1 + 1e-9)


def _judge_integer(a: float, x: Any) -> str:
    if isinstance(x, float) and not math.isfinite(x):
        return WRONG
    if not _is_whole(a, WHOLE_TOL):
        return WRONG
    return OK if round(a) == round(x) else WRONG


def _is_whole(x: float, rtol: float) -> bool:
    return abs(math.remainder(x, 1.0)) <= rtol * max(1.0, abs(x))


def _flatten_expected(expected: Expected) -> tuple[list, tuple[int, ...]]:
    def walk(value) -> tuple[list, tuple[int, ...]]:
        if isinstance(value, (list, tuple)):
            parts = [walk(v) for v in value]
            inner = parts[0][1] if parts else ()
            return [v for part in parts for v in part[0]], (len(parts),) + inner
        return [value], ()

    flat, inferred = walk(expected.value)
    declared = tuple(expected.shape)
    return flat, declared if math.prod(declared) == len(flat) else inferred


# ---- shapes -------------------------------------------------------------------------------

def _vector_like(shape: tuple[int, ...]) -> bool:
    return sum(1 for d in shape if d != 1) <= 1


def _shapes_match(answer: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    # A flat list stands for a vector however the lesson holds it: (n,), (n, 1) or (1, n); but a column
    # typed explicitly ("2; 0; 1") is not a row.
    if answer == expected:
        return True
    if _is_column(answer) and _is_row(expected):
        return False
    return _vector_like(answer) and _vector_like(expected) and math.prod(answer) == math.prod(expected)


def _is_column(shape: tuple[int, ...]) -> bool:
    return len(shape) == 2 and shape[1] == 1 and shape[0] > 1


def _is_row(shape: tuple[int, ...]) -> bool:
    return len(shape) == 2 and shape[0] == 1 and shape[1] > 1


def _shape_phrase(shape: tuple[int, ...], oriented: bool = False) -> str:
    if math.prod(shape) == 1:
        return "a single number"
    if oriented and _is_column(shape):
        return f"a {shape_text(shape)} column"
    if oriented and _is_row(shape):
        return f"a {shape_text(shape)} row"
    if _vector_like(shape):
        return f"a vector of {math.prod(shape)}"
    return f"a {shape_text(shape)} {'matrix' if len(shape) == 2 else 'array'}"


_THOUSANDS = re.compile(r"\s*[+-]?\d{1,3}(,\d{3})+\s*")


def _shape_message(parsed: ParsedAnswer, expected: tuple[int, ...]) -> str:
    answer = parsed.shape
    if math.prod(expected) == 1 and _THOUSANDS.fullmatch(parsed.text):
        digits = re.sub(r"[,\s]", "", parsed.text)
        return (f"The commas were read as separators between {math.prod(answer)} numbers; "
                f"type the number without commas: {digits}.")
    oriented = _is_column(answer) and _is_row(expected)
    return f"You gave {_shape_phrase(answer, oriented)}; the answer is {_shape_phrase(expected, oriented)}."


def _canonical_dims(dims: tuple[int, ...]) -> tuple[int, ...]:
    # () == (1,) == (1, 1) for a scalar and (n,) == (n, 1) by the column-vector convention
    if len(dims) <= 2 and all(d == 1 for d in dims):
        return ()
    if len(dims) == 2 and dims[1] == 1:
        return (dims[0],)
    return dims


SWAPPED = "Rows and columns are swapped."


def _check_shape(parsed: ParsedAnswer, expected: Expected) -> Verdict:
    got = tuple(int(d) for d in parsed.values)
    want = tuple(int(d) for d in expected.value)

    def shapes(status: Status, message: str, wrong: tuple[tuple[int, ...], ...] = ()) -> Verdict:
        return Verdict(status, message, wrong=wrong, answer_shape=parsed.shape, expected_shape=tuple(expected.shape))

    if _canonical_dims(got) == _canonical_dims(want):
        return shapes(Status.CORRECT, "Correct.")
    # The dims are the answer here, so the message says what is off without naming them; nor does it
    # repeat what was typed (the learner sees that).
    if len(got) != len(want):
        return shapes(Status.WRONG, _size_count_message(len(got), len(want)))
    off = tuple((k,) for k in range(len(want)) if got[k] != want[k])
    if len(want) == 2 and got == want[::-1]:
        return shapes(Status.WRONG, SWAPPED, wrong=off)
    return shapes(Status.WRONG, _sizes_off_message([k for (k,) in off], len(want)), wrong=off)


def _size_count_message(got: int, want: int) -> str:
    what = {0: "a scalar: ()", 1: "one size, like (n,)", 2: "two sizes, rows × columns"}.get(want, f"{want} sizes")
    return f"The answer has {what}; yours has {got} size{'s' if got != 1 else ''}."


_ORDINALS = ["1st", "2nd", "3rd"]


def _sizes_off_message(off: list[int], count: int) -> str:
    if count == 2:
        one_off: dict[tuple[int, ...], str] = {(0,): "The number of rows is off.",
                                               (1,): "The number of columns is off."}
        return one_off.get(tuple(off), "Both the number of rows and the number of columns are off.")
    if count == 1:
        return "The size is off."
    names = [_ORDINALS[k] if k < 3 else f"{k + 1}th" for k in off]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"The {listed} size{'s are' if len(names) > 1 else ' is'} off (counting from the left)."


# ---- messages -----------------------------------------------------------------------------

def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        flat, k = divmod(flat, size)
        index.append(k)
    return tuple(reversed(index))


def _place(flat: int, shape: tuple[int, ...]) -> str:
    if _vector_like(shape):
        return f"entry {flat + 1}"
    index = _unravel(flat, shape)
    if len(shape) == 2:
        return f"row {index[0] + 1} col {index[1] + 1}"
    return "entry (" + ", ".join(str(k + 1) for k in index) + ")"


def _places(flats: list[int], shape: tuple[int, ...]) -> str:
    named = ", ".join(_place(k, shape) for k in flats[:MAX_LISTED])
    return named + (", …" if len(flats) > MAX_LISTED else "")


def _wrong_message(wrong: list[int], coarse: list[int], shape: tuple[int, ...]) -> str:
    total = math.prod(shape)
    if total == 1:
        return "The value is off; check your working."
    if len(wrong) == total:
        return f"All {total} entries are off."
    verb = "is" if len(wrong) == 1 else "are"
    message = f"{len(wrong)} of {total} entries {verb} off: {_places(wrong, shape)}"
    if coarse:  # every entry that is not right is named, the coarse ones too
        message += f"; {_places(coarse, shape)} {'is' if len(coarse) == 1 else 'are'} too coarse"
    return message + "."


def _count_message(parsed: ParsedAnswer, held: list[Digits | None], want: list, shape: tuple[int, ...]) -> str:
    """A wrong count: "must match exactly" only for a near miss (a rounding of it), else that it is off."""
    if math.prod(shape) != 1:
        wrong = [k for k, (a, x) in enumerate(zip(parsed.values, want, strict=False)) if _judge_integer(a, x) == WRONG]
        return _wrong_message(wrong, [], shape)
    a, x, digits = parsed.values[0], float(want[0]), held[0]
    gap = abs(a - x)
    near = exactly(a, x, EXACT_RTOL) or (digits is not None and (gap <= digits.unit * (1 + 1e-9)
                                                                  or placeholder_rounding(gap, digits)))
    if near:
        return "This count must match exactly."
    return "The count is off; check your working."


def _imprecise_message(coarse: list[int], shape: tuple[int, ...], parsed: ParsedAnswer,
                       held: list[Digits | None], want: list) -> str:
    if any(_only_placeholders(parsed.values[k], held[k], want[k]) for k in coarse):
        advice = "give more digits (the zeros at the end of a whole number only place it)."
    else:
        decimals = max(_decimals_hint(float(want[k]), held[k]) for k in coarse)
        advice = (f"give at least {MIN_SIGNIFICANT} significant figures "
                  f"(e.g. {decimals} decimal{'s' if decimals != 1 else ''} here).")
    if math.prod(shape) == 1:
        return f"Right as far as it goes; {advice}"
    verb = "is" if len(coarse) == 1 else "are"
    return f"Right as far as it goes, but {_places(coarse, shape)} {verb} too coarse: {advice}"


def _only_placeholders(a: float, digits: Digits | None, x: Any) -> bool:
    return digits is not None and digits.placeholders > 0 and abs(a - float(x)) > digits.unit / 2 * (1 + 1e-9)


def _decimals_hint(x: float, digits: Digits | None) -> int:
    # enough decimals for MIN_SIGNIFICANT figures of x, and always more than were typed
    needed = MIN_SIGNIFICANT - 1 - math.floor(math.log10(abs(x))) if x else 1
    typed = digits.decimals + 1 if digits is not None else 1
    return max(needed, typed, 1)
