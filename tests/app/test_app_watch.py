"""`tutor open FILE --watch`: a saved change reloads the lesson on the same step; a broken save says why in place."""

import textwrap

from app_helpers import SINE_NEURON, screen_text, settle, wait_for_text

from tutor.app.screens.lesson import LessonScreen

SIZE = (80, 24)


def watched_app(path):
    from tutor.app.app import TutorApp
    from tutor.core.lesson.catalog import Catalog, load_file

    return TutorApp(Catalog([]), start=load_file(path), start_step="loss", watch=True)


async def test_saving_the_file_reloads_the_lesson_on_the_same_step(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(textwrap.dedent(SINE_NEURON).lstrip())
    app = watched_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Step 3/5 · loss" in screen_text(app)
        path.write_text(textwrap.dedent(SINE_NEURON).lstrip().replace(
            'id = "loss"\nask = "L"', 'id = "loss"\nask = "L"\nprompt = "The squared error, freshly written."'))
        text = await wait_for_text(pilot, "freshly written")
        assert "Step 3/5 · loss  The squared error, freshly written." in text
        assert isinstance(app.screen, LessonScreen)


async def test_a_save_that_does_not_load_is_shown_in_place_and_the_lesson_stays(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(textwrap.dedent(SINE_NEURON).lstrip())
    app = watched_app(path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        path.write_text(textwrap.dedent(SINE_NEURON).lstrip().replace('ask = "L"', 'ask = "L +"'))
        text = await wait_for_text(pilot, "does not load now")
        assert "⚠ mine.toml does not load now:" in text
        assert "Step 3/5 · loss" in text  # still there to work in
        path.write_text(textwrap.dedent(SINE_NEURON).lstrip())  # fixed again
        text = await wait_for_text(pilot, "Reloaded mine.toml")
        assert "Reloaded mine.toml." in text
        assert "does not load now" not in text
        assert "Step 3/5 · loss" in text
