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


async def graph_with_gradients(pilot):
    """The loss answered in the lesson; on the graph ∂ℒ/∂y typed wrong (-5, not -6) and ∂ℒ/∂w typed as
    it follows from that (-5 · cos(w·x) · x): earned numbers, a slip, an error carried forward, and
    boxes still to fill."""
    from tutor.app.screens.graph import GraphScreen

    await settle(pilot)
    pilot.app.screen.go_to(2)                         # the loss step
    await steps(text="9")(pilot)
    pilot.app.screen.go_to(3)                         # back to dL_dw
    await steps("f4")(pilot)
    graph = pilot.app.screen
    assert isinstance(graph, GraphScreen)
    for keys, typed in (("f6",), "-5"), (("f7",), "-10 -5"):
        await pilot.press(*keys)
        await type_text(pilot, typed)
        await pilot.press("enter")
        await settle(pilot)
        for _ in range(100):
            if not graph.workers:
                break
            await pilot.pause(0.05)
        await settle(pilot)


@pytest.mark.parametrize("size", [SIZE, (60, 20)], ids=["80x24", "60x20"])
def test_graph_view_with_gradients(snap_compare, lesson_dir, size):
    app = make_app(lesson_dir, "sine-neuron-test", step="dL_dw")
    assert snap_compare(app, terminal_size=size, run_before=graph_with_gradients)


async def test_the_graph_snapshot_scenario_says_what_it_shows(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test", step="dL_dw")
    async with app.run_test(size=SIZE) as pilot:
        await graph_with_gradients(pilot)
        text = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "∂ℒ/∂y = ? (yours -5 ✗ first slip)" in text
        assert "✗ ∂ℒ/∂w: That is right for your ∂ℒ/∂y = -5; the slip is at y." in text
        assert "∂ℒ/∂w = ? (yours -10 -5, carried)" in text
        assert "= 9" in text and "∂y/∂w = ?" in text


def test_training_view_with_the_learners_update(snap_compare, lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test", step="update")

    async def run(pilot):
        await steps(text="[7.5708, 6.1416]")(pilot)
        await steps("f5")(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_help_on_the_lesson_screen(snap_compare, lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("f1"))
