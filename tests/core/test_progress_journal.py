"""Nothing shown is lost: the journal, private files, impossible times, and passwords never printed."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tutor.core.progress.journal import Journal
from tutor.core.progress.postgres import connect_problem, redact
from tutor.core.progress.store import ProgressStore, journal_dir_for, replay_left_over

REPO = Path(__file__).resolve().parents[2]

# Answers once (journaled before record_attempt returns), says so, then holds the database's
# write lock forever, as another login might, so that the answer never reaches the file itself.
ANSWER_THEN_WAIT = """
import sqlite3, sys, time
from pathlib import Path
from tutor.core.progress.store import ProgressStore
store = ProgressStore.open(Path(sys.argv[1]))
blocker = sqlite3.connect(sys.argv[1], isolation_level=None)
blocker.execute("BEGIN IMMEDIATE")
store.record_attempt("l", "s", "shown on screen", "correct", wait=0)
print("shown", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGHUP", "SIGTERM"])
def test_an_answer_shown_survives_any_end_of_the_process(tmp_path, monkeypatch, signal_name):
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path))
    path = tmp_path / "progress.sqlite3"
    child = subprocess.Popen([sys.executable, "-c", ANSWER_THEN_WAIT, str(path)], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "shown", child.stderr.read()
    finally:
        child.send_signal(getattr(signal, signal_name))
        child.wait()
    with ProgressStore.open() as store:  # the next tutor command
        assert store.flush(timeout=10)
        assert [a.answer for a in store.attempts()] == ["shown on screen"]
    assert list(journal_dir_for(path).iterdir()) == []  # nothing left to replay
    with ProgressStore.open() as again:
        assert len(again.attempts()) == 1  # replayed once


def test_a_running_sessions_journal_is_not_taken_by_another(tmp_path):
    folder = tmp_path / "journal"
    alive = Journal(folder, "alive")
    alive.append("k1", {"kind": "position", "values": {"lesson_id": "l", "step_id": "s", "at": "x"}})
    other = Journal(folder, "other")
    entries, notes = other.adopt([folder])
    assert entries == [] and notes == []
    assert (folder / "alive.jsonl").exists()
    alive.close()  # closed with an open entry: left for the next start, unlocked
    entries, _ = other.adopt([folder])
    assert [e["key"] for e in entries] == ["k1"] and not (folder / "alive.jsonl").exists()


def test_done_entries_are_not_replayed_and_an_empty_journal_leaves_no_file(tmp_path):
    folder = tmp_path / "journal"
    journal = Journal(folder, "me")
    for key in ("a", "b"):
        journal.append(key, {"kind": "position", "values": {}})
    journal.done("a")
    assert Journal(folder, "next").adopt([folder]) == ([], [])  # still running: locked
    journal.close()
    entries, _ = Journal(folder, "next").adopt([folder])
    assert [e["key"] for e in entries] == ["b"]
    finished = Journal(folder, "finished")
    finished.append("c", {"kind": "position", "values": {}})
    finished.done("c")
    finished.close()
    assert not finished.path.exists()


def test_the_journal_folder_is_read_like_any_other_file(tmp_path):
    folder = tmp_path / "journal"
    folder.mkdir()
    os.mkfifo(folder / "fifo.jsonl")                         # would block a plain open() for ever
    (folder / "zero.jsonl").symlink_to("/dev/zero")          # would grow memory without end
    (folder / "loop.jsonl").symlink_to(folder / "loop.jsonl")
    with open(folder / "big.jsonl", "wb") as big:
        big.truncate(64 * 1024 * 1024)                       # past the size cap (sparse: no disk used)
    (folder / "sub.jsonl").mkdir()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    entries, notes = Journal(folder, "me").adopt([folder])
    assert time.monotonic() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KB: under 50 MB
    assert entries == []
    assert any("big.jsonl is larger than" in note for note in notes)
    assert any("fifo.jsonl is not a regular file" in note for note in notes)
    assert (folder / "fifo.jsonl").exists() and (folder / "big.jsonl").exists()  # left for a person


def test_every_command_starts_with_a_fifo_in_the_journal_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path))
    folder = journal_dir_for(tmp_path / "progress.sqlite3")
    folder.mkdir()
    os.mkfifo(folder / "stuck.jsonl")
    started = time.monotonic()
    with ProgressStore.open() as store:
        store.record_attempt("l", "s", "1", "wrong")
    notices = replay_left_over(timeout=1)
    assert any("stuck.jsonl is not a regular file" in notice for notice in notices)
    assert time.monotonic() - started < 5


