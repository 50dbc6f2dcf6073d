"""Drills: fresh variants per seed, reproducible byte for byte, each a valid lesson that solves."""

import os
import subprocess
import sys

import pytest

from tutor.core.check.step import solve
from tutor.core.drill.run import DrillRun
from tutor.core.drill.variants import DrillError, emit_variant, resolve_topic, variant
from tutor.core.lesson.catalog import Catalog
from tutor.core.lesson.load import parse_lesson

CATALOG = Catalog.load()
DRILL_TOPICS = ["autograd", "convolution", "jacobians", "mlp", "layer-costs"]


def test_every_seed_lesson_can_be_drilled():
    undrillable = [e.id for e in CATALOG.entries if e.lesson and not e.lesson.drill]
    assert undrillable == []


@pytest.mark.parametrize("topic", DRILL_TOPICS)
def test_eight_seeds_give_at_least_six_variants_that_validate_and_solve(topic):
    lessons = resolve_topic(CATALOG, topic)
    texts = [emit_variant(lessons, seed) for seed in range(8)]
    assert len(set(texts)) >= 6
    for seed, text in enumerate(texts):
        lesson = parse_lesson(text, f"variant-{seed}.toml")  # the emitted file is a valid lesson
        results, errors = solve(lesson)
        assert errors == [] and len(results) == len(lesson.steps)
        assert "[drill]" not in text and f"--seed {seed}" in text


def test_a_variant_changes_the_givens_not_the_questions():
    lessons = resolve_topic(CATALOG, "sine-neuron")
    a, b = variant(lessons, 1), variant(lessons, 2)
    assert [s.ask.text for s in a.steps] == [s.ask.text for s in lessons[0].steps]
    assert a.given != b.given


def test_the_same_seed_gives_the_same_bytes_in_another_process():
    here = emit_variant(resolve_topic(CATALOG, "convolution"), 1234)
    code = ("import sys; from tutor.core.lesson.catalog import Catalog; from tutor.core.drill.variants import *; from tutor.core.drill.run import *;"
            "sys.stdout.write(emit_variant(resolve_topic(Catalog.load(), 'convolution'), 1234))")
    env = {**os.environ, "PYTHONHASHSEED": "987"}
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           check=True, timeout=60).stdout
    assert there == here


def test_drill_emit_on_the_command_line(capsys):
    from tutor.cli.main import main

    assert main(["drill", "mlp", "--seed", "7", "--emit"]) == 0
    first = capsys.readouterr().out
    assert main(["drill", "mlp", "--seed", "7", "--emit"]) == 0
    assert capsys.readouterr().out == first
    assert main(["drill", "mlp", "--emit"]) == 2
    assert main(["drill", "no-such-topic", "--seed", "1", "--emit"]) == 2
    assert "topics with drills" in capsys.readouterr().err


def test_unknown_topics_say_which_exist():
    with pytest.raises(DrillError, match="topics with drills: autograd"):
        resolve_topic(CATALOG, "nope")


def test_a_drill_run_keeps_streak_accuracy_and_what_went_wrong():
    run = DrillRun(resolve_topic(CATALOG, "autograd"), seed=40)
    first = run.current()
    step = first.steps[0].id
    run.record(first, step, "correct")
    run.record(first, step, "correct")
    run.record(first, step, "unparsed")          # not an attempt
    run.record(first, step, "wrong", mistake="sign flipped")
    run.record(first, step, "correct")
    assert (run.attempts, run.correct, run.streak, run.best_streak) == (4, 3, 1, 2)
    assert run.accuracy == 0.75
    second = run.next_item()
    assert run.current_seed == 41 and second.id.endswith("-drill-41")
    assert run.seconds_per_item is not None
    labels = dict(run.summary())
    assert labels[f"{first.id.rsplit('-drill-', 1)[0]}: {step}"] == 1
    assert labels["mistake: sign flipped"] == 1


def test_drawn_options_keep_the_text_the_lesson_wrote():
    from tutor.core.drill.draw import draw_givens, rng_for
    from tutor.core.expr.syntax import DRILL_CALLS, parse_expr

    drill = {"w": parse_expr("choice([pi/6, 2*pi/3, -1, 0.5], (8,))", DRILL_CALLS)}
    drawn = draw_givens(drill, rng_for("t", 3))["w"]
    assert set(drawn) <= {"pi/6", "2*pi/3", -1, 0.5} and len(drawn) == 8


def test_a_lessons_own_mistake_is_summed_up_by_its_first_sentence():
    run = DrillRun(resolve_topic(CATALOG, "autograd"), seed=3)
    lesson = run.current()
    run.record(lesson, lesson.steps[0].id, "wrong", mistake="You flipped the kernel")
    assert ("mistake: You flipped the kernel", 1) in run.summary()


def test_a_skipped_variant_is_not_an_answered_one_and_a_reveal_is_not_an_answer():
    from tutor.app.screens.drill import summary_text

    run = DrillRun(resolve_topic(CATALOG, "autograd"), seed=7)
    first = run.current()
    step = first.steps[0].id
    run.record(first, step, "correct")
    run.next_item()                     # answered, then on
    run.next_item()                     # skipped with F8: nothing answered
    third = run.current()
    run.record(third, third.steps[0].id, "revealed")
    assert (run.variants, run.skipped, run.attempts, run.reveals) == (2, 1, 1, 1)
    assert len(run.item_seconds) == 1   # time per variant: the answered one only
    text = summary_text(run, "autograd").plain
    assert "Variants answered: 2   skipped: 1" in text
    assert "Answers: 1   right: 1 (100%)   revealed: 1" in text
