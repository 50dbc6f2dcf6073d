"""Lesson prose with inline $...$ and display $$...$$ LaTeX turned into plain Unicode for a terminal."""

from __future__ import annotations

import bisect
import logging
import re
import unicodedata
from functools import cache, lru_cache

# pylatexenc logs parse trouble as warnings; on stderr they would scribble over the terminal UI
logging.getLogger("pylatexenc").addHandler(logging.NullHandler())


@lru_cache(maxsize=1024)  # screens redraw the same prose often; parsing it takes milliseconds
def to_unicode(text: str) -> str:
    """Converts every math span in `text` to readable Unicode; the prose around it is left as written."""
    try:
        return _convert_spans(text)
    except Exception:  # noqa: BLE001 - a lesson's prose must show even when its LaTeX is broken
        return text.replace("$", "")


# Math is converted by a parser in pure Python (about 5-20 µs a character): a lesson's formulas take
# a few hundred characters, so beyond these limits the math is shown as written, and a hostile
# lesson's prose stays quick to show.
MAX_FORMULA_CHARS = 2_000   # one $...$ or $$...$$
MAX_MATH_CHARS = 8_000      # all the math of one piece of prose


@lru_cache(maxsize=4096)  # the same symbols recur across a lesson's texts
def math_to_unicode(latex: str) -> str:
    r"""One math expression without its $ delimiters: \frac{\partial y}{\partial w} -> ∂y/∂w."""
    if len(latex) > MAX_FORMULA_CHARS:
        return latex
    try:
        return _math(latex)
    except Exception:  # noqa: BLE001 - same promise as to_unicode: never raise on a lesson's text
        return latex


def _convert_spans(text: str) -> str:
    out: list[str] = []
    shown = 0  # pieces of `out` that are not empty
    after_display = False
    budget = MAX_MATH_CHARS

    def converted(latex: str) -> str:
        nonlocal budget
        budget -= len(latex)
        return math_to_unicode(latex) if budget >= 0 else latex

    for kind, piece in _spans(text):
        if kind == "display":
            block = converted(piece.strip())
            if out and out[-1].endswith((" ", "\n")):
                out[-1] = out[-1].rstrip(" \n")
                shown -= not out[-1]
            # a display formula stands in its own paragraph, as it does when typeset
            piece = ("\n\n" if shown else "") + block
            after_display = True
        else:
            if after_display:
                rest = piece.lstrip(" \n")
                piece = ("\n\n" + rest) if rest else ""
                after_display = False
            if kind == "inline":
                piece = converted(piece)
        out.append(piece)
        shown += bool(piece)
    return "".join(out)


def _spans(text: str) -> list[tuple[str, str]]:
    """Splits text into ("text" | "inline" | "display", content) pieces; code spans stay text.

    Linear in the text however its backticks and dollars fall: each delimiter is looked up in tables
    built in one pass, never searched for again from every place it might open."""
    pieces: list[tuple[str, str]] = []
    plain_start = i = 0
    n = len(text)
    code = CodeRuns(text)
    closers = _InlineClosers(text)

    def flush(end: int) -> None:
        if end > plain_start:
            pieces.append(("text", text[plain_start:end]))

    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            i += 2  # an escaped character, such as \$, is never a delimiter
            continue
        if ch == "`":
            i = code.skip(i)
            continue
        if ch != "$":
            i += 1
            continue
        if text.startswith("$$", i):
            close = text.find("$$", i + 2)
            if close == -1:
                i += 2
                continue
            flush(i)
            pieces.append(("display", text[i + 2:close]))
            i = plain_start = close + 2
            continue
        inline_close = closers.close(i)
        if inline_close is None:
            i += 1
            continue
        flush(i)
        pieces.append(("inline", text[i + 1:inline_close]))
        i = plain_start = inline_close + 1
    flush(n)
    return pieces


_BACKTICKS = re.compile(r"`+")


