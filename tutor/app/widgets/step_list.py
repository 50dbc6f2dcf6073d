"""The lesson's steps in order, each with its state, the current one pointed at."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tutor.app.widgets.status_glyphs import step_state
from tutor.core.lesson.model import Step
from tutor.core.lesson.prose import placeholder
from tutor.core.text.latex import plain_text
from tutor.core.vocabulary import SETTLED


class StepList(Static):
    def show(self, steps: tuple[Step, ...], states: dict[str, str], current: int, shown=None) -> None:
        """`shown` turns a prompt into its text as shown (quoted values filled in); placeholders without it."""

        shown = shown or placeholder
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=1, no_wrap=True)   # ▶ current
        grid.add_column(width=1, no_wrap=True)   # state glyph
        grid.add_column(no_wrap=True)            # "2 dy_dw"
        grid.add_column(width=8, no_wrap=True)   # state word
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        for n, step in enumerate(steps):
            glyph, word, style = step_state(states.get(step.id))
            here = n == current
            grid.add_row(
                Text("▶" if here else " ", "bold"),
                Text(glyph, style),
                Text(f"{n + 1} {step.id}", "bold" if here else ""),
                Text(word, style),
                Text(plain_text(shown(step.prompt)).replace("\n", " "), "" if here else "dim"),
            )
        self.update(grid)


def step_strip(steps: tuple[Step, ...], states: dict[str, str], current: int, limit: int = 20) -> Text:
    """Every step's state glyph in one short line: '✓✓▶○○'. The current step is ▶ until it is
    solved or revealed, then its own ✓ or ◐ (at once, not after moving on), always in reverse."""
    strip = Text()
    if len(steps) > limit:
        return strip
    for n, step in enumerate(steps):
        state = states.get(step.id)
        glyph = step_state(state)[0]
        if n == current:
            strip.append(glyph if state in SETTLED else "▶", "bold reverse")
        else:
            strip.append(glyph)
    return strip
