"""A class on a real PostgreSQL: each student's rows are theirs alone, nothing is lost, the teacher sees all."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import psycopg
import pytest

from tests.class_db.pg_server import ADMIN, STUDENTS, TEACHER
from tutor.cli.main import main
from tutor.core.progress.store import ProgressStore

LESSON, STEP = "chain-rule-scalar", "forward"


def _store(pg, role: str, tmp_path) -> ProgressStore:
    """A student's session: their own progress file (each student is their own OS user) and the class."""
    return ProgressStore.open(tmp_path / role / "progress.sqlite3", database=pg.url(role))


def _answers(pg, role: str | None = None) -> list[tuple[str, str]]:
    with psycopg.connect(pg.url(ADMIN)) as conn:
        rows = conn.execute("SELECT student, answer FROM attempts ORDER BY id").fetchall()
    return [row for row in rows if role is None or row[0] == role]


def _wait_for(condition, seconds: float = 15.0) -> bool:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def test_a_student_cannot_read_or_write_another_students_rows(pg, tmp_path):
    for student in ("alice", "bob"):
        with _store(pg, student, tmp_path) as store:
            store.record_attempt(LESSON, STEP, f"{student}'s answer", "correct")
            store.record_reveal(LESSON, "loss")
            assert store.flush(timeout=15)
    with psycopg.connect(pg.url("alice"), autocommit=True) as alice:
        assert alice.execute("SELECT student, answer FROM attempts").fetchall() == [
            ("alice", "alice's answer")]
        assert alice.execute("SELECT count(*) FROM attempts WHERE student = 'bob'").fetchone() == (0,)
        assert alice.execute("SELECT student FROM reveals").fetchall() == [("alice",)]
        refused = [
            "INSERT INTO attempts (student, lesson_id, step_id, answer, session_id, write_id)"
            f" VALUES ('bob', '{LESSON}', 'x', 'forged', 's', 'w')",
            "UPDATE attempts SET answer = 'wrong' WHERE student = 'bob'",
            "DELETE FROM attempts WHERE student = 'bob'",
            "UPDATE attempts SET answer = '42'",  # not even one's own past is rewritten
            "INSERT INTO grades VALUES ('h', -1, 's', 'd', 'correct', NULL, NULL)",  # nor the re-grades
        ]
        for statement in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                alice.execute(statement)
    assert _answers(pg, "bob") == [("bob", "bob's answer")]


def test_a_forged_row_gains_nothing_and_the_time_is_the_servers(pg, tmp_path, monkeypatch, capsys):
    with psycopg.connect(pg.url("alice"), autocommit=True) as alice:
        # the verdict and the time are not a student's to write
        with pytest.raises(psycopg.errors.UndefinedColumn):
            alice.execute("INSERT INTO attempts (at, lesson_id, step_id, answer, verdict, message, session_id,"
                          f" write_id) VALUES ('2026-01-01T00:00:00+00:00', '{LESSON}', 'dL_db', 'anything',"
                          " 'correct', 'Correct.', 'forged', 'forged-1')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute("INSERT INTO attempts (at, lesson_id, step_id, answer, session_id, write_id)"
                          f" VALUES ('2026-01-01T00:00:00+00:00', '{LESSON}', 'dL_db', 'x', 'forged', 'f-2')")
        # only published lessons, and no 1 MB answers
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            alice.execute("INSERT INTO attempts (lesson_id, step_id, answer, session_id, write_id)"
                          " VALUES ('not-a-lesson', 's', 'x', 'forged', 'f-3')")
        with pytest.raises(psycopg.errors.CheckViolation):
            alice.execute("INSERT INTO attempts (lesson_id, step_id, answer, session_id, write_id)"
                          f" VALUES ('{LESSON}', 'dL_db', repeat('9', 1000000), 'forged', 'f-4')")
        # what a student can write: an answer, which the gradebook re-grades itself
        before = alice.execute("SELECT now()").fetchone()[0]
        alice.execute("INSERT INTO attempts (lesson_id, step_id, answer, session_id, write_id)"
                      f" VALUES ('{LESSON}', 'dL_db', 'anything', 'forged', 'f-5'),"
                      f"        ('{LESSON}', 'no-such-step', '1', 'forged', 'f-6')")
        (at,) = alice.execute("SELECT at FROM attempts WHERE write_id = 'f-5'").fetchone()
        assert at >= before  # stamped by the server
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url(TEACHER))
    assert main(["class", "report", "--export", "json"]) == 0
    book = json.loads(capsys.readouterr().out)
    (line,) = [line for line in book["lessons"] if line["student"] == "alice"]
    assert (line["lesson_id"], line["solved_steps"], line["total_steps"], line["answers"]) == (LESSON, 0, 8, 2)
    assert line["unverified"] == 1  # the step the lesson does not have is shown, not dropped