class CodeRuns:
    """The Markdown code spans of a text: a run of backticks opens one, closed by the next run of the
    same length (as CommonMark has it). Built in one pass; each question is answered in O(1)."""

    def __init__(self, text: str):
        self.runs = [(m.start(), m.end() - m.start()) for m in _BACKTICKS.finditer(text)]
        self.index = {start: k for k, (start, _) in enumerate(self.runs)}
        self.closing: list[int | None] = [None] * len(self.runs)
        last: dict[int, int] = {}
        for k in range(len(self.runs) - 1, -1, -1):
            length = self.runs[k][1]
            self.closing[k] = last.get(length)
            last[length] = k
        self._next = 0  # for next_span: callers only ever move forward

    def span_at(self, start: int) -> tuple[int, int, int] | None:
        """(body start, body end, end) of the code span opening at `start`, or None."""
        k = self.index.get(start)
        closing = self.closing[k] if k is not None else None
        if k is None or closing is None:
            return None
        length = self.runs[k][1]
        close = self.runs[closing][0]
        return start + length, close, close + length

    def skip(self, start: int) -> int:
        """Where the text goes on after a backtick at `start`: past its code span, else past its run."""
        span = self.span_at(start)
        if span is not None:
            return span[2]
        k = self.index.get(start)
        return start + (self.runs[k][1] if k is not None else 1)

    def next_span(self, pos: int) -> tuple[int, int, int, int] | None:
        """(start, body start, body end, end) of the first code span opening at or after `pos`.
        `pos` must not go backwards between calls (so the whole text is walked once)."""
        runs, k = self.runs, self._next
        while k < len(runs) and (runs[k][0] < pos or self.closing[k] is None):
            k += 1
        self._next = k
        if k == len(runs):
            return None
        start, length = runs[k]
        close = runs[self.closing[k]][0]  # type: ignore[index]
        return start, start + length, close, close + length


class _InlineClosers:
    """Where an inline $...$ opened at a given '$' closes, by pandoc's rule, answered by lookup: the
    candidates (an unescaped '$' after a non-space, not before a digit) and the blank lines math may
    not cross are found in one pass."""

    def __init__(self, text: str):
        self.text = text
        self.candidates: list[int] = []
        self.blanks: list[int] = []
        n, i = len(text), 0
        while i < n:
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "\n" and text.startswith("\n", i + 1):
                self.blanks.append(i)
            elif ch == "$" and i > 0 and not text[i - 1].isspace() \
                    and not (i + 1 < n and text[i + 1].isdigit()):
                self.candidates.append(i)
            i += 1

    def close(self, start: int) -> int | None:
        text = self.text
        if start + 1 >= len(text) or text[start + 1].isspace():
            return None
        k = bisect.bisect_right(self.candidates, start)
        if k == len(self.candidates):
            return None
        close = self.candidates[k]
        b = bisect.bisect_right(self.blanks, start)
        if b < len(self.blanks) and self.blanks[b] < close:
            return None  # math never spans a blank line
        return close


_SPACES = re.compile(r"[ \t\u00a0]+")
_TIGHT_AFTER = re.compile(r"([∂∇])\s+")
_WRAPPED_MATRIX = re.compile(r"\(\s*(\[[^\[\]()]*\])\s*\)")
# pylatexenc's parser gives ^ and _ one token, so x_\\mathrm{init} needs its macro call braced first
_SCRIPTED_MACRO = re.compile(r"([_^])\s*(\\[A-Za-z]+\s*\{[^{}]*\})")


# A name with an underscore before two or more letters (n_embd, block_size, d_model) is a program's name,
# written as it is: LaTeX would subscript only its first letter (nₑmbd). W_1, x_i and h_{t-1} stay scripts.
_NAME = re.compile(r"(?<![\\A-Za-z0-9_{}])([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*_[A-Za-z][A-Za-z0-9]+)(?![A-Za-z0-9_{])")


def _names_as_written(latex: str) -> str:
    return _NAME.sub(lambda m: r"\text{" + m.group(1).replace("_", r"\_") + "}", latex)


def _math(latex: str) -> str:
    from pylatexenc.latexwalker import LatexWalker

    latex = _names_as_written(latex)
    latex = _SCRIPTED_MACRO.sub(r"\1{\2}", latex)
    walker = LatexWalker(latex, latex_context=_walker_context(), tolerant_parsing=True)
    nodes, _, _ = walker.get_latex_nodes()
    text = _converter().nodelist_to_text(nodes)
    text = _TIGHT_AFTER.sub(r"\1", text)
    text = _FUNCTION_SPACE.sub(r"\1", text)
    text = _WRAPPED_MATRIX.sub(r"\1", text)  # \left( \begin{array} ... \right) is one bracketed matrix
    lines = [_SPACES.sub(" ", line).strip() for line in text.strip().splitlines()]
    return unicodedata.normalize("NFC", "\n".join(line for line in lines if line))


@cache
def _converter():
    from pylatexenc.latex2text import LatexNodes2Text

    # based-on-source keeps the space a writer put after a macro: \\alpha = 1 stays "α = 1"
    return LatexNodes2Text(
        latex_context=_text_context(), math_mode="text", strict_latex_spaces="based-on-source",
    )


