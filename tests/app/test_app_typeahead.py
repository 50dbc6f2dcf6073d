"""Keys that arrive together (over SSH, or pasted) are handled in the order they were typed."""

from app_helpers import make_app, screen_text, settle
from textual import events


async def burst(app, *keys: tuple[str, str | None]) -> None:
    # one read from a terminal can carry several keys: post them all before any is handled
    for key, char in keys:
        app.post_message(events.Key(key, char))


async def test_an_answer_typed_with_its_enter_is_checked_whole(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(app, ("minus", "-"), ("1", "1"), ("enter", "\r"))
        await settle(pilot)
        assert "✓ Correct." in screen_text(app)
        assert [a.answer for a in app.store.attempts()] == ["-1"]


async def test_a_move_then_enter_opens_the_row_moved_to(lesson_dir):
    app = make_app(lesson_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        await burst(app, ("down", None), ("enter", "\r"))
        await settle(pilot)
        assert "A 2-D convolution by hand" in screen_text(app).splitlines()[0]
