"""Lesson files loaded and validated, every problem reported with file, place and reason."""

from __future__ import annotations

import dataclasses
import keyword
import math
import re
from pathlib import Path
from typing import Any

from tutor.core.errors import ExprError, LessonError, LessonErrors
from tutor.core.expr import names
from tutor.core.expr.syntax import (
    ASK_CALLS,
    DRILL_CALLS,
    GIVEN_CALLS,
    Assignment,
    Expr,
    parse_expr,
    parse_graph,
)
from tutor.core.lesson.graph_ask import graph_ask, graph_ask_expr
from tutor.core.lesson.model import Conventions, Lesson, Mistake, Step, Tolerance, Train
from tutor.core.lesson.prose import template_problems
from tutor.core.text.files import MAX_LESSON_BYTES, FileRefused, loads_toml, out_of_range, read_text
from tutor.core.text.safe import clean, clean_deep, unexpected

MAX_STEPS = 200
MAX_GRAPH_LINES = 500
MAX_MISTAKES = 30  # per step: every wrong answer is compared with each of them
MAX_TRAIN_STEPS = 5000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")  # at most 80: ids are table columns

TOP_KEYS = {
    "id", "title", "topic", "order", "source", "dtype", "intro", "graph", "given",
    "steps", "train", "drill", "tolerance", "skills", "conventions",
}
STEP_KEYS = {"id", "ask", "prompt", "hints", "explain", "tolerance", "mistakes", "skills"}
MAX_SKILLS = 10


class NotALesson(LessonErrors):
    """A TOML file without [[steps]] (an answers file, a config): folders of lessons skip it."""


class _Collector:
    """Gathers every problem in one file instead of stopping at the first."""

    def __init__(self, file: str):
        self.file = file
        self.errors: list[LessonError] = []

    def add(self, where: str | None, reason: str) -> None:
        self.errors.append(LessonError(self.file, where, reason))


def load_lesson(path: str | Path, topic_default: str | None = None) -> Lesson:
    """Reads and validates one lesson file; raises LessonErrors listing every problem."""
    path = Path(path)
    return parse_lesson(read_lesson_text(path), path, topic_default)


def read_lesson_text(path: str | Path) -> str:
    """A lesson file's text: a regular UTF-8 file of at most MAX_LESSON_BYTES, else LessonErrors."""
    try:
        return read_text(path, MAX_LESSON_BYTES)
    except FileRefused as err:
        raise LessonErrors([LessonError(str(path), None, err.reason)]) from None


def parse_lesson(text: str, path: Path | str = "lesson.toml", topic_default: str | None = None) -> Lesson:
    """Validates lesson TOML text; `path` names it in errors and gives the default id and topic."""
    path = Path(path)
    try:
        data = loads_toml(text)
    except FileRefused as err:
        raise LessonErrors([LessonError(str(path), None, err.reason)]) from None
    try:
        return _lesson_from_data(data, path, topic_default)
    except LessonErrors:
        raise
    except (ArithmeticError, ValueError, TypeError, IndexError, RecursionError, MemoryError, ExprError) as err:
        # a problem no check above foresaw still names the file, and never hides other lessons
        raise LessonErrors([LessonError(str(path), None, unexpected(err))]) from None