def test_a_row_written_under_the_group_roles_name_is_refused(pg):
    with psycopg.connect(pg.url("alice"), autocommit=True) as alice:
        alice.execute("SET ROLE tutor_student")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute("INSERT INTO attempts (lesson_id, step_id, answer, session_id, write_id)"
                          f" VALUES ('{LESSON}', '{STEP}', '1', 's', 'anonymous')")
    assert _answers(pg) == []


def test_right_answers_count_and_wrong_verdicts_claimed_by_no_one(pg, tmp_path, live, monkeypatch, capsys):
    right = json.dumps(live(LESSON).expected(STEP).value)
    with _store(pg, "carol", tmp_path) as store:
        store.record_attempt(LESSON, STEP, "123456", "correct")   # what the app says does not matter
        store.record_attempt(LESSON, STEP, right, "wrong")
        store.record_attempt(LESSON, "loss", right, "correct")
        assert store.flush(timeout=15)
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url(TEACHER))
    assert main(["class", "report", "--export", "json"]) == 0
    book = json.loads(capsys.readouterr().out)
    (line,) = [line for line in book["lessons"] if line["student"] == "carol"]
    assert (line["solved_steps"], line["answers"], line["unverified"]) == (1, 3, 0)
    with psycopg.connect(pg.url(ADMIN)) as conn:  # each distinct answer graded once, kept for next time
        assert conn.execute("SELECT count(*) FROM grades").fetchone()[0] == 3
    assert main(["class", "report", "--export", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["lessons"] == book["lessons"]


def test_a_server_stopped_mid_lesson_is_reported_and_loses_no_attempt(pg, tmp_path):
    store = _store(pg, "carol", tmp_path)
    store.record_attempt(LESSON, STEP, "5", "wrong")
    assert store.flush(timeout=15)
    pg.stop()
    try:
        started = time.monotonic()
        store.record_attempt(LESSON, STEP, "6", "correct")
        assert time.monotonic() - started < 1  # the lesson goes on
        assert _wait_for(lambda: "cannot reach the class database" in (store.warning or ""))
        assert store.warning.startswith("Saved on this machine for now") and "sent when it is back" in store.warning
        assert store.step_states(LESSON) == {STEP: "solved"}  # the learner's own view has it
    finally:
        pg.start()
    assert store.flush(timeout=40)
    assert _wait_for(lambda: store.warning is None)
    assert store.close() == []
    assert _answers(pg, "carol") == [("carol", "5"), ("carol", "6")]  # each saved exactly once


def test_answers_left_when_the_server_is_down_at_exit_are_sent_by_the_next_command(pg, tmp_path, monkeypatch,
                                                                                   capsys):
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "bob"))
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url("bob"))
    store = ProgressStore.open()
    pg.stop()
    try:
        store.record_attempt(LESSON, STEP, "7", "wrong")
        notices = store.close(wait=0.5)
        assert len(notices) == 1 and "could not be sent to the class database" in notices[0]
        assert "sent the next time tutor runs" in notices[0]
    finally:
        pg.start()
    assert main(["solve", "sine-neuron", "--json"]) == 0  # any command: this one opens no progress itself
    capsys.readouterr()
    assert _answers(pg, "bob") == [("bob", "7")]


