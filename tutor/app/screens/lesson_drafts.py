"""The lesson screen's drafts: what is typed in a step's box and not checked yet is kept for that step,
across other steps, other views, going back, quitting and a killed terminal (tutor.core.progress.drafts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutor.app.screens.lesson_host import LessonHost
    from tutor.core.progress.drafts import Drafts
else:
    LessonHost = object  # a plain mixin at run time; typed as the lesson screen it is mixed into


class DraftHooks(LessonHost):
    """Mixed into LessonScreen, whose lesson, sessions, step and app it uses."""

    def drafts(self) -> Drafts | None:
        """The learner's drafts file, or None in a drill (a variant is never reopened)."""
        if self.tutor_app.drill_seed is not None:
            return None
        return self.tutor_app.drafts

    def restore_drafts(self) -> None:
        drafts = self.drafts()
        if drafts is None:
            return
        for step_id, text in drafts.lesson(self.lesson.id).items():
            if step_id in self.sessions:
                self.sessions[step_id].draft = text

    def keep_draft(self, text: str, step_id: str | None = None) -> None:
        """The box of the step now shown holds `text`: a draft, unless it is what was last checked."""
        step_id = step_id or self.step.id
        session = self.sessions[step_id]
        draft = text if text.strip() and text != session.checked else None
        if draft == session.draft:
            return
        session.draft = draft
        drafts = self.drafts()
        if drafts is not None:
            drafts.put(self.lesson.id, step_id, draft or "")

    def draft_checked(self, step_id: str, text: str) -> None:
        """`text` was checked as an attempt: it is an answer now, not a draft."""
        session = self.sessions[step_id]
        session.checked = text
        if session.draft is not None and session.draft.strip() == text.strip():
            session.draft = None
            drafts = self.drafts()
            if drafts is not None:
                drafts.drop(self.lesson.id, step_id)
