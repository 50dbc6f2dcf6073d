"""Screens keep their promises: typing after ✓, the step strip, where 'continue' and 'last' point."""

from app_helpers import answer, line_with, make_app, screen_text, settle, type_text
from textual import events

from tutor.app.screens.lesson import LessonScreen
from tutor.app.screens.lesson_list import LessonListScreen
from tutor.app.widgets.answer_box import AnswerInput
from tutor.app.widgets.lesson_list import LessonList

SIZE = (80, 24)


def burst(app, *keys: tuple[str, str | None]) -> None:
    """Keys that arrive in one read (over SSH, or tmux send-keys): all posted before any is handled."""
    for key, char in keys:
        app.post_message(events.Key(key, char))


def title_line(app) -> str:
    return screen_text(app).splitlines()[0].rstrip()


def highlighted_id(app) -> str:
    lessons = app.screen.query_one(LessonList)
    return lessons.get_option_at_index(lessons.highlighted).id


async def test_typing_after_correct_starts_the_next_steps_answer(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "✓ Correct." in await answer(pilot, "-1")
        await type_text(pilot, "[2")  # no Enter first: the learner just goes on typing
        await pilot.pause()
        assert "Step 2/5 · dy_dw" in screen_text(app)
        assert app.screen.query_one(AnswerInput).value == "[2"
        await type_text(pilot, ", 1]")
        await pilot.press("enter")
        await settle(pilot)
        assert "✓ Correct." in screen_text(app)
        attempts = [(a.step_id, a.answer, a.verdict) for a in app.store.attempts()]
        # the solved step was not graded again with the new text appended
        assert attempts == [("forward", "-1", "correct"), ("dy_dw", "[2, 1]", "correct")]


async def test_an_answer_sent_in_one_burst_after_correct_goes_to_the_next_step(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "-1")
        burst(app, ("2", "2"), ("space", " "), ("1", "1"), ("enter", "\r"))
        await settle(pilot)
        assert [(a.step_id, a.answer) for a in app.store.attempts()] == [("forward", "-1"), ("dy_dw", "2 1")]


async def test_editing_a_solved_answer_retries_the_same_step(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "-1")
        await pilot.press("backspace", "2")  # an edit first: the learner means this step
        assert "Step 1/5 · forward" in screen_text(app)
        assert app.screen.query_one(AnswerInput).value == "-2"


async def test_the_step_strip_marks_a_solved_step_at_once(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert title_line(app).endswith("▶○○○○ step 1/5")
        await answer(pilot, "-1")
        assert title_line(app).endswith("✓○○○○ step 1/5")  # before moving on
        await pilot.press("enter")
        await settle(pilot)
        assert title_line(app).endswith("✓▶○○○ step 2/5")


async def test_backspace_and_ctrl_u_sent_with_a_digit_keep_their_order(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        box = app.screen.query_one(AnswerInput)
        await type_text(pilot, "12")
        burst(app, ("backspace", "\x7f"), ("7", "7"))
        await settle(pilot)
        assert box.value == "17"
        burst(app, ("ctrl+u", "\x15"), ("7", "7"))
        await settle(pilot)
        assert box.value == "7"


async def test_a_plain_textual_input_reorders_such_keys_which_is_why_the_answer_box_works_around_it():
    # If this starts failing, Textual runs widget bindings in key order and AnswerInput._on_key's
    # workaround can go.
    from textual.app import App
    from textual.widgets import Input

    class Plain(App):
        def compose(self):
            yield Input()

    app = Plain()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "2")
        burst(app, ("backspace", "\x7f"), ("7", "7"))
        await pilot.pause()
        await pilot.pause()
        assert app.query_one(Input).value == "12"  # the 7 went in first, then Backspace took it


async def test_the_last_lesson_says_so_and_the_others_offer_the_next(lesson_dir):
    app = make_app(lesson_dir, "conv-test", step="avg")  # conv-test sorts last
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        assert "That was the last lesson." in screen_text(app)
    app = make_app(lesson_dir, "sine-neuron-test", step="update")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        text = screen_text(app)
        assert "Enter: next lesson (A 2-D convolution by hand)." in text
        assert "last lesson" not in text


async def test_a_lesson_file_outside_the_catalog_never_claims_to_be_the_last(lesson_dir, tmp_path):
    from tutor.app.app import TutorApp
    from tutor.core.lesson.catalog import Catalog, load_file

    own = tmp_path / "own"
    own.mkdir()
    (own / "mine.toml").write_text((lesson_dir / "conv-test.toml").read_text().replace(
        'id = "conv-test"', 'id = "my-own-conv"'))
    catalog = Catalog([load_file(p, "lessons") for p in sorted(lesson_dir.glob("*.toml"))])
    app = TutorApp(catalog, start=load_file(own / "mine.toml"), start_step="avg")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        text = screen_text(app)
        assert "Lesson finished" in text and "last lesson" not in text
        assert "Esc or Enter: the lesson list." in text


async def test_continue_skips_a_solved_step_to_the_next_unsolved_one(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "-1")
        await pilot.press("f7", "f6")  # back on the solved step 1: that is where the learner left
        await settle(pilot)
        assert app.store.last_position() == ("sine-neuron-test", "forward")
        await pilot.press("escape")
        await settle(pilot)
        text = screen_text(app)
        assert "Continue where you left off: A sine neuron" in text
        assert line_with(text, "Continue where").rstrip().endswith("step 2/5")
        await pilot.press("f2")
        await settle(pilot)
        assert "Step 2/5 · dy_dw" in screen_text(app)


async def test_continue_after_a_finished_lesson_points_at_the_next_lesson(lesson_dir):
    app = make_app(lesson_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for step in ("forward", "dy_dw", "loss", "dL_dw", "update"):
            app.store.record_attempt("sine-neuron-test", step, "1", "correct")
        app.store.set_position("sine-neuron-test", "update")
        app.screen.refresh_lessons()
        await settle(pilot)
        row = line_with(screen_text(app), "Continue where").rstrip()
        assert "A 2-D convolution by hand" in row and row.endswith("step 1/3")
        for step in ("conv", "conv_shape", "avg"):
            app.store.record_reveal("conv-test", step)
        app.screen.refresh_lessons()
        await settle(pilot)
        text = screen_text(app)
        assert "Continue where" not in text and "Every lesson is done." in text


async def test_back_on_the_list_the_cursor_is_on_the_lesson_just_left(lesson_dir):
    app = make_app(lesson_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        while highlighted_id(app) != "lesson:conv-test":
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        await answer(pilot, "3 -4; 1 6")  # the 'continue' row changes above the lessons
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert highlighted_id(app) == "lesson:conv-test"
        assert "▸ ✓ A 2-D convolution" in screen_text(app) or "▸ ◔ A 2-D convolution" in screen_text(app)


async def test_a_lesson_opened_straight_goes_back_to_a_list_pointing_at_it(lesson_dir):
    app = make_app(lesson_dir, "conv-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LessonScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert highlighted_id(app) == "lesson:conv-test"
