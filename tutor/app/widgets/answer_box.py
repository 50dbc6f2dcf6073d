"""The answer field and, under it, a live preview of how the typed text is read (pure Python, per keystroke)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.widgets import Input, Static

from tutor.core.answer.parse import describe, parse_answer
from tutor.core.errors import AnswerParseError
from tutor.core.vocabulary import Kind


class AnswerInput(Input):
    """An Input that never blinks (a timed redraw, costly over SSH) and keeps keys in typing order.

    `start_over`, when set, runs just before the next typed character lands: the lesson screen
    sets it once a step is settled, so typing begins the next step's answer instead of appending
    to the solved one. Any other key (an edit, Enter) clears it.
    """

    def __init__(self, **kwargs):
        super().__init__(compact=True, **kwargs)
        self.cursor_blink = False
        self.start_over: Callable[[], None] | None = None

    async def _on_key(self, event: events.Key) -> None:
        start_over, self.start_over = self.start_over, None
        if event.is_printable:
            if start_over is not None:
                start_over()  # synchronous, so the keys queued behind this one land in the new box
            await super()._on_key(event)
            return
        # Textual runs a focused widget's own bindings (Backspace, Ctrl+U, arrows...) only when the
        # key has bubbled up to the App, after the keys that arrived in the same read were already
        # handled here. Over SSH or tmux one read often holds several keys: "Backspace 7" typed
        # after "12" was applied as "7 Backspace" and left "12", and "Ctrl+U 7" left the box empty.
        # Running this box's bindings as each key arrives keeps them in typing order.
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)


def fitted(width: int, *texts: str) -> str:
    """The first (longest) of `texts` that fits `width` columns, else the last: a short line whole,
    rather than a long one cut."""
    return next((t for t in texts if len(t) <= width), texts[-1])


class AnswerPreview(Static):
    """The line under an answer box: how the typed text reads, or what to type and which key checks it."""

    def show(self, text: str, kind: str) -> None:
        self._said: tuple[str, ...] | None = None
        if not text.strip():
            if kind == Kind.SHAPE:
                self.say("Type a shape like 4x24. Enter checks it.")
            else:
                self.say("Type a number, a vector [a, b], or rows 1 2; 3 4. Enter checks it.",
                         "Type a number, [a, b], or rows 1 2; 3 4. Enter checks it.")
            return
        try:
            parsed = parse_answer(text, kind)
        except AnswerParseError as err:
            where = f" at character {err.position + 1}" if err.position is not None else ""
            self.update(Text(f"✗ can't read it{where}: {err.message}", "italic"))
            return
        self.update(Text(f"reads as {describe(parsed)}", "dim"))

    def say(self, *texts: str) -> None:
        """Key help, the longest form that fits this line (see `fitted`)."""
        self._said = texts
        self.update(Text(fitted(self._room(), *texts), "dim"))

    def _room(self) -> int:
        return (self.content_region.width or self.app.size.width - 2) if self.is_mounted else 78

    def on_resize(self) -> None:
        said = getattr(self, "_said", None)
        if said:
            self.update(Text(fitted(self._room(), *said), "dim"))
