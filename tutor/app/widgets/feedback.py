"""What the learner sees after Enter or a reveal: the verdict in words, glyphs and marked matrices."""

from __future__ import annotations

import math

from rich.text import Text

from tutor.app.widgets.prose import prose_text
from tutor.app.widgets.value_text import dims_text, nest, value_text
from tutor.core.answer.parse import parse_answer
from tutor.core.errors import AnswerParseError
from tutor.core.text.latex import plain_text
from tutor.core.text.shapes import shape_text
from tutor.core.training.runs import has_plot
from tutor.core.vocabulary import NOT_ATTEMPTS, SETTLED, Kind, Status, StepState

NEXT = "Enter or F7: next step."


def verdict_view(verdict, text: str, kind: str, explain: str, last: bool) -> Text:
    status = verdict.status
    out = Text()
    if status == Status.CORRECT:
        out.append("✓ Correct.", "bold green")
        _explain(out, explain)
        out.append("\n" + ("Enter: finish the lesson." if last else NEXT), "dim")
        return out
    if status in NOT_ATTEMPTS:
        message = verdict.message if status == Status.UNPARSED else "Type an answer first."
        out.append(f"? {message}", "bold")
        out.append("\nNot counted as an attempt.", "dim")
        return out
    if status == Status.WRONG_SHAPE:
        out.append("✗ Wrong shape. ", "bold red")
        out.append(plain_text(verdict.message))
        if verdict.answer_shape is not None and verdict.expected_shape is not None:
            out.append(f"\nYour shape: {shape_text(verdict.answer_shape)} · "
                       f"expected: {shape_text(verdict.expected_shape)}")
    elif status == Status.IMPRECISE:
        out.append("≈ More digits, please. ", "bold yellow")
        out.append(plain_text(verdict.message))
        _own_answer(out, text, kind, verdict, verdict.imprecise, "too coarse")
    else:
        out.append("✗ Not quite. ", "bold red")
        out.append(plain_text(verdict.message))
        _own_answer(out, text, kind, verdict, verdict.wrong, "off")
    if verdict.mistake:
        # the core names the mistake (a plain-text label); its advice is already part of the message
        out.append("\nKnown mistake: ", "bold")
        out.append(f"{verdict.mistake}.")
    out.append("\nF2: a hint · F3: reveal the answer.", "dim")
    return out


def _own_answer(out: Text, text: str, kind: str, verdict, marks, word: str) -> None:
    """The learner's own answer laid out in the expected shape, the elements that are `word` marked."""
    shape = tuple(verdict.expected_shape or ())
    if not marks or math.prod(shape) <= 1:
        return
    try:
        parsed = parse_answer(text, kind)
    except AnswerParseError:
        return
    if len(parsed.values) != math.prod(shape):
        return
    if kind == Kind.SHAPE:
        out.append(f"\nYou gave {dims_text(int(v) for v in parsed.values)}.")
        return
    out.append(f"\nYour answer, entries that are {word} marked:\n")
    out.append_text(value_text(nest(list(parsed.values), shape), shape, mark=marks, indent=2))


def reveal_view(expected, explain: str, last: bool) -> Text:
    out = Text.assemble(("◐ Revealed. The answer is:", "bold yellow"), "\n")
    if expected.kind == Kind.SHAPE:
        out.append("  " + dims_text(expected.value))
    else:
        out.append_text(value_text(expected.value, tuple(expected.shape), indent=2))
    _explain(out, explain)
    out.append("\n" + ("Enter: finish the lesson." if last else NEXT), "dim")
    return out


def _explain(out: Text, explain: str) -> None:
    if explain.strip():
        out.append("\n")
        out.append_text(prose_text(explain))


def earlier_view(state: str | None) -> Text | None:
    """A step settled in an earlier session: say so, and that Enter moves on."""
    if state not in SETTLED:
        return None
    said = "✓ You solved this step before." if state == StepState.SOLVED else "◐ You revealed this step before."
    return Text.assemble((said, "bold"), ("\nEnter: next step, or type an answer to try it again.", "dim"))


def missing_view() -> Text:
    return Text.assemble(("? Type an answer first; Enter checks it.", "bold"))


def unreadable_view(err) -> Text:
    """An answer that does not parse: where and why, and that it costs nothing."""
    where = f" at character {err.position + 1}" if err.position is not None else ""
    return Text.assemble((f"? Can't read that{where}: ", "bold"), err.message,
                         ("\nNot counted as an attempt.", "dim"))


def finish_view(lesson, states: dict[str, str], next_title: str | None, last: bool) -> Text:
    """The end of a lesson: how it went, and where Enter goes next (`last`: the catalog's last)."""
    total = len(lesson.steps)
    solved = sum(1 for s in lesson.steps if states.get(s.id) == StepState.SOLVED)
    revealed = sum(1 for s in lesson.steps if states.get(s.id) == StepState.REVEALED)
    text = Text.assemble((f"Lesson finished: {solved} of {total} steps solved", "bold"))
    text.append(f", {revealed} revealed." if revealed else ".")
    left = total - solved - revealed
    if left:
        text.append(f"\n{left} step{'s' if left != 1 else ''} still open: F6 goes back.")
    if next_title:
        text.append(f"\nEnter: next lesson ({next_title}).")
    elif last:
        text.append("\nThat was the last lesson.")
    text.append(("\nEsc or Enter" if not next_title else "\nEsc") + ": the lesson list."
                + (" F5: the training plot." if has_plot(lesson) else ""), "dim")
    return text


def waiting_view(what: str) -> Text:
    return Text(f"… loading PyTorch; {what} as soon as it is ready.", "italic")


def error_view(message: str) -> Text:
    return Text.assemble(("⚠ This step could not be computed: ", "bold red"), message)
