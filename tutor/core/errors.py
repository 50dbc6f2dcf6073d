"""Errors the tutor reports to people: each carries a message meant to be read, never a traceback."""

from __future__ import annotations


class TutorError(Exception):
    """Base of every error the tutor shows to a user as one clear line."""


class ExprError(TutorError):
    """An expression that is not in the language, or that would do too much work."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.column = column  # 0-based offset into the expression text, when known

    def __str__(self) -> str:
        if self.column is None:
            return self.message
        return f"{self.message} (at column {self.column + 1})"


class LimitExceeded(ExprError):
    """Work refused for its size alone (a tensor, an operation or an evaluation over a limit), not for a mistake."""


class AnswerParseError(TutorError):
    """A learner's answer that could not be read; says where and why."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.position = position  # 0-based offset into the typed text

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (at character {self.position + 1})"


class LessonError(TutorError):
    """A lesson that cannot be used: names the file, the place in it, and the reason."""

    def __init__(self, file: str, where: str | None, reason: str):
        super().__init__(reason)
        self.file = file
        self.where = where  # "step 'dy_dw'", "graph line 2", "[given] x", ... or None
        self.reason = reason

    def __str__(self) -> str:
        place = f"{self.where}: " if self.where else ""
        return f"{self.file}: {place}{self.reason}"


class LessonErrors(TutorError):
    """Every problem found in one lesson file, so a teacher can fix them all in one pass."""

    def __init__(self, errors: list[LessonError], over_limit: bool = False):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors
        self.over_limit = over_limit  # refused for its size alone: its shapes may still be known
