"""The lesson screen as its parts see it. The answer flow, the drafts and the graph-step hooks are
mixed into LessonScreen, and the graph view is opened from it: each uses the screen's state and
methods, declared here once (LessonScreen imports its parts, so they cannot import it)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.worker import Worker

from tutor.app.screens.base import TutorScreen
from tutor.app.screens.live_handle import LiveHandle
from tutor.core.answer.judge import Verdict
from tutor.core.lesson.catalog import Entry
from tutor.core.lesson.model import Lesson, Step
from tutor.core.progress.drafts import Drafts
from tutor.core.progress.store import ProgressStore


@dataclass
class StepSession:
    """What this visit has done on one step, restored when the learner comes back to it."""

    hints_shown: int = 0
    answer: str = ""
    feedback: Text | None = None
    done: bool = False          # correct or revealed: Enter moves on
    pending: str | None = None  # an answer being checked
    since: float = 0.0          # when the step was shown or last checked
    draft: str | None = None    # typed and not checked yet (kept on disk too, see DraftHooks)
    checked: str = ""           # the last text checked as an attempt


class LessonHost(TutorScreen):
    """For the type checker: what LessonScreen and its mixins provide one another. The mixins
    derive from it only while type checking; at run time they are plain classes."""

    entry: Entry
    lesson: Lesson
    handle: LiveHandle
    sessions: dict[str, StepSession]
    states: dict[str, str]      # step id -> 'solved' | 'revealed' | 'attempted'
    index: int                  # the step shown
    finished: bool              # past the last step: Enter opens the next lesson

    @property
    @abstractmethod
    def step(self) -> Step: ...

    @property
    @abstractmethod
    def session(self) -> StepSession: ...

    # LessonScreen's
    @abstractmethod
    def save_progress(self, write: Callable[[ProgressStore], object]) -> Worker[None]: ...

    @abstractmethod
    def action_next_step(self) -> None: ...

    @abstractmethod
    def _open_next_lesson(self) -> None: ...

    @abstractmethod
    def _show_feedback(self, text: Text | None) -> None: ...

    @abstractmethod
    def _show_steps(self) -> None: ...

    @abstractmethod
    def _show_hints(self) -> None: ...

    @abstractmethod
    def settle_answer_box(self) -> None: ...

    # AnswerFlow's
    @abstractmethod
    def action_check(self) -> None: ...

    @abstractmethod
    def record_attempt_now(self, step_id: str, text: str, verdict: Verdict, seconds: float | None) -> None: ...

    # DraftHooks'
    @abstractmethod
    def drafts(self) -> Drafts | None: ...

    @abstractmethod
    def keep_draft(self, text: str, step_id: str | None = None) -> None: ...

    @abstractmethod
    def draft_checked(self, step_id: str, text: str) -> None: ...

    # GraphStepHooks'
    @abstractmethod
    def answer_text(self) -> str: ...

    @abstractmethod
    def earlier_answers(self) -> dict[str, str]: ...
