"""Lesson prose with live numbers: `{{ expr }}` quotes a value, `{% own %}...{% end %}` marks text true only
for the lesson's own numbers (dropped from every drill variant)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from tutor.core.errors import ExprError
from tutor.core.expr.syntax import ASK_CALLS, parse_expr
from tutor.core.text.matrix import format_number, format_plain
from tutor.core.text.shapes import dims_text

_TOKEN = re.compile(r"\{\{(?P<expr>.*?)\}\}|\{%(?P<tag>.*?)%\}", re.DOTALL)
PENDING = "…"       # shown for a quoted value until PyTorch has computed it
FAILED = "?"        # a quoted value that could not be computed (`tutor check` reports it)


@dataclass(frozen=True)
class Piece:
    """A run of text, a quoted expression, or an own-numbers span's start or end."""

    kind: str            # "text" | "expr" | "own" | "end"
    text: str
    expr: Any = None     # the parsed Expr for kind == "expr"


def pieces(text: str, parse=None) -> list[Piece]:
    """Splits prose into pieces; raises ExprError (one line, with the place) for a malformed template."""
    out: list[Piece] = []
    pos = 0
    inside_own = False
    for match in _TOKEN.finditer(text):
        if match.start() > pos:
            out.append(Piece("text", text[pos:match.start()]))
        pos = match.end()
        if match.group("expr") is not None:
            source = match.group("expr").strip()
            if not source:
                raise ExprError("'{{ }}' is empty: write an expression inside, as in {{ w @ x }}")
            try:
                expr = parse(source) if parse else None
            except ExprError as err:
                raise ExprError(f"{{{{ {source} }}}}: {err}") from None
            out.append(Piece("expr", source, expr))
            continue
        tag = match.group("tag").strip()
        if tag == "own":
            if inside_own:
                raise ExprError("'{% own %}' opened again before '{% end %}'")
            inside_own = True
            out.append(Piece("own", ""))
        elif tag == "end":
            if not inside_own:
                raise ExprError("'{% end %}' without an opening '{% own %}'")
            inside_own = False
            out.append(Piece("end", ""))
        else:
            raise ExprError(f"unknown tag {match.group(0)!r}: only '{{% own %}}' and '{{% end %}}' exist")
    if inside_own:
        raise ExprError("'{% own %}' is never closed with '{% end %}'")
    if pos < len(text):
        out.append(Piece("text", text[pos:]))
    return out


def template_problems(text: str, known: set[str]) -> list[str]:
    """Why a piece of prose cannot be used with a lesson defining `known` (empty when it can)."""

    if "{" not in text:
        return []
    try:
        parts = pieces(text, lambda source: parse_expr(source, ASK_CALLS))
    except ExprError as err:
        return [str(err)]
    problems = []
    for p in parts:
        if p.kind == "expr" and (unknown := sorted(p.expr.names() - known)):
            problems.append(f"{{{{ {p.text} }}}} uses {', '.join(map(repr, unknown))}, "
                            "which no given or graph line defines")
    return problems


def has_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def without_own(text: str) -> str:
    """The prose as a drill variant shows it: every own-numbers span removed, quotes kept for rendering."""
    if "{%" not in text:
        return text
    out, keep = [], True
    pos = 0
    for match in _TOKEN.finditer(text):
        if keep:
            out.append(text[pos:match.start()])
        pos = match.end()
        tag = (match.group("tag") or "").strip()
        if tag == "own":
            keep = False
        elif tag == "end":
            keep = True
        elif keep:
            out.append(match.group(0))
    if keep:
        out.append(text[pos:])
    return _tidy("".join(out))


def own_spans(text: str) -> list[str]:
    """The text of each own-numbers span, as written."""
    return [m.group(1) for m in re.finditer(r"\{%\s*own\s*%\}(.*?)\{%\s*end\s*%\}", text, re.DOTALL)]


