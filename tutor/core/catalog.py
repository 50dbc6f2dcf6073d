"""Finds lessons: the built-in curriculum plus folders from --lessons and TUTOR_LESSONS."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tutor.core.errors import LessonError, LessonErrors, TutorError
from tutor.core.lesson import Lesson, load_lesson

def _builtin_dir() -> Path:
    """The curriculum: lessons/ beside the package in a checkout, tutor/lessons inside a wheel."""
    package = Path(__file__).resolve().parent.parent
    checkout = package.parent / "lessons"
    if (package.parent / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return package / "lessons"


BUILTIN_DIR = _builtin_dir()
MAX_FILES = 2000


class UnknownLesson(TutorError):
    """No lesson has that id, and it is not a path to a lesson file."""


@dataclass(frozen=True)
class Entry:
    """One lesson file: the lesson if it loaded, else every reason it did not."""

    id: str
    topic: str
    path: Path
    lesson: Lesson | None
    errors: tuple[LessonError, ...] = ()

    @property
    def title(self) -> str:
        return self.lesson.title if self.lesson else self.path.name

    @property
    def error(self) -> str | None:
        return "; ".join(str(e) for e in self.errors) if self.errors else None


def lesson_dirs(extra: list[str] | tuple[str, ...] = ()) -> list[Path]:
    """Built-in lessons first, then --lessons folders, then TUTOR_LESSONS (':'-separated)."""
    dirs = [BUILTIN_DIR] + [Path(d) for d in extra]
    env = os.environ.get("TUTOR_LESSONS", "")
    dirs += [Path(d) for d in env.split(os.pathsep) if d.strip()]
    return dirs


def load_file(path: Path, topic_default: str | None = None) -> Entry:
    try:
        lesson = load_lesson(path, topic_default)
    except LessonErrors as errs:
        return Entry(path.stem, topic_default or path.parent.name, path, None, tuple(errs.errors))
    return Entry(lesson.id, lesson.topic, path, lesson)


class Catalog:
    """Every lesson found, sorted by topic, order and id; broken files are kept with their errors."""

    def __init__(self, entries: list[Entry], problems: list[str] | None = None):
        self.entries = entries
        self.problems = problems or []  # folders that could not be read

    @classmethod
    def load(cls, extra_dirs: list[str] | tuple[str, ...] = ()) -> "Catalog":
        entries: list[Entry] = []
        problems: list[str] = []
        seen: dict[str, Path] = {}
        for folder in lesson_dirs(extra_dirs):
            if not folder.is_dir():
                problems.append(f"{folder}: not a folder of lessons")
                continue
            files = sorted(folder.rglob("*.toml"))[:MAX_FILES]
            for path in files:
                topic = path.parent.name if path.parent != folder else folder.name
                entry = load_file(path, topic)
                if entry.id in seen and seen[entry.id] != path:
                    dup = LessonError(str(path), "id", f"{entry.id!r} is already used by {seen[entry.id]}")
                    entry = Entry(entry.id, entry.topic, path, None, (dup,))
                else:
                    seen[entry.id] = path
                entries.append(entry)
        entries.sort(key=lambda e: (e.topic, e.lesson.order if e.lesson else 1e9, e.id))
        return cls(entries, problems)

    def topics(self) -> list[str]:
        out: list[str] = []
        for e in self.entries:
            if e.topic not in out:
                out.append(e.topic)
        return out

    def in_topic(self, topic: str) -> list[Entry]:
        return [e for e in self.entries if e.topic == topic]

    def find(self, ref: str) -> Entry:
        """By id, else as a path to a lesson file; raises UnknownLesson."""
        for e in self.entries:
            if e.id == ref and e.lesson is not None:
                return e
        for e in self.entries:
            if e.id == ref:
                return e
        path = Path(ref)
        if path.suffix == ".toml" or path.is_file():
            if not path.is_file():
                raise UnknownLesson(f"no lesson file at {ref}")
            return load_file(path)
        known = ", ".join(e.id for e in self.entries[:8])
        raise UnknownLesson(f"unknown lesson {ref!r}; `tutor lessons` lists them (e.g. {known})")

    def lesson(self, ref: str) -> Lesson:
        """The loaded lesson for an id or path; raises UnknownLesson or LessonErrors."""
        entry = self.find(ref)
        if entry.lesson is None:
            raise LessonErrors(list(entry.errors))
        return entry.lesson
