"""A drill variant written into the author's own lesson document (tomlkit): comments and layout kept."""

from __future__ import annotations

import math
from typing import Any

import tomlkit
from tomlkit.items import String, StringType

from tutor.core.lesson.prose import without_own

_PROSE = ("prompt", "explain")


_PREPARED: dict[str, str] = {}  # a lesson's text -> the same without [drill] and own-numbers text (for drills)


def rewrite(text: str, drawn: dict[str, Any], *, id: str, title: str, topic: str, header: str) -> str:
    """The lesson text with `drawn` givens, a new id/title/topic, no [drill], and no own-numbers text."""
    names = {"id": id, "title": title, "topic": topic}
    doc = tomlkit.parse(_prepared(text))
    given = doc.setdefault("given", tomlkit.table())
    for name, value in drawn.items():
        given[name] = _value(value)
    for key, value in names.items():
        doc[key] = tomlkit.string(value)
    return f"# {_one_line(header)}\n" + tomlkit.dumps(doc)


def _prepared(text: str) -> str:
    """What every variant of a lesson shares, worked out once: id, title and topic keys on top (top-level
    keys must come before the first table), no [drill], no own-numbers text."""
    if text not in _PREPARED:
        keys = tomlkit.parse(text)
        missing = [k for k in ("id", "title", "topic") if k not in keys]
        doc = tomlkit.parse("".join(f'{k} = ""\n' for k in missing) + text)
        doc.pop("drill", None)
        _without_own(doc)
        if len(_PREPARED) >= 64:
            _PREPARED.clear()
        _PREPARED[text] = tomlkit.dumps(doc)
    return _PREPARED[text]


def _value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a drill drew a number that is not finite")
    if isinstance(value, list):
        return [_value(v) for v in value]
    return value


def _without_own(doc) -> None:
    if "intro" in doc:
        _strip(doc, "intro")
    for step in doc.get("steps", []):
        for key in _PROSE:
            if key in step:
                _strip(step, key)
        if isinstance(step.get("hints"), list):
            kept = [without_own(h) for h in step["hints"]]
            if kept != list(step["hints"]):
                step["hints"] = [h for h in kept if h.strip()]
        mistakes = step.get("mistakes")
        if mistakes is not None:
            keep = [m for m in mistakes if without_own(str(m.get("say", ""))).strip()]
            if len(keep) != len(mistakes):
                # a mistake whose whole message holds only for the lesson's numbers is not offered on a variant
                for m in [m for m in mistakes if m not in keep]:
                    mistakes.remove(m)
            for m in mistakes:
                if "say" in m:
                    _strip(m, "say")


def _strip(table, key: str) -> None:
    old = table[key]
    if not isinstance(old, str):
        return
    new = without_own(str(old))
    if new != str(old):
        table[key] = _string_like(old, new)


def _string_like(old: Any, new: str) -> Any:
    """The new text in the old item's kind of string when that kind can hold it, else an escaped one."""
    kind = old.type if isinstance(old, String) else StringType.SLB
    literal = kind in (StringType.SLL, StringType.MLL)
    multiline = kind in (StringType.MLL, StringType.MLB)
    try:
        item = tomlkit.string(new, literal=literal, multiline=multiline)
        if tomlkit.parse(f"x = {item.as_string()}")["x"] == new:
            return item
    except Exception:  # noqa: BLE001 - that kind cannot hold this text; an escaped basic string can
        pass
    return tomlkit.string(new)


def _one_line(text: str) -> str:
    return "".join(c if c.isprintable() else " " for c in text)
