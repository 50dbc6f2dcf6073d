"""Pictures of the main views at 80x24, compared with approved SVGs (update with --snapshot-update)."""

import pytest
from app_helpers import make_app, settle, type_text

import tutor._start_time

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def fixed_start_time(monkeypatch):
    # the status line says how fast the app started; a picture must not depend on it
    monkeypatch.setattr(tutor._start_time, "elapsed_ms", lambda: 42.0)


def steps(*keys: str, text: str = ""):
    """A run_before that waits for PyTorch, presses keys, types text and waits for every worker."""
    async def run(pilot):
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if text:
            await type_text(pilot, text)
            await pilot.press("enter")
        await settle(pilot)

    return run


def test_lesson_list(snap_compare, broken_dir):
    assert snap_compare(make_app(broken_dir), terminal_size=SIZE, run_before=steps())


def test_lesson_with_a_wrong_matrix_answer(snap_compare, lesson_dir):
    app = make_app(lesson_dir, "conv-test")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps(text="3 -4; 1 7"))


def test_graph_view_with_gradients(snap_compare, lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test", step="dL_dw")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("f4"))


def test_training_view_with_the_learners_update(snap_compare, lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test", step="update")

    async def run(pilot):
        await steps(text="[7.5708, 6.1416]")(pilot)
        await steps("f5")(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_help_on_the_lesson_screen(snap_compare, lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("f1"))