def placeholder(text: str) -> str:
    """The prose before PyTorch has run: every quoted value shown as '…', span marks dropped."""
    if not has_template(text):
        return text
    try:
        parts = pieces(text)
    except ExprError:
        return text
    return "".join(PENDING if p.kind == "expr" else p.text for p in parts)


def render(text: str, evaluate) -> str:
    """The prose with each `{{ expr }}` replaced by its value, shown as the tutor shows values.

    `evaluate(source)` returns the value of one expression (LiveLesson.quote does, from its live numbers);
    a value that cannot be computed shows as '?'. Own-numbers spans keep their text: a lesson shows its own
    numbers, and a drill variant never holds such a span (see without_own).
    """
    return render_checked(text, evaluate)[0]


def render_checked(text: str, evaluate) -> tuple[str, list[str]]:
    """The rendered prose and why each quoted value that could not be computed failed."""
    if not has_template(text):
        return text, []
    try:
        parts = pieces(text)
    except ExprError as err:
        return text, [str(err)]
    out, errors = [], []
    for p in parts:
        if p.kind == "text":
            out.append(p.text)
        elif p.kind == "expr":
            try:
                out.append(quote_value(evaluate(p.text)))
            except Exception as err:  # noqa: BLE001 - prose must show; the reason goes to `tutor check`
                errors.append(f"{{{{ {p.text} }}}}: {str(err) or type(err).__name__}")
                out.append(FAILED)
    return "".join(out), errors


def quote_value(value: Any) -> str:
    """A value as prose quotes it: 2, -0.4161, [1 -2 3], [3 -4; 1 6], 4×24, 13,893,632."""
    if isinstance(value, tuple):
        return dims_text(value)
    shape, data = _plain(value)
    if not shape or math.prod(shape) == 1:
        number = data
        while isinstance(number, list):
            number = number[0]
        return quote_number(number)
    return format_plain(data, shape)


def quote_number(x: float) -> str:
    x = float(x)
    if math.isfinite(x) and x == int(x) and abs(x) >= 10_000:
        return f"{int(x):,}"
    return format_number(x)


def _plain(value: Any) -> tuple[tuple[int, ...], Any]:
    if hasattr(value, "detach"):
        t = value.detach()
        return tuple(t.shape), t.double().tolist()
    if isinstance(value, bool):
        return (), float(value)
    if isinstance(value, (int, float)):
        return (), value
    raise ExprError(f"cannot quote a {type(value).__name__}")


def _tidy(text: str) -> str:
    """Removing a span can leave doubled spaces or a space before punctuation; smooth those over."""
    text = re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", text)
    return re.sub(r"(?<=\w) +([.,;:])(?=\s|$)", r"\1", text)


def evaluator(live):
    """evaluate(source) for render(): the expression evaluated against a LiveLesson's numbers."""
    return expr_evaluator(live.evaluate)


def expr_evaluator(evaluate_expr):
    """evaluate(source) for render(), from a function that evaluates a parsed Expr."""

    def evaluate(source: str) -> Any:
        return evaluate_expr(parse_expr(source, ASK_CALLS))

    return evaluate


def lesson_texts(lesson) -> list[tuple[str, str]]:
    """(where, text) for every piece of learner-facing prose in a lesson."""
    out = [("intro", lesson.intro)]
    for step in lesson.steps:
        where = f"step {step.id!r}"
        out.append((f"{where} prompt", step.prompt))
        out += [(f"{where} hint {n}", h) for n, h in enumerate(step.hints, start=1)]
        out.append((f"{where} explain", step.explain))
        out += [(f"{where} mistake #{n} say", m.say) for n, m in enumerate(step.mistakes, start=1)]
    return [(where, text) for where, text in out if text]


def render_lesson(lesson, live) -> dict[str, str]:
    """Every templated prose text of a lesson, rendered once with its live numbers: original -> shown."""
    evaluate = evaluator(live)
    return {text: render(text, evaluate) for _, text in lesson_texts(lesson) if has_template(text)}
