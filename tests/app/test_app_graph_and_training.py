"""The graph view and the training view, opened from a lesson with a key and closed with Esc."""

import threading

from app_helpers import answer, make_app, screen_text, settle

from tutor.app.screens.graph import GraphScreen
from tutor.app.screens.lesson import LessonScreen
from tutor.app.screens.train import TrainScreen

SIZE = (80, 24)


async def test_the_graph_shows_no_unearned_value_or_gradient(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, GraphScreen)
        text = screen_text(app)
        assert "sin(w @ x) − b" in text and "= [2 1]" in text  # the givens, as given
        assert "= -1" not in text and "= 9" not in text and "= ?" in text  # y and L not yet answered
        assert "∂ℒ/∂w = ?" in text and "∂y/∂w = ?" in text  # a gradient to fill in, not given
        await pilot.press("escape")
        assert isinstance(app.screen, LessonScreen)


async def test_the_graph_shows_a_gradient_once_the_learner_earned_it(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test", step="dL_dw")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert "∂ℒ/∂w = ?" in screen_text(app)
        await pilot.press("escape")
        assert "✓ Correct." in await answer(pilot, "-12 -6")
        await pilot.press("f4")
        await settle(pilot)
        text = screen_text(app)
        assert "∂ℒ/∂w = [-12 -6]" in text
        await pilot.press("f4")  # the same key closes it
        assert isinstance(app.screen, LessonScreen)


async def test_the_training_view_plots_sgd_and_replots_for_a_new_rate_and_step_count(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, TrainScreen)
        text = screen_text(app)
        assert "Loss over 40 SGD steps, lr 0.5" in text
        assert "lr 0.5 · 40 steps · loss 9 →" in text
        await pilot.press("f3")  # lr × 2
        await settle(pilot)
        assert "lr 1 · 40 steps · loss 9 →" in screen_text(app)
        await pilot.press("f7")  # steps × 2
        await settle(pilot)
        assert "lr 1 · 80 steps" in screen_text(app)
        await pilot.press("f2", "f2", "f6")
        await settle(pilot)
        assert "lr 0.25 · 40 steps" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, LessonScreen)


async def test_the_learners_own_update_is_marked_on_the_plot(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test", step="update")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "[7.5708, 6.1416]")
        await pilot.press("f5")
        await settle(pilot)
        text = screen_text(app)
        assert "your update: loss 5.5212 (◆)" in text
        assert "◆" in text.split("your update")[0]  # the point itself, on the plot


async def test_training_runs_in_the_background_and_the_screen_keeps_answering(lesson_dir, monkeypatch):
    import tutor.app.screens.train as training

    release = threading.Event()
    real = training.run_sgd

    def slow_run(*args, **kwargs):
        release.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "run_sgd", slow_run)
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await pilot.pause()
        assert "Running SGD: lr 0.5, 40 steps…" in screen_text(app)
        await pilot.press("f3")  # keys still work while a run is going
        await pilot.pause()
        assert "Running SGD: lr 1, 40 steps…" in screen_text(app)
        release.set()
        await settle(pilot)
        assert "lr 1 · 40 steps · loss 9 →" in screen_text(app)