def test_the_data_folder_and_its_files_are_the_learners_alone(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("TUTOR_DATA_DIR", str(data))
    store = ProgressStore.open()
    other_login = sqlite3.connect(store.path, isolation_level=None)
    other_login.execute("BEGIN IMMEDIATE")  # so that the answer waits in the journal at exit
    store.record_attempt("l", "s", "1", "wrong")
    store.close(wait=0.2)
    other_login.execute("ROLLBACK")
    other_login.close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in files) and any(p.name == "progress.sqlite3" for p in files)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in [p for p in data.rglob("*") if p.is_dir()]:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_files_an_older_tutor_left_readable_are_made_private(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    monkeypatch.setenv("TUTOR_DATA_DIR", str(data))
    ProgressStore.open().close()
    data.chmod(0o755)
    (data / "progress.sqlite3").chmod(0o644)
    ProgressStore.open().close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "progress.sqlite3").stat().st_mode) == 0o600


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+14:00"])
def test_a_time_python_cannot_hold_is_skipped_and_counted(tmp_path, monkeypatch, capsys, at):
    from tutor.cli.main import main

    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # +14:00
    time.tzset()
    try:
        with ProgressStore.open() as store:
            store.record_attempt("chain-rule-scalar", "forward", "1", "wrong", skills=["chain-rule"])
            store.record_attempt("chain-rule-scalar", "loss", "2", "wrong", skills=["chain-rule"])
        db = sqlite3.connect(tmp_path / "progress.sqlite3")
        db.execute("UPDATE attempts SET at = ? WHERE step_id = 'loss'", (at,))
        db.commit()
        db.close()
        assert main(["review", "--json"]) == 0
        out = capsys.readouterr()
        assert json.loads(out.out)["upcoming"] and "1 row of your progress file holds a time" in out.err
        assert main(["progress"]) == 0
        assert "1 row of your progress file holds a time tutor never writes" in capsys.readouterr().out
        assert main(["progress", "--export", "json"]) == 0
        assert [a["answer"] for a in json.loads(capsys.readouterr().out)] == ["1"]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


URLS = [
    ("postgresql://stu01:hunter2secret@db.example/tutor", "hunter2secret"),
    ("postgresql://stu01:p@ss@word99@db.example/tutor", "p@ss@word99"),
    ("postgresql://stu01@db.example/tutor?password=opensesame1&sslmode=require", "opensesame1"),
    ("postgresql:///tutor?host=/run/pg&PASSWORD=CapsSecret9", "CapsSecret9"),
    ("host=db.example dbname=tutor user=stu01 password=kv-secret-1", "kv-secret-1"),
    ("host=db.example password = 'quoted secret 2' dbname=tutor", "quoted secret 2"),
    ("host=db.example password='it\\'s-secret3' dbname=tutor", "it\\'s-secret3"),
    ("postgresql://u:ab%zz-secret4@h/db", "ab%zz-secret4"),
]


@pytest.mark.parametrize("url, secret", URLS)
def test_a_password_in_any_form_of_connection_string_is_never_printed(url, secret):
    import psycopg

    assert secret not in redact(url, url) and "***" in redact(url, url)
    try:
        psycopg.connect(url + (" connect_timeout=1" if "://" not in url else ""), connect_timeout=1)
    except psycopg.Error as error:
        said = connect_problem(error, url).message
        assert secret not in said and secret.replace("\\'", "'") not in said
    store = ProgressStore.open(database=url)
    try:
        shown = f"{store.where} {store.warning or ''}"
        assert secret not in shown
    finally:
        store.close(wait=0)


def test_the_progress_modules_import_no_ui_or_torch():
    code = ("import sys, tutor.core.progress.store, tutor.core.progress.journal, tutor.core.progress.gradebook,"
            " tutor.core.progress.class_db; print(sorted({'textual', 'rich', 'torch'} & sys.modules.keys()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
