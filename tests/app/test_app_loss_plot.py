"""The loss plot tells the learner's own story: the update step's α, reachable lr keys, and ◆ at their own update."""

import math

import pytest
from app_helpers import SINE_NEURON, answer, line_with, make_app, screen_text, settle, wait_for_text

from tutor.app.screens.train import TrainScreen

SIZE = (80, 24)

# The test sine neuron, but its plot section trains at 0.05 while its update step uses α = 0.5,
# as the built-in lesson does.
SLOW_PLOT = SINE_NEURON.replace('id = "sine-neuron-test"', 'id = "sine-alpha-test"').replace(
    "lr = 0.5\nsteps = 40", "lr = 0.05\nsteps = 40")


@pytest.fixture
def alpha_dir(tmp_path):
    import textwrap

    folder = tmp_path / "alpha"
    folder.mkdir()
    (folder / "sine-alpha-test.toml").write_text(textwrap.dedent(SLOW_PLOT).lstrip())
    return folder


def status_line(app) -> str:
    return line_with(screen_text(app), " steps · loss ")


async def open_plot(pilot) -> None:
    await pilot.press("f5")
    await settle(pilot)
    assert isinstance(pilot.app.screen, TrainScreen)


async def test_the_plot_starts_at_the_update_steps_alpha_and_the_lr_keys_come_back_to_it(alpha_dir):
    app = make_app(alpha_dir, "sine-alpha-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_plot(pilot)
        assert "lr 0.5 · 40 steps" in status_line(app)  # α = 0.5, not the [train] section's 0.05
        for key, shown in [("f2", "lr 0.25 ·"), ("f2", "lr 0.125 ·"), ("f3", "lr 0.25 ·"), ("f3", "lr 0.5 ·"),
                           ("f3", "lr 1 ·"), ("f2", "lr 0.5 ·")]:
            await pilot.press(key)
            await settle(pilot)
            assert shown in status_line(app), (key, shown)
        assert app.screen.lr == 0.5  # exactly: halving and doubling never drift


async def test_the_diamond_marks_the_loss_after_the_learners_own_wrong_update(alpha_dir):
    app = make_app(alpha_dir, "sine-alpha-test", step="update")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Not quite" in await answer(pilot, "pi/4 0")
        await open_plot(pilot)
        # L = (y_hat - (sin(w·x) - b))² at the learner's w = [π/4, 0]: (2 - (sin(π/2) - 1))² = 4,
        # not the 5.5212 the right update would give
        own = (2 - (math.sin(2 * math.pi / 4 + 0) - 1)) ** 2
        assert own == pytest.approx(4.0)
        assert "your update: loss 4 (◆)" in status_line(app)
        plot = screen_text(app).split("your update")[0]
        assert "◆" in plot  # the point itself


async def test_before_any_update_the_plot_says_which_step_puts_it_there(alpha_dir):
    app = make_app(alpha_dir, "sine-alpha-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_plot(pilot)
        assert "◆: answer step 5 (update)" in status_line(app)
        assert "◆" not in screen_text(app).split("◆: answer")[0]


async def test_a_typed_loss_after_one_step_is_the_diamond_as_typed():
    # the chain-rule lesson: one update asks for a alone (its plot trains a and b), another for
    # the loss after one SGD step; that typed loss is the learner's own point
    app = make_app(None, "chain-rule-scalar", step="loss_after")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "1.5")
        await open_plot(pilot)
        line = status_line(app)
        assert "lr 0.05 · 30 steps" in line  # η = 0.05 of the update steps, not [train]'s 0.02
        assert "your update: loss 1.5 (◆)" in line


def test_snapshot_of_the_plot_at_alpha_with_the_learners_wrong_update(snap_compare, alpha_dir):
    from app_helpers import type_text

    app = make_app(alpha_dir, "sine-alpha-test", step="update")

    async def run(pilot):
        await settle(pilot)
        await type_text(pilot, "pi/4 0")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        await wait_for_text(pilot, "your update: loss 4 (◆)")  # a busy machine may be slower

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def plot_part(app) -> str:
    return screen_text(app).split(" steps · loss ")[0].rsplit("\n", 1)[0]


async def test_the_diamond_is_only_on_the_curve_of_the_rate_the_update_used(alpha_dir):
    app = make_app(alpha_dir, "sine-alpha-test", step="update")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "pi/4 0")
        await open_plot(pilot)
        assert "◆" in plot_part(app)
        await pilot.press("f3")                      # lr 1: the learner's update is not on this curve
        await settle(pilot)
        assert "◆ hidden: your update used lr 0.5" in status_line(app)
        assert "◆" not in plot_part(app)
        await pilot.press("f2")                      # back at α
        await settle(pilot)
        assert "your update: loss 4 (◆)" in status_line(app) and "◆" in plot_part(app)


async def test_one_sgd_step_is_singular(alpha_dir):
    app = make_app(alpha_dir, "sine-alpha-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_plot(pilot)
        for _ in range(7):                           # 40 → 20 → 10 → 5 → 2 → 1
            await pilot.press("f6")
            await settle(pilot)
        text = screen_text(app)
        assert "Loss over 1 SGD step, lr 0.5" in text and "lr 0.5 · 1 step · loss" in text


async def test_a_log_axis_refused_says_so_under_the_plot_not_over_it():
    app = make_app(None, "conv1d-maxpool-backprop")  # f itself is trained, down past zero
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_plot(pilot)
        await pilot.press("l")
        await settle(pilot)
        lines = screen_text(app).splitlines()
        said = [n for n, line in enumerate(lines) if "A log axis needs every loss above zero" in line]
        axis = [n for n, line in enumerate(lines) if "SGD step" in line and "Loss over" not in line]
        assert said and axis and said[0] > axis[-1]  # on the status line, below the axis label


def test_a_narrow_log_axis_still_has_readable_ticks():
    from tutor.app.widgets.loss_plot import _log_ticks

    for losses in ([9.0, 8.9, 8.8], [120.0, 30.0], [9.0, 2.0, 0.5]):
        ticks, labels = _log_ticks([math.log10(v) for v in losses])
        assert len(labels) >= 2 and len(set(labels)) == len(labels), losses
        assert all(min(map(math.log10, losses)) - 1e-9 <= t <= max(map(math.log10, losses)) + 1e-9 for t in ticks)
