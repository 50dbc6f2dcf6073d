"""What `tutor check` reads in a lesson's prose, without evaluating anything: the numbers typed in it, claims
about halving a rate and about precision, articles before quoted numbers, and the file line of each."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tutor.core.errors import ExprError
from tutor.core.lesson.prose import pieces

_WORDS = {"once": 1, "twice": 2, "thrice": 3, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
          "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_COUNT = r"(?P<count>\d+|" + "|".join(_WORDS) + r")"


@dataclass(frozen=True)
class Literal:
    """A number typed in prose (outside `{{ }}` and `{% own %}`), or a size such as 8×8 (`dims`)."""

    text: str                       # as typed: "0.5", "224", "8x8"
    value: float
    dims: tuple[int, ...] = ()      # for a size pattern: (8, 8)
    before: str = ""                # the text just before it, for "b = 1"
    in_math: bool = False


def shown_text(text: str, own: bool = False) -> list[str]:
    """The runs of prose a learner reads as typed: outside quotes, and outside own-number spans unless `own`."""
    try:
        parts = pieces(text)
    except ExprError:
        return []
    runs, inside = [], False
    for p in parts:
        if p.kind in ("own", "end"):
            inside = p.kind == "own"
            runs.append("\x00")  # a span boundary: nothing reads across it
        elif p.kind == "text" and (own or not inside):
            runs.append(p.text)
        elif p.kind == "expr":
            runs.append("\x00")
    return [run for run in "".join(runs).split("\x00") if run.strip()]


_TIMES = re.compile(r"\\times|×|\\cdot(?=\s*\d)")
_SIZE = re.compile(r"(?<![\w.])(\d+)(?:\s*(?:×|x)\s*(\d+))+(?![\w.])")
# a number glued by a hyphen to a word is part of a name: "base-10 logarithm", "top-5 accuracy", "float-32"
_NUMBER = re.compile(r"(?<![\w.])(?<!\w-)(\d+(?:\.\d+)?)(?![\w.])")


def literals(text: str) -> list[Literal]:
    """The numbers and sizes typed in prose shown on every variant: LaTeX subscripts and exponents (`w_1`,
    `x^2`), digits inside names (`b1`, `conv3`) and everything in `{{ }}` or `{% own %}` left out."""
    found: list[Literal] = []
    for run in shown_text(text):
        for math_part, chunk in _math_split(run):
            plain = _TIMES.sub(" × ", chunk)
            plain = re.sub(r"\\([A-Za-z]+)", r"\1", plain)  # \beta: a name; digits glued to it are no number
            plain = re.sub(r"[_^]\{([^{}]*)\}|[_^](\w)",  # subscripts and exponents: part of a name
                           lambda m: "ʼ" + re.sub(r"\W", "ʼ", m.group(1) or m.group(2) or ""), plain)
            plain = plain.replace("{", "").replace("}", "")
            for m in _SIZE.finditer(plain):
                dims = tuple(int(d) for d in re.findall(r"\d+", m.group(0)))
                found.append(Literal(m.group(0), float(dims[0]), dims, plain[:m.start()][-30:], math_part))
            for m in _NUMBER.finditer(_SIZE.sub(" ", plain)):
                found.append(Literal(m.group(1), float(m.group(1)), (), _SIZE.sub(" ", plain)[:m.start()][-30:],
                                     math_part))
    return found


def _math_split(run: str) -> list[tuple[bool, str]]:
    """The run cut into (in math, text) parts at its `$` signs."""
    parts = re.split(r"(\$\$?)", run)
    out, inside = [], False
    for part in parts:
        if part in ("$", "$$"):
            inside = not inside
        elif part:
            out.append((inside, part))
    return out


def names_before(literal: Literal) -> str | None:
    """The name a literal is set equal to ("b = 1", "$\\alpha = 0.5$" -> "alpha"), or None."""
    m = re.search(r"([A-Za-z][\wʼ]*|\))\s*=\s*$", literal.before)
    if m is None:
        return None
    return m.group(1).replace("ʼ", "")


def significant_figures(text: str) -> int:
    digits = text.replace(".", "").lstrip("0")
    return len(digits.rstrip("0")) if "." not in text else len(digits)


# ---- claims -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Halving:
    """"halve the rate with F2 three times (to 0.0625)": halvings (negative: doublings) and the claimed rate."""

    text: str
    times: int
    rate: float


_HALVING = re.compile(r"(?P<verb>halv\w*|doubl\w*)\b[^.;]*?\b" + _COUNT + r"(?:\s+times?)?\b[^.;]*?"
                      r"\(\s*to\s+(?P<rate>\d+(?:\.\d+)?(?:e-?\d+)?)\s*\)", re.IGNORECASE)


def halving_claims(text: str) -> list[Halving]:
    """Claims of where halving (or doubling) a rate a number of times lands, in own-number text too."""
    out = []
    for run in shown_text(text, own=True):
        for m in _HALVING.finditer(run):
            count = m.group("count").lower()
            times = _WORDS.get(count) or int(count)
            sign = 1 if m.group("verb").lower().startswith("halv") else -1
            out.append(Halving(" ".join(m.group(0).split()), sign * times, float(m.group("rate"))))
    return out


def rate_after(rate: float, halvings: int) -> float:
    return rate / 2 ** halvings


@dataclass(frozen=True)
class PrecisionClaim:
    text: str
    kind: str            # "decimals" | "significant" | "whole_numbers"
    count: int | None


_PRECISION = re.compile(
    r"\b(?P<count>\d+|one|two|three|four|five|six)\s+(?P<what>decimals?|decimal places?|significant figures?"
    r"|significant digits?)\s*(?:,[^.;,]{0,40},\s*)?(?:are|is)\s+enough", re.IGNORECASE)  # "four decimals, as ..., are"
_WHOLE = re.compile(r"\bwhole numbers\s+(?:throughout|everywhere|only)|\b(?:every|each|all)\s+answers?\s+"
                    r"(?:is|are)\s+(?:a\s+)?whole numbers?", re.IGNORECASE)


def precision_claims(text: str) -> list[PrecisionClaim]:
    """"two decimals are enough", "whole numbers throughout": claims about every answer of every variant."""
    out = []
    for run in shown_text(text):
        for m in _PRECISION.finditer(run):
            count = m.group("count").lower()
            kind = "decimals" if m.group("what").lower().startswith("decimal") else "significant"
            out.append(PrecisionClaim(" ".join(m.group(0).split()), kind, _WORDS.get(count) or int(count)))
        for m in _WHOLE.finditer(run):
            out.append(PrecisionClaim(" ".join(m.group(0).split()), "whole_numbers", None))
    return out


# ---- articles -----------------------------------------------------------------------------------

_ARTICLE = re.compile(r"\b(?P<article>[Aa]n?)\s+\$*\s*\{\{(?P<expr>.*?)\}\}", re.DOTALL)


def articles_before_quotes(text: str) -> list[tuple[str, str]]:
    """(article, expression) for each "a {{ n }}" / "an {{ n }}": the right article depends on the number."""
    return [(m.group("article").lower(), m.group("expr").strip()) for m in _ARTICLE.finditer(text)]


def article_for(number_text: str) -> str:
    """The article a number takes read aloud: "an 8", "an 11", "an 18", "an 80", "a 9", "a 110"."""
    digits = number_text.lstrip("−-+ ").replace(",", "").split(".")[0]
    if number_text.strip().startswith(("-", "−")):
        return "a"  # "a minus one"
    if not digits.isdigit():
        return "a"
    if digits.startswith("8"):
        return "an"
    groups = len(digits) % 3 or 3  # "11,000" is read "eleven thousand"
    return "an" if digits[:groups] in ("11", "18") else "a"


# ---- places in the file -------------------------------------------------------------------------

def field_line(source: str, where: str, needle: str) -> int | None:
    """The 1-based line of the lesson file where `needle` is typed in the field `where` ("intro",
    "step 'dw' explain", "step 'dw' hint 2", "step 'dw' mistake #1 say"), or None."""
    lines = source.splitlines()
    start = _field_start(lines, where)
    if start is None:
        return None
    pattern = re.compile(r"(?<![\w.])" + re.escape(needle).replace(r"\ ", r"\s*") + r"(?![\w])")
    key = re.compile(r"^\s*(\[|[A-Za-z_][\w]*\s*=)")
    for number in range(start, len(lines)):
        if number > start and key.match(lines[number]):
            break
        if pattern.search(lines[number]):
            return number + 1
    return start + 1


def _field_start(lines: list[str], where: str) -> int | None:
    m = re.match(r"step '(?P<step>[^']+)' (?P<part>prompt|explain|hint (?P<hint>\d+)|mistake #(?P<mistake>\d+) say)$",
                 where)
    if where == "intro" or where == "title":
        return _key_line(lines, 0, len(lines), where)
    if where.startswith("["):  # a table: "[drill]"
        return next((k for k, line in enumerate(lines) if line.strip() == where), None)
    if m is None:
        return None
    begin = None
    for k, line in enumerate(lines):
        if line.strip() == "[[steps]]":
            for j in range(k + 1, min(k + 40, len(lines))):
                if re.match(rf"""^\s*id\s*=\s*["']{re.escape(m.group('step'))}["']""", lines[j]):
                    begin = k
                    break
                if lines[j].strip().startswith("["):
                    break
        if begin is not None:
            break
    if begin is None:
        return None
    end = next((k for k in range(begin + 1, len(lines)) if lines[k].strip() == "[[steps]]"
                or re.match(r"^\s*\[(?!\[steps\.)", lines[k])), len(lines))
    part = m.group("part")
    if m.group("mistake"):
        tables = [k for k in range(begin, end) if lines[k].strip() == "[[steps.mistakes]]"]
        index = int(m.group("mistake")) - 1
        if index >= len(tables):
            return None
        stop = tables[index + 1] if index + 1 < len(tables) else end
        return _key_line(lines, tables[index], stop, "say")
    body_end = next((k for k in range(begin, end) if lines[k].strip() == "[[steps.mistakes]]"), end)
    if part.startswith("hint"):
        first = _key_line(lines, begin, body_end, "hints")
        return None if first is None else first
    return _key_line(lines, begin, body_end, part)


def _key_line(lines: list[str], begin: int, end: int, key: str) -> int | None:
    for k in range(begin, end):
        if re.match(rf"^\s*{key}\s*=", lines[k]):
            return k
    return None


def is_whole(x: float) -> bool:
    return math.isfinite(x) and abs(x - round(x)) <= 1e-9 * max(1.0, abs(x))
