"""A translated notebook written as a lesson file: TOML a teacher can read and edit.

Prose (the notebook's markdown) goes into literal strings so its LaTeX needs no escaping; what the
notebook printed is kept as a comment above each step, and what was left out as a comment block at
the top. The text is parsed back before it is returned, so an odd character never makes a file
that does not load.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
import tomllib
from pathlib import Path

from tutor.core.notebook.translate import Program, StepDraft
from tutor.core.text.safe import clean

MAX_PROSE = 4000
TRAIN_STEPS = 40
_HTML_LINE = re.compile(r"^\s*(<[^>]{0,2000}>\s*)+$")
_ID = re.compile(r"[^A-Za-z0-9_.-]+")


def lesson_id(path: Path) -> str:
    base = _ID.sub("-", path.stem).strip("-._")[:80] or "imported"
    return base if base[0].isalnum() else "n" + base[:79]


def prose(text: str) -> str:
    """Markdown as lesson prose: no control characters, no HTML-only lines, no `{{` read as a quote."""
    text = clean(text).replace("\t", "    ")
    lines = [line.rstrip() for line in text.splitlines() if not _HTML_LINE.match(line)]
    text = "\n".join(lines).strip("\n")
    while "{{" in text or "{%" in text:  # in LaTeX `{ {` is `{{`; in lesson prose `{{` quotes a value
        text = text.replace("{{", "{ {").replace("{%", "{ %")
    if len(text) > MAX_PROSE:
        text = text[: MAX_PROSE - 1].rstrip() + "…"
    return text


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def toml_string(text: str) -> str:
    if _CONTROL.search(text):  # a literal string cannot hold a control character; a basic one escapes it
        return '"""\n' + "\n".join(_basic(line) for line in text.split("\n")) + '\n"""' if "\n" in text \
            else '"' + _basic(text) + '"'
    if "\n" in text:
        if "'''" not in text and not text.endswith("'"):
            return "'''\n" + text + "\n'''"
        return '"""\n' + "\n".join(_basic(line) for line in text.split("\n")) + '\n"""'
    if "'" not in text:
        return f"'{text}'"
    return json.dumps(text, ensure_ascii=False)


def _basic(text: str) -> str:
    """One line of a TOML basic string's content: backslashes and quotes escaped, controls as \\uXXXX."""
    out = []
    for ch in text:
        if ch in ('\\', '"'):
            out.append("\\" + ch)
        elif ch != "\t" and (ord(ch) < 0x20 or ord(ch) == 0x7F):
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        inner = [toml_value(v) for v in value]
        if value and isinstance(value[0], list) and not isinstance(value[0][0], list):
            return "[\n" + "".join(f"  {i},\n" for i in inner) + "]"
        return "[" + ", ".join(inner) + "]"
    raise TypeError(value)


def comment(text: str, width: int = 100, wrap: bool = True) -> list[str]:
    """Comment lines for `text`; long lines are wrapped (output lines, which keep their layout, are cut)."""
    out = []
    for line in clean(text).replace("\t", " ").splitlines() or [""]:
        line = line.rstrip()
        if not line:
            out.append("#")
        elif wrap:
            indent = " " * (len(line) - len(line.lstrip()) + 2)
            out += ["# " + part for part in textwrap.wrap(line, width, subsequent_indent=indent,
                                                          break_long_words=True, break_on_hyphens=False)]
        else:
            out.append(("# " + line)[: width + 40])
    return out


def _names(text: str) -> set[str]:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return set()
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}


def needed(program: Program, steps: list[StepDraft]) -> tuple[list, set[str]]:
    """The graph lines and givens the steps (and the training loss) need; the rest is dropped."""
    by_name = {line.name: line for line in program.lines}
    wanted: set[str] = set()
    todo = [n for s in steps for n in _names(s.ask)]
    if program.config is not None:
        todo += [program.config.loss, *program.train_params]
    while todo:
        n = todo.pop()
        if n in wanted:
            continue
        wanted.add(n)
        if n in by_name:
            todo += list(_names(by_name[n].text))
    return [line for line in program.lines if line.name in wanted], wanted


