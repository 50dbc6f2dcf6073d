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
