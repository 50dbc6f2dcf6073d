"""The lesson screen's graph-step hooks: a multi-line answer box for `graph(NAME)` steps, and the
learner's own earlier answers that checks (errors carried forward) and the graph view need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import TextArea

from tutor.app.widgets.answer_box import AnswerInput, AnswerPreview
from tutor.app.widgets.graph_answer_box import HOW, SETTLED_HOW, GraphAnswerBox
from tutor.core.vocabulary import SETTLED, Kind, Status

if TYPE_CHECKING:
    from tutor.app.screens.lesson_host import LessonHost
else:
    LessonHost = object  # a plain mixin at run time; typed as the lesson screen it is mixed into


class GraphStepHooks(LessonHost):
    """Mixed into LessonScreen, whose step, sessions, lesson and app it uses."""

    def answer_text(self) -> str:
        """What the learner has typed for the current step, in whichever box it uses."""
        if self.step.kind == Kind.GRAPH:
            return self.query_one(GraphAnswerBox).text
        return self.query_one(AnswerInput).value

    def show_answer_box(self) -> None:
        """The one-line Input for values and shapes, the multi-line box for a graph step; focused."""
        step, session = self.step, self.session
        is_graph = step.kind == Kind.GRAPH
        self.query_one("#answer-row").display = not is_graph
        box = self.query_one(GraphAnswerBox)
        box.display = is_graph
        if not is_graph:
            return
        settled_before = self.states.get(step.id) in SETTLED and not session.answer
        if settled_before and session.draft is None:
            # the learner's own graph for it, so Enter moves on rather than checking another
            session.answer = self.earlier_answers().get(step.id, "") or self._earlier_graph()
        text = session.draft if session.draft is not None else (session.answer or self._earlier_graph())
        if box.text != text:
            box.load_text(text)
        box.move_cursor(box.document.end)
        box.focus()
        # a graph checked right, or settled before: Enter moves on until the graph is edited
        box.settle(session.draft is None and (session.done or settled_before
                                              or self.states.get(step.id) in SETTLED))
        self.show_graph_help()

    def show_graph_help(self) -> None:
        """The line under the graph box: the keys that work there now."""
        box = self.query_one(GraphAnswerBox)
        self.query_one(AnswerPreview).say(*(SETTLED_HOW if box.settled else HOW))

    def _earlier_graph(self) -> str:
        """A later graph step ("add the loss") starts from the learner's own graph of an earlier one."""
        answers = self.earlier_answers()
        for step in reversed(self.lesson.steps[: self.index]):
            if step.kind == Kind.GRAPH and answers.get(step.id, "").strip():
                return answers[step.id].rstrip("\n") + "\n"
        return ""

    def earlier_answers(self) -> dict[str, str]:
        """The learner's latest typed answer to each step: from earlier visits, then this one."""
        answers = {a.step_id: a.answer for a in self.tutor_app.store.attempts()
                   if a.lesson_id == self.lesson.id and a.verdict != Status.WRONG_SHAPE}
        answers.update({sid: s.answer for sid, s in self.sessions.items() if s.answer.strip()})
        return answers

    def on_graph_answer_box_submitted(self, event: GraphAnswerBox.Submitted) -> None:
        event.stop()
        self.action_check()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self.step.kind == Kind.GRAPH and isinstance(event.text_area, GraphAnswerBox):
            if event.text_area.edited():
                self.keep_draft(event.text_area.text)
            self.show_graph_help()

    def settle_graph_box(self) -> None:
        """After ✓ or a reveal on a graph step: Enter moves on instead of adding a line."""
        if self.step.kind == Kind.GRAPH:
            self.query_one(GraphAnswerBox).settle()
            self.show_graph_help()
