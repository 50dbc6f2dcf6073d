"""The lesson screen's graph-step hooks: a multi-line answer box for `graph(NAME)` steps, and the
learner's own earlier answers that checks (errors carried forward) and the graph view need."""

from __future__ import annotations

from tutor.app.widgets.answer_box import AnswerInput, AnswerPreview
from tutor.app.widgets.graph_answer_box import HOW, GraphAnswerBox
from tutor.core.vocabulary import Kind, Status


class GraphStepHooks:
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
        text = session.answer or self._earlier_graph()
        if box.text != text:
            box.load_text(text)
        box.move_cursor(box.document.end)
        box.focus()
        self.query_one(AnswerPreview).update(HOW)

    def _earlier_graph(self) -> str:
        """A later graph step ("add the loss") starts from the learner's own graph of an earlier one."""
        answers = self.earlier_answers()
        for step in reversed(self.lesson.steps[: self.index]):
            if step.kind == Kind.GRAPH and answers.get(step.id, "").strip():
                return answers[step.id].rstrip("\n") + "\n"
        return ""

    def earlier_answers(self) -> dict[str, str]:
        """The learner's latest typed answer to each step: from earlier visits, then this one."""
        answers = {a.step_id: a.answer for a in self.app.store.attempts()
                   if a.lesson_id == self.lesson.id and a.verdict != Status.WRONG_SHAPE}
        answers.update({sid: s.answer for sid, s in self.sessions.items() if s.answer.strip()})
        return answers

    def on_graph_answer_box_submitted(self, event: GraphAnswerBox.Submitted) -> None:
        event.stop()
        self.action_check()
