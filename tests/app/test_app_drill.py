"""Drills in the app: fresh variants, a running streak and accuracy, a summary, mastery on the list."""

from app_helpers import answer, screen_text, settle

from tutor.core.drill.variants import resolve_topic, variant
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.catalog import Catalog

SIZE = (80, 24)
SEED = 11


def drill_app(topic: str = "convolution", seed: int = SEED):
    from tutor.app.app import TutorApp

    return TutorApp(Catalog.load(), drill_topic=topic, drill_seed=seed)


def first_step_value(topic: str, seed: int):
    """The first step's answer for that variant, computed here so the test types a right one."""
    lesson = variant(resolve_topic(Catalog.load(), topic), seed)
    exp = LiveLesson(lesson).expected(lesson.steps[0].id)
    return lesson, exp.value


def typed(value) -> str:
    if isinstance(value, list) and value and isinstance(value[0], list):
        return "; ".join(" ".join(f"{v:g}" for v in row) for row in value)
    return str(value)


async def test_a_drill_shows_its_seed_the_fresh_numbers_and_keeps_score():
    lesson, value = first_step_value("convolution", SEED)
    app = drill_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert f"drill › convolution · seed {SEED}" in text
        assert "Given" in text and "no answers yet" in text
        assert "✗" in await answer(pilot, "1000")
        text = await answer(pilot, typed(value))
        assert "✓ Correct." in text
        assert "streak 1 (best 1)" in screen_text(app) and "50% of 2" in screen_text(app)
        attempts = app.store.attempts()
        assert [a.drill_seed for a in attempts] == [SEED, SEED]
        assert {a.lesson_id for a in attempts} == {lesson.id}


async def test_new_numbers_move_to_the_next_seed_and_esc_sums_up():
    app = drill_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "1000")
        await pilot.press("f8")
        await settle(pilot)
        assert f"seed {SEED + 1}" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        text = screen_text(app)
        assert "What went wrong most" in text
        assert f"tutor drill convolution --seed {SEED}" in text
        await pilot.press("escape")
        await settle(pilot)
        text = screen_text(app)
        assert "Practice what you miss most: drill convolution" in text
        assert "drills 0% right of 1" in list_text(app)  # on the topic's row, scrolled into view or not


def list_text(app) -> str:
    """Every row of the lesson list, including those below the visible part of the screen."""
    from tutor.app.widgets.lesson_list import LessonList

    rows = app.screen.query_one(LessonList)
    return "\n".join(str(rows.get_option_at_index(i).prompt) for i in range(rows.option_count))


async def test_f3_on_the_list_drills_the_highlighted_topic():
    from tutor.app.app import TutorApp

    app = TutorApp(Catalog.load())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "f3")
        await settle(pilot)
        text = screen_text(app)
        assert "drill › autograd · seed" in text