# A student's session that answers while the class server is down, says so, and waits to be killed.
ANSWER_AND_WAIT = """
import sys, time
from tutor.core.progress.store import ProgressStore
store = ProgressStore.open(database=sys.argv[1])
store.record_attempt("chain-rule-scalar", "forward", "given while the server was down", "wrong", wait=0)
print("shown", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("signal_name", ["SIGHUP", "SIGKILL"])
def test_an_answer_given_while_the_server_is_down_survives_the_session_being_killed(
        pg, tmp_path, monkeypatch, capsys, signal_name):
    import signal
    import subprocess
    import sys
    from pathlib import Path

    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "alice"))
    pg.stop()
    try:
        child = subprocess.Popen([sys.executable, "-c", ANSWER_AND_WAIT, pg.url("alice")],
                                 cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "shown", child.stderr.read()
        finally:
            child.send_signal(getattr(signal, signal_name))
            child.wait()
    finally:
        pg.start()
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url("alice"))
    assert main(["progress"]) == 0  # the student's next command
    assert "given while the server was down" in [a for _, a in _answers(pg, "alice")]
    assert main(["progress", "--export", "json"]) == 0
    capsys.readouterr()
    assert len(_answers(pg, "alice")) == 1  # once, however often it is replayed


def test_three_learners_at_once_each_see_their_own_and_the_teacher_sees_all(pg, tmp_path, live, monkeypatch,
                                                                          capsys):
    right = json.dumps(live("conv1d-dilation").expected("length").value)

    def learn(student: str) -> None:
        with _store(pg, student, tmp_path) as store:
            for k in range(5):
                answer = f"{k + 1000}" if k < 2 else right
                store.record_attempt("conv1d-dilation", "length", answer, "wrong" if k < 2 else "correct",
                                     skills=["conv-output-size"])
            store.record_reveal("conv1d-dilation", "plain")
            assert store.flush(timeout=30)

    learners = [threading.Thread(target=learn, args=(s,)) for s in STUDENTS]
    for learner in learners:
        learner.start()
    for learner in learners:
        learner.join()

    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url(TEACHER))
    assert main(["class", "report", "--export", "json"]) == 0
    book = json.loads(capsys.readouterr().out)
    assert sorted(line["student"] for line in book["lessons"]) == sorted(STUDENTS)
    for line in book["lessons"]:
        assert (line["lesson_id"], line["solved_steps"], line["total_steps"], line["answers"],
                line["revealed_steps"]) == ("conv1d-dilation", 1, 6, 5, 1)
    # every enrolled student is listed, also those who have not started
    assert {s["student"]: s["lessons_started"] for s in book["students"]} == {
        "alice": 1, "bob": 1, "carol": 1, "peer_student": 0}
    monkeypatch.setenv("COLUMNS", "81")  # an 80-column terminal (a pipe gets every line whole)
    assert main(["class", "report"]) == 0
    table = capsys.readouterr().out
    assert all(student in table for student in STUDENTS) and "4 students enrolled" in table
    assert "1/6" in table and "not started" in table
    assert all(len(line) <= 80 for line in table.splitlines())

    for student in STUDENTS:  # a student's own progress is their own
        monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / student))
        monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url(student))
        assert main(["progress", "--export", "json"]) == 0
        mine = json.loads(capsys.readouterr().out)
        assert len(mine) == 5
    assert main(["progress"]) == 0
    out = capsys.readouterr().out
    assert f"Answers are also sent to the class database:\n  {pg.url('carol')}" in out
    assert main(["review", "--json"]) == 0
    assert [m["skill"] for m in json.loads(capsys.readouterr().out)["upcoming"]] == ["conv-output-size"]


def test_the_class_report_views_a_teacher_asks_for(pg, tmp_path, live, monkeypatch, capsys):
    from tutor.core.check.step import checker_for
    from tutor.core.text.latex import plain_text

    right = json.dumps(live(LESSON).expected(STEP).value)
    steps = checker_for(live(LESSON))
    flipped = next(c for c in steps.mistake_candidates("dL_db").items if c.name == "sign flipped")
    slip = json.dumps(float(flipped.value))
    named = plain_text(steps.check("dL_db", slip).mistake)  # what the app itself would name
    with _store(pg, "alice", tmp_path) as store:
        store.record_attempt(LESSON, STEP, right, "correct")
        store.record_attempt(LESSON, "loss", "=HYPERLINK(1)", "wrong")
        store.record_attempt(LESSON, "dL_db", slip, "wrong")
        assert store.flush(timeout=15)
    with _store(pg, "bob", tmp_path) as store:
        store.record_attempt(LESSON, STEP, "0", "wrong")
        store.record_attempt(LESSON, STEP, right, "correct")
        assert store.flush(timeout=15)
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url(TEACHER))

    assert main(["class", "report", "--by", "step", "--export", "json"]) == 0
    steps = {s["step_id"]: s for s in json.loads(capsys.readouterr().out)["steps"] if s["lesson_id"] == LESSON}
    assert (steps[STEP]["tried"], steps[STEP]["right_first_time"]) == (2, 1)
    assert steps["loss"]["tried"] == 1 and steps["dL_dv"]["tried"] == 0
    assert steps["dL_db"]["mistake"] == named and steps["dL_db"]["mistake_students"] == 1
    assert main(["class", "report", "--by", "step"]) == 0
    assert f"{LESSON}" in capsys.readouterr().out
    monkeypatch.setenv("COLUMNS", "81")  # an 80-column terminal (a pipe gets every line whole)
    assert main(["class", "report"]) == 0
    table = capsys.readouterr().out
    assert f"alice, {LESSON}: {named} ×1" in " ".join(table.split())  # the full name, not cut
    assert all(len(line) <= 80 for line in table.splitlines())

    assert main(["class", "report", "--export", "wide-csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    header = rows[0].split(",")
    assert header[:4] == ["student", "solved_steps", "minutes_spent", "last_active"]
    assert f"{LESSON} (of 8)" in header and len(rows) == 1 + 4  # every enrolled student, one row each
    alice = next(r for r in rows if r.startswith("alice,")).split(",")
    assert alice[header.index(f"{LESSON} (of 8)")] == "1"

    assert main(["class", "report", "--export", "csv"]) == 0
    assert "=HYPERLINK" not in capsys.readouterr().out.replace("'=HYPERLINK", "")

    assert main(["class", "report", "--since", "2999-01-01", "--export", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["lessons"] == []
    with pytest.raises(SystemExit) as refused:
        main(["class", "report", "--since", "yesterday"])
    assert refused.value.code == 2 and "YYYY-MM-DD" in capsys.readouterr().err


def test_a_student_running_the_class_report_sees_only_their_own(pg, tmp_path, monkeypatch, capsys):
    for student in ("alice", "bob"):
        with _store(pg, student, tmp_path) as store:
            store.record_attempt(LESSON, STEP, "1", "correct")
            assert store.flush(timeout=15)
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url("bob"))
    assert main(["class", "report", "--export", "json"]) == 0
    out = capsys.readouterr()
    assert [s["student"] for s in json.loads(out.out)["students"]] == ["bob"]
    assert "You see only your own answers" in out.err


def test_set_up_problems_say_what_to_do_and_exports_fail(pg, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "stu06"))
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url("stu06"))
    assert main(["progress", "--export", "csv"]) == 2
    err = capsys.readouterr().err
    assert ("This class's database has no login stu06: ask your teacher to run"
            " `tutor class init --student stu06`") in err
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url("alice", "tutor_clas"))
    assert main(["progress", "--export", "json"]) == 2
    assert "has no database tutor_clas: check the database URL" in capsys.readouterr().err
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url("peer_student"))
    assert main(["progress", "--export", "json"]) == 2
    err = capsys.readouterr().err
    assert "refused the login peer_student: with peer authentication" in err
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url("alice", "postgres"))  # a database without tutor's tables
    assert main(["progress", "--export", "json"]) == 2
    assert "not set up for this version of tutor" in capsys.readouterr().err


def test_a_student_not_yet_enrolled_is_told_and_retried_with_back_off(pg, tmp_path):
    store = _store(pg, "stu07", tmp_path)
    try:
        store.record_attempt(LESSON, STEP, "1", "wrong")
        assert _wait_for(lambda: "has no login stu07" in (store.warning or ""), 10)
        time.sleep(3)
        assert store.link.connections <= 2  # not a retry every 2 s
        notices = store.close(wait=0.2)
        assert "has no login stu07" in notices[0] and "sent the next time tutor runs" in notices[0]
    finally:
        store.close(wait=0)


def test_a_teacher_is_told_their_own_answers_stay_on_their_machine(pg, tmp_path, monkeypatch, capsys):
    with _store(pg, TEACHER, tmp_path) as store:
        store.record_attempt(LESSON, STEP, "1", "correct", topic="autograd")
        assert _wait_for(lambda: "You are a teacher of this class" in (store.warning or ""))
        assert store.flush(timeout=10)
        notices = store.close()
    assert len(notices) == 1 and notices[0].startswith("1 answer of this session went to your own progress only")
    assert "You are a teacher of this class (login teacher)" in notices[0]
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / TEACHER))
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url(TEACHER))
    assert main(["progress", "--export", "json"]) == 0  # their own, not the class summed as one learner
    assert [a["answer"] for a in json.loads(capsys.readouterr().out)] == ["1"]


def test_class_init_adds_a_student_who_can_then_save_and_warns_of_trust(pg, tmp_path, capsys, monkeypatch):
    for _ in range(2):  # running it again changes nothing and breaks nothing
        assert main(["class", "init", "--database", pg.url(ADMIN), "--student", "dave"]) == 0
        out = capsys.readouterr()
        assert out.out.startswith("Class database postgresql://tutor_admin@/tutor_class") and "dave is a student" in out.out
        assert "trusts local connections" in out.err and "pg_hba.conf" in out.err and "peer" in out.err
    with _store(pg, "dave", tmp_path) as store:
        store.record_attempt(LESSON, STEP, "1", "correct")
        assert store.flush(timeout=15)
    assert _answers(pg, "dave") == [("dave", "1")]
    monkeypatch.setenv("TUTOR_DATABASE_URL", "")
    assert main(["class", "init"]) == 2
    assert "needs the database" in capsys.readouterr().err


def test_class_publish_adds_a_teachers_own_lesson(pg, tmp_path, capsys, monkeypatch):
    import shutil

    from tutor.core.lesson.catalog import Catalog

    folder = tmp_path / "mine" / "autograd"
    folder.mkdir(parents=True)
    source = Catalog.load(()).find(LESSON).path
    shutil.copy(source, folder / "my-chain.toml")
    text = (folder / "my-chain.toml").read_text()
    (folder / "my-chain.toml").write_text(text.replace(f'id = "{LESSON}"', 'id = "my-chain"'))
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url(TEACHER))
    assert main(["class", "publish", "--lessons", str(tmp_path / "mine"), "my-chain"]) == 0
    assert capsys.readouterr().out.strip() == "published my-chain"
    assert main(["class", "publish", "--lessons", str(tmp_path / "mine"), "my-chain"]) == 0
    assert "already published" in capsys.readouterr().out


def test_an_unreachable_or_unset_class_database_is_one_line_never_a_traceback(pg, tmp_path, monkeypatch, capsys):
    nowhere = f"postgresql://alice:s3cret-pw@/tutor_class?host={tmp_path}"
    monkeypatch.setenv("TUTOR_DATABASE_URL", nowhere)
    assert main(["progress"]) == 0
    out = capsys.readouterr()
    assert "cannot reach the class database" in out.out and "Traceback" not in out.err
    assert "s3cret-pw" not in out.out + out.err
    assert main(["class", "report"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tutor: cannot read the class from") and len(err.splitlines()) == 1
    assert "s3cret-pw" not in err


def test_without_postgresql_binaries_the_class_tests_say_why_they_are_skipped(monkeypatch):
    from tests.class_db import pg_server

    monkeypatch.setattr(pg_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(pg_server.glob, "glob", lambda pattern: [])
    assert pg_server.why_not() == "no PostgreSQL binaries (initdb, pg_ctl) on this machine"


# Prints each answer only once the store says the class database has it.
WRITE_FOREVER = """
import sys
from tutor.core.progress.store import ProgressStore
store = ProgressStore.open(database=sys.argv[1])
n = 0
while True:
    store.record_attempt("chain-rule-scalar", "forward", str(n), "wrong")
    assert store.flush(timeout=30), store.warning
    print(n, flush=True)
    n += 1
