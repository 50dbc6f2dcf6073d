"""A class's PostgreSQL database, as a student's session sees it: a place to send answers to.

A student's own views (the lesson list, `tutor progress`, reviews) come from their own SQLite
file; the class database gets each answer as well, for the teacher's gradebook. A student may
only add answers there: the lesson, step, drill variant, the answer as typed, the session and
the write id. The server stamps the time and the student's login, and the gradebook re-grades
every answer itself, so nothing a student's side claims is taken on trust.

The link holds no connection while there is nothing to send: it connects, sends what waits,
and disconnects, so a class of 150 fits a server's default 100 connections.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import unquote

import psycopg

CONNECT_SECONDS = 3
STUDENT_ROLE, TEACHER_ROLE = "tutor_student", "tutor_teacher"
SCHEMA_VERSION = 2
CLASS_KINDS = ("attempts", "reveals")
# What a student's session sends; every other column is the server's.
SENT_COLUMNS = {
    "attempts": ("lesson_id", "step_id", "drill_seed", "answer", "session_id", "write_id"),
    "reveals": ("lesson_id", "step_id", "drill_seed", "session_id", "write_id"),
}
OUTAGE_RETRY = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
SETUP_RETRY = (30.0, 60.0, 120.0, 300.0)
BUSY_RETRY = (0.2, 0.5, 1.0, 2.0, 3.0)
BUSY_QUIET_SECONDS = 60.0   # a full server is waited out silently this long before the learner hears of it
DRILL_ID = re.compile(r"^(?P<lesson>.+)-drill-(?P<seed>\d+)$")

# ---- passwords never printed -------------------------------------------------------------

_URI_USERINFO = re.compile(r"(?i)(postgres(?:ql)?://[^:/?#@\s]*):[^\s]*@")
_PARAM = re.compile(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'?|\"[^\"]*\"?|[^\s&'\"]+)")


def _secrets(url: str) -> set[str]:
    """The password in a connection string, as written and decoded, for blanking it anywhere."""
    found = set()
    match = re.search(r"(?i)postgres(?:ql)?://[^:/?#@\s]*:([^\s]*)@", url)
    if match:
        found.add(match.group(1))
    for match in _PARAM.finditer(url):
        found.add(match.group(2).strip("'\""))
    decoded = {unquote(s) for s in found} | {s.replace("\\'", "'") for s in found}
    return {s for s in found | decoded if len(s) >= 4}


def redact(text: str, url: str | None = None) -> str:
    """`text` with every password blanked: in a URL (`user:pass@`, even with an @ in it, and
    `?password=`), in a key-value string (`password=...`, quoted or not), and wherever the
    password of `url` appears, as libpq quotes parts of a connection string in its errors."""
    text = _URI_USERINFO.sub(r"\1:***@", text)
    text = _PARAM.sub(r"\1***", text)
    for secret in sorted(_secrets(url or ""), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def first_line(error: BaseException, url: str | None = None) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return redact(lines[0] if lines else type(error).__name__, url)


# ---- what went wrong, said so that the reader knows what to do ----------------------------

class Problem:
    """A reason answers cannot reach the class database just now."""

    OUTAGE, BUSY, SETUP, GONE = "outage", "busy", "setup", "gone"

    def __init__(self, kind: str, message: str):
        self.kind, self.message = kind, message

    def __repr__(self) -> str:
        return f"Problem({self.kind!r}, {self.message!r})"


def _quoted(text: str, pattern: str) -> str | None:
    match = re.search(pattern, text)
    return match.group(1) if match else None


def connect_problem(error: BaseException, url: str, login: str | None = None) -> Problem:
    """What a failed connection means for a student, and what to do about it."""
    text = str(error)
    where = redact(url, url)
    role = _quoted(text, r'role "([^"]+)" does not exist')
    if role:
        return Problem(Problem.SETUP, f"This class's database has no login {role}: ask your teacher to run"
                                      f" `tutor class init --student {role}`.")
    peer = _quoted(text, r'[Pp]eer authentication failed for user "([^"]+)"')
    if peer:
        return Problem(Problem.SETUP, f"The class database refused the login {peer}: with peer authentication the"
                                      f" database user must be your own login name{f' ({login})' if login else ''};"
                                      f" remove the user name from the database URL ({where}).")
    if "password authentication failed" in text:
        user = _quoted(text, r'for user "([^"]+)"') or "?"
        return Problem(Problem.SETUP, f"The class database refused the password for {user}: check the database URL"
                                      f" ({where}).")
    database = _quoted(text, r'database "([^"]+)" does not exist')
    if database:
        return Problem(Problem.SETUP, f"The class database server has no database {database}: check the database"
                                      f" URL ({where}).")
    if "no pg_hba.conf entry" in text:
        return Problem(Problem.SETUP, "The class database server does not let this login in (no pg_hba.conf"
                                      f" entry): ask whoever runs it. ({first_line(error, url)})")
    if ("too many clients" in text or "remaining connection slots" in text
            or "starting up" in text or "shutting down" in text):
        return Problem(Problem.BUSY, f"the class database is busy: {first_line(error, url)}")
    if isinstance(error, psycopg.ProgrammingError) or "invalid" in text and "connection option" in text:
        return Problem(Problem.SETUP, f"The class database URL cannot be used: {first_line(error, url)}"
                                      " (check TUTOR_DATABASE_URL or --database).")
    said = first_line(error, url)
    for prefix in ("connection is bad: ", "connection failed: "):
        said = said.removeprefix(prefix)
    return Problem(Problem.OUTAGE, f"cannot reach the class database: {said}")


def class_ids(lesson_id: str, drill_seed: int | None) -> tuple[str, int | None]:
    """A drill variant's answers go to its lesson, with the variant's seed."""
    match = DRILL_ID.match(lesson_id)
    if match:
        return match.group("lesson"), int(match.group("seed")) if drill_seed is None else drill_seed
    return lesson_id, drill_seed


class ClassLink:
    """Sends answers and reveals to the class database from a thread of its own.

    `settled(key, refusal)` is called once per change: refusal None when the class has it,
    else why the class will never take it (the learner's own file still has it). `problem(p)`
    is called when sending starts failing (p) and when it works again (None).
    """

    def __init__(self, url: str, settled: Callable[[str, str | None], None],
                 problem: Callable[[Problem | None], None], login: str | None = None):
        self.url = url
        self.where = redact(url, url)
        self.login = login
        self._settled = settled
        self._report = problem
        self._queue: deque[tuple[str, str, dict]] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._stop_by = 0.0
        self._probed = False
        self.problem: Problem | None = None
        self.role: str | None = None
        self.connections = 0          # opened so far (for tests and measurements)
        self._thread = threading.Thread(target=self._loop, name="class-link", daemon=True)
        self._thread.start()

    # ---- the session's side -------------------------------------------------------------

    def send(self, key: str, kind: str, values: dict) -> None:
        lesson_id, seed = class_ids(values["lesson_id"], values.get("drill_seed"))
        row = {"lesson_id": lesson_id, "drill_seed": seed, **{
            column: values.get(column) for column in SENT_COLUMNS[kind] if column not in ("lesson_id", "drill_seed")}}
        row.setdefault("session_id", values.get("session_id"))
        with self._cond:
            self._queue.append((key, kind, row))
            self._cond.notify_all()

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def stop(self, wait: float) -> None:
        with self._cond:
            self._stopping = True
            self._stop_by = time.monotonic() + wait
            self._cond.notify_all()
        self._thread.join(wait + 0.5)

    def probe(self, timeout: float = CONNECT_SECONDS) -> Problem | None:
        """Connects once and says what stands in the way of saving answers, if anything."""
        try:
            with self._connect(timeout) as conn:
                return self._check(conn)
        except psycopg.Error as error:
            return connect_problem(error, self.url, self.login)

    def check_now(self, timeout: float = CONNECT_SECONDS) -> Problem | None:
        """probe(), and what it found becomes the link's problem (shown as the store's warning)."""
        found = self.probe(timeout)
        if found is None or found.kind != Problem.BUSY:
            self._set_problem(found)
        return found

    # ---- the thread ---------------------------------------------------------------------

    def _connect(self, timeout: float = CONNECT_SECONDS) -> psycopg.Connection:
        self.connections += 1
        return psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(timeout)))

    def _check(self, conn: psycopg.Connection) -> Problem | None:
        found = conn.execute(
            "SELECT current_user,"
            " COALESCE((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = %s), false),"
            " COALESCE((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = %s), false),"
            " to_regclass('tutor_schema') IS NOT NULL", (STUDENT_ROLE, TEACHER_ROLE)).fetchone()
        role, student, teacher, version = found if found is not None else (None, False, False, False)
        self.role = role
        if version:
            row = conn.execute("SELECT max(version) FROM tutor_schema").fetchone()
            version = row[0] if row is not None else None
        if version != SCHEMA_VERSION:
            return Problem(Problem.SETUP, f"The class database {self.where} is not set up for this version of"
                                          " tutor: ask your teacher to run `tutor class init`.")
        if teacher and not student:
            return Problem(Problem.GONE, f"You are a teacher of this class (login {role}): your own answers are"
                                         " kept on this machine only.")
        if not student:
            return Problem(Problem.SETUP, f"The login {role} is not a student of this class: ask your teacher to"
                                          f" run `tutor class init --student {role}`.")
        return None

    def _loop(self) -> None:
        failures, busy_since = 0, None
        while True:
            with self._cond:
                while not self._queue and not self._stopping and self._probed:
                    self._cond.wait()
                if self._stopping and (not self._queue or time.monotonic() >= self._stop_by):
                    return
            try:
                self._send_waiting()
            except _Retry as retry:
                problem = retry.problem
                failures += 1
                if problem.kind == Problem.BUSY:
                    busy_since = busy_since or time.monotonic()
                    quiet = time.monotonic() - busy_since < BUSY_QUIET_SECONDS
                    if not quiet:
                        self._set_problem(problem)
                    pause = BUSY_RETRY[min(failures, len(BUSY_RETRY)) - 1] * random.uniform(0.5, 1.5)
                else:
                    busy_since = None
                    self._set_problem(problem)
                    table = SETUP_RETRY if problem.kind == Problem.SETUP else OUTAGE_RETRY
                    pause = table[min(failures, len(table)) - 1]
                with self._cond:
                    if self._stopping:
                        pause = min(pause, max(0.0, self._stop_by - time.monotonic()))
                    if pause > 0:
                        self._cond.wait(pause)
                continue
            failures, busy_since = 0, None
            if self.problem is not None and self.problem.kind != Problem.GONE:
                self._set_problem(None)

    def _send_waiting(self) -> None:
        """Sends everything queued over one connection, which is closed before returning."""
        try:
            conn = self._connect()
        except psycopg.Error as error:
            self._probed = True
            raise _Retry(connect_problem(error, self.url, self.login)) from None
        with conn:
            if not self._probed:
                try:
                    found = self._check(conn)
                except psycopg.OperationalError as error:
                    raise _Retry(connect_problem(error, self.url, self.login)) from None
                except psycopg.Error as error:
                    found = Problem(Problem.SETUP, f"The class database {self.where} cannot be used"
                                                   f" ({first_line(error, self.url)}): ask your teacher to"
                                                   " run `tutor class init`.")
                if found is not None and found.kind == Problem.SETUP:
                    raise _Retry(found)
                self._probed = True
                if found is not None:  # a teacher: nothing to send, ever
                    self._set_problem(found)
                    self._drain(found.message)
                    return
            while True:
                with self._cond:
                    if not self._queue:
                        return
                    key, kind, row = self._queue[0]
                if self.problem is not None and self.problem.kind == Problem.GONE:
                    self._drain(self.problem.message)
                    return
                refusal = self._insert(conn, kind, row)
                with self._cond:
                    self._queue.popleft()
                self._settled(key, refusal)

    def _insert(self, conn: psycopg.Connection, kind: str, row: dict) -> str | None:
        columns = SENT_COLUMNS[kind]
        statement = (f"INSERT INTO {kind} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
                     " ON CONFLICT DO NOTHING")
        try:
            conn.execute(statement, tuple(row.get(c) for c in columns))
        except psycopg.OperationalError as error:
            raise _Retry(connect_problem(error, self.url, self.login)) from None
        except psycopg.errors.ForeignKeyViolation:
            return (f"the lesson {row['lesson_id']} is not published in this class (your teacher can run"
                    " `tutor class publish`); answers to it are kept on this machine only")
        except psycopg.errors.InsufficientPrivilege as error:
            self._probed = False  # enrolled since? a teacher? checked again before the next try
            raise _Retry(Problem(Problem.SETUP, f"The class database refused an answer ({first_line(error, self.url)});"
                                                f" ask your teacher to run `tutor class init --student"
                                                f" {self.role or 'YOUR-LOGIN'}`.")) from None
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as error:
            self._probed = False
            raise _Retry(Problem(Problem.SETUP, f"The class database {self.where} is not set up for this version"
                                               f" of tutor ({first_line(error, self.url)}): ask your teacher to run"
                                               " `tutor class init`.")) from None
        except psycopg.Error as error:  # a row the class will never take: too long, over the limit
            return f"the class database refused it: {first_line(error, self.url)}"
        return None

    def _drain(self, why: str) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    return
                key, _, _ = self._queue.popleft()
            self._settled(key, why)

    def _set_problem(self, problem: Problem | None) -> None:
        changed = (problem is None) != (self.problem is None) or (
            problem is not None and self.problem is not None and problem.message != self.problem.message)
        self.problem = problem
        if changed:
            try:
                self._report(problem)
            except Exception:  # noqa: BLE001 - a closed app must not stop the link
                pass


class _Retry(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem
