"""Results that worker threads post back to the UI thread, one small message class each."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class LiveBuilt(Message):
    """The lesson's LiveLesson is ready (or failed); carries the values of expression-valued givens."""

    def __init__(self, given_values: dict[str, Any]):
        super().__init__()
        self.given_values = given_values


class Checked(Message):
    def __init__(self, step_id: str, text: str, verdict: Any, seconds: float | None):
        super().__init__()
        self.step_id = step_id
        self.text = text
        self.verdict = verdict
        self.seconds = seconds


class Revealed(Message):
    def __init__(self, step_id: str, expected: Any, record: bool):
        super().__init__()
        self.step_id = step_id
        self.expected = expected
        self.record = record


class StepFailed(Message):
    """Checking or revealing a step raised: the lesson's math failed, or torch is unavailable."""

    def __init__(self, step_id: str, error: str):
        super().__init__()
        self.step_id = step_id
        self.error = error


class Recorded(Message):
    """Progress was written (or kept for a retry); the store's step states and any warning."""

    def __init__(self, states: dict[str, str] | None, warning: str | None):
        super().__init__()
        self.states = states
        self.warning = warning


class GraphData(Message):
    """What the graph view draws (a core Board), or why it could not be computed."""

    def __init__(self, board: Any, error: str | None = None):
        super().__init__()
        self.board = board
        self.error = error


class NodeChecked(Message):
    """A value typed into one box line of the graph view, checked."""

    def __init__(self, field: Any, text: str, verdict: Any):
        super().__init__()
        self.field = field
        self.text = text
        self.verdict = verdict


class TrainDone(Message):
    """A finished SGD run (the screen ignores one whose settings are no longer current)."""

    def __init__(self, run: Any, marker: tuple[int, float, str] | None, error: str | None = None, *,
                 base_lr: float | None = None, update_ids: list[str] | None = None, first: bool = False):
        super().__init__()
        self.run = run
        self.marker = marker        # (SGD step, loss, step id) of the learner's own update
        self.error = error
        self.base_lr = base_lr      # the lesson's own rate, found by the first run
        self.update_ids = update_ids or []
        self.first = first          # the first run, which also found the learner's own update


class StoreWarning(Message):
    """The progress store's writer met a problem saving (or got past it: warning is then None)."""

    def __init__(self, warning: str | None):
        super().__init__()
        self.warning = warning
