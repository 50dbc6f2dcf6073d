"""A class on a real PostgreSQL: each student's rows are theirs alone, nothing is lost, the teacher sees all."""

from __future__ import annotations

import json
import threading
import time

import psycopg
import pytest

from tests.class_db.pg_server import ADMIN, STUDENTS, TEACHER
from tutor.cli.main import main
from tutor.core.progress.store import ProgressStore


def _store(pg, role: str) -> ProgressStore:
    store = ProgressStore.open(database=pg.url(role))
    assert store.warning is None, store.warning
    return store


def _answers(pg, role: str | None = None) -> list[tuple[str, str]]:
    with psycopg.connect(pg.url(ADMIN)) as conn:
        rows = conn.execute("SELECT student, answer FROM attempts ORDER BY id").fetchall()
    return [row for row in rows if role is None or row[0] == role]


def test_a_student_cannot_read_or_write_another_students_rows(pg):
    for student in ("alice", "bob"):
        with _store(pg, student) as store:
            store.record_attempt("chain", "dy_dw", f"{student}'s answer", "correct")
            store.record_reveal("chain", "loss")
    with psycopg.connect(pg.url("alice"), autocommit=True) as alice:
        assert alice.execute("SELECT student, answer FROM attempts").fetchall() == [
            ("alice", "alice's answer")]
        assert alice.execute("SELECT count(*) FROM attempts WHERE student = 'bob'").fetchone() == (0,)
        assert alice.execute("SELECT student FROM reveals").fetchall() == [("alice",)]
        refused = [
            "INSERT INTO attempts (student, at, lesson_id, step_id, answer, verdict, message,"
            " session_id, write_id) VALUES ('bob', '2026-11-28T00:00:00+00:00', 'chain', 'x',"
            " 'forged', 'correct', '', 's', 'w')",
            "UPDATE attempts SET verdict = 'wrong' WHERE student = 'bob'",
            "DELETE FROM attempts WHERE student = 'bob'",
            "UPDATE attempts SET verdict = 'correct'",  # not even one's own past is rewritten
        ]
        for statement in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                alice.execute(statement)
    assert _answers(pg, "bob") == [("bob", "bob's answer")]


