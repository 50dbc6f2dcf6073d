"""Finds lessons: the built-in curriculum plus folders from --lessons and TUTOR_LESSONS."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tutor.core.errors import LessonError, LessonErrors, TutorError
from tutor.core.lesson.load import NotALesson, load_lesson
from tutor.core.lesson.model import Lesson
from tutor.core.text.safe import clean, one_line, unexpected


def _builtin_dir() -> Path:
    """The curriculum: lessons/ beside the package in a checkout, tutor/lessons inside a wheel."""
    package = Path(__file__).resolve().parents[2]  # tutor/core/lesson/catalog.py -> tutor/
    checkout = package.parent / "lessons"
    if (package.parent / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return package / "lessons"


BUILTIN_DIR = _builtin_dir()
MAX_FILES = 2000
MAX_ENTRIES = 50_000  # folder entries looked at per folder: `--lessons /` ends quickly with a message


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
    not_a_lesson: bool = False  # TOML without [[steps]] (an answers file): folders of lessons skip it

    @property
    def title(self) -> str:
        return self.lesson.title if self.lesson else self.path.name

    @property
    def error(self) -> str | None:
        return one_line("; ".join(str(e) for e in self.errors), 4000) if self.errors else None


def toml_files(folder: Path) -> tuple[list[Path], str | None]:
    """The *.toml files under `folder` in name order (links to folders are not followed), and a
    problem if the folder could not be read whole or holds too many files."""
    found: list[Path] = []
    pending, seen, problem = [folder], 0, None
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as it:
                for entry in it:
                    seen += 1
                    if seen > MAX_ENTRIES:
                        return sorted(found)[:MAX_FILES], f"{folder}: stopped looking after {MAX_ENTRIES} entries"
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
                    elif entry.name.endswith(".toml"):
                        found.append(Path(entry.path))
        except OSError as err:
            problem = problem or f"{current}: cannot read folder: {err.strerror or err}"
    if len(found) > MAX_FILES:
        problem = f"{folder}: only the first {MAX_FILES} of {len(found)} lesson files are read"
    return sorted(found)[:MAX_FILES], problem


def lesson_dirs(extra: list[str] | tuple[str, ...] = ()) -> list[Path]:
    """Built-in lessons first, then --lessons folders, then TUTOR_LESSONS (':'-separated)."""
    dirs = [BUILTIN_DIR] + [Path(d) for d in extra]
    env = os.environ.get("TUTOR_LESSONS", "")
    dirs += [Path(d) for d in env.split(os.pathsep) if d.strip()]
    return dirs


def load_file(path: Path, topic_default: str | None = None) -> Entry:
    """One file as an entry; every failure, even one nobody foresaw, becomes the entry's errors."""
    not_a_lesson = False
    try:
        lesson = load_lesson(path, topic_default)
    except LessonErrors as errs:
        errors, not_a_lesson = tuple(errs.errors), isinstance(errs, NotALesson)
    except Exception as err:  # noqa: BLE001  one bad file must never hide the others
        errors = (LessonError(str(path), None, unexpected(err)),)
    else:
        return Entry(lesson.id, lesson.topic, path, lesson)
    # folder and file names come from whoever shared the folder: shown, so cleaned
    return Entry(one_line(path.stem, 200), one_line(topic_default or path.parent.name, 200), path, None,
                 errors, not_a_lesson)


def _claim_ids(loaded: list[Entry]) -> list[Entry]:
    """Valid lessons take their ids first, in folder order; a broken file never takes one from them."""
    seen: dict[str, Path] = {}
    entries: list[Entry] = []
    for entry in loaded:
        if entry.lesson is None:
            continue
        if entry.id in seen and seen[entry.id] != entry.path:
            dup = LessonError(str(entry.path), "id", f"{entry.id!r} is already used by {seen[entry.id]}")
            entry = Entry(entry.id, entry.topic, entry.path, None, (dup,))
        else:
            seen[entry.id] = entry.path
        entries.append(entry)
    return entries + [e for e in loaded if e.lesson is None]


class Catalog:
    """Every lesson found, sorted by topic, order and id; broken files are kept with their errors."""

    def __init__(self, entries: list[Entry], problems: list[str] | None = None,
                 skipped: list[Path] | None = None):
        self.entries = entries
        self.problems = problems or []  # folders that could not be read
        self.skipped = skipped or []    # TOML files without [[steps]]: answers files, notes, configs

    @classmethod
    def load(cls, extra_dirs: list[str] | tuple[str, ...] = ()) -> Catalog:
        loaded: list[Entry] = []
        problems: list[str] = []
        skipped: list[Path] = []
        for folder in lesson_dirs(extra_dirs):
            if not folder.is_dir():
                problems.append(clean(f"{folder}: not a folder of lessons"))
                continue
            files, problem = toml_files(folder)
            if problem:
                problems.append(clean(problem))
            for path in files:
                topic = path.parent.name if path.parent != folder else folder.name
                entry = load_file(path, one_line(topic, 200))
                if entry.not_a_lesson:
                    skipped.append(path)
                else:
                    loaded.append(entry)
        entries = _claim_ids(loaded)
        entries.sort(key=lambda e: (e.topic, e.lesson.order if e.lesson else 1e9, e.id))
        return cls(entries, problems, skipped)

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
        if path.suffix == ".toml" or path.exists():
            if not path.exists():
                raise UnknownLesson(clean(f"no lesson file at {ref}"))
            return load_file(path)
        known = ", ".join(e.id for e in self.entries[:8])
        raise UnknownLesson(clean(f"unknown lesson {ref!r}; `tutor lessons` lists them (e.g. {known})"))

    def lesson(self, ref: str) -> Lesson:
        """The loaded lesson for an id or path; raises UnknownLesson or LessonErrors."""
        entry = self.find(ref)
        if entry.lesson is None:
            raise LessonErrors(list(entry.errors))
        return entry.lesson
