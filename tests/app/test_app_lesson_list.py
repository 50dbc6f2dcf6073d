"""The lesson list: topics, statuses a learner can read without color, broken files, and 'continue'."""

from app_helpers import answer, line_with, make_app, screen_text, settle

from tutor.app.screens.lesson import LessonScreen
from tutor.app.screens.lesson_list import LessonListScreen

SIZE = (80, 24)


async def test_the_list_shows_topics_lessons_and_their_status(lesson_dir):
    app = make_app(lesson_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "autograd-test" in text and "conv-test" in text
        row = line_with(text, "○ A sine neuron").split()
        assert row[-3:] == ["not", "started", "0/5"]
        assert "▸ Start: A sine neuron" in text


async def test_a_broken_lesson_is_listed_with_its_error(broken_dir):
    app = make_app(broken_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "✗ broken-test.toml" in text and "cannot load" in text
        assert "ask uses 'undefined_name', which no given or graph line defines" in text
        # the other lessons still open
        assert "A 2-D convolution by hand" in text


async def test_enter_on_the_first_row_starts_the_first_lesson(lesson_dir):
    app = make_app(lesson_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen)
        assert "Step 1/5 · forward" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, LessonListScreen)


async def test_progress_is_saved_and_a_new_app_continues_where_the_learner_left_off(lesson_dir):
    first = make_app(lesson_dir, "sine-neuron-test")
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "-1")
        await pilot.press("enter")  # on to step 2
        await settle(pilot)
        await pilot.press("ctrl+q")

    again = make_app(lesson_dir)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(again)
        assert "▸ Continue where you left off: A sine neuron" in text
        assert "step 2/5" in text
        row = line_with(text, "◔ A sine neuron").split()
        assert row[-3:] == ["in", "progress", "1/5"]
        await pilot.press("enter")
        await settle(pilot)
        assert "Step 2/5 · dy_dw" in screen_text(again)


async def test_f2_continues_from_anywhere_in_the_list(lesson_dir):
    app = make_app(lesson_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "f2")
        await settle(pilot)
        assert "Step 1/5 · forward" in screen_text(app)


async def test_picking_a_lesson_with_the_arrows_opens_it(lesson_dir):
    app = make_app(lesson_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # past the sine neuron and the next topic header
        await settle(pilot)
        assert "conv-test › A 2-D convolution by hand" in screen_text(app)


async def test_a_solved_lesson_reads_solved_in_words(lesson_dir):
    app = make_app(lesson_dir, "conv-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for right in ("3 -4; 1 6", "2x2", "0.375"):
            assert "✓ Correct." in await answer(pilot, right)
            await pilot.press("enter")  # on to the next step
        await pilot.press("escape")
        await settle(pilot)
        text = screen_text(app)
        row = line_with(text, "✓ A 2-D convolution by hand").split()
        assert row[-2:] == ["solved", "3/3"]
        assert "conv-test   1/1 lessons solved" in text


async def test_a_progress_problem_is_shown_as_a_banner(lesson_dir):
    app = make_app(lesson_dir)
    app.store.warning = "Progress is not being saved: cannot use /nowhere: read-only"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "⚠ Progress is not being saved" in screen_text(app)


async def test_continue_means_the_lesson_last_worked_on_not_the_last_one_opened(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "-1")             # worked on: 1/5 solved
        await pilot.press("escape")
        await settle(pilot)
        app.open_lesson("conv-test")          # only looked at
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert "Continue where you left off: A sine neuron" in screen_text(app)
        await pilot.press("f2")
        await settle(pilot)
        assert "Step 2/5 · dy_dw" in screen_text(app)