def test_two_sessions_of_one_student_lose_nothing(pg):
    sessions = [_store(pg, "alice"), _store(pg, "alice")]

    def answer_many(n: int) -> None:
        for k in range(30):
            sessions[n].record_attempt("chain", f"s{k}", f"{n}-{k}", "wrong")

    workers = [threading.Thread(target=answer_many, args=(n,)) for n in (0, 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [session.close() for session in sessions] == [[], []]
    saved = [answer for _, answer in _answers(pg, "alice")]
    assert sorted(saved) == sorted(f"{n}-{k}" for n in (0, 1) for k in range(30))


def _wait_for(condition, seconds: float = 15.0) -> bool:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def test_a_server_stopped_mid_lesson_is_reported_and_loses_no_attempt(pg):
    store = _store(pg, "carol")
    assert store.record_attempt("conv", "out_len", "5", "wrong")
    pg.stop()
    try:
        started = time.monotonic()
        saved = store.record_attempt("conv", "out_len", "6", "correct")
        assert not saved and time.monotonic() - started < 2  # the lesson goes on
        assert _wait_for(lambda: "cannot reach the class database" in (store.warning or ""))
        assert "1 unsaved change waiting" in store.warning
        assert store.step_states("conv") == {"out_len": "solved"}  # shown as it will be
    finally:
        pg.start()
    assert store.flush(timeout=30)
    assert _wait_for(lambda: store.warning is None)
    assert store.close() == []
    assert _answers(pg, "carol") == [("carol", "5"), ("carol", "6")]  # each saved exactly once


def test_answers_left_when_the_server_is_down_at_exit_are_saved_next_time(pg):
    store = _store(pg, "bob")
    pg.stop()
    try:
        store.record_attempt("conv", "out_len", "7", "wrong")
        notices = store.close(wait=0.5)
        assert len(notices) == 1 and "cannot reach the class database" in notices[0]
        assert "saved the next time tutor starts" in notices[0]
        down = ProgressStore.open(database=pg.url("bob"))  # a start while it is still down
        assert "cannot reach the class database" in down.warning
        down.close(wait=0.2)
    finally:
        pg.start()
    with ProgressStore.open(database=pg.url("bob")) as back:
        assert back.flush(timeout=30)
    assert _answers(pg, "bob") == [("bob", "7")]


def test_three_learners_at_once_each_see_their_own_and_the_teacher_sees_all(pg, monkeypatch, capsys):
    def learn(student: str) -> None:
        with _store(pg, student) as store:
            for k in range(5):
                store.record_attempt("conv1d-dilation", "length", f"{student}-{k}",
                                     "wrong" if k < 2 else "correct", mistake="padding ignored" if k < 2 else None,
                                     skills=["conv-output-size"])
            store.record_reveal("conv1d-dilation", "plain")

    learners = [threading.Thread(target=learn, args=(s,)) for s in STUDENTS]
    for learner in learners:
        learner.start()
    for learner in learners:
        learner.join()

    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url(TEACHER))
    assert main(["class", "report", "--export", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(row["student"] for row in report) == sorted(STUDENTS)
    for row in report:
        assert (row["lesson_id"], row["solved_steps"], row["answers"], row["reveals"]) == (
            "conv1d-dilation", 1, 5, 1)
        assert row["mistakes"] == "padding ignored ×2"
    assert main(["class", "report"]) == 0
    table = capsys.readouterr().out
    assert all(student in table for student in STUDENTS) and "3 students" in table
    assert all(len(line) <= 80 for line in table.splitlines())

    for student in STUDENTS:
        monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url(student))
        assert main(["progress", "--export", "json"]) == 0
        mine = json.loads(capsys.readouterr().out)
        assert len(mine) == 5 and {a["answer"].split("-")[0] for a in mine} == {student}
    assert main(["progress"]) == 0
    assert f"Progress is saved in the class database:\n  {pg.url('carol')}" in capsys.readouterr().out
    assert main(["review", "--json"]) == 0
    assert [m["skill"] for m in json.loads(capsys.readouterr().out)["upcoming"]] == ["conv-output-size"]


def test_a_student_cannot_run_the_class_report_on_others(pg, monkeypatch, capsys):
    with _store(pg, "alice") as store:
        store.record_attempt("l", "s", "1", "correct")
    with _store(pg, "bob") as store:
        store.record_attempt("l", "s", "2", "correct")
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url("bob"))
    assert main(["class", "report", "--export", "json"]) == 0
    assert [row["student"] for row in json.loads(capsys.readouterr().out)] == ["bob"]


def test_an_unreachable_or_unset_class_database_is_one_line_never_a_traceback(pg, tmp_path, monkeypatch, capsys):
    nowhere = f"postgresql://alice@/tutor_class?host={tmp_path}"
    monkeypatch.setenv("TUTOR_DATABASE_URL", nowhere)
    assert main(["progress"]) == 0
    out = capsys.readouterr()
    assert "cannot reach the class database" in out.out and "Traceback" not in out.err
    assert main(["class", "report"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tutor: cannot read the class from") and len(err.splitlines()) == 1
    monkeypatch.setenv("TUTOR_DATABASE_URL", pg.url("alice", "postgres"))  # a database without tables
    with ProgressStore.open() as store:
        assert "not set up for tutor" in store.warning and "tutor class init" in store.warning


def test_without_postgresql_binaries_the_class_tests_say_why_they_are_skipped(monkeypatch):
    from tests.class_db import pg_server

    monkeypatch.setattr(pg_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(pg_server.glob, "glob", lambda pattern: [])
    assert pg_server.why_not() == "no PostgreSQL binaries (initdb, pg_ctl) on this machine"


def test_a_teacher_running_the_app_is_told_their_answers_are_not_saved(pg, capsys):
    with ProgressStore.open(database=pg.url(TEACHER)) as store:
        assert "the role teacher may not save answers" in store.warning
        assert "tutor class init --student teacher" in store.warning
        store.record_attempt("l", "s", "1", "correct")
        assert _wait_for_refusal(store)
        notices = store.close()
    assert notices[0] == "Not saved:" and "l › s: 1 (correct)" in notices[1]
    assert "permission denied" in notices[1]


def _wait_for_refusal(store) -> bool:
    return _wait_for(lambda: "refused to save a change (permission denied" in (store.warning or ""), 10)


# Prints each answer only once the store says it is saved in the class database.
WRITE_FOREVER = """
import sys
from tutor.core.progress.store import ProgressStore
store = ProgressStore.open(database=sys.argv[1])
assert store.warning is None, store.warning
n = 0
while True:
    store.record_attempt("crash", "step", str(n), "wrong")
    assert store.flush(timeout=30)
    print(n, flush=True)
    n += 1
"""


def test_killing_a_students_terminal_loses_no_saved_answer(pg):
    import signal
    import subprocess
    import sys
    from pathlib import Path

    child = subprocess.Popen([sys.executable, "-c", WRITE_FOREVER, pg.url("alice")],
                             cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        reported = [child.stdout.readline().strip() for _ in range(60)]
        assert all(reported), child.stderr.read()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    reported += child.stdout.read().split()
    saved = {answer for _, answer in _answers(pg, "alice")}
    assert set(reported) <= saved


def test_class_init_from_the_command_line_adds_a_student_who_can_then_save(pg, capsys, monkeypatch):
    for _ in range(2):  # running it again changes nothing and breaks nothing
        assert main(["class", "init", "--database", pg.url(ADMIN), "--student", "dave"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("Class database postgresql://tutor_admin@/tutor_class") and "dave is a student" in out
    with _store(pg, "dave") as store:
        store.record_attempt("l", "s", "1", "correct")
    assert _answers(pg, "dave") == [("dave", "1")]
    monkeypatch.setenv("TUTOR_DATABASE_URL", "")
    assert main(["class", "init"]) == 2
    assert "needs the database" in capsys.readouterr().err
