"""The progress store's public names, for callers that import `tutor.core.progress`."""

from tutor.core.progress_report import (
    Attempt,
    LessonProgress,
    Mastery,
    Missed,
    format_progress,
)
from tutor.core.progress_store import ProgressStore, default_path

__all__ = [
    "Attempt",
    "LessonProgress",
    "Mastery",
    "Missed",
    "ProgressStore",
    "default_path",
    "format_progress",
]
