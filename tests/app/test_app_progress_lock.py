"""An answer given while another login holds the database's write lock is saved, not dropped."""

from __future__ import annotations

import subprocess
import sys
import time

from app_helpers import answer, make_app, settle

from tutor.core.progress.store import ProgressStore, default_path

# Holds SQLite's write lock until its stdin closes, like a second login in the middle of a write.
HOLD_THE_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
"""


async def test_an_answer_given_under_another_logins_lock_is_in_the_database_afterwards(lesson_dir):
    ProgressStore.open().close()  # the learner's database exists, as on any second day
    other = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(default_path())],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "locked"
        app = make_app(lesson_dir, "sine-neuron-test")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            started = time.monotonic()
            assert "✓ Correct." in await answer(pilot, "-1")
            assert time.monotonic() - started < 4  # the UI did not sit out the 5 s busy timeout
            assert app.screen.states.get("forward") == "solved"
            other.stdin.close()  # the other login finishes its write
            other.wait(timeout=10)
            assert app.store.flush(timeout=10)
            await settle(pilot)
            told = [n.message for n in app._notifications]
            assert len([t for t in told if "database is locked" in t]) == 1  # once, not per answer
            assert told[-1] == "Progress is being saved again; nothing was lost."
        assert app.exit_notices == []
    finally:
        if other.poll() is None:
            other.kill()
    with ProgressStore.open() as reopened:
        assert [(a.step_id, a.answer, a.verdict) for a in reopened.attempts()] == [
            ("forward", "-1", "correct")]


async def test_an_answer_still_locked_out_at_quit_is_kept_and_the_learner_told(lesson_dir):
    ProgressStore.open().close()
    other = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(default_path())],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "locked"
        app = make_app(lesson_dir, "sine-neuron-test")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert "✓ Correct." in await answer(pilot, "-1")
            await pilot.press("ctrl+q")
        assert len(app.exit_notices) == 1
        assert "could not be saved" in app.exit_notices[0]
        assert "saved the next time tutor starts" in app.exit_notices[0]
    finally:
        other.stdin.close()
        other.wait(timeout=10)
    with ProgressStore.open() as next_start:
        assert next_start.flush(timeout=10)
        assert [(a.step_id, a.answer) for a in next_start.attempts()] == [("forward", "-1")]
