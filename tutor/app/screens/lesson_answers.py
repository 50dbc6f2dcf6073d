"""The answering half of the lesson screen: checking answers, hints and reveal, recorded as they happen."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual import work

from tutor.app.screens.confirm import ConfirmScreen
from tutor.app.screens.live_handle import LiveCancelled, checker
from tutor.app.screens.messages import Checked, Recorded, Revealed, StepFailed
from tutor.app.widgets.feedback import (
    error_view,
    missing_view,
    reveal_view,
    unreadable_view,
    verdict_view,
    waiting_view,
)
from tutor.core.answer.parse import parse_answer
from tutor.core.errors import AnswerParseError
from tutor.core.progress.skills import skills_for
from tutor.core.vocabulary import SETTLED, Kind, Status, StepState

if TYPE_CHECKING:
    from tutor.app.screens.lesson_host import LessonHost
else:
    LessonHost = object  # a plain mixin at run time; typed as the lesson screen it is mixed into


class AnswerFlow(LessonHost):
    """Mixed into LessonScreen, whose step, sessions, handle and display methods it uses.

    Every LiveLesson call runs in a thread worker and comes back as a message; the attempt is
    shown at once and written to the progress store by another worker (a database locked by
    another process must not freeze the screen), which reports back with a Recorded message.
    """

    def action_check(self) -> None:
        text = self.answer_text()
        session, step = self.session, self.step
        if self.finished:
            self._open_next_lesson()
            return
        settled = session.done or self.states.get(step.id) in SETTLED
        if settled and text.strip() in ("", session.answer.strip()):
            self.action_next_step()
            return
        session.answer = text
        if not text.strip():
            self._show_feedback(missing_view())
            return
        try:
            if step.kind != Kind.GRAPH:  # a graph is read when it is checked
                parse_answer(text, step.kind)
        except AnswerParseError as err:
            # no torch needed to say it cannot be read, and it is not an attempt
            self._show_feedback(unreadable_view(err))
            return
        if session.pending == text:
            return  # the same answer is already being checked
        session.pending = text
        seconds = round(time.monotonic() - session.since, 1)
        if not self.handle.ready:
            session.feedback = waiting_view("your answer is checked")
            self._show_feedback(session.feedback)
        self._check(step.id, text, seconds, self.earlier_answers())

    @work(thread=True, group="check", exit_on_error=False)
    def _check(self, step_id: str, text: str, seconds: float, earlier: dict[str, str]) -> None:
        try:
            verdict = self.handle.call(lambda live: checker(live).check(step_id, text, earlier=earlier))
        except LiveCancelled:
            return  # the learner left; nobody is waiting for this verdict
        except Exception as error:  # noqa: BLE001 - a lesson's failing math is shown, never a crash
            self.post_message(StepFailed(step_id, str(error) or type(error).__name__))
        else:
            if verdict.counts_as_attempt:
                self.record_attempt_now(step_id, text, verdict, seconds)
            self.post_message(Checked(step_id, text, verdict, seconds))

    def record_attempt_now(self, step_id: str, text: str, verdict, seconds: float | None) -> None:
        """In the checking worker, before the verdict is posted: the attempt is in the journal, on
        disk, before the learner can see its verdict (saving it to the stores follows in the store's
        own threads), so no signal, dropped connection or kill loses an answer that was shown."""
        lesson, step = self.lesson, self.lesson.step(step_id)
        try:
            self.tutor_app.store.record_attempt(
                lesson.id, step.id, text, verdict.status, verdict.message,
                topic=lesson.topic, step_kind=step.kind, mistake=verdict.mistake,
                skills=skills_for(lesson, step), seconds=seconds, drill_seed=self.tutor_app.drill_seed, wait=0)
        except Exception as error:  # noqa: BLE001 - shown as a warning; the lesson goes on
            self.post_message(Recorded(None, f"Progress could not be saved: {error or type(error).__name__}"))

    def on_checked(self, message: Checked) -> None:
        step = self.lesson.step(message.step_id)
        session = self.sessions[step.id]
        session.pending = None
        verdict = message.verdict
        if verdict.counts_as_attempt:
            self.save_progress(lambda store: None)  # recorded already (see record_attempt_now): read the states back
            self.states = {**self.states, **_after_attempt(self.states.get(step.id), step.id,
                                                            verdict.status)}
            session.since = time.monotonic()
            self.draft_checked(step.id, message.text)
        last = step is self.lesson.steps[-1]
        session.feedback = verdict_view(verdict, message.text, step.kind, self.handle.text(step.explain), last)
        session.done = verdict.status == Status.CORRECT
        self._after_result(step.id)
        if session.done and step.id == self.step.id:
            self.settle_answer_box()

    def on_step_failed(self, message: StepFailed) -> None:
        session = self.sessions[message.step_id]
        session.pending = None
        session.feedback = error_view(message.error)
        self._after_result(message.step_id)

    def _after_result(self, step_id: str) -> None:
        if step_id == self.step.id:
            self._show_feedback(self.sessions[step_id].feedback)
        self._show_steps()

    # ---- hints, reveal ---------------------------------------------------------------

    def action_hint(self) -> None:
        session, hints = self.session, self.step.hints
        if not hints:
            self.notify("This step has no hints. F3 reveals the answer.")
            return
        if session.hints_shown >= len(hints):
            self.notify("That was the last hint. F3 reveals the answer.")
            return
        session.hints_shown += 1
        self._show_hints()

    def action_reveal(self) -> None:

        step_id = self.step.id
        if self.states.get(step_id) in SETTLED:
            self._reveal(step_id, record=False)  # nothing left to give away
            return
        question = (f"Reveal the answer to step {self.index + 1} ({step_id})?\n"
                    "It will be recorded as revealed, not solved.")
        self.app.push_screen(ConfirmScreen(question, yes="Reveal", no="Keep trying"),
                             lambda ok: self._reveal(step_id, record=True) if ok else None)

    def _reveal(self, step_id: str, record: bool) -> None:
        if not self.handle.ready:
            self._show_feedback(waiting_view("the answer is shown"))
        self._fetch_expected(step_id, record)

    @work(thread=True, group="check", exit_on_error=False)
    def _fetch_expected(self, step_id: str, record: bool) -> None:
        try:
            expected = self.handle.call(lambda live: live.expected(step_id))
        except LiveCancelled:
            return
        except Exception as error:  # noqa: BLE001 - shown in the feedback area
            self.post_message(StepFailed(step_id, str(error) or type(error).__name__))
        else:
            self.post_message(Revealed(step_id, expected, record))

    def on_revealed(self, message: Revealed) -> None:
        step = self.lesson.step(message.step_id)
        if message.record:
            lesson, skills = self.lesson, skills_for(self.lesson, step)
            self.save_progress(lambda store: store.record_reveal(lesson.id, step.id, skills=skills))
            if self.states.get(step.id) != StepState.SOLVED:
                self.states = {**self.states, step.id: "revealed"}
        session = self.sessions[step.id]
        session.feedback = reveal_view(message.expected, self.handle.text(step.explain), step is self.lesson.steps[-1])
        session.done = True
        self._after_result(step.id)
        if step.id == self.step.id:
            self.settle_answer_box()


def _after_attempt(state: str | None, step_id: str, status: str) -> dict[str, str]:
    """The step's state as the store will have it once this attempt is written."""
    if state in SETTLED:
        return {}
    return {step_id: "solved" if status == Status.CORRECT else "attempted"}