"""


def test_killing_a_students_terminal_loses_no_saved_answer(pg, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    child = subprocess.Popen([sys.executable, "-c", WRITE_FOREVER, pg.url("alice")],
                             cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "TUTOR_DATA_DIR": str(tmp_path)})
    try:
        reported = [child.stdout.readline().strip() for _ in range(30)]
        assert all(reported), child.stderr.read()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    reported += child.stdout.read().split()
    saved = {answer for _, answer in _answers(pg, "alice")}
    assert set(reported) <= saved


def test_one_students_flood_is_capped_and_the_report_stays_quick(pg, monkeypatch, capsys):
    from tutor.core.progress.class_db import MAX_ROWS

    with psycopg.connect(pg.url("bob"), autocommit=True) as bob:
        bob.execute("INSERT INTO attempts (lesson_id, step_id, drill_seed, answer, session_id, write_id)"
                    f" SELECT %s, %s, n %% 5000, n::text, 'flood', 'w' || n FROM generate_series(1, {MAX_ROWS}) n",
                    (LESSON, STEP))
        with pytest.raises(psycopg.errors.CheckViolation):
            bob.execute("INSERT INTO attempts (lesson_id, step_id, answer, session_id, write_id)"
                        f" VALUES ('{LESSON}', '{STEP}', 'one more', 'flood', 'w-over')")
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url(TEACHER))
    started = time.process_time(), time.monotonic()
    assert main(["class", "report", "--export", "json"]) == 0
    cpu, wall = time.process_time() - started[0], time.monotonic() - started[1]
    book = json.loads(capsys.readouterr().out)
    (line,) = book["lessons"]
    assert line["answers"] == MAX_ROWS and line["solved_steps"] == 0
    assert line["unverified"] > MAX_ROWS - 100  # only the most recent variants are re-graded
    assert cpu < 30 and wall < 60, (cpu, wall)
    print(f"report over {MAX_ROWS} rows of one student: {cpu:.1f} s CPU, {wall:.1f} s")


test_one_students_flood_is_capped_and_the_report_stays_quick = pytest.mark.slow(
    test_one_students_flood_is_capped_and_the_report_stays_quick)


@pytest.mark.slow
def test_150_sessions_fit_in_100_connections_and_lose_nothing(pg, tmp_path):
    sessions = 150
    problems: list[str] = []
    stores = []
    for n in range(sessions):
        store = _store(pg, STUDENTS[n % 3], tmp_path / f"s{n}")
        store.on_warning = lambda warning: warning and problems.append(warning)
        stores.append(store)
    peak = [0]
    stop = threading.Event()

    def watch() -> None:
        with psycopg.connect(pg.url(ADMIN), autocommit=True) as conn:
            while not stop.is_set():
                peak[0] = max(peak[0], conn.execute("SELECT count(*) FROM pg_stat_activity"
                                                    " WHERE backend_type = 'client backend'").fetchone()[0])
                time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    # the server full to its last slot while the sessions start: they wait, silently
    hogs = []
    with contextlib.suppress(psycopg.OperationalError):
        while len(hogs) < 100:
            hogs.append(psycopg.connect(pg.url(ADMIN if len(hogs) < 3 else "teacher"), autocommit=True))
    threading.Timer(2.0, lambda: [hog.close() for hog in hogs]).start()

    def answer(n: int) -> None:
        for k in range(4):
            stores[n].record_attempt(LESSON, STEP, f"{n}-{k}", "wrong", wait=0)
            time.sleep(0.05)

    started = time.monotonic()
    workers = [threading.Thread(target=answer, args=(n,)) for n in range(sessions)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert all(store.flush(timeout=120) for store in stores)
    took = time.monotonic() - started
    stop.set()
    watcher.join()
    for store in stores:
        assert store.close() == []
    saved = sorted(answer for _, answer in _answers(pg))
    assert saved == sorted(f"{n}-{k}" for n in range(sessions) for k in range(4))
    assert problems == []  # no session was told anything went wrong
    print(f"150 sessions, 600 answers, the server full for the first 2 s: {took:.1f} s,"
          f" at most {peak[0]} connections at once ({len(hogs)} held by the test)")


def test_grading_an_answers_file_writes_nobodys_progress(pg, tmp_path, monkeypatch, capsys):
    answers = tmp_path / "alice.toml"
    answers.write_text('forward = "1"\n')
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url("alice"))
    assert main(["grade", LESSON, "--answers", str(answers)]) == 1
    assert _answers(pg) == []
    with ProgressStore.open() as store:
        assert store.attempts() == []
    with pytest.raises(SystemExit):
        main(["grade", "--help"])
    assert "never writes anyone's progress" in " ".join(capsys.readouterr().out.split())


# The tables an earlier tutor made, whose rows held the student's own verdict and time.
V1_TABLES = """
CREATE TABLE attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, student text NOT NULL DEFAULT current_user,
    at text NOT NULL, lesson_id text NOT NULL, topic text, step_id text NOT NULL, step_kind text,
    answer text NOT NULL, verdict text NOT NULL, message text NOT NULL, mistake text, skills text,
    seconds double precision, drill_seed bigint, session_id text NOT NULL, write_id text NOT NULL,
    UNIQUE (student, write_id));