def prompt(step: StepDraft, program: Program) -> str:
    ask = step.ask
    if step.kind == "grad" and (m := re.fullmatch(r"grad\((\w+), (\w+)\)", ask)):
        sentence = f"The gradient of `{m.group(1)}` with respect to `{m.group(2)}`"
    elif step.kind == "update":
        target = ask.split(" ", 1)[0]
        rate = program.config.lr if program.config else "the rate"
        sentence = f"`{target}` after one gradient-descent step with learning rate `{rate}`"
    elif step.kind == "trained" and program.config is not None:
        inner = ask[ask.index("(") + 1: ask.rindex(")")].rsplit(",", 1)[0]
        params = ", ".join(f"`{p}`" for p in program.train_params)
        sentence = f"`{inner}` after updating {params} with learning rate `{program.config.lr}`"
    elif step.kind == "shape":
        sentence = f"The shape of `{ask[6:ask.rindex(')')]}`"
    else:
        sentence = f"Compute `{ask}`"
    if step.code and step.code.replace(" ", "") != ask.replace(" ", ""):
        sentence += f" (`{step.code}` in the notebook)"
    sentence += "."
    label = prose(step.label)
    if label[:2].isalpha() and label[:2].islower():  # "loss:" reads as a sentence; "dL/dw" stays as written
        label = label[:1].upper() + label[1:]
    if label:
        sentence = f"{label}: {sentence[0].lower() + sentence[1:] if sentence.startswith(('The', 'Compute')) else sentence}"
    markdown = prose(step.markdown)
    return prose(f"{markdown}\n\n{sentence}" if markdown else sentence)


def compose(program: Program, source: Path, lesson_id_: str, drop: dict[str, str] | None = None) -> str:
    """The lesson file's text; `drop` maps step ids to leave out to the reason."""
    drop = drop or {}
    steps = [s for s in program.steps if s.id not in drop]
    lines, wanted = needed(program, steps)
    givens = [g for g in program.givens.values() if g.name in wanted]
    out: list[str] = []
    left = list(program.left_out) + [f"{s.where}: `{s.code}` {drop[s.id]}; left out"
                                     for s in program.steps if s.id in drop]
    if left:
        out += comment("What the notebook does that this lesson leaves out (the rest is imported):")
        for line in left:
            out += comment("  " + line)
        out.append("")
    title = prose(program.title).replace("\n", " ") or f"Exercises from {source.name}"
    out.append(f"id = {toml_string(lesson_id_)}")
    out.append(f"title = {toml_string(title[:120])}")
    out.append(f"source = {toml_string(prose(source.name).replace(chr(10), ' ') or 'notebook')}")
    out.append(f'dtype = "{program.dtype}"')
    intro = prose(program.intro) or "Work out each value by hand, then type it."
    out += ["", f"intro = {toml_string(intro)}"]
    if lines:
        width = max(len(line.name) for line in lines)
        graph = "\n".join(f"{line.name:<{width}} = {line.text}" for line in lines)
        out += ["", f"graph = '''\n{graph}\n'''"]
    out += ["", "[given]"]
    for g in givens:
        out.append(f"{g.name} = {toml_value(g.value)}")
    for step in steps:
        out += ["", "[[steps]]"]
        for where, printed in step.comments:
            out += comment(f"The notebook showed ({where}):")
            out += comment("  " + "\n  ".join(printed), wrap=False)
        out.append(f"id = {toml_string(step.id)}")
        out.append(f"ask = {toml_string(step.ask)}")
        out.append(f"prompt = {toml_string(prompt(step, program))}")
    if program.config is not None and program.train_params and any(s.kind in ("update", "trained") for s in steps):
        params = ", ".join(json.dumps(p) for p in program.train_params)
        out += ["", "[train]", f"loss = {json.dumps(program.config.loss)}", f"params = [{params}]",
                f"lr = {float(program.config.lr_value)!r}", f"steps = {TRAIN_STEPS}"]
    text = "\n".join(out) + "\n"
    tomllib.loads(text)  # a composing bug shows here, as an error, not as a file that does not load
    return text
