"""A lesson evaluated live by PyTorch: expected answers, node values and gradients, checking."""

from __future__ import annotations

from typing import Any

from tutor.core.lesson import Lesson
from tutor.core.values import Expected, NodeValue


class LiveLesson:
    """Evaluates a lesson's givens and graph once with torch; answers questions about it.

    Constructing it imports torch; callers in the app do that in a worker thread.
    """

    def __init__(self, lesson: Lesson, overrides: dict[str, Any] | None = None):
        raise NotImplementedError

    def expected(self, step_id: str) -> Expected:
        """The step's answer, computed now; raises LessonError naming the step on failure."""
        raise NotImplementedError

    def check(self, step_id: str, text: str):
        """Parses and checks a typed answer, naming a known mistake if it matches one -> Verdict."""
        raise NotImplementedError

    def node_values(self) -> dict[str, NodeValue]:
        """Forward value of every given and graph name (the last binding of a reassigned name)."""
        raise NotImplementedError

    def node_grads(self) -> dict[str, NodeValue]:
        """Gradient of the lesson's loss ([train].loss, else the last scalar graph name) w.r.t. each node."""
        raise NotImplementedError