def _lesson_from_data(data: dict, path: Path, topic_default: str | None) -> Lesson:
    # Lesson text reaches terminals, the app and exports: no escape sequences or control characters.
    data = clean_deep(data)
    col = _Collector(str(path))
    for keys, reason in out_of_range(data):
        col.add(_place(data, keys), reason)
    if col.errors:  # numbers that would overflow or poison every later check: report them alone
        raise _errors(col, data)

    for key in sorted(set(data) - TOP_KEYS):
        hint = _did_you_mean(key, TOP_KEYS)
        col.add(None, f"unknown key {key!r}{hint}")

    lesson_id = _text(col, data, "id", path.stem, None)
    if not _ID.match(lesson_id):
        col.add("id", f"{_short(lesson_id)!r} is not a usable id (at most 80 letters, digits, '-', '_', '.')")
    # titles and topics are one line of a list: a newline in them would break the list's layout
    title = " ".join(_text(col, data, "title", lesson_id, None).split()) or lesson_id
    topic = " ".join(clean(_text(col, data, "topic", topic_default or path.parent.name or "lessons", None)).split())
    source = _text(col, data, "source", "", None)
    intro = _text(col, data, "intro", "", None)
    order = data.get("order", 0)
    if isinstance(order, bool) or not isinstance(order, (int, float)):
        col.add("order", "must be a number")
        order = 0
    dtype = data.get("dtype", "float64")
    if dtype not in ("float64", "float32"):
        col.add("dtype", f"must be \"float64\" or \"float32\", not {dtype!r}")
        dtype = "float64"
    tolerance = _tolerance(col, data.get("tolerance"), "tolerance")

    given = _given(col, data.get("given", {}))
    # A given with a bad value is still declared: report its value once, not every use of it.
    declared = set(given) | set(data["given"]) if isinstance(data.get("given"), dict) else set(given)
    graph_text = data.get("graph", "")
    graph: list[Assignment] = []
    if not isinstance(graph_text, str):
        col.add("graph", "must be a string of lines 'name = expression'")
        graph_text = ""
    else:
        graph = _graph(col, graph_text, declared)
    known = declared | {a.target for a in graph}
    if len(graph_text.splitlines()) > MAX_GRAPH_LINES:  # refused whole: no "undefined name" after it
        known |= set(re.findall(r"[A-Za-z_]\w*", graph_text))

    _prose(col, None, "intro", intro, known)
    steps = _steps(col, data.get("steps"), known, {a.target for a in graph})
    train = _train(col, data.get("train"), known, declared)
    drill = _drill(col, data.get("drill", {}), declared)
    skills = _skills(col, data.get("skills", []), "skills")
    conventions = _conventions(col, data.get("conventions", {}), {s.id for s in steps})

    if col.errors:
        raise _errors(col, data)
    return Lesson(
        id=lesson_id, title=title, topic=topic, steps=tuple(steps), given=given,
        graph=tuple(graph), order=order, source=source, dtype=dtype, intro=intro,
        train=train, drill=drill, tolerance=tolerance, path=path, graph_text=graph_text,
        skills=skills, conventions=conventions,
    )


def _place(data: dict, keys: tuple) -> str:
    """Where a value sits, the way the other messages say it: "[given] x[1]", "step 'loss' tolerance"."""
    head, rest = keys[0], keys[1:]
    if head == "steps" and rest and isinstance(rest[0], int):
        sid = data["steps"][rest[0]].get("id") if isinstance(data["steps"][rest[0]], dict) else None
        head, rest = (f"step {sid!r}" if isinstance(sid, str) else f"step #{rest[0] + 1}"), rest[1:]
    elif head in ("given", "drill", "train"):
        head = f"[{head}]"
    tail = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in rest)
    return f"{head} {tail.lstrip('.')}".strip() if tail else str(head)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _errors(col: _Collector, data: dict) -> LessonErrors:
    """Every problem found; a file without [[steps]] is marked as not a lesson at all."""
    return LessonErrors(col.errors) if "steps" in data else NotALesson(col.errors)


