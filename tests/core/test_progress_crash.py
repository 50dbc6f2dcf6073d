"""The progress store survives a killed terminal, two logins at once, damage and no disk."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tutor.cli.progress_table import format_progress
from tutor.core.progress.sqlite import SCHEMA_VERSION
from tutor.core.progress.store import ProgressStore

REPO = Path(__file__).resolve().parents[2]

# Prints each answer only once the store says it is saved, i.e. after its commit.
WRITE_FOREVER = """
import sys
from pathlib import Path
from tutor.core.progress.store import ProgressStore
store = ProgressStore.open(Path(sys.argv[1]))
assert store.persistent and store.warning is None, store.warning
n = 0
while True:
    store.record_attempt("crash", "step", str(n), "wrong", topic="t", seconds=0.5)
    assert store.flush(timeout=30)
    print(n, flush=True)
    n += 1
"""

# Waits for the go file so both logins create the database and write at the same moment.
WRITE_WHEN_TOLD = """
import sys, time
from pathlib import Path
from tutor.core.progress.store import ProgressStore
path, go, login, count = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
store = ProgressStore.open(path)
assert store.persistent and store.warning is None, store.warning
for n in range(count):
    store.record_attempt("shared", login, f"{login}-{n}", "correct")
assert store.close() == []
assert store.warning is None, store.warning
"""


@pytest.fixture
def spawn():
    """Starts `python -c script args...`; whatever a failed test leaves running is killed."""
    children: list[subprocess.Popen] = []

    def start(script: str, *args: object) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=REPO,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.communicate()


def _integrity(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def test_killing_the_terminal_loses_no_committed_answer(tmp_path, spawn):
    path = tmp_path / "progress.sqlite3"
    child = spawn(WRITE_FOREVER, path)
    reported = []
    while len(reported) < 150:  # well into the loop, with writes still under way
        line = child.stdout.readline()
        assert line, child.stderr.read()
        reported.append(line.strip())
    child.send_signal(signal.SIGKILL)
    child.wait()
    reported += child.stdout.read().split()
    assert child.returncode == -signal.SIGKILL
    assert _integrity(path) == "ok"
    with ProgressStore.open(path) as store:
        saved = {attempt.answer for attempt in store.attempts()}
        assert store.warning is None
    assert set(reported) <= saved


def test_logins_writing_at_once_keep_every_answer(tmp_path, spawn):
    # Two logins is the usual case; four make a race on first opening more likely to show.
    names = ("ssh1", "ssh2", "ssh3", "ssh4")
    path, go, count = tmp_path / "progress.sqlite3", tmp_path / "go", 40
    logins = [spawn(WRITE_WHEN_TOLD, path, go, login, count) for login in names]
    for login in logins:
        assert login.stdout.readline().strip() == "ready", login.stderr.read()
    go.touch()
    for login in logins:
        assert login.wait(timeout=30) == 0, login.stderr.read()
    with ProgressStore.open(path) as store:
        answers = [attempt.answer for attempt in store.attempts()]
    expected = {f"{login}-{n}" for login in names for n in range(count)}
    assert len(answers) == len(expected) and set(answers) == expected
    assert _integrity(path) == "ok"


def _truncated_real_database(path: Path) -> None:
    with ProgressStore.open(path) as store:
        for n in range(300):
            store.record_attempt("l", f"s{n}", "x" * 200, "wrong")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def _right_version_but_no_tables(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")  # as tutor leaves it, so opening changes no byte
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    db.close()


def _a_time_that_is_not_a_date(path: Path) -> None:
    with ProgressStore.open(path) as store:
        store.record_attempt("l", "s", "1", "wrong")
    db = sqlite3.connect(path)
    db.execute("UPDATE attempts SET at = 'yesterday-ish'")
    db.commit()
    db.close()


@pytest.mark.parametrize("damage", [_random_bytes, _truncated_real_database,
                                    _right_version_but_no_tables, _a_time_that_is_not_a_date])
def test_a_damaged_file_is_moved_aside_and_a_fresh_store_works(tmp_path, monkeypatch, damage):
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path))
    path = tmp_path / "progress.sqlite3"
    damage(path)
    for sidecar in tmp_path.glob("progress.sqlite3-*"):
        sidecar.unlink()  # what a copied file looks like: the database alone
    damaged_bytes = path.read_bytes()
    with ProgressStore.open() as store:
        moved = [p for p in tmp_path.iterdir() if p.name.startswith("progress.sqlite3.corrupt-")]
        assert len(moved) == 1
        assert re.fullmatch(r"progress\.sqlite3\.corrupt-\d{8}-\d{6}", moved[0].name)
        assert moved[0].read_bytes() == damaged_bytes  # kept for anyone who can rescue it
        assert store.persistent and str(moved[0]) in store.warning
        store.record_attempt("l", "a", "1", "correct")
        assert store.step_states("l") == {"a": "solved"}
    with ProgressStore.open() as reopened:
        assert reopened.warning is None and len(reopened.attempts()) == 1


@pytest.fixture
def unwritable_data_dir(tmp_path) -> Path:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        (locked / "probe").touch()
    except PermissionError:
        yield locked
    else:
        # Running as root, where permissions do not stop writes: a folder under a regular
        # file can never be created, whoever asks.
        (tmp_path / "afile").write_text("not a folder")
        yield tmp_path / "afile" / "sub"
    finally:
        locked.chmod(0o700)


def test_an_unwritable_data_dir_still_keeps_the_session_in_memory(
        unwritable_data_dir, monkeypatch):
    monkeypatch.setenv("TUTOR_DATA_DIR", str(unwritable_data_dir))
    with ProgressStore.open() as store:
        assert not store.persistent and store.path is None
        assert store.warning.startswith("Progress is not being saved: ")
        assert str(unwritable_data_dir) in store.warning
        store.record_attempt("l", "a", "1", "wrong", topic="t")
        store.record_attempt("l", "a", "2", "correct", topic="t")
        store.set_position("l", "a")
        assert store.step_states("l") == {"a": "solved"}
        assert store.last_position() == ("l", "a")
        assert "Progress is not being saved" in format_progress(store, [("l", "t", "L", 1)])
