"""The teacher's gradebook: every answer in the class database re-graded against the published lesson.

Nothing a student's side sent is taken as a verdict. Each distinct (lesson version, drill variant,
step, answer) is checked once by PyTorch, like any answer in the app, and the result is kept in
the database's `grades` table for the next report (when the reader may write it). What could not
be re-graded (a step the lesson does not have, a variant that does not draw, an answer beyond the
limits below) is counted and shown as unverified, never as solved.

The report stays bounded in time and memory whatever one student wrote: per student, lesson and
step only the first LESSON_ANSWERS answers are re-graded (and the first DRILL_ANSWERS of each of the
DRILL_VARIANTS most recent drill variants), and each report re-grades at most NEW_GRADES answers
not graded before (at most NEW_GRADES_PER_STUDENT of one student's) and draws at most NEW_VARIANTS
drill variants (NEW_VARIANTS_PER_STUDENT for one student); the rest are re-graded by the next
report, and counted as unverified until then.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tutor.core.drill.variants import variant
from tutor.core.errors import LessonErrors, TutorError
from tutor.core.lesson.load import load_lesson
from tutor.core.progress.postgres import STUDENT_ROLE, TEACHER_ROLE
from tutor.core.progress.review import memories_from_rows
from tutor.core.progress.skills import skills_for
from tutor.core.text.latex import plain_text
from tutor.core.text.safe import clean
from tutor.core.vocabulary import Status, StepState

LESSON_ANSWERS = 30
DRILL_ANSWERS = 3
DRILL_VARIANTS = 5
NEW_GRADES = 1500
NEW_GRADES_PER_STUDENT = 300
NEW_VARIANTS = 60          # drill variants drawn per report (each takes about as long as 30 checks)
NEW_VARIANTS_PER_STUDENT = 12
IDLE_SECONDS = 300         # a gap between two answers longer than this counts as this much time spent
LIVE_LESSONS_KEPT = 16     # evaluated lessons (with their variants) kept while re-grading
NO_SEED = -1


@dataclass(frozen=True)
class Published:
    lesson_id: str
    content_hash: str
    content: str
    title: str
    topic: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Grade:
    status: str | None          # a verdict status, or None if the answer could not be re-graded
    mistake: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class LessonLine:
    """One student in one lesson (drill variants counted with their lesson)."""

    student: str
    lesson_id: str
    title: str
    solved_steps: int
    total_steps: int
    answers: int
    revealed_steps: int
    reviews_due: int
    unverified: int                    # answers that could not be re-graded (yet)
    mistakes: tuple[tuple[str, int], ...]   # the named mistakes made most, with counts


@dataclass(frozen=True)
class StudentLine:
    student: str
    enrolled: bool
    lessons_started: int
    solved_steps: int
    answers: int
    seconds_spent: int
    last_active: datetime | None
    unverified: int


@dataclass(frozen=True)
class StepLine:
    """The class in one step of a lesson (lesson answers only, not drill variants)."""

    lesson_id: str
    step_id: str
    tried: int                  # students who answered it
    right_first_time: int       # students whose first answer was right
    mistake: str | None         # the named mistake most students made
    mistake_students: int


@dataclass
class Gradebook:
    students: list[StudentLine]
    lessons: list[LessonLine]
    steps: list[StepLine]
    published: list[Published]
    since: datetime | None
    whole_class: bool                  # False: the reader sees only their own rows
    regraded_now: int = 0
    waiting: int = 0                   # answers left for the next report to re-grade
    notes: list[str] = field(default_factory=list)


# ---- re-grading ------------------------------------------------------------------------------

class Regrader:
    """Checks answers against published lessons, as the app checks them (imports torch)."""

    def __init__(self, published: dict[str, Published]):
        self.published = published
        self._folder = tempfile.TemporaryDirectory(prefix="tutor-gradebook-")
        self._lessons: dict[str, object] = {}
        self._live: OrderedDict[tuple[str, int], object] = OrderedDict()

    def close(self) -> None:
        self._folder.cleanup()

    def lesson(self, lesson_id: str):
        if lesson_id not in self._lessons:
            found = self.published[lesson_id]
            path = Path(self._folder.name) / found.topic / f"{lesson_id}.toml"
            path.parent.mkdir(exist_ok=True)
            path.write_text(found.content, encoding="utf-8")
            self._lessons[lesson_id] = load_lesson(path, found.topic)
        return self._lessons[lesson_id]

    def _live_for(self, lesson_id: str, seed: int):
        from tutor.core.evaluate.live import LiveLesson  # lazy: torch, only when re-grading

        key = (lesson_id, seed)
        if key in self._live:
            self._live.move_to_end(key)
            return self._live[key]
        lesson = self.lesson(lesson_id)
        if seed != NO_SEED:
            if not lesson.drill:
                raise ValueError("an answer to a drill variant of a lesson that has no drills")
            lesson = variant([lesson], seed)
        live = LiveLesson(lesson)
        self._live[key] = live
        if len(self._live) > LIVE_LESSONS_KEPT:
            self._live.popitem(last=False)
        return live

    def grade(self, lesson_id: str, seed: int, step_id: str, answer: str) -> Grade:
        from tutor.core.check.step import checker_for  # lazy: torch, only when re-grading

        try:
            live = self._live_for(lesson_id, seed)
            verdict = checker_for(live).check(step_id, answer)
        except (TutorError, LessonErrors, ArithmeticError, ValueError, TypeError, IndexError, KeyError,
                RecursionError, MemoryError, RuntimeError) as error:
            reason = " ".join(str(error).split())[:200] or type(error).__name__
            return Grade(None, None, f"could not be re-graded: {reason}")
        mistake = clean(plain_text(verdict.mistake)) if verdict.mistake and not verdict.carried_from else None
        return Grade(verdict.status, mistake)

    def skills(self, lesson_id: str, step_id: str) -> tuple[str, ...]:
        try:
            lesson = self.lesson(lesson_id)
            return skills_for(lesson, lesson.step(step_id))
        except Exception:  # noqa: BLE001 - a step the lesson lacks exercises nothing
            return ()


# ---- reading the class -----------------------------------------------------------------------

def _who(conn) -> tuple[str, bool, bool]:
    """(login, reads the whole class, may keep re-grades)."""
    role, teacher, owner, keeps = conn.execute(
        "SELECT current_user,"
        " COALESCE((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = %s), false),"
        " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
        "   OR pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'attempts'::regclass), 'MEMBER'),"
        " has_table_privilege('grades', 'SELECT') AND has_table_privilege('grades', 'INSERT')",
        (TEACHER_ROLE,)).fetchone()
    return role, bool(teacher or owner), bool(keeps)


def enrolled(conn) -> list[str]:
    rows = conn.execute(
        "SELECT r.rolname FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid"
        " JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = %s AND r.rolcanlogin ORDER BY 1",
        (STUDENT_ROLE,)).fetchall()
    return [name for (name,) in rows]


def published_lessons(conn) -> list[Published]:
    rows = conn.execute("SELECT lesson_id, content_hash, content, title, topic, steps FROM lessons"
                        " ORDER BY topic, lesson_id").fetchall()
    return [Published(l, h, c, t, tp, tuple(s or ())) for l, h, c, t, tp, s in rows]


SELECTED = """
WITH a AS (
    SELECT a.id, a.student, a.lesson_id, COALESCE(a.drill_seed, -1) AS seed, a.step_id, a.at,
           md5(a.answer) AS digest
    FROM attempts a JOIN lessons l USING (lesson_id)
    WHERE a.at >= %(since)s AND a.step_id = ANY (l.steps)),
