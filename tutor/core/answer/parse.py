"""Reads what a learner typed into plain values (numbers or a shape), or says where and why it can't."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import overload

from tutor.core.errors import AnswerParseError
from tutor.core.expr import names
from tutor.core.text.shapes import dims_text, shape_text
from tutor.core.vocabulary import Kind

MAX_LENGTH = 2000
MAX_DEPTH = 40          # brackets, parentheses and signs; keeps recursion far from Python's limit
_MAX_DECIMALS = 400     # beyond float range either way, so the unit stays a finite float
_MAX_SIZE_DIGITS = 15
_EXAMPLES = "answers are numbers, e.g. 0.5, pi/2, sqrt(2)/2"


@dataclass(frozen=True)
class Digits:
    """How precisely a plain literal was typed: its last decimal place and its significant figures."""

    decimals: int       # the last typed place is 10**-decimals ("1e-3" -> 3, "-12" -> 0, "1e3" -> -3)
    significant: int    # "0.0725" -> 3, "-0.20" -> 2, "100" -> 1, "0" -> 0
    placeholders: int = 0  # trailing zeros of a whole number typed without a point ("140" -> 1, "1000" -> 3)

    @property
    def unit(self) -> float:
        return 10.0 ** -self.decimals


@dataclass(frozen=True)
class ParsedAnswer:
    """A typed answer as flat row-major values plus a shape; for kind "shape" the values are the dims."""

    kind: str                                   # "value" | "shape"
    values: tuple[float, ...]
    shape: tuple[int, ...]                      # () scalar, (n,) list, (r, c) matrix, deeper for nesting
    literal_digits: tuple[Digits | None, ...]   # None where the element is exact (pi, sqrt(2), 3/4)
    text: str = ""                              # what was typed


def parse_answer(text: str, kind: str = "value") -> ParsedAnswer:
    """Parses an answer; kind "shape" reads dims, anything else ("value", "integer") reads numbers."""
    if len(text) > MAX_LENGTH:
        raise AnswerParseError(f"answer too long: at most {MAX_LENGTH} characters", MAX_LENGTH)
    if not text.strip():
        raise AnswerParseError("type an answer", 0)
    if kind == Kind.SHAPE:
        return _parse_shape(text)
    try:
        node = _Parser(text, _tokenize(text)).parse()
    except RecursionError:  # MAX_DEPTH should prevent it; never let it escape as a crash
        raise AnswerParseError("too deeply nested", 0) from None
    values, shape, digits = _flatten(node)
    return ParsedAnswer("value", tuple(values), shape, tuple(digits), text)


def describe(parsed: ParsedAnswer) -> str:
    """A one-line preview of how the answer was read: "vector of 2: [-12, -6]", "shape 4×24"."""
    if parsed.kind == Kind.SHAPE:
        dims = tuple(int(d) for d in parsed.values)
        return "shape " + dims_text(dims) + ("" if dims else " (a scalar)")
    shape = parsed.shape
    if not shape:
        label = "scalar"
    elif len(shape) == 1:
        label = f"vector of {shape[0]}"
    else:
        label = "×".join(map(str, shape)) + (" matrix" if len(shape) == 2 else " array")
    text = f"{label}: {_nested_text(parsed.values, parsed.literal_digits, shape)}"
    return text if len(text) <= 300 else text[:299] + "…"


# ---- tokens -----------------------------------------------------------------------------

_NUMBER = re.compile(
    r"(?:(?P<int>[0-9]+)(?P<dot>\.(?P<frac>[0-9]*))?|\.(?P<frac_only>[0-9]+))(?:[eE](?P<exp>[+-]?[0-9]+))?"
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Look-alikes people paste from notes and slides map to the plain operator.
_OPERATORS = {
    "+": "+", "-": "-", "−": "-", "–": "-", "*": "*", "×": "*", "·": "*", "⋅": "*",
    "/": "/", "÷": "/", "(": "(", ")": ")", "[": "[", "]": "]", ",": ",", ";": ";",
}


@dataclass(frozen=True)
class _Token:
    kind: str           # "num" | "name" | "op" | "end"
    text: str
    pos: int
    spaced: bool        # whitespace right before it: the whitespace-separation rule needs it
    value: float = 0.0
    digits: Digits | None = None


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, spaced = 0, False
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i, spaced = i + 1, True
            continue
        number = _NUMBER.match(text, i)
        name = _NAME.match(text, i)
        if number:
            tokens.append(_number_token(number, spaced))
            i = number.end()
            if text[i:i + 1] == ".":
                raise AnswerParseError("a number can have only one decimal point", i)
        elif name:
            tokens.append(_Token("name", name.group(), i, spaced))
            i = name.end()
        elif ch == "π":
            tokens.append(_Token("name", "pi", i, spaced))
            i += 1
        elif text.startswith("**", i):
            tokens.append(_Token("op", "**", i, spaced))
            i += 2
        elif ch == "^":
            raise AnswerParseError("use ** for powers, e.g. 2**3", i)
        elif ch in _OPERATORS:
            tokens.append(_Token("op", _OPERATORS[ch], i, spaced))
            i += 1
        else:
            raise AnswerParseError(f"unexpected character {_show(ch)}", i)
        spaced = False
    tokens.append(_Token("end", "", len(text), spaced))
    return tokens


def _number_token(match: re.Match, spaced: bool) -> _Token:
    value = float(match.group())
    if math.isinf(value):
        raise AnswerParseError("number too large", match.start())
    whole = match.group("int") or ""
    frac = match.group("frac") or match.group("frac_only") or ""
    has_point = match.group("dot") is not None or match.group("frac_only") is not None
    exponent = int(match.group("exp") or 0)
    figures = (whole + frac).lstrip("0")
    placeholders = 0
    if not has_point:  # trailing zeros of "100" only place the number; they are not measured digits
        placeholders = len(figures) - len(figures.rstrip("0")) if exponent == 0 else 0
        figures = figures.rstrip("0")
    decimals = max(-_MAX_DECIMALS, min(_MAX_DECIMALS, len(frac) - exponent))
    return _Token("num", match.group(), match.start(), spaced, value, Digits(decimals, len(figures), placeholders))


def _show(ch: str) -> str:
    return f"'{ch}'" if ch.isprintable() else f"U+{ord(ch):04X}"


# ---- grammar ------------------------------------------------------------------------------
# answer := rows;  rows := row (';' row)* [';'];  row := item ((',' | whitespace) item)*
# item   := expr;  expr := term (('+'|'-') term)*;  term := unary (('*'|'/') unary)*
# unary  := ('+'|'-') unary | power;  power := primary ['**' unary]
# primary:= number | pi | e | func '(' expr ')' | '(' expr ')' | '(' item ',' ... ')' | '[' rows ']'
#
# Whitespace separation (MATLAB's rule), at the top level and inside [ ] but not inside ( ):
# two operands separated only by whitespace are two elements ("1 2"), and a '+' or '-' with
# whitespace before it and none after it starts a new element ("-12 -6" is two elements),
# while "1 - 2", "1-2" and "pi/2 + 6" are single elements.


@dataclass(frozen=True)
class _Num:
    value: float
    digits: Digits | None
    pos: int


@dataclass(frozen=True)
class _List:
    items: tuple
    pos: int


_MATH: dict[str, Callable[[float], float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log,
    "sqrt": math.sqrt, "abs": abs, "tanh": math.tanh,
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x)),
}
# A name added to ANSWER_FUNCTIONS without an implementation here is refused, never a crash.
_FUNCTIONS = {name: fn for name, fn in _MATH.items() if name in names.ANSWER_FUNCTIONS}
_CONSTANTS = {"pi": math.pi, "e": math.e}


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]):
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    def parse(self) -> _Num | _List:
        node = self.rows(None, 0)
        end = self.peek()
        if end.kind != "end":
            raise AnswerParseError(f"unmatched '{end.text}'", end.pos)
        return node

    # -- token helpers

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def at(self, *ops: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text in ops

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise AnswerParseError(f"too deeply nested (more than {MAX_DEPTH} levels)", pos)

    def row_ends(self) -> bool:
        return self.peek().kind == "end" or self.at(";", "]", ")")

    # -- lists

    @overload
    def rows(self, closer: str, pos: int) -> _List: ...
    @overload
    def rows(self, closer: None, pos: int) -> _Num | _List: ...

    def rows(self, closer: str | None, pos: int) -> _Num | _List:
        """The rows up to `closer` (None: the whole answer, where a lone number stays a number)."""
        rows: list[_List] = []
        semicolons = False
        while True:
            start = self.peek().pos
            row = self.row()
            if self.at(";"):
                semicolon = self.take()
                if not row:
                    raise AnswerParseError("empty row: put numbers before ';'", semicolon.pos)
                semicolons = True
                rows.append(_as_row(row, start))
                if not self.row_ends():
                    continue
                row = []  # a trailing ';' is fine
            elif row and semicolons:
                rows.append(_as_row(row, start))
            break
        if semicolons:
            return _List(tuple(rows), pos)
        if closer is None and len(row) == 1:
            return row[0]
        return _List(tuple(row), pos)

    def row(self) -> list:
        items: list = []
        if self.row_ends():
            return items
        while True:
            items.append(self.expr(separate_on_space=True))
            token = self.peek()
            if self.at(","):
                self.take()
                if self.row_ends():
                    return items
                continue
            if self.row_ends():
                return items
            if token.spaced and (token.kind in ("num", "name") or self.at("(", "[", "+", "-")):
                continue
            raise self.unexpected(token)

    def unexpected(self, token: _Token) -> AnswerParseError:
        if token.kind in ("num", "name") or self.at("(", "["):
            return AnswerParseError(
                f"missing operator before '{token.text}': use * to multiply, e.g. 2*pi", token.pos
            )
        return AnswerParseError(f"unexpected '{token.text}'", token.pos)

    def bracket(self) -> _List:
        opening = self.take()
        self.enter(opening.pos)
        node = self.rows("]", opening.pos)
        self.close("]", opening)
        self.depth -= 1
        return node

    def close(self, closer: str, opening: _Token) -> None:
        token = self.peek()
        if self.at(closer):
            self.take()
            return
        if token.kind == "end":
            raise AnswerParseError(
                f"missing '{closer}' to close the '{opening.text}' at character {opening.pos + 1}", token.pos
            )
        if closer == ")" and token.spaced and token.kind in ("num", "name"):
            raise AnswerParseError("inside ( ) separate numbers with commas", token.pos)
        if token.kind in ("num", "name") or self.at("(", "["):
            raise self.unexpected(token)
        raise AnswerParseError(f"expected '{closer}' but found '{token.text}'", token.pos)

    # -- arithmetic

    def expr(self, separate_on_space: bool) -> _Num | _List:
        left = self.term()
        while self.at("+", "-"):
            op, after = self.peek(), self.peek(1)
            if separate_on_space and op.spaced and not after.spaced and after.kind != "end":
                break  # "-12 -6": the sign starts the next element
            self.take()
            left = _combine(op, left, self.term())
        return left

    def term(self) -> _Num | _List:
        left = self.unary()
        while self.at("*", "/"):
            op = self.take()
            left = _combine(op, left, self.unary())
        return left

    def unary(self) -> _Num | _List:
        if not self.at("+", "-"):
            return self.power()
        sign = self.take()
        self.enter(sign.pos)
        operand = self.unary()
        self.depth -= 1
        if isinstance(operand, _List):
            raise AnswerParseError("a sign can't go in front of a list: sign each entry", sign.pos)
        value = -operand.value if sign.text == "-" else operand.value
        return _Num(value, operand.digits, sign.pos)

    def power(self) -> _Num | _List:
        base = self.primary()
        if not self.at("**"):
            return base
        op = self.take()
        self.enter(op.pos)
        exponent = self.unary()
        self.depth -= 1
        return _combine(op, base, exponent)

    def primary(self) -> _Num | _List:
        token = self.peek()
        if token.kind == "num":
            self.take()
            return _Num(token.value, token.digits, token.pos)
        if token.kind == "name":
            return self.name()
        if self.at("("):
            return self.parens()
        if self.at("["):
            return self.bracket()
        before = self.tokens[self.i - 1] if self.i > 0 else None
        if before is not None and before.kind == "op" and before.text in ("+", "-", "*", "/", "**"):
            return self.fail(f"expected a number after '{before.text}'", token.pos)
        if token.kind == "end":
            return self.fail("expected a number", token.pos)
        return self.fail(f"expected a number, found '{token.text}'", token.pos)

    def fail(self, message: str, pos: int):
        raise AnswerParseError(message, pos)

    def name(self) -> _Num:
        token = self.take()
        word = token.text
        if word in _CONSTANTS:
            return _Num(_CONSTANTS[word], None, token.pos)
        if word in _FUNCTIONS:
            if not self.at("("):
                raise AnswerParseError(f"{word} needs parentheses, e.g. {word}(2)", self.peek().pos)
            opening = self.take()
            self.enter(opening.pos)
            argument = self.expr(separate_on_space=False)
            if self.at(","):
                raise AnswerParseError(f"{word} takes one number", self.peek().pos)
            self.close(")", opening)
            self.depth -= 1
            if isinstance(argument, _List):
                raise AnswerParseError(f"{word} takes a number, not a list", token.pos)
            return _Num(_apply(word, argument.value, token.pos), None, token.pos)
        if word in names.FUNCTIONS:
            raise AnswerParseError(f"{word} isn't available in answers: type the number it gives", token.pos)
        if word.lower() in _CONSTANTS or word.lower() in _FUNCTIONS:
            raise AnswerParseError(f"unknown name '{word}' (did you mean {word.lower()}?)", token.pos)
        raise AnswerParseError(f"unknown name '{word}': {_EXAMPLES}", token.pos)

    def parens(self) -> _Num | _List:
        opening = self.take()
        self.enter(opening.pos)
        if self.at(")"):
            raise AnswerParseError("empty parentheses: put a number inside", opening.pos)
        first = self.expr(separate_on_space=False)
        if not self.at(","):
            self.close(")", opening)
            self.depth -= 1
            return first
        items = [first]  # a tuple such as (-12, -6) or (4,)
        while self.at(","):
            self.take()
            if self.at(")"):
                break
            items.append(self.expr(separate_on_space=False))
        self.close(")", opening)
        self.depth -= 1
        return _List(tuple(items), opening.pos)


def _as_row(items: list, pos: int) -> _List:
    # "[1, 2]; [3, 4]" is two rows just as "1 2; 3 4" is
    if len(items) == 1 and isinstance(items[0], _List):
        return items[0]
    return _List(tuple(items), pos)


def _combine(op: _Token, left, right) -> _Num:
    if isinstance(left, _List) or isinstance(right, _List):
        raise AnswerParseError("lists can't be used in arithmetic: type each entry's value", op.pos)
    a, b = left.value, right.value
    if (op.text == "/" and b == 0) or (op.text == "**" and a == 0 and b < 0):
        raise AnswerParseError("division by zero", op.pos)
    try:
        if op.text == "+":
            result = a + b
        elif op.text == "-":
            result = a - b
        elif op.text == "*":
            result = a * b
        elif op.text == "/":
            result = a / b
        else:
            result = math.pow(a, b)
    except OverflowError:
        raise AnswerParseError("number too large", op.pos) from None
    except ValueError:
        message = "a negative number to a fractional power is not a real number"
        raise AnswerParseError(message, op.pos) from None
    result = _finite(result, op.pos)
    return _Num(result, _sum_digits(op.text, left.digits, right.digits, result), op.pos)


def _sum_digits(op: str, a: Digits | None, b: Digits | None, result: float) -> Digits | None:
    """A sum or difference of typed decimals ("1.57 + 6") is as precise as its finest decimal place;
    anything with an exact part (pi, 3/4) or a product is exact."""
    if op not in ("+", "-") or a is None or b is None:
        return None
    decimals = max(a.decimals, b.decimals)
    figures = math.floor(math.log10(abs(result))) + decimals + 1 if result else 0
    return Digits(decimals, max(0, figures))


def _apply(function: str, x: float, pos: int) -> float:
    try:
        result = _FUNCTIONS[function](x)
    except OverflowError:
        raise AnswerParseError("number too large", pos) from None
    except ValueError:
        kind = "real" if x < 0 else "finite"
        raise AnswerParseError(f"{function}({_format(x, None)}) is not a {kind} number", pos) from None
    return _finite(result, pos)


def _finite(value: float, pos: int) -> float:
    if math.isinf(value):
        raise AnswerParseError("number too large", pos)
    if math.isnan(value):
        raise AnswerParseError("not a number", pos)
    return value


def _flatten(node) -> tuple[list[float], tuple[int, ...], list[Digits | None]]:
    if isinstance(node, _Num):
        return [node.value], (), [node.digits]
    values: list[float] = []
    digits: list[Digits | None] = []
    first: tuple[int, ...] | None = None
    for k, item in enumerate(node.items):
        item_values, item_shape, item_digits = _flatten(item)
        if first is None:
            first = item_shape
        elif item_shape != first:
            raise AnswerParseError(_ragged(first, item_shape, k + 1), item.pos)
        values += item_values
        digits += item_digits
    return values, (len(node.items),) + (first or ()), digits


def _ragged(first: tuple[int, ...], other: tuple[int, ...], number: int) -> str:
    if not first or not other:
        kinds = ["a number" if not s else "a list" for s in (first, other)]
        return f"entries mix numbers and lists: entry 1 is {kinds[0]}, entry {number} is {kinds[1]}"
    if len(first) == len(other) == 1:
        counts = [f"{n} number{'s' if n != 1 else ''}" for n in (first[0], other[0])]
        return f"rows have different lengths: row 1 has {counts[0]}, row {number} has {other[0]}"
    return (f"entries have different shapes: entry 1 is {shape_text(first)}, "
            f"entry {number} is {shape_text(other)}")


def _nested_text(values, digits, shape) -> str:
    if not shape:
        return _format(values[0], digits[0])
    if shape[0] == 0:
        return "[]"
    size = len(values) // shape[0]
    parts = [
        _nested_text(values[k * size:(k + 1) * size], digits[k * size:(k + 1) * size], shape[1:])
        for k in range(shape[0])
    ]
    return "[" + ", ".join(parts) + "]"


def _format(value: float, digits: Digits | None) -> str:
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value) if digits is not None else f"{value:.6g}"


# ---- shapes -------------------------------------------------------------------------------

_SEPARATORS = "xX×*,"
_PAIRS = {"(": ")", "[": "]"}


def _parse_shape(text: str) -> ParsedAnswer:
    if text.strip().lower() == "scalar":
        return ParsedAnswer("shape", (), (0,), (), text)
    dims: list[int] = []
    i, n = 0, len(text)
    opening: tuple[str, int] | None = None
    closed = False
    separator: tuple[str, int] | None = None   # the last separator, while no size has followed it
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _PAIRS and opening is None and not dims and separator is None:
            opening = (ch, i)
            i += 1
        elif ch in ")]":
            if opening is None:
                raise AnswerParseError(f"unmatched '{ch}'", i)
            if ch != _PAIRS[opening[0]]:
                raise AnswerParseError(f"expected '{_PAIRS[opening[0]]}' but found '{ch}'", i)
            closed = True
            i += 1
            rest = text[i:].strip()
            if rest:
                raise AnswerParseError(f"unexpected '{rest[0]}' after the shape", text.index(rest[0], i))
            break
        elif ch in "0123456789":
            start = i
            while i < n and text[i] in "0123456789":
                i += 1
            if text[i:i + 1] == ".":
                raise AnswerParseError("a size is a whole number, like 24", start)
            if i - start > _MAX_SIZE_DIGITS:
                raise AnswerParseError("number too large", start)
            dims.append(int(text[start:i]))
            separator = None
        elif ch in _SEPARATORS:
            if separator is not None or not dims:
                where = f"after '{separator[0]}'" if separator else f"before '{ch}'"
                raise AnswerParseError(f"expected a size {where}", i)
            separator = (ch, i)
            i += 1
        elif ch in "-−–":
            raise AnswerParseError("sizes can't be negative", i)
        elif ch == ".":
            raise AnswerParseError("a size is a whole number, like 24", i)
        else:
            raise AnswerParseError(f"unexpected {_show(ch)}: type a shape like 4x24 or (4, 24)", i)
    if opening is not None and not closed:
        raise AnswerParseError(
            f"missing '{_PAIRS[opening[0]]}' to close the '{opening[0]}' at character {opening[1] + 1}", n
        )
    if separator is not None and separator[0] != ",":  # "(4,)" and "4," are tuples; "4x" is unfinished
        raise AnswerParseError(f"expected a size after '{separator[0]}'", separator[1] + 1)
    return ParsedAnswer("shape", tuple(dims), (len(dims),), (None,) * len(dims), text)
