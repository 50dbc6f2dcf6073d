"""Lesson prose with inline $...$ and display $$...$$ LaTeX turned into plain Unicode for a terminal."""

from __future__ import annotations

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


def math_to_unicode(latex: str) -> str:
    r"""One math expression without its $ delimiters: \frac{\partial y}{\partial w} -> ∂y/∂w."""
    try:
        return _math(latex)
    except Exception:  # noqa: BLE001 - same promise as to_unicode: never raise on a lesson's text
        return latex


def _convert_spans(text: str) -> str:
    out: list[str] = []
    after_display = False
    for kind, piece in _spans(text):
        if kind == "display":
            block = math_to_unicode(piece.strip())
            while out and out[-1].endswith((" ", "\n")):
                out[-1] = out[-1].rstrip(" \n")
            # a display formula stands in its own paragraph, as it does when typeset
            out.append(("\n\n" if "".join(out) else "") + block)
            after_display = True
            continue
        if after_display:
            rest = piece.lstrip(" \n")
            piece = ("\n\n" + rest) if rest else ""
            after_display = False
        out.append(math_to_unicode(piece) if kind == "inline" else piece)
    return "".join(out)


def _spans(text: str) -> list[tuple[str, str]]:
    """Splits text into ("text" | "inline" | "display", content) pieces; code spans stay text."""
    pieces: list[tuple[str, str]] = []
    plain_start = i = 0
    n = len(text)

    def flush(end: int) -> None:
        if end > plain_start:
            pieces.append(("text", text[plain_start:end]))

    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            i += 2  # an escaped character, such as \$, is never a delimiter
            continue
        if ch == "`":
            i = _skip_code(text, i)
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
        close = _inline_close(text, i)
        if close is None:
            i += 1
            continue
        flush(i)
        pieces.append(("inline", text[i + 1:close]))
        i = plain_start = close + 1
    flush(n)
    return pieces


def _skip_code(text: str, start: int) -> int:
    """Index after a markdown code span or fence that opens at `start` (dollars inside are code)."""
    run = len(text[start:]) - len(text[start:].lstrip("`"))
    fence = text[start:start + run]
    close = text.find(fence, start + run)
    return start + run if close == -1 else close + run


def _inline_close(text: str, start: int) -> int | None:
    """Pandoc's rule, so that prices like '$5 and $6' stay prose: '$x$' hugs its content."""
    if start + 1 >= len(text) or text[start + 1].isspace():
        return None
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "\n" and text.startswith("\n", i + 1):
            return None  # math never spans a blank line
        if ch == "$":
            follows_digit = i + 1 < len(text) and text[i + 1].isdigit()
            if not text[i - 1].isspace() and not follows_digit:
                return i
        i += 1
    return None


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
    text = re.sub(r"`([^`\n]*)`", lambda m: code.append(m.group(1)) or f"\x01{len(code) - 1}\x01", text)
    text = re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__",
                  lambda m: m.group(1) or m.group(2), text)  # **bold**, __bold__
    text = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"\1", text)  # *emphasis*
    text = re.sub(r"\\[A-Za-z]+(?:\{[^{}$]*\})*", lambda m: math_to_unicode(m.group(0)), text)  # a macro outside $...$
    text = text.replace("\\$", "\x00").replace("$", "").replace("\x00", "$")
    text = re.sub(r"\\(?=[^\w\s])", "", text)  # \{ \_ left escaped
    return re.sub(r"\x01(\d+)\x01", lambda m: code[int(m.group(1))], text)