def _did_you_mean(key: str, options: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _text(col: _Collector, table: dict, key: str, default: str, where: str | None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        col.add(where or key, f"{key!r} must be a string")
        return default
    return value


def _valid_name(name: str) -> str | None:
    """Any ASCII identifier not starting with '_': a function's name is free as a value's name."""
    if not name.isascii():
        return "has characters outside ASCII; names are ASCII letters, digits and '_'"
    if not name.isidentifier() or keyword.iskeyword(name):
        return "is not a valid name (letters, digits and '_', not starting with a digit)"
    if name.startswith("_"):
        return "may not start with '_'"
    return None


def _number_tree(value: Any) -> str | None:
    """None if `value` is a number or a rectangular nested list of numbers, else why not."""
    if isinstance(value, bool):
        return "true/false is not a number"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "numbers must be finite"
        return None
    if isinstance(value, list):
        if not value:
            return "an empty list has no values"
        problems = [_number_tree(v) for v in value]
        for p in problems:
            if p:
                return p
        shapes = {_shape_of(v) for v in value}
        if len(shapes) != 1:
            return "rows of a nested list must all have the same length"
        return None
    if isinstance(value, str):
        return "an expression string is only allowed as a whole value"
    return f"{type(value).__name__} is not a number or list"


def _shape_of(value: Any) -> tuple:
    if isinstance(value, list):
        return (len(value),) + _shape_of(value[0])
    return ()


def _value(col: _Collector, where: str, value: Any, calls: frozenset[str]) -> Any:
    if isinstance(value, str):
        try:
            return _parse(value, calls)
        except ExprError as err:
            col.add(where, str(err))
            return None
    if isinstance(value, list) and _holds_text(value):
        # ["pi/2", "pi"] or [["0", "log(2)"], ["log(3)", "0"]]: a list with expressions among its entries
        items = []
        for i, v in enumerate(value):
            if isinstance(v, str) or (isinstance(v, list) and _holds_text(v)):
                items.append(_value(col, f"{where}[{i}]", v, calls))
            elif (problem := _number_tree(v)) is not None:
                col.add(f"{where}[{i}]", problem)
            else:
                items.append(v)
        return _list_expr(col, where, items, calls)
    problem = _number_tree(value)
    if problem:
        col.add(where, problem)
        return None
    return value


def _holds_text(value: list, depth: int = 0) -> bool:
    """Whether a nested list has an expression string among its entries (rows of a drill's drawn matrix)."""
    return depth < 32 and any(isinstance(v, str) or (isinstance(v, list) and _holds_text(v, depth + 1))
                              for v in value)


def _parse(text: str, calls: frozenset[str]) -> Expr:
    return parse_expr(text, calls)  # the language itself refuses literals such as 10**400 or 1e999


def _list_expr(col: _Collector, where: str, items: list, calls: frozenset[str]) -> Expr | None:
    if any(i is None for i in items):
        return None
    text = "[" + ", ".join(i.text if isinstance(i, Expr) else repr(i) for i in items) + "]"
    try:
        return _parse(text, calls)
    except ExprError as err:  # each element was fine alone; together they can be too long
        col.add(where, str(err))
        return None


def _given(col: _Collector, table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        col.add("[given]", "must be a table of name = value")
        return {}
    out: dict[str, Any] = {}
    for name, value in table.items():
        if (why := _valid_name(name)) is not None:
            col.add(f"[given] {name}", f"{name!r} {why}")
            continue
        parsed = _value(col, f"[given] {name}", value, GIVEN_CALLS)
        if parsed is not None:
            out[name] = parsed
    return out


def _graph(col: _Collector, text: str, given: set[str]) -> list[Assignment]:
    graph: list[Assignment] = []
    defined = set(given)
    lines = text.splitlines()
    used = sum(1 for raw in lines if raw.split("#", 1)[0].strip())
    if used > MAX_GRAPH_LINES:
        col.add("graph", f"too many lines ({used}; at most {MAX_GRAPH_LINES})")
        return []
    for number, raw in enumerate(lines, start=1):
        if not raw.split("#", 1)[0].strip():
            continue
        try:
            (assignment,) = parse_graph(raw)  # one line at a time: parsing stays linear in the graph
        except ExprError as err:
            col.add(f"graph line {number}", str(err).split(": ", 1)[-1])
            continue
        assignment = dataclasses.replace(assignment, line=number)
        missing = sorted(assignment.expr.names() - defined)
        if assignment.op != "=" and assignment.target not in defined:
            missing.insert(0, assignment.target)
        if missing:
            col.add(f"graph line {number}", f"uses {', '.join(map(repr, missing))} before it is defined")
        defined.add(assignment.target)
        graph.append(assignment)
    return graph


def _steps(col: _Collector, raw: Any, known: set[str],
           graph_targets: frozenset[str] | set[str] = frozenset()) -> list[Step]:
    if raw is None:
        col.add("steps", "a lesson needs at least one [[steps]]")
        return []
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        col.add("steps", "must be an array of tables, written [[steps]]")
        return []
    if len(raw) > MAX_STEPS:
        col.add("steps", f"too many steps ({len(raw)}; at most {MAX_STEPS})")
    steps: list[Step] = []
    seen: set[str] = set()
    for index, table in enumerate(raw, start=1):
        sid = table.get("id")
        where = f"step {_short(sid)!r}" if isinstance(sid, str) else f"step #{index}"
        if not isinstance(sid, str) or not _ID.match(sid):
            col.add(where, "needs an id: at most 80 letters, digits, '-', '_' or '.'")
            continue
        if sid in seen:
            col.add(where, "this id is used by an earlier step; ids must be unique")
        seen.add(sid)
        for key in sorted(set(table) - STEP_KEYS):
            col.add(where, f"unknown key {key!r}{_did_you_mean(key, STEP_KEYS)}")
        ask_text = table.get("ask")
        if not isinstance(ask_text, str) or not ask_text.strip():
            col.add(where, "needs an 'ask': the expression whose value the learner computes")
            continue
        graph_target = graph_ask(ask_text)
        try:
            ask = graph_ask_expr(ask_text) if graph_target else _parse(ask_text, ASK_CALLS)
        except ExprError as err:
            col.add(where, f"ask: {err}")
            continue
        unknown = sorted(ask.names() - known)
        if unknown:
            col.add(where, f"ask uses {', '.join(map(repr, unknown))}, which no given or graph line defines")
        elif graph_target and graph_target not in graph_targets:
            col.add(where, f"graph({graph_target}) needs {graph_target!r} to be computed by a graph line")
        default_prompt = (f"Write the computational graph of ${graph_target}$, one operation per line."
                          if graph_target else f"Compute ${ask.text}$.")
        prompt = _text(col, table, "prompt", default_prompt, where)
        explain = _text(col, table, "explain", "", where)
        hints = table.get("hints", [])
        if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
            col.add(where, "'hints' must be a list of strings")
            hints = []
        _prose(col, where, "prompt", prompt, known)
        for number, hint in enumerate(hints, start=1):
            _prose(col, where, f"hint {number}", hint, known)
        _prose(col, where, "explain", explain, known)
        tolerance = _tolerance(col, table.get("tolerance"), f"{where} tolerance")
        mistakes = _mistakes(col, table.get("mistakes", []), where, known)
        skills = _skills(col, table.get("skills", []), f"{where} skills")
        steps.append(Step(sid, ask, prompt, tuple(hints), explain, tolerance, tuple(mistakes),
                          skills))
    return steps


def _skills(col: _Collector, raw: Any, where: str) -> tuple[str, ...]:
    """A list of skill names (ids like "chain-rule"); any name a teacher chooses is allowed."""
    if (not isinstance(raw, list) or len(raw) > MAX_SKILLS
            or not all(isinstance(s, str) and _ID.match(s) for s in raw)):
        col.add(where, f"must be a list of at most {MAX_SKILLS} skill names"
                       " (letters, digits, '-', '_', '.'), e.g. [\"chain-rule\"]")
        return ()
    return tuple(dict.fromkeys(raw))


def _mistakes(col: _Collector, raw: Any, where: str, known: set[str]) -> list[Mistake]:
    if not isinstance(raw, list) or not all(isinstance(m, dict) for m in raw):
        col.add(where, "'mistakes' must be written [[steps.mistakes]] with 'when' and 'say'")
        return []
    if len(raw) > MAX_MISTAKES:
        col.add(where, f"too many mistakes ({len(raw)}; at most {MAX_MISTAKES} per step)")
        return []
    out = []
    for i, table in enumerate(raw, start=1):
        when, say = table.get("when"), table.get("say")
        if not isinstance(when, str) or not isinstance(say, str):
            col.add(f"{where} mistake #{i}", "needs 'when' (an expression) and 'say' (the message)")
            continue
        try:
            expr = _parse(when, ASK_CALLS)
        except ExprError as err:
            col.add(f"{where} mistake #{i}", f"when: {err}")
            continue
        if unknown := sorted(expr.names() - known):
            col.add(f"{where} mistake #{i}", f"when uses undefined {', '.join(map(repr, unknown))}")
            continue
        _prose(col, f"{where} mistake #{i}", "say", say, known)
        out.append(Mistake(expr, say))
    return out


def _prose(col: _Collector, where: str | None, part: str, text: str, known: set[str]) -> None:
    """`{{ expr }}` quotes and `{% own %}` spans in prose are checked when the lesson loads."""

    for problem in template_problems(text, known):
        col.add(where or part, f"{part}: {problem}" if where else problem)


def _tolerance(col: _Collector, raw: Any, where: str) -> Tolerance | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"rtol", "atol"}:
        col.add(where, "must be { rtol = ..., atol = ... }")
        return None
    values = {}
    for key in ("rtol", "atol"):
        v = raw.get(key, 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or not math.isfinite(v):
            col.add(where, f"{key} must be a number >= 0")
            return None
        values[key] = float(v)
    return Tolerance(**values)


def _train(col: _Collector, raw: Any, known: set[str], given: set[str]) -> Train | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        col.add("[train]", "must be a table with loss, params, lr and steps")
        return None
    loss = None
    try:
        loss = _parse(str(raw.get("loss", "")), ASK_CALLS - names.ASK_ONLY)
        if unknown := sorted(loss.names() - known):
            col.add("[train] loss", f"uses undefined {', '.join(map(repr, unknown))}")
    except ExprError as err:
        col.add("[train] loss", str(err))
    params = raw.get("params")
    if not isinstance(params, list) or not params or not all(isinstance(p, str) for p in params):
        col.add("[train] params", "must be a non-empty list of given names")
        params = []
    for p in params:
        if p not in given:
            col.add("[train] params", f"{p!r} is not in [given]; only givens can be trained")
    lr = raw.get("lr")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0 or not math.isfinite(lr):
        col.add("[train] lr", "must be a number > 0")
        lr = 0.1
    steps = raw.get("steps", 50)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_TRAIN_STEPS:
        col.add("[train] steps", f"must be a whole number from 1 to {MAX_TRAIN_STEPS}")
        steps = 50
    if extra := sorted(set(raw) - {"loss", "params", "lr", "steps"}):
        col.add("[train]", f"unknown key {extra[0]!r}")
    if loss is None:
        return None
    return Train(loss, tuple(params), float(lr), steps)


def _conventions(col: _Collector, raw: Any, steps: set[str]) -> Conventions:
    """[conventions]: decimals = 2, significant = 2, whole_numbers = true or a list of step ids."""
    if not isinstance(raw, dict):
        col.add("[conventions]", "must be a table such as { decimals = 2 }")
        return Conventions()
    for key in sorted(set(raw) - {"decimals", "significant", "whole_numbers"}):
        col.add("[conventions]", f"unknown key {key!r}{_did_you_mean(key, {'decimals', 'significant', 'whole_numbers'})}")
    counts: dict[str, int | None] = {}
    for key, top in (("decimals", 12), ("significant", 12)):
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top):
            col.add(f"[conventions] {key}", f"must be a whole number from 0 to {top}")
            value = None
        counts[key] = value
    whole = raw.get("whole_numbers", False)
    everywhere = whole is True
    listed: tuple[str, ...] = ()
    if isinstance(whole, list) and all(isinstance(s, str) for s in whole):
        listed = tuple(whole)
        for sid in listed:
            if sid not in steps:
                col.add("[conventions] whole_numbers", f"{sid!r} is not a step of this lesson")
    elif not isinstance(whole, bool):
        col.add("[conventions] whole_numbers", "must be true, false or a list of step ids")
    return Conventions(counts["decimals"], counts["significant"], listed, everywhere)


def _drill(col: _Collector, raw: Any, given: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        col.add("[drill]", "must be a table of name = expression")
        return {}
    out = {}
    for name, value in raw.items():
        if name not in given:
            col.add(f"[drill] {name}", f"{name!r} is not in [given]; a drill draw replaces a given")
            continue
        parsed = _value(col, f"[drill] {name}", value, DRILL_CALLS)
        if parsed is not None:
            out[name] = parsed
    return out
