"""The built-in curriculum in the app: the seed lesson works end to end, every topic is listed."""

from app_helpers import answer, make_app, screen_text, settle

from tutor.core.lesson.catalog import Catalog

SIZE = (80, 24)


async def test_the_seed_sine_neuron_lesson_checks_answers_live():
    app = make_app(None, "sine-neuron", "forward")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Step 2/7 · forward" in screen_text(app)
        assert "✗ Not quite." in await answer(pilot, "0")
        assert "✓ Correct." in await answer(pilot, "-1")
        await pilot.press("enter")
        await settle(pilot)
        assert "✓ Correct." in await answer(pilot, "[2, 1]")


async def test_the_list_shows_every_built_in_topic():
    app = make_app(None)
    async with app.run_test(size=(80, 60)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        for topic in Catalog.load().topics():
            assert topic in text