# Unicode has sub/superscript forms for only some characters; anything else keeps the ^ or _.
_SUPERSCRIPT = dict(zip(
    "0123456789+-−=()abdeghijklmnoprstuvwxyTAB×αβγδθ'",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᵈᵉᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᵀᴬᴮˣᵅᵝᵞᵟᶿ′", strict=False,
))
_SUBSCRIPT = dict(zip("0123456789+-−=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ", strict=False))
# Only the letters that live in the Basic Multilingual Plane: terminal fonts rarely draw the 𝓛 range.
_SCRIPT = dict(zip("BEFHILMRego", "ℬℰℱℋℐℒℳℛℯℊℴ", strict=False))


def script_letter(letter: str) -> str | None:
    """The script (\\mathcal) form of a letter, as this module writes it (L -> ℒ), if it has one."""
    return _SCRIPT.get(letter)


_DOUBLE_STRUCK = dict(zip("CHNPQRZ", "ℂℍℕℙℚℝℤ", strict=False))
_RELATIONS = {
    "in": "∈", "notin": "∉", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "neq": "≠", "ne": "≠",
    "approx": "≈", "equiv": "≡", "sim": "∼", "propto": "∝", "to": "→", "rightarrow": "→",
    "mapsto": "↦", "leftarrow": "←", "gets": "←", "Rightarrow": "⇒", "implies": "⇒",
    "times": "×", "cdot": "·", "pm": "±", "subset": "⊂", "subseteq": "⊆",
    "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "circ": "∘",
}
# Operator names get a space after them (ln ∑ⱼ, not ln∑ⱼ); one before "(" is removed again.
_FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "ln", "tanh", "sigmoid", "max", "min", "arg",
              "argmax", "argmin", "det", "sup", "inf", "lim")
_SCRIPT_CHARS = "".join({*_SUPERSCRIPT.values(), *_SUBSCRIPT.values()})
_FUNCTION_SPACE = re.compile(r"\b(" + "|".join(_FUNCTIONS) + r") (?=[(\[^_" + _SCRIPT_CHARS + "])")
_PLAIN_STYLE = ("mathbf", "textbf", "boldsymbol", "bm", "mathrm", "mathit", "textit", "mathsf",
                "mathtt", "texttt", "textrm", "operatorname", "text", "mbox", "emph")
_MATRICES = ("bmatrix", "pmatrix", "Bmatrix", "matrix", "smallmatrix", "array")


def _script(node, l2tobj) -> str:
    """x^T -> xᵀ and a_3 -> a₃ when Unicode has every character, else x^(4 + n) / a_new."""
    mark = node.specials_chars
    args = node.nodeargd.argnlist if node.nodeargd else []
    body = "".join(l2tobj.nodelist_to_text([a]) for a in args if a is not None)
    body = _TIGHT_AFTER.sub(r"\1", body).strip()
    table = _SUPERSCRIPT if mark == "^" else _SUBSCRIPT
    squeezed = body.replace(" ", "")
    own = set(table.values())
    letters = sum(c.isalpha() for c in squeezed)
    # a₃ and xᵀ read well; a whole word in tiny letters (xᵢₙᵢₜ) does not
    if squeezed and letters <= 2 and all(c in table or c in own for c in squeezed):
        return "".join(table.get(c, c) for c in squeezed)
    if " " not in body and (len(body) <= 1 or body.isalnum()):
        return mark + body
    return f"{mark}({body})"


def _frac(node, l2tobj) -> str:
    num, den = (_grouped(l2tobj.node_arg_to_text(node, k)) for k in (0, 1))
    return f"{num}/{den}"


def _grouped(text: str) -> str:
    """Brackets a fraction's part when it has a top-level operator, so a+b over c reads (a+b)/c."""
    text = _TIGHT_AFTER.sub(r"\1", text).strip()
    depth = 0
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and ch in " +-−=/·×":
            return f"({text})"
    return text


def _letters(table: dict[str, str]):
    def fmt(node, l2tobj) -> str:
        return "".join(table.get(c, c) for c in l2tobj.node_arg_to_text(node, 0))
    return fmt