CREATE INDEX attempts_by_student ON attempts (student, lesson_id, step_id);
CREATE TABLE reveals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, student text NOT NULL DEFAULT current_user,
    lesson_id text NOT NULL, step_id text NOT NULL, at text NOT NULL, write_id text NOT NULL, skills text,
    UNIQUE (student, write_id));
CREATE TABLE position (student text PRIMARY KEY DEFAULT current_user, lesson_id text NOT NULL,
    step_id text NOT NULL, at text NOT NULL);
INSERT INTO attempts (student, at, lesson_id, step_id, answer, verdict, message, session_id, write_id) VALUES
    ('alice', '2026-11-28T09:00:00+00:00', 'chain-rule-scalar', 'forward', '5', 'correct', '', 's', 'w1'),
    ('alice', '9999-12-31T23:59:59+00:00', 'chain-rule-scalar', 'loss', '1', 'correct', '', 's', 'w2'),
    ('bob', '2026-11-28T09:00:00+00:00', 'not-a-lesson', 'x', '1', 'correct', '', 's', 'w3'),
    ('bob', '2026-11-29T09:00:00+00:00', 'chain-rule-scalar-drill-7', 'forward', '2', 'wrong', '', 's', 'w4');
"""


def test_class_init_brings_an_earlier_tutors_class_up_to_date(pg):
    from tests.class_db.pg_server import builtin_lessons
    from tutor.core.progress.class_db import init

    with psycopg.connect(pg.url(ADMIN, "postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS tutor_v1")
        conn.execute("CREATE DATABASE tutor_v1")
    with psycopg.connect(pg.url(ADMIN, "tutor_v1"), autocommit=True) as conn:
        conn.execute(V1_TABLES)
    done = init(pg.url(ADMIN, "tutor_v1"), students=["alice", "bob"], lessons=builtin_lessons())
    assert any("2 of their 4 answers" in line for line in done), done
    with psycopg.connect(pg.url(ADMIN, "tutor_v1"), autocommit=True) as conn:
        rows = conn.execute("SELECT student, lesson_id, drill_seed, answer FROM attempts ORDER BY id").fetchall()
        assert rows == [("alice", LESSON, None, "5"), ("bob", LESSON, 7, "2")]
        assert conn.execute("SELECT count(*) FROM attempts_v1").fetchone() == (4,)  # kept for the teacher
    assert init(pg.url(ADMIN, "tutor_v1"), lessons=builtin_lessons())  # and again: nothing to migrate
    with psycopg.connect(pg.url("alice", "tutor_v1"), autocommit=True) as alice:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute("SELECT * FROM attempts_v1")  # the old rows stay out of students' reach
        alice.execute("INSERT INTO attempts (lesson_id, step_id, answer, session_id, write_id)"
                      f" VALUES ('{LESSON}', '{STEP}', '6', 's', 'new')")
