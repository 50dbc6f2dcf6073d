"""Skills are remembered with FSRS from every checked answer; what is forgotten soonest comes back first."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tutor.cli.main import main
from tutor.core.lesson.catalog import Catalog
from tutor.core.lesson.load import parse_lesson
from tutor.core.progress.review import due, memories, review_lessons
from tutor.core.progress.skills import SKILLS, TOPIC_SKILLS, missed_skills, prerequisites, skills_for
from tutor.core.progress.store import ProgressStore


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def _answer(store, lesson_id, step_id, skills, verdict="correct", mistake=None):
    store.record_attempt(lesson_id, step_id, "x", verdict, skills=skills, mistake=mistake)


def _simulated_week(store, clock) -> None:
    """Monday: a conv lesson with the output size missed twice; then a review a day of the rest."""
    _answer(store, "conv1d-dilation", "plain", ["cross-correlation"])
    _answer(store, "conv1d-dilation", "length", ["conv-output-size"], "wrong", "padding ignored")
    _answer(store, "conv1d-dilation", "length", ["conv-output-size"], "wrong")
    _answer(store, "conv1d-dilation", "length", ["conv-output-size"])
    _answer(store, "sine-neuron", "dy_dw", ["chain-rule"])
    _answer(store, "sine-neuron", "update", ["sgd-update"])
    _answer(store, "jacobian-shapes", "J_L_w", ["jacobian-shapes"])
    for _ in range(6):
        clock.advance(days=1)
        for memory in due(store):
            if memory.skill != "conv-output-size":  # the learner skips it all week
                _answer(store, "review", "step", [memory.skill])


def test_a_skill_missed_twice_is_due_sooner_than_the_skills_answered_right(tmp_path):
    clock = FakeClock(datetime(2026, 11, 16, 9, 0, tzinfo=UTC))
    with ProgressStore.open(tmp_path, clock=clock) as store:
        _simulated_week(store, clock)
        remembered = {m.skill: m for m in memories(store)}
        due_now = [m.skill for m in due(store)]
    conv = remembered.pop("conv-output-size")
    assert conv.misses == 2 and conv.due <= clock.now
    assert due_now[0] == "conv-output-size"  # most overdue first
    for skill, other in remembered.items():
        assert conv.due < other.due, skill
        assert conv.recall < other.recall, skill


def test_tutor_review_json_shows_the_missed_skill_due_first(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path))
    # the week ends now, so the command (on the real clock) looks at the end of it
    clock = FakeClock(datetime.now(UTC) - timedelta(days=6, minutes=5))
    with ProgressStore.open(clock=clock) as store:
        _simulated_week(store, clock)
    assert main(["review", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    first = listed["due"][0]
    assert first["skill"] == "conv-output-size" and first["title"] == "Conv and pool output size"
    assert first["due_now"] and 0 < first["recall"] < 1
    others = listed["due"][1:] + listed["upcoming"]
    assert others and all(o["due"] > first["due"] and o["recall"] > first["recall"] for o in others)


def test_a_named_mistake_counts_against_its_own_skill_only(tmp_path):
    clock = FakeClock(datetime(2026, 11, 16, 9, 0, tzinfo=UTC))
    with ProgressStore.open(tmp_path, clock=clock) as store:
        both = ["conv-output-size", "sgd-update"]
        _answer(store, "l", "s", both)
        clock.advance(days=3)
        _answer(store, "l", "s", both, "wrong", "update with the wrong sign")
        remembered = {m.skill: m for m in memories(store)}
    assert remembered["sgd-update"].misses == 1 and remembered["conv-output-size"].misses == 0
    assert missed_skills(("conv-output-size",), "sign flipped") == ("conv-output-size",)


def test_a_review_of_a_later_skill_credits_the_prerequisites_underneath(tmp_path):
    clock = FakeClock(datetime(2026, 11, 16, 9, 0, tzinfo=UTC))
    with ProgressStore.open(tmp_path, clock=clock) as store:
        _answer(store, "l", "a", ["local-derivatives"])
        _answer(store, "l", "b", ["graph-forward"])
        before = {m.skill: m.due for m in memories(store)}
        clock.advance(days=2)
        _answer(store, "l", "c", ["chain-rule"])  # uses both underneath
        after = {m.skill: (m.due, m.reviews) for m in memories(store)}
    assert after["local-derivatives"][0] > before["local-derivatives"]
    assert after["local-derivatives"][1] == 2 and after["graph-forward"][1] == 2
    assert "softmax" not in after  # never learned, so not credited
    assert prerequisites(["softmax-ce-gradient"])[:2] == ("cross-entropy", "chain-rule")


def test_every_built_in_step_names_skills_from_the_vocabulary():
    catalog = Catalog.load()
    for entry in catalog.entries:
        for step in entry.lesson.steps:
            named = skills_for(entry.lesson, step)
            assert named, (entry.id, step.id)
            if entry.lesson.skills or step.skills:  # tagged lessons use the documented names
                assert set(named) <= SKILLS.keys(), (entry.id, step.id, named)
    assert set().union(*TOPIC_SKILLS.values()) <= SKILLS.keys()
    assert all(set(s.needs) <= SKILLS.keys() for s in SKILLS.values())


def test_a_step_without_skills_falls_back_to_its_lesson_then_its_topic():
    text = '''
id = "mine"
topic = "my-topic"
skills = ["chain-rule"]
[given]
x = 2
[[steps]]
id = "own"
ask = "x * 3"
skills = ["my-own-skill"]
[[steps]]
id = "inherits"
ask = "x + 1"
'''
    lesson = parse_lesson(text, "mine.toml")
    assert skills_for(lesson, lesson.step("own")) == ("my-own-skill",)
    assert skills_for(lesson, lesson.step("inherits")) == ("chain-rule",)
    bare = parse_lesson(text.replace('skills = ["chain-rule"]\n', ""), "mine.toml")
    assert skills_for(bare, bare.step("inherits")) == ("my-topic",)


def test_skills_that_are_not_a_list_of_names_are_refused_with_the_step():
    from tutor.core.errors import LessonErrors

    with pytest.raises(LessonErrors, match=r"step 'a' skills: must be a list of at most 10 skill names"):
        parse_lesson('[given]\nx = 1\n[[steps]]\nid = "a"\nask = "x"\nskills = "chain rule"\n', "l.toml")


def test_the_review_run_puts_the_most_overdue_skills_lessons_first():
    lessons = [e.lesson for e in Catalog.load().entries]
    chosen = review_lessons(lessons, ["conv-output-size", "chain-rule"])
    assert chosen and all(l.drill for l in chosen)
    first = chosen[0]
    assert "conv-output-size" in {s for st in first.steps for s in skills_for(first, st)}


def test_tutor_review_with_nothing_due_says_so_without_opening_the_app(capsys):
    assert main(["review"]) == 0
    assert capsys.readouterr().out.startswith("Nothing to review yet")


def test_revealing_an_answer_counts_as_not_recalling_its_skills(tmp_path):
    clock = FakeClock(datetime(2026, 11, 16, 9, 0, tzinfo=UTC))
    with ProgressStore.open(tmp_path, clock=clock) as store:
        _answer(store, "l", "solved", ["softmax"])
        store.record_reveal("l", "peeked", skills=["cross-entropy"])
        remembered = {m.skill: m for m in memories(store)}
    assert remembered["cross-entropy"].misses == 1
    assert remembered["cross-entropy"].due < remembered["softmax"].due


def test_a_database_from_before_skills_is_brought_up_to_date(tmp_path):
    import sqlite3

    from tutor.core.progress.sqlite import MIGRATIONS

    old = sqlite3.connect(tmp_path / "progress.sqlite3")
    for statement in MIGRATIONS[0]:
        old.execute(statement)
    old.execute("PRAGMA user_version = 1")
    old.execute("INSERT INTO attempts (at, lesson_id, step_id, answer, verdict, message, session_id)"
                " VALUES ('2026-11-01T09:00:00+00:00', 'l', 's', '1', 'correct', '', 'x')")
    old.commit()
    old.close()
    with ProgressStore.open(tmp_path) as store:
        assert store.warning is None and [a.answer for a in store.attempts()] == ["1"]
        store.record_reveal("l", "t", skills=["softmax"])
        assert [m.skill for m in memories(store)] == ["softmax"]
