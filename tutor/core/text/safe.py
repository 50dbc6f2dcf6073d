"""Text from lesson and answers files made harmless for terminals, spreadsheets and one-line messages."""

from __future__ import annotations

import re
from typing import Any, TextIO

# Escape sequences are removed whole, so no half of one (a window title, a colour) is left as text.
_SEQUENCE = re.compile(
    r"\x1b[\]P_^X][^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\|\x9c)"  # OSC/DCS/APC/PM/SOS ... BEL or ST
    r"|\x1b\[[0-?]{0,64}[ -/]{0,8}[@-~]"                          # CSI: colours, cursor, clear screen
    r"|\x1b[ -/]{0,8}[0-~]"                                       # two-character and nF sequences
    r"|[\x9b][0-?]{0,64}[ -/]{0,8}[@-~]"                          # 8-bit CSI
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]{0,4096}(?:\x07|\x9c)"  # 8-bit string sequences
)
# C0 controls except tab and newline, DEL, C1 controls, and the bidirectional overrides and
# isolates that make a terminal show text in another order than it is read.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CSV_ACTIVE = ("=", "+", "-", "@", "\t", "\r")
# a file name that is not UTF-8 arrives with lone surrogates, which a strict UTF-8 terminal refuses
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """`text` without escape sequences or control characters (newlines and tabs are kept)."""
    if not isinstance(text, str):
        return text
    if _SURROGATE.search(text) is not None:
        text = _SURROGATE.sub("\ufffd", text)
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub("", _SEQUENCE.sub("", text))


def clean_deep(value: Any) -> Any:
    """Every string in nested dicts and lists cleaned, keys included."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(k): clean_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_deep(v) for v in value]
    return value


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: one starting with = + - @ (or a tab/CR) gets a leading '."""
    if isinstance(value, str):
        value = clean(value)
        if value.startswith(_CSV_ACTIVE):
            return "'" + value
    return value


def one_line(text: str, limit: int = 300) -> str:
    """A message squeezed onto one line of at most `limit` characters."""
    flat = " ".join(clean(str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


_BREAKS = str.maketrans({"\n": "\\n", "\t": "\\t", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def visible(text: str) -> str:
    """`text` cleaned, with the line breaks and tabs it keeps written out as \\n and \\t: one row of a
    table per file, whatever its name holds (a newline in a file name would forge a row)."""
    return clean(str(text)).translate(_BREAKS)


_UNEXPECTED = {
    OverflowError: "a number is too large",
    ZeroDivisionError: "division by zero",
    RecursionError: "nested too deeply",
    MemoryError: "out of memory",
    IndexError: "an empty or too short list",
}


def unexpected(err: BaseException) -> str:
    """One readable line for an exception nobody expected, naming what kind of problem it is."""
    for kind, meaning in _UNEXPECTED.items():
        if isinstance(err, kind):
            detail = one_line(str(err), 160)
            return f"{meaning} ({type(err).__name__}{': ' + detail if detail else ''})"
    detail = one_line(str(err), 200)
    return f"{type(err).__name__}{': ' + detail if detail else ''}"


class CleanWriter:
    """A text stream that removes escape sequences and control characters from everything written."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        # CSV rows end in CR LF: keep that pair, drop every other carriage return.
        self._stream.write("\r\n".join(clean(part) for part in text.split("\r\n")))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
