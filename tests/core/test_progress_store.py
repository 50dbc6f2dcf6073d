"""The progress store keeps what a learner did and reports it back faithfully."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import platformdirs
import pytest

from tutor.cli.progress_table import format_progress
from tutor.core.progress.sqlite import SCHEMA_VERSION
from tutor.core.progress.store import ProgressStore, default_path


class FloatLike:
    """Stands in for a numpy.float32 timing, which sqlite3 would refuse as it is."""

    def __init__(self, value: float):
        self.value = value

    def __float__(self) -> float:
        return self.value


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "nested" / "data"  # not there yet: the store must create it
    monkeypatch.setenv("TUTOR_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def store(data_dir):
    with ProgressStore.open() as opened:
        yield opened


def test_store_is_created_in_the_tutor_data_dir(data_dir):
    with ProgressStore.open() as store:
        assert store.path == data_dir / "progress.sqlite3"
        assert store.persistent and store.warning is None
    assert store.path.is_file()


def test_without_tutor_data_dir_the_platform_data_dir_is_used(monkeypatch):
    monkeypatch.delenv("TUTOR_DATA_DIR", raising=False)
    assert default_path() == Path(platformdirs.user_data_dir("tutor")) / "progress.sqlite3"


def test_an_explicit_path_wins_over_the_environment(data_dir, tmp_path):
    with ProgressStore.open(tmp_path / "mine.sqlite3") as store:
        store.record_attempt("l", "s", "1", "correct")
    assert (tmp_path / "mine.sqlite3").is_file()
    assert not data_dir.exists()
    with ProgressStore.open(tmp_path) as in_folder:  # a folder gets the usual file name
        assert in_folder.path == tmp_path / "progress.sqlite3"


def test_attempts_come_back_after_reopening_with_every_field(data_dir):
    with ProgressStore.open() as first:
        first.record_attempt("chain", "dy_dw", "[2, 1]", "wrong", "off by a sign",
                             topic="calculus", step_kind="value", mistake="sign_flip",
                             seconds=12.5)
        first.record_attempt("chain", "dy_dw", "[-2, -1]", "correct", topic="calculus",
                             drill_seed=7)
    with ProgressStore.open() as second:
        second.record_attempt("chain", "loss", "9", "correct")
        wrong, drilled, later = second.attempts()
    assert (wrong.lesson_id, wrong.step_id, wrong.answer, wrong.verdict) == (
        "chain", "dy_dw", "[2, 1]", "wrong")
    assert (wrong.message, wrong.topic, wrong.step_kind, wrong.mistake, wrong.seconds) == (
        "off by a sign", "calculus", "value", "sign_flip", 12.5)
    assert wrong.drill_seed is None and drilled.drill_seed == 7
    assert wrong.at < drilled.at < later.at and wrong.at.endswith("+00:00")
    assert wrong.session_id == drilled.session_id != later.session_id


def test_an_unknown_verdict_is_refused_before_it_reaches_the_teacher(store):
    with pytest.raises(ValueError, match="verdict"):
        store.record_attempt("l", "s", "1", "right")
    assert store.attempts() == []


def test_a_call_the_database_would_refuse_does_not_block_later_answers(store):
    with pytest.raises(ValueError, match="answer must be text"):
        store.record_attempt("l", "a", None, "wrong")  # type: ignore[arg-type]
    store.record_attempt("l", "a", "2", "correct", seconds=FloatLike(3.5))
    assert [(a.answer, a.seconds) for a in store.attempts()] == [("2", 3.5)]
    assert store.warning is None


def test_position_is_the_latest_one_and_survives_reopening(data_dir):
    with ProgressStore.open() as store:
        assert store.last_position() is None
        store.set_position("chain", "forward")
        store.set_position("matmul", "shape")
    with ProgressStore.open() as store:
        assert store.last_position() == ("matmul", "shape")


def test_step_states_tell_solved_from_revealed_from_attempted(store):
    store.record_attempt("l", "solved_first", "1", "wrong")
    store.record_attempt("l", "solved_first", "2", "correct")
    store.record_reveal("l", "solved_first")  # looking afterwards does not undo solving
    store.record_reveal("l", "peeked")
    store.record_attempt("l", "peeked", "3", "correct")  # right only after seeing it
    store.record_reveal("l", "only_revealed")
    store.record_attempt("l", "trying", "4", "imprecise")
    store.record_attempt("other", "elsewhere", "5", "correct")
    assert store.step_states("l") == {
        "solved_first": "solved", "peeked": "revealed",
        "only_revealed": "revealed", "trying": "attempted",
    }


def test_drill_attempts_do_not_count_toward_lesson_states(store):
    store.record_attempt("l", "trying", "1", "wrong")
    store.record_attempt("l", "trying", "2", "correct", drill_seed=3)
    store.record_attempt("l", "drill_only", "2", "correct", drill_seed=3)
    assert store.step_states("l") == {"trying": "attempted"}
    assert store.lesson_states()["l"].attempts == 1


def test_lesson_states_and_status_for_the_lesson_list(store):
    for step in ("a", "b"):
        store.record_attempt("done", step, "1", "correct")
    store.record_attempt("peeked", "a", "1", "correct")
    store.record_reveal("peeked", "b")
    store.record_attempt("half", "a", "1", "wrong")
    store.record_attempt("half", "a", "1", "correct")
    states = store.lesson_states()
    assert set(states) == {"done", "peeked", "half"}
    half = states["half"]
    assert (half.solved, half.revealed, half.attempted, half.attempts, half.accuracy) == (
        1, 0, 0, 2, 0.5)
    peeked_answer = next(a for a in store.attempts() if a.lesson_id == "peeked")
    assert states["peeked"].last_activity > peeked_answer.at  # the later reveal counts
    status = {lesson: store.lesson_status(lesson, 2) for lesson in
              ("done", "peeked", "half", "untouched")}
    assert status == {"done": "solved", "peeked": "revealed", "half": "in progress",
                      "untouched": "not started"}


def test_topic_mastery_counts_drills_too(store):
    store.record_attempt("l", "a", "1", "correct", topic="calculus")
    store.record_attempt("l", "a", "1", "wrong", topic="calculus", drill_seed=1)
    store.record_attempt("l", "a", "1", "correct", topic="calculus", drill_seed=2)
    store.record_attempt("m", "x", "1", "wrong_shape", topic="linalg")
    mastery = store.topic_mastery()
    calculus = mastery["calculus"]
    assert (calculus.attempts, calculus.correct, calculus.drill_attempts) == (3, 2, 2)
    assert calculus.accuracy == pytest.approx(2 / 3)
    assert calculus.drill_accuracy == 0.5
    assert mastery["linalg"].accuracy == 0.0


def test_most_missed_ranks_steps_by_misses_across_lessons_and_drills(store):
    for seed in (None, 1, 2):
        store.record_attempt("chain", "dy_dw", "0", "wrong", topic="calculus", drill_seed=seed)
    store.record_attempt("chain", "dy_dw", "1", "correct", topic="calculus")
    store.record_attempt("mm", "shape", "2 3", "wrong_shape", topic="linalg")
    store.record_attempt("mm", "shape", "3", "unparsed", topic="linalg")
    store.record_attempt("chain", "loss", "8", "imprecise", topic="calculus")
    assert [tuple(m) for m in store.most_missed()] == [
        ("calculus", "dy_dw", 3), ("linalg", "shape", 2), ("calculus", "loss", 1)]
    assert len(store.most_missed(limit=1)) == 1


def _record_awkward_answers(store: ProgressStore) -> None:
    store.record_attempt("l", "a", 'say "hi", then\nnewline', "wrong", "a, b",
                         topic="t", step_kind="shape", seconds=1.25, drill_seed=4)
    store.record_attempt("l", "b", "[1, 2]", "correct")


def test_csv_export_has_a_header_and_every_attempt(store):
    _record_awkward_answers(store)
    out = io.StringIO()
    store.export_csv(out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["answer"] for row in rows] == ['say "hi", then\nnewline', "[1, 2]"]
    assert rows[0]["message"] == "a, b" and rows[0]["drill_seed"] == "4"
    assert rows[1]["topic"] == "" and rows[1]["verdict"] == "correct"
    assert set(rows[0]) >= {"id", "at", "lesson_id", "step_kind", "seconds", "session_id"}


def test_json_export_is_a_list_of_every_attempt(store):
    _record_awkward_answers(store)
    out = io.StringIO()
    store.export_json(out)
    exported = json.loads(out.getvalue())
    assert exported == [vars(attempt) for attempt in store.attempts()]
    assert exported[0]["seconds"] == 1.25 and exported[1]["mistake"] is None


def test_progress_table_fits_80_columns_and_names_the_database(store, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # an 80-column terminal, whatever runs the tests
    store.record_attempt("chain", "a", "1", "correct", topic="calculus")
    store.record_attempt("chain", "b", "1", "wrong", topic="calculus")
    store.record_attempt("chain", "b", "2", "correct", topic="calculus", drill_seed=9)
    lessons = [("chain", "calculus", "The chain rule, worked entirely by hand", 2),
               ("mm", "linalg", "Matrix multiply", 3)]
    table = format_progress(store, lessons)
    assert f"  {store.path}" in table.splitlines()  # own line: a path is as long as it is
    assert all(len(line) <= 80 for line in table.splitlines() if str(store.path) not in line)
    lines = table.splitlines()
    assert "calculus" in lines and "linalg" in lines  # each topic on a line of its own
    chain_row = next(line for line in lines if "The chain rule" in line)
    assert "in progress" in chain_row and "1/2" in chain_row and "50%" in chain_row
    mm_row = next(line for line in lines if "Matrix multiply" in line)
    assert "not started" in mm_row and "0/3" in mm_row
    assert "calculus: 1 answered, 100% right" in table


def test_progress_table_leaves_out_drills_when_there_are_none(store):
    store.record_attempt("chain", "a", "1", "correct", topic="calculus")
    assert "Drills" not in format_progress(store, [("chain", "calculus", "Chain", 1)])


def test_answers_recorded_from_worker_threads_are_all_kept(store):
    def answer_many(worker: int) -> None:
        for n in range(25):
            store.record_attempt("l", f"w{worker}", str(n), "wrong")

    workers = [threading.Thread(target=answer_many, args=(w,)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(store.attempts()) == 100 and store.warning is None


def test_a_locked_database_delays_saving_without_blocking_or_losing_the_answer(data_dir):
    store = ProgressStore.open()
    other_login = sqlite3.connect(store.path, isolation_level=None)
    other_login.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    saved = store.record_attempt("l", "a", "1", "correct")
    assert time.monotonic() - started < 4.0  # not the 5 s busy timeout
    assert not saved and store.step_states("l") == {"a": "solved"}  # shown as it will be
    deadline = time.monotonic() + 5
    while "could not be saved" not in (store.warning or "") and time.monotonic() < deadline:
        time.sleep(0.02)
    # no count in it: a count said once would be stale after the next answer
    assert "could not be saved just now" in store.warning and "kept safe" in store.warning
    other_login.execute("ROLLBACK")
    assert store.flush(timeout=10) and store.warning is None
    store.record_attempt("l", "b", "2", "correct")
    assert store.close() == []
    with ProgressStore.open() as reopened:
        assert [a.answer for a in reopened.attempts()] == ["1", "2"]
    other_login.close()


def test_answers_still_locked_out_at_exit_are_kept_and_saved_next_time(data_dir):
    store = ProgressStore.open()
    other_login = sqlite3.connect(store.path, isolation_level=None)
    other_login.execute("BEGIN IMMEDIATE")
    store.record_attempt("conv", "out_len", "7", "wrong", topic="convolution")
    notices = store.close(wait=0.3)
    assert len(notices) == 1 and "1 change could not be saved" in notices[0]
    assert "database is locked" in notices[0] and "saved the next time tutor starts" in notices[0]
    kept = list((data_dir / "progress.sqlite3.unsaved").iterdir())
    assert len(kept) == 1 and str(kept[0]) in notices[0]
    other_login.execute("ROLLBACK")
    other_login.close()
    with ProgressStore.open() as reopened:
        assert reopened.flush(timeout=10)
        assert [(a.step_id, a.answer) for a in reopened.attempts()] == [("out_len", "7")]
    assert not kept[0].exists()
    with ProgressStore.open() as again:  # saved once, however often it was retried
        assert len(again.attempts()) == 1


def test_answers_that_cannot_even_be_kept_are_named_at_exit(data_dir):
    store = ProgressStore.open()
    blocker = data_dir / "progress.sqlite3.unsaved"
    blocker.write_text("a file where the folder would go")
    other_login = sqlite3.connect(store.path, isolation_level=None)
    other_login.execute("BEGIN IMMEDIATE")
    store.record_attempt("conv", "out_len", "7", "wrong")
    store.record_reveal("conv", "weights")
    notices = store.close(wait=0.2)
    other_login.execute("ROLLBACK")
    other_login.close()
    assert notices[0] == "Not saved:"
    assert notices[1].startswith("  conv › out_len: 7 (wrong) — could not keep it either")
    assert notices[2].startswith("  conv › weights: revealed — ")


def test_a_database_from_a_newer_tutor_is_kept_not_replaced(data_dir):
    data_dir.mkdir(parents=True)
    newer_version = SCHEMA_VERSION + 1
    newer = sqlite3.connect(data_dir / "progress.sqlite3")
    newer.execute(f"PRAGMA user_version = {newer_version}")
    newer.close()
    with ProgressStore.open() as store:
        assert not store.persistent and "newer version" in store.warning
    assert list(data_dir.iterdir()) == [data_dir / "progress.sqlite3"]
    kept = sqlite3.connect(data_dir / "progress.sqlite3")
    assert kept.execute("PRAGMA user_version").fetchone()[0] == newer_version
    kept.close()


def test_the_progress_modules_import_no_ui_or_torch():
    code = ("import sys, tutor.core.progress.store, tutor.core.progress.review, tutor.core.progress.class_db; "
            "print(sorted({'textual', 'rich', 'torch'} & sys.modules.keys()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


def test_a_kept_file_holding_anything_but_our_own_writes_is_not_run(data_dir):
    ProgressStore.open().close()
    kept = data_dir / "progress.sqlite3.unsaved"
    kept.mkdir()
    good = {"kind": "reveals", "label": "l › s: revealed",
            "values": {"lesson_id": "l", "step_id": "s", "at": "2026-11-28T09:00:00+00:00",
                       "write_id": "w1", "skills": None}}
    hostile = [
        {"kind": "attempts", "label": "x", "values": {"answer) VALUES (1); DROP TABLE attempts; --": 1}},
        {"kind": "sqlite_master", "label": "x", "values": {"name": "x"}},
        {"kind": "reveals", "label": "x", "values": {"lesson_id": ["not", "text"]}},
        "just a string",
    ]
    (kept / "old.jsonl").write_text("\n".join(json.dumps(w) for w in [good, *hostile]) + "\nnot json\n")
    with ProgressStore.open() as store:
        assert store.flush(timeout=10)
        assert store.step_states("l") == {"s": "revealed"}
        assert store.attempts() == []


def test_the_progress_columns_are_defined_once_and_a_fresh_file_has_exactly_them(data_dir):
    from dataclasses import fields

    from tutor.core.progress.columns import TABLES, WRITE_COLUMNS
    from tutor.core.progress.report import Attempt

    with ProgressStore.open() as store:
        path = store.path
    db = sqlite3.connect(path)
    try:
        for table, columns in TABLES.items():
            assert tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})")) == columns
    finally:
        db.close()
    # an export holds every attempt column but the write id, which only makes retries safe
    assert {f.name for f in fields(Attempt)} == set(TABLES["attempts"]) - {"write_id"}
    assert "id" not in WRITE_COLUMNS["attempts"] and "write_id" in WRITE_COLUMNS["attempts"]
