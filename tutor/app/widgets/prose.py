"""Lesson prose (Markdown with $math$) as Rich text: paragraphs reflowed, **bold**, *italic*, `code`, bullets."""

from __future__ import annotations

import re

from rich.text import Text

from tutor.core.text.latex import CodeRuns, to_unicode

_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
# display math, inline math (pandoc's rule: `$` hugs its content, and a closing `$` followed by a
# digit is a price), bold and italic markers. Code spans are found apart (CodeRuns), in one pass:
# as a regex alternative, `(`+)(.*?)\1`, 12,000 backticks took minutes.
_TOKEN = re.compile(
    r"(?<!\\)\$\$(?P<display>.+?)\$\$"
    r"|(?<!\\)\$(?P<inline>[^\s$](?:[^$\\]|\\.)*?)(?<![\s\\])\$(?!\d)"
    r"|(?P<bold>\*\*)"
    r"|(?P<star>\*)",
    re.DOTALL,
)


def prose_text(markdown: str) -> Text:
    """Readable terminal text for a lesson's intro or explanation."""
    out = Text()
    for n, block in enumerate(_blocks(markdown.strip())):
        if n:
            out.append("\n")
        _inline(out, block)
    return out


def _blocks(text: str) -> list[str]:
    """Source lines joined into paragraphs and list items; a blank line keeps a blank line."""
    blocks: list[str] = []
    joinable = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            if blocks and blocks[-1] != "":
                blocks.append("")
            joinable = False
        elif _LIST_ITEM.match(line):
            blocks.append("• " + _LIST_ITEM.sub("", line, count=1).strip())
            joinable = True
        elif stripped.startswith("#"):
            blocks.append("\x00" + stripped.lstrip("#").strip())  # a heading, drawn bold
            joinable = False
        elif joinable:
            blocks[-1] += " " + stripped
        else:
            blocks.append(stripped)
            joinable = True
    while blocks and blocks[-1] == "":
        blocks.pop()
    return blocks


def _inline(out: Text, block: str) -> None:
    if block.startswith("\x00"):
        out.append(to_unicode(block[1:]), "bold")
        return
    bold = italic = False
    pos = 0
    code = CodeRuns(block)
    match = _TOKEN.search(block)
    while True:
        span = code.next_span(pos)
        if span is not None and (match is None or span[0] <= match.start()):
            start, body, body_end, end = span
            style = _style(bold, italic)
            out.append(_plain(block[pos:start]), style)
            out.append(block[body:body_end], _style(bold, italic, "reverse"))
            pos = end
            if match is not None and match.start() < pos:  # the code span held it
                match = _TOKEN.search(block, pos)
            continue
        if match is None:
            break
        style = _style(bold, italic)
        out.append(_plain(block[pos:match.start()]), style)
        pos = match.end()
        if match.group("display") is not None:
            # a formula is set on its own indented line; it already is, when it is the whole block
            alone = block.strip() == match.group(0)
            formula = "  " + to_unicode(f"$${match.group('display')}$$").strip()
            out.append(formula if alone else f"\n{formula}\n", style)
        elif match.group("inline") is not None:
            out.append(to_unicode(f"${match.group('inline')}$"), style)
        elif match.group("bold"):
            bold = not bold
        elif _emphasis_edge(block, match.start(), italic):
            italic = not italic
        else:
            out.append("*", style)
        match = _TOKEN.search(block, pos)
    out.append(_plain(block[pos:]), _style(bold, italic))


def _plain(piece: str) -> str:
    return piece.replace("\\$", "$")  # an escaped dollar is a dollar sign


def _emphasis_edge(block: str, at: int, italic: bool) -> bool:
    """A lone * opens emphasis before a word and closes it after one; '2 * 3' stays a star."""
    before = block[at - 1] if at > 0 else " "
    after = block[at + 1] if at + 1 < len(block) else " "
    return not before.isspace() if italic else not after.isspace()


def _style(bold: bool, italic: bool, extra: str = "") -> str:
    return " ".join(s for s, on in (("bold", bold), ("italic", italic), (extra, bool(extra))) if on)
