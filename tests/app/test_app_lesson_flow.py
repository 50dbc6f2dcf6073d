"""A learner works through a lesson: answers checked live, hints, reveal, moving between steps."""


from app_helpers import answer, make_app, screen_text, settle, type_text

from tutor.app.widgets.answer_box import AnswerInput
from tutor.core.progress.store import ProgressStore

SIZE = (80, 24)


def attempts(lesson_id: str) -> list[tuple[str, str, str]]:
    with ProgressStore.open() as store:
        return [(a.step_id, a.answer, a.verdict) for a in store.attempts() if a.lesson_id == lesson_id]


async def test_the_cursor_starts_in_the_answer_box_of_the_first_step(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.focused, AnswerInput)
        text = screen_text(app)
        assert "Step 1/5 · forward" in text
        assert "Compute the forward pass y." in text
        assert "x = [ 2  1 ]" in text  # the givens, aligned


async def test_a_wrong_then_a_right_answer(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = await answer(pilot, "1")
        assert "✗ Not quite." in text
        text = await answer(pilot, "-1")
        assert "✓ Correct." in text
        assert "The sine of a whole turn is zero" in text  # the step's explain
        assert "✓ 1 forward" in text and "solved" in text
    assert attempts("sine-neuron-test") == [("forward", "1", "wrong"), ("forward", "-1", "correct")]


async def test_a_right_answer_stays_marked_when_the_store_is_read_before_its_write_lands(lesson_dir):
    """On a busy machine the store's writer can commit the right answer after the screen reads the
    states back: the read still holds the earlier wrong try, and must not turn ✓ back into ○."""
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "1")
        app.store.step_states = lambda lesson_id: {"forward": "attempted"}  # the write not landed yet
        text = await answer(pilot, "-1")
        assert "✓ Correct." in text
        assert "✓ 1 forward" in text and "solved" in text


async def test_the_preview_reads_the_answer_as_it_is_typed(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_text(pilot, "-12 -6")
        assert "reads as vector of 2: [-12, -6]" in screen_text(app)
        await type_text(pilot, " ]")
        assert "can't read it at character" in screen_text(app)


async def test_an_unreadable_answer_says_where_and_is_not_an_attempt(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = await answer(pilot, "[1, 2")
        assert "Can't read that" in text
        assert "Not counted as an attempt." in text
    assert attempts("sine-neuron-test") == []


async def test_letters_typed_in_the_answer_never_trigger_commands(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_text(pilot, "c?qhn")
        assert app.screen.query_one(AnswerInput).value == "c?qhn"
        assert "Step 1/5" in screen_text(app)


async def test_enter_after_a_correct_answer_moves_to_the_next_step(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "-1")
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "Step 2/5 · dy_dw" in text
        assert app.screen.query_one(AnswerInput).value == ""


async def test_a_wrong_matrix_marks_the_entries_that_are_off(lesson_dir):
    app = make_app(lesson_dir, "conv-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = await answer(pilot, "3 -4; 1 7")
        assert "1 of 4 entries is off: row 2 col 2" in text
        assert "⎡ 3  -4 ⎤" in text and "⎣ 1   7 ⎦" in text


async def test_a_wrong_shape_names_both_shapes(lesson_dir):
    app = make_app(lesson_dir, "conv-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = await answer(pilot, "[3, -4, 1]")
        assert "✗ Wrong shape." in text
        assert "Your shape: vector of 3 · expected: 2×2" in text
    assert attempts("conv-test") == [("conv", "[3, -4, 1]", "wrong_shape")]


async def test_too_few_digits_asks_for_more(lesson_dir):
    app = make_app(lesson_dir, "conv-test", step="avg")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = await answer(pilot, "0.4")
        assert "≈ More digits, please." in text
        text = await answer(pilot, "0.375")
        assert "✓ Correct." in text


async def test_a_mistake_the_lesson_knows_is_named(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test", step="loss")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = await answer(pilot, "3")  # y = sin(2 pi) - 1 = -1, so y_hat - y = 3; the loss is 9
        assert "Known mistake: That is the error ŷ - y." in text
        assert "The loss squares it." in text


async def test_hints_come_one_at_a_time(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        text = screen_text(app)
        assert "Hint 1/2: wᵀx = 2π" in text  # LaTeX shown as readable Unicode
        assert "Hint 2/2" not in text
        await pilot.press("f2")
        assert "Hint 2/2: sin(2π) = 0" in screen_text(app)


async def test_reveal_asks_first_and_is_recorded_as_revealed(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test", step="dL_dw")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        assert "Reveal the answer to step 4 (dL_dw)?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert "Revealed" not in screen_text(app)
        await pilot.press("f3", "y")
        await settle(pilot)
        text = screen_text(app)
        assert "◐ Revealed. The answer is:" in text
        assert "[ -12  -6 ]" in text
    with ProgressStore.open() as store:
        assert store.step_states("sine-neuron-test") == {"dL_dw": "revealed"}


async def test_moving_between_steps_remembers_the_position(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f7", "f7")
        assert "Step 3/5 · loss" in screen_text(app)
        assert app.store.last_position() == ("sine-neuron-test", "loss")
        await pilot.press("f6")
        assert "Step 2/5 · dy_dw" in screen_text(app)
        assert app.store.last_position() == ("sine-neuron-test", "dy_dw")


async def test_a_check_before_pytorch_is_ready_waits_visibly_then_resolves(lesson_dir, torch_held):
    release = torch_held
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await type_text(pilot, "-1")
        assert "reads as scalar: -1" in screen_text(app)  # the screen works while torch loads
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        assert "loading PyTorch" in text
        release.set()
        await settle(pilot)
        assert "✓ Correct." in screen_text(app)


async def test_finishing_the_last_step_offers_the_next_lesson(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test", step="update")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "✓ Correct." in await answer(pilot, "[7.5708, 6.1416]")
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "Lesson finished: 1 of 5 steps solved." in text
        assert "Enter: next lesson" in text


async def test_a_step_solved_in_an_earlier_session_says_so_and_enter_moves_on(lesson_dir):
    first = make_app(lesson_dir, "sine-neuron-test")
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "-1")
    again = make_app(lesson_dir, "sine-neuron-test", step="forward")
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "✓ You solved this step before." in screen_text(again)
        await pilot.press("enter")
        await settle(pilot)
        assert "Step 2/5 · dy_dw" in screen_text(again)


async def test_a_long_explanation_scrolls_with_page_down(lesson_dir):
    app = make_app(lesson_dir, "conv-test", step="conv_shape")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = await answer(pilot, "2x2")
        assert "✓ Correct." in text and "The end." not in text
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert "The end." in screen_text(app)
        assert "Step 2/3 · conv_shape" in screen_text(app)  # the answer area stays put


async def test_a_class_server_found_down_while_the_app_started_is_said_once_on_the_lesson(lesson_dir):
    """The store's first look at the class server can end before the app listens: the learner is
    still told, once, even when the writer reports the same problem again."""
    from tutor.app.screens.messages import StoreWarning

    down = ("Saved on this machine for now: cannot reach the class database: connection to server on "
            "socket \"/var/run/postgresql/.s.PGSQL.5432\" failed; your answers are sent when it is back.")
    app = make_app(lesson_dir, "sine-neuron-test")
    app.store.warning = down
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert [n.message for n in app._notifications] == [down]
        assert "Saved on this machine for now" in screen_text(app)
        app.post_message(StoreWarning(down))
        await settle(pilot)
        assert [n.message for n in app._notifications] == [down]
