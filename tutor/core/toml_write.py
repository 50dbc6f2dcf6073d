"""Writes lesson data back as TOML that reads naturally (LaTeX kept in literal strings)."""

from __future__ import annotations

import json
import math
from typing import Any

_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def key(k: str) -> str:
    return k if k and set(k) <= _BARE else json.dumps(k, ensure_ascii=False)


def string(s: str) -> str:
    if "\n" in s and "'''" not in s and not s.endswith("'") and all(c >= " " or c in "\n\t" for c in s):
        return "'''\n" + s + "'''"
    if "\n" not in s and "'" not in s and "\\" in s and all(c >= " " or c == "\t" for c in s):
        return "'" + s + "'"
    return json.dumps(s, ensure_ascii=False)


def value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError("TOML lessons hold finite numbers only")
        return repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(i) for i in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(i)}" for k, i in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def document(data: dict[str, Any], header: str = "") -> str:
    """Top-level keys first, then tables, then arrays of tables (with their nested arrays)."""
    lines = [f"# {h}" for h in header.splitlines()] if header else []
    plain = {k: v for k, v in data.items() if not _is_table(v) and not _is_table_array(v)}
    lines += [f"{key(k)} = {value(v)}" for k, v in plain.items()]
    for k, v in data.items():
        if _is_table(v):
            lines += ["", f"[{key(k)}]"] + [f"{key(i)} = {value(x)}" for i, x in v.items()]
    for k, v in data.items():
        if _is_table_array(v):
            for item in v:
                lines += ["", f"[[{key(k)}]]"]
                nested = {i: x for i, x in item.items() if _is_table_array(x)}
                lines += [f"{key(i)} = {value(x)}" for i, x in item.items() if i not in nested]
                for i, rows in nested.items():
                    for row in rows:
                        lines += [f"[[{key(k)}.{key(i)}]]"] + [f"{key(a)} = {value(b)}" for a, b in row.items()]
    return "\n".join(lines) + "\n"


def _is_table(v: Any) -> bool:
    return isinstance(v, dict)


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(i, dict) for i in v)
