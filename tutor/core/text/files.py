"""Reads lesson and answers files safely: regular files only, a size cap, and TOML of bounded nesting."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from tutor.core.errors import TutorError
from tutor.core.text.safe import one_line

MAX_LESSON_BYTES = 256 * 1024   # the largest built-in lesson is under 10 KB
MAX_ANSWERS_BYTES = 256 * 1024
MAX_TOML_DEPTH = 32             # lessons nest at most a few levels; tomllib recurses per level
MAX_WHOLE_NUMBER = 2**53        # every whole number up to this is exact in float64


class FileRefused(TutorError):
    """A file that is not read: not a regular file, too large, not UTF-8, or not usable TOML."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def read_text(path: str | Path, cap: int) -> str:
    """The UTF-8 text of a regular file of at most `cap` bytes; never blocks on a FIFO or device."""
    path = Path(path)
    try:
        # stat first: opening some devices has effects of its own (a tape rewinds, a tty is taken)
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise FileRefused(_not_regular(path))
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
    except OSError as err:
        raise FileRefused(f"cannot read file: {err.strerror or err}") from None
    try:
        mode = os.fstat(fd).st_mode  # the file actually opened, if it was swapped after the stat
        if not stat.S_ISREG(mode):
            raise FileRefused(_not_regular(path))
        chunks, size = [], 0
        while size <= cap:
            chunk = os.read(fd, min(65536, cap + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise FileRefused(f"cannot read file: {err.strerror or err}") from None
    finally:
        os.close(fd)
    if size > cap:
        raise FileRefused(f"file too large (more than {cap // 1024} KB)")
    try:
        return b"".join(chunks).decode("utf-8").removeprefix("\ufeff")  # a BOM, as some editors save
    except UnicodeDecodeError:
        raise FileRefused("not UTF-8 text") from None


def _not_regular(path: Path) -> str:
    return "not a regular file (a folder, device, FIFO or socket, or a link to one)"


def loads_toml(text: str) -> dict[str, Any]:
    """Parsed TOML, refused with one line if it is invalid or nested more than MAX_TOML_DEPTH deep."""
    depth = nesting_depth(text)
    if depth > MAX_TOML_DEPTH:
        raise FileRefused(f"not a usable TOML file: brackets nested {depth} deep (at most {MAX_TOML_DEPTH})")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise FileRefused(f"not valid TOML: {one_line(str(err))}") from None
    except ValueError as err:  # Python refuses to read a whole number of more than 4,300 digits
        reason = "a whole number with too many digits" if "digits" in str(err) else one_line(str(err))
        raise FileRefused(f"not valid TOML: {reason}") from None
    except (RecursionError, MemoryError):
        raise FileRefused("not a usable TOML file: nested too deeply") from None


def nesting_depth(text: str) -> int:
    """The deepest nesting of [ ] and { } outside strings and comments, in one linear pass."""
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c in "\"'":
            i = _skip_string(text, i)
            continue
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return deepest


def _skip_string(text: str, i: int) -> int:
    """The index just past the string that starts at `i` (basic or literal, single- or multi-line)."""
    quote = text[i]
    if text.startswith(quote * 3, i):
        close = quote * 3
        j = i + 3
        while True:
            k = text.find(close, j)
            if k < 0:
                return len(text)
            if quote == '"' and _escaped(text, k, i + 3):
                j = k + 1
                continue
            end = k + 3
            while end < len(text) and end - k < 5 and text[end] == quote:  # up to two quotes of content
                end += 1
            return end
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\n":
            return j
        if c == quote and not (quote == '"' and _escaped(text, j, i + 1)):
            return j + 1
        j += 1
    return j


def _escaped(text: str, k: int, start: int) -> bool:
    """Whether text[k] follows an odd number of backslashes (after `start`)."""
    backslashes = 0
    while k - 1 - backslashes >= start and text[k - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def out_of_range(value: Any, where: tuple = ()) -> list[tuple[tuple, str]]:
    """(keys, reason) for every whole number too large to be exact and every float that is not finite."""
    found: list[tuple[tuple, str]] = []
    if isinstance(value, bool):
        return found
    if isinstance(value, int):
        if abs(value) > MAX_WHOLE_NUMBER:
            digits = len(str(abs(value)))
            found.append((where, f"whole number too large ({digits} digits; at most 2**53 = {MAX_WHOLE_NUMBER})"))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            found.append((where, "numbers must be finite (not inf or nan)"))
    elif isinstance(value, dict):
        for key, item in value.items():
            found += out_of_range(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += out_of_range(item, (*where, index))
    return found
