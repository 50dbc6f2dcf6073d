"""How a lesson's or step's state is shown: a glyph plus a word, so it reads without color too."""

from __future__ import annotations

LESSON_STATES = {
    "solved": ("✓", "solved", "state-solved"),
    "revealed": ("◐", "revealed", "state-revealed"),
    "in progress": ("◔", "in progress", "state-progress"),
    "not started": ("○", "not started", "state-new"),
    "broken": ("✗", "cannot load", "state-broken"),
}

STEP_STATES = {
    "solved": ("✓", "solved", "state-solved"),
    "revealed": ("◐", "revealed", "state-revealed"),
    "attempted": ("✗", "tried", "state-progress"),
    None: ("○", "", "state-new"),
}

# Rich styles for the same states; NO_COLOR drops the colors and the glyph and word remain.
STATE_STYLES = {
    "state-solved": "green",
    "state-revealed": "yellow",
    "state-progress": "cyan",
    "state-new": "",
    "state-broken": "red",
}


def lesson_state(status: str) -> tuple[str, str, str]:
    """(glyph, word, rich style) for a lesson status from the progress store."""
    glyph, word, css = LESSON_STATES.get(status, LESSON_STATES["not started"])
    return glyph, word, STATE_STYLES[css]


def step_state(state: str | None) -> tuple[str, str, str]:
    """(glyph, word, rich style) for a step state ('solved' | 'revealed' | 'attempted' | None)."""
    glyph, word, css = STEP_STATES.get(state, STEP_STATES[None])
    return glyph, word, STATE_STYLES[css]