def _matrix(node, l2tobj) -> str:
    """Rows as [1 0 2; 2 1 -1]: one line, the way a learner types a matrix back."""
    from pylatexenc.latexwalker import LatexMacroNode, LatexSpecialsNode

    rows: list[list[str]] = [[]]
    cell: list = []

    def end_cell() -> None:
        rows[-1].append(l2tobj.nodelist_to_text(cell).strip())
        cell.clear()

    for child in node.nodelist:
        if child.isNodeType(LatexSpecialsNode) and child.specials_chars == "&":
            end_cell()
        elif child.isNodeType(LatexMacroNode) and child.macroname == "\\":
            end_cell()
            rows.append([])
        else:
            cell.append(child)
    end_cell()
    kept = [row for row in rows if any(row)]
    return "[" + "; ".join(" ".join(row) for row in kept) + "]"


@cache
def _walker_context():
    from pylatexenc.latexwalker import get_default_latex_context_db
    from pylatexenc.macrospec import MacroStandardArgsParser, SpecialsSpec, std_environment, std_macro

    db = get_default_latex_context_db()
    one_arg = ("boldsymbol", "bm", "operatorname", "mbox", "emph", "texttt", "textrm", "mathsf", "mathtt")
    db.add_context_category(
        "tutor-math",
        macros=[std_macro(name, False, 1) for name in one_arg]
        + [std_macro(name, False, 2) for name in ("dfrac", "tfrac")],
        environments=[std_environment(name, None, is_math_mode=True) for name in _MATRICES if name != "array"]
        + [std_environment("array", "{", is_math_mode=True)],
        specials=[SpecialsSpec(mark, args_parser=MacroStandardArgsParser("{")) for mark in "^_"],
        prepend=True,
    )
    return db


@cache
def _text_context():
    from pylatexenc.latex2text import (
        EnvironmentTextSpec,
        MacroTextSpec,
        SpecialsTextSpec,
        get_default_latex_context_db,
    )

    db = get_default_latex_context_db()
    macros = [MacroTextSpec(name, simplify_repl="%s") for name in _PLAIN_STYLE]
    macros += [MacroTextSpec(name, simplify_repl=f" {sym} ") for name, sym in _RELATIONS.items()]
    macros += [MacroTextSpec(name, simplify_repl=_frac) for name in ("frac", "dfrac", "tfrac")]
    macros += [MacroTextSpec("mathcal", simplify_repl=_letters(_SCRIPT)),
               MacroTextSpec("mathscr", simplify_repl=_letters(_SCRIPT)),
               MacroTextSpec("mathbb", simplify_repl=_letters(_DOUBLE_STRUCK))]
    macros += [MacroTextSpec(name, simplify_repl=" ") for name in (",", ";", ":", "quad", "qquad")]
    macros += [MacroTextSpec("!", simplify_repl=""), MacroTextSpec("prime", simplify_repl="′")]
    macros += [MacroTextSpec(name, simplify_repl=f"{name} ") for name in _FUNCTIONS]
    db.add_context_category(
        "tutor-math",
        macros=macros,
        environments=[EnvironmentTextSpec(name, simplify_repl=_matrix) for name in _MATRICES],
        specials=[SpecialsTextSpec(mark, simplify_repl=_script) for mark in "^_"]
        + [SpecialsTextSpec("~", simplify_repl=" ")],
        prepend=True,
    )
    return db


def plain_text(markdown_latex: str) -> str:
    r"""Lesson text with no markup left: math as Unicode, no **, backticks, $ or \macros (for labels, exports, CLI)."""
    text = to_unicode(markdown_latex)
    # `code` keeps its characters (an answer such as `2**3`); only the backticks go
    code: list[str] = []

    def keep_code(m: re.Match[str]) -> str:
        code.append(m.group(1))
        return f"\x01{len(code) - 1}\x01"

    text = re.sub(r"`([^`\n]*)`", keep_code, text)
    # **bold**, __bold__; the text between may not hold the mark itself, so each opening mark looks
    # only as far as the next one (with `.+?`, a line of 60,000 unclosed '**a ' took minutes)
    text = re.sub(r"\*\*(?=\S)((?:[^*\n]|\*(?!\*))+?)(?<=\S)\*\*|__(?=\S)((?:[^_\n]|_(?!_))+?)(?<=\S)__",
                  lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"\1", text)  # *emphasis*
    text = re.sub(r"\\[A-Za-z]+(?:\{[^{}$]*\})*", lambda m: math_to_unicode(m.group(0)), text)  # a macro outside $...$
    text = text.replace("\\$", "\x00").replace("$", "").replace("\x00", "$")
    text = re.sub(r"\\(?=[^\w\s])", "", text)  # \{ \_ left escaped
    return re.sub(r"\x01(\d+)\x01", lambda m: code[int(m.group(1))], text)
