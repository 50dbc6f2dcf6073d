"""The lesson list says how many reviews are due and F4 opens a run of fresh variants of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app_helpers import make_app, screen_text, settle, wait_for_text

from tutor.core.progress.skills import skills_for
from tutor.core.progress.store import ProgressStore


def _learned_a_week_ago(skills_answered: dict[str, str]) -> None:
    week_ago = datetime.now(UTC) - timedelta(days=7)
    with ProgressStore.open(clock=lambda: week_ago) as store:
        for skill, verdict in skills_answered.items():
            store.record_attempt("conv1d-dilation", "length", "5", verdict, skills=[skill])


async def test_the_list_counts_reviews_due_and_f4_opens_a_review_run():
    _learned_a_week_ago({"conv-output-size": "wrong", "softmax": "wrong"})
    app = make_app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "2 reviews due (F4)" in text.splitlines()[0]
        assert "F4 Review" in text.replace("f4", "F4").replace("\xa0", " ").replace("  ", " ")
        await pilot.press("f4")
        await settle(pilot)
        text = await wait_for_text(pilot, "drill › review")
        assert "drill › review" in text
        # the most overdue skill's lessons come first (both were missed a week ago; on a tie
        # the run starts with the skill that sorts first, conv-output-size)
        lesson = app.screen.lesson
        assert "conv-output-size" in {s for step in lesson.steps for s in skills_for(lesson, step)}


async def test_nothing_due_says_so_and_stays_on_the_list():
    app = make_app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "reviews due" not in screen_text(app).splitlines()[0]
        await pilot.press("f4")
        await settle(pilot)
        assert [n.message for n in app._notifications] == ["Nothing is due for review."]
        assert "Start:" in screen_text(app)  # still the lesson list


async def test_tutor_review_opens_the_app_straight_on_the_run_of_what_is_due():
    from tutor.app.app import TutorApp
    from tutor.core.lesson.catalog import Catalog

    app = TutorApp(Catalog.load(), review_skills=["softmax-ce-gradient"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "drill › review" in await wait_for_text(pilot, "drill › review")
        assert "softmax-ce-gradient" in {s for step in app.screen.lesson.steps
                                         for s in (step.skills or app.screen.lesson.skills)}
        await pilot.press("escape")
        await settle(pilot)
        summary = screen_text(app)
        assert "Drill: review" in summary and "tutor drill review" not in summary