n AS (
    SELECT a.*, row_number() OVER (PARTITION BY student, lesson_id, seed, step_id ORDER BY at, id) AS nth,
           max(at) OVER (PARTITION BY student, lesson_id, seed) AS seed_last
    FROM a),
r AS (
    SELECT n.*, dense_rank() OVER (PARTITION BY student, lesson_id, seed < 0 ORDER BY seed_last DESC, seed) AS recent
    FROM n WHERE nth <= GREATEST(%(lesson_answers)s, %(drill_answers)s))
SELECT id, student, lesson_id, seed, step_id, at, digest, nth FROM r
WHERE (seed < 0 AND nth <= %(lesson_answers)s)
   OR (seed >= 0 AND recent <= %(drill_variants)s AND nth <= %(drill_answers)s)
ORDER BY at, id
"""


def gradebook(conn, since: datetime | None = None, now: datetime | None = None,
              regrader: Regrader | None = None) -> Gradebook:
    """Reads the class (what this role may read) and re-grades it; `conn` is autocommit."""
    now = now or datetime.now(UTC)
    start = since or datetime(1970, 1, 2, tzinfo=UTC)
    role, whole_class, keeps = _who(conn)
    published = published_lessons(conn)
    by_id = {p.lesson_id: p for p in published}
    names = enrolled(conn) if whole_class else [role]
    params = {"since": start, "lesson_answers": LESSON_ANSWERS, "drill_answers": DRILL_ANSWERS,
              "drill_variants": DRILL_VARIANTS}

    answers: Counter[tuple[str, str]] = Counter()   # (student, lesson) -> every answer, drills included
    for student, lesson, n in conn.execute(
            "SELECT student, lesson_id, count(*) FROM attempts WHERE at >= %s GROUP BY 1, 2", (start,)):
        answers[(student, lesson)] = n
    last_active: dict[str, datetime] = {}
    for table in ("attempts", "reveals"):
        for student, last in conn.execute(f"SELECT student, max(at) FROM {table} WHERE at >= %s GROUP BY 1",
                                          (start,)):
            if last is not None and (student not in last_active or last > last_active[student]):
                last_active[student] = last
    spent = {student: int(seconds or 0) for student, seconds in conn.execute(
        "SELECT student, extract(epoch FROM sum(LEAST(gap, make_interval(secs => %s))))"
        " FROM (SELECT student, at - lag(at) OVER (PARTITION BY student, session_id ORDER BY at) AS gap"
        "       FROM attempts WHERE at >= %s) s WHERE gap IS NOT NULL GROUP BY 1", (IDLE_SECONDS, start))}
    reveals = conn.execute(
        "SELECT r.student, r.lesson_id, r.step_id, COALESCE(r.drill_seed, -1), min(r.at)"
        " FROM reveals r JOIN lessons l USING (lesson_id) WHERE r.at >= %s AND r.step_id = ANY (l.steps)"
        " GROUP BY 1, 2, 3, 4", (start,)).fetchall()
    selected = conn.execute(SELECTED, params).fetchall()

    hashes = {p.lesson_id: p.content_hash for p in published}
    known: dict[tuple, Grade] = {}
    if hashes and keeps:
        for lesson_hash, seed, step, digest, status, mistake, error in conn.execute(
                "SELECT lesson_hash, seed, step_id, answer_md5, status, mistake, error FROM grades"
                " WHERE lesson_hash = ANY (%s)", (list(set(hashes.values())),)):
            known[(lesson_hash, seed, step, digest)] = Grade(status, mistake, error)

    def key_of(lesson: str, seed: int, step: str, digest: str) -> tuple:
        return (hashes[lesson], seed, step, digest)

    # what to re-grade now: the first answers of each student first, within the limits
    wanted: dict[tuple, int] = {}     # grade key -> an attempt id holding that answer
    per_student: Counter[str] = Counter()
    variants_of: dict[str, set[tuple]] = defaultdict(set)
    variants: set[tuple] = set()
    waiting = set()
    for attempt_id, student, lesson, seed, step, _, digest, _ in selected:
        key = key_of(lesson, seed, step, digest)
        if key in known or key in wanted:
            continue
        variant = (lesson, seed)
        new_variant = seed != NO_SEED and variant not in variants
        if (len(wanted) >= NEW_GRADES or per_student[student] >= NEW_GRADES_PER_STUDENT
                or new_variant and (len(variants) >= NEW_VARIANTS
                                    or len(variants_of[student]) >= NEW_VARIANTS_PER_STUDENT)):
            waiting.add(key)
            continue
        wanted[key] = attempt_id
        per_student[student] += 1
        if new_variant:
            variants.add(variant)
            variants_of[student].add(variant)

    regraded = 0
    own_regrader = regrader is None
    if regrader is None:
        regrader = Regrader(by_id)
    try:
        if wanted:
            texts = dict(conn.execute("SELECT id, answer FROM attempts WHERE id = ANY (%s)",
                                      (list(wanted.values()),)).fetchall())
            fresh = []
            for key, attempt_id in wanted.items():
                lesson = next(l for l, h in hashes.items() if h == key[0])
                grade = regrader.grade(lesson, key[1], key[2], texts.get(attempt_id, ""))
                known[key] = grade
                fresh.append((*key, grade.status, grade.mistake, grade.error))
                regraded += 1
            if keeps and fresh:
                with contextlib.suppress(Exception), conn.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO grades (lesson_hash, seed, step_id, answer_md5, status, mistake, error)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING", fresh)
        skills = regrader.skills

        book = _tally(names, published, answers, last_active, spent, reveals, selected, known, key_of,
                      skills, now)
    finally:
        if own_regrader:
            regrader.close()
    book.since, book.whole_class = since, whole_class
    book.regraded_now, book.waiting = regraded, len(waiting)
    if book.waiting:
        book.notes.append(f"{book.waiting} answers are not re-graded yet (at most {NEW_GRADES} per report,"
                          f" {NEW_GRADES_PER_STUDENT} of one student's): run the report again to go on.")
    if not whole_class:
        book.notes.append(f"You see only your own answers ({role} is not a teacher of this class).")
    return book


def _tally(names, published, answers, last_active, spent, reveals, selected, known, key_of, skills, now):
    by_id = {p.lesson_id: p for p in published}
    first_reveal: dict[tuple, datetime] = {}
    revealed_steps: Counter[tuple[str, str]] = Counter()
    skill_rows: dict[str, list] = defaultdict(list)
    for student, lesson, step, seed, at in reveals:
        if seed == NO_SEED:
            first_reveal[(student, lesson, step)] = at
            revealed_steps[(student, lesson)] += 1
        step_skills = skills(lesson, step)
        if step_skills:
            skill_rows[student].append((at, StepState.REVEALED, " ".join(step_skills), None))

    first_right: dict[tuple, datetime] = {}
    checked: Counter[tuple[str, str]] = Counter()
    mistakes: dict[tuple, Counter] = defaultdict(Counter)
    lesson_skills: dict[tuple, set] = defaultdict(set)
    step_first: dict[tuple, dict[str, bool]] = defaultdict(dict)     # (lesson, step) -> student -> right 1st
    step_mistakes: dict[tuple, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for _, student, lesson, seed, step, at, digest, nth in selected:
        grade = known.get(key_of(lesson, seed, step, digest))
        if grade is None or grade.status is None:
            continue
        checked[(student, lesson)] += 1
        step_skills = skills(lesson, step)
        lesson_skills[(student, lesson)] |= set(step_skills)
        if step_skills:
            skill_rows[student].append((at, grade.status, " ".join(step_skills), grade.mistake))
        if grade.mistake:
            mistakes[(student, lesson)][grade.mistake] += 1
        if seed != NO_SEED:
            continue
        if nth == 1:
            step_first[(lesson, step)][student] = grade.status == Status.CORRECT
        if grade.mistake:
            step_mistakes[(lesson, step)][grade.mistake].add(student)
        if grade.status == Status.CORRECT:
            first_right.setdefault((student, lesson, step), at)

    solved: Counter[tuple[str, str]] = Counter()
    for (student, lesson, step), at in first_right.items():
        revealed = first_reveal.get((student, lesson, step))
        if revealed is None or at < revealed:
            solved[(student, lesson)] += 1
    due = {student: {m.skill for m in memories_from_rows(rows, now) if m.is_due(now)}
           for student, rows in skill_rows.items()}

    lines = []
    for student, lesson in sorted(answers.keys() | revealed_steps.keys()):
        found = by_id.get(lesson)
        lines.append(LessonLine(
            student, lesson, found.title if found else lesson, solved[(student, lesson)],
            len(found.steps) if found else 0, answers[(student, lesson)], revealed_steps[(student, lesson)],
            len(lesson_skills[(student, lesson)] & due.get(student, set())),
            max(0, answers[(student, lesson)] - checked[(student, lesson)]),
            tuple(mistakes[(student, lesson)].most_common(2))))

    students = []
    seen = {line.student for line in lines} | set(last_active)
    for student in sorted(set(names) | seen):
        mine = [line for line in lines if line.student == student]
        students.append(StudentLine(
            student, student in names, len(mine), sum(line.solved_steps for line in mine),
            sum(line.answers for line in mine), spent.get(student, 0), last_active.get(student),
            sum(line.unverified for line in mine)))

    steps = []
    for p in published:
        for step in p.steps:
            firsts = step_first.get((p.lesson_id, step), {})
            made = step_mistakes.get((p.lesson_id, step), {})
            common = max(made.items(), key=lambda kv: (len(kv[1]), kv[0]), default=None)
            steps.append(StepLine(p.lesson_id, step, len(firsts), sum(firsts.values()),
                                  common[0] if common else None, len(common[1]) if common else 0))
    return Gradebook(students, lines, steps, published, None, True)
