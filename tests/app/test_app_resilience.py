"""Reliability: views survive terminal resizes, and every view of every built-in lesson opens cleanly.

Each test also checks that the app did not die quietly: no exception was kept for the end of the
run, no worker ended in an error, and the app has not exited with an error code.
"""

from __future__ import annotations

import time

import pytest
from app_helpers import answer, line_with, make_app, screen_text, settle, type_text

from tutor.app.screens.graph import GraphScreen
from tutor.app.screens.help import HelpScreen
from tutor.app.screens.lesson import GRADIENT_CALLS, LessonScreen
from tutor.app.screens.lesson_list import LessonListScreen
from tutor.app.screens.train import TrainScreen
from tutor.app.widgets.answer_box import AnswerInput
from tutor.app.widgets.graph_answer_box import GraphAnswerBox
from tutor.app.widgets.graph_view import GraphView
from tutor.core.lesson.catalog import BUILTIN_DIR, Catalog

SMALL = (40, 12)
NORMAL = (80, 24)
LARGE = (120, 40)
TOO_SMALL = "Make the terminal at least"

# Only the shipped curriculum (TUTOR_LESSONS may name more folders on a developer's machine).
BUILTIN = [e for e in Catalog.load().entries if e.path.is_relative_to(BUILTIN_DIR)]
BUILTIN_IDS = [e.id for e in BUILTIN if e.lesson is not None]
BUILTIN_BY_ID = {e.id: e for e in BUILTIN}


# ---- helpers ---------------------------------------------------------------------------


@pytest.fixture
def failed_workers(monkeypatch) -> list[str]:
    """Every worker that ended in an error (the app's workers swallow theirs, so look as they finish)."""
    from textual.worker import WorkerState
    from textual.worker_manager import WorkerManager

    failures: list[str] = []
    real_remove = WorkerManager._remove_worker

    def remove(self, worker):
        if worker.state == WorkerState.ERROR:
            failures.append(f"{worker.name} (group {worker.group}): {worker.error!r}")
        real_remove(self, worker)

    monkeypatch.setattr(WorkerManager, "_remove_worker", remove)
    return failures


def assert_healthy(app, failed_workers: list[str]) -> None:
    assert app._exception is None, app._exception
    assert app.return_code in (None, 0)
    assert failed_workers == []


async def wait_until(pilot, condition, what: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await pilot.pause(0.02)


async def wait_for_live(pilot, screen: LessonScreen) -> None:
    """Until the lesson's LiveLesson is built and its result is on screen."""
    await wait_until(pilot, lambda: screen.handle.ready, f"{screen.lesson.id} to be evaluated")
    await drain(pilot)


async def drain(pilot) -> None:
    """One round of `settle`: the running workers finish and what they posted is on screen."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def resize(pilot, size: tuple[int, int], *, wait_for_workers: bool = True) -> str:
    await pilot.resize_terminal(*size)
    if wait_for_workers:
        await settle(pilot)
    else:
        await pilot.pause()
    assert pilot.app.size == size
    return screen_text(pilot.app)


def assert_too_small(app, min_size: tuple[int, int], size: tuple[int, int]) -> None:
    screen = app.screen
    assert screen.has_class("-too-small")
    text = screen_text(app)
    assert f"{TOO_SMALL} {min_size[0]}×{min_size[1]}" in text
    assert f"(it is {size[0]}×{size[1]} now)" in text


def assert_fits(app) -> str:
    assert not app.screen.has_class("-too-small")
    text = screen_text(app)
    assert TOO_SMALL not in text
    return text


def attempts(app, lesson_id: str) -> list[tuple[str, str, str]]:
    return [(a.step_id, a.answer, a.verdict) for a in app.store.attempts() if a.lesson_id == lesson_id]


async def open_from_list(pilot, lesson_id: str) -> LessonScreen:
    """Arrows down the lesson list to the lesson, Enter opens it (as a learner would)."""
    from tutor.app.widgets.lesson_list import LessonList

    app = pilot.app
    assert isinstance(app.screen, LessonListScreen)
    lessons = app.screen.query_one(LessonList)
    for _ in range(lessons.option_count):
        if lessons.get_option_at_index(lessons.highlighted).id == f"lesson:{lesson_id}":
            break
        await pilot.press("down")
    assert lessons.get_option_at_index(lessons.highlighted).id == f"lesson:{lesson_id}"
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == lesson_id
    return app.screen


# ---- resizing --------------------------------------------------------------------------



async def back_to_the_lesson_and_answer(pilot, app, lesson, failed_workers) -> None:
    """Esc from a view returns to the lesson, which still fits and still checks and records an answer."""
    await pilot.press("escape")
    await settle(pilot)
    assert app.screen is lesson
    assert_fits(app)
    await an_answer_is_checked_and_recorded(pilot, app, failed_workers)


async def an_answer_is_checked_and_recorded(pilot, app, failed_workers) -> None:
    """The first step of sine-neuron takes a typed answer, says it is right, and stores it."""
    assert "✓ Correct." in await answer(pilot, "-1")
    assert [a for a in attempts(app, "sine-neuron") if a[0] != "graph"] == [("forward", "-1", "correct")]
    assert_healthy(app, failed_workers)


async def test_the_lesson_says_too_small_at_40x12_and_comes_back_whole_at_80x24(failed_workers):
    app = make_app(None)
    async with app.run_test(size=NORMAL) as pilot:
        await settle(pilot)
        lesson = await open_from_list(pilot, "sine-neuron")
        await wait_for_live(pilot, lesson)
        await pilot.press("f7")  # on step 2, so coming back must not reset the step
        assert "Step 2/7 · forward" in screen_text(app)

        text = await resize(pilot, SMALL)
        assert app.screen is lesson
        assert_too_small(app, LessonScreen.MIN_SIZE, SMALL)
        assert "Step 2/7" not in text  # the broken layout is hidden, not drawn

        await resize(pilot, NORMAL)
        text = assert_fits(app)
        assert "Step 2/7 · forward" in text
        assert "autograd › A sine neuron" in text  # the title bar
        assert text.splitlines()[-1].strip().startswith("f2 Hint")  # the footer, on the last line
        assert lesson.query_one(AnswerInput).display
        assert_healthy(app, failed_workers)


async def test_the_lesson_list_says_too_small_and_comes_back(failed_workers):
    app = make_app(None)
    async with app.run_test(size=NORMAL) as pilot:
        await settle(pilot)
        await resize(pilot, SMALL)
        assert_too_small(app, LessonListScreen.MIN_SIZE, SMALL)
        text = await resize(pilot, NORMAL)
        assert_fits(app)
        assert "A sine neuron" in text
        assert_healthy(app, failed_workers)


async def test_a_verdict_that_arrives_while_too_small_is_shown_when_the_terminal_grows(
        torch_held, failed_workers):
    release = torch_held
    app = make_app(None, "sine-neuron", "forward")
    async with app.run_test(size=NORMAL) as pilot:
        await pilot.pause()
        await type_text(pilot, "-1")
        await pilot.press("enter")  # checked once PyTorch is ready
        await resize(pilot, SMALL, wait_for_workers=False)  # the check is still waiting
        assert attempts(app, "sine-neuron") == []
        release.set()
        await wait_for_live(pilot, app.screen)
        assert_too_small(app, LessonScreen.MIN_SIZE, SMALL)
        assert attempts(app, "sine-neuron") == [("forward", "-1", "correct")]
        text = await resize(pilot, NORMAL)
        assert_fits(app)
        assert "✓ Correct." in text
        assert_healthy(app, failed_workers)


# Hiding a view while the terminal is too small drops keyboard focus; growing it back must hand it
# back (this was broken until 916a63d: typed keys went nowhere and Enter checked an empty answer).


async def test_the_answer_box_takes_typing_again_after_the_terminal_grows_back(failed_workers):
    app = make_app(None, "sine-neuron", "forward")
    async with app.run_test(size=NORMAL) as pilot:
        await wait_for_live(pilot, app.screen)
        await resize(pilot, SMALL)
        await resize(pilot, NORMAL)
        assert isinstance(app.focused, AnswerInput)
        await type_text(pilot, "-1")
        await pilot.press("enter")
        await settle(pilot)
        assert_healthy(app, failed_workers)
        assert app.screen.query_one(AnswerInput).value == "-1"
        assert "✓ Correct." in screen_text(app)
        assert attempts(app, "sine-neuron") == [("forward", "-1", "correct")]


async def test_leaving_a_view_while_too_small_then_growing_gives_the_answer_box_back(failed_workers):
    app = make_app(None, "sine-neuron", "forward")
    async with app.run_test(size=NORMAL) as pilot:
        lesson = app.screen
        await wait_for_live(pilot, lesson)
        await pilot.press("f4")
        await settle(pilot)
        await resize(pilot, SMALL)
        await pilot.press("escape")  # back to the lesson, which is too small as well
        await pilot.pause()
        assert app.screen is lesson
        assert_too_small(app, LessonScreen.MIN_SIZE, SMALL)
        await resize(pilot, NORMAL)
        assert_fits(app)
        await an_answer_is_checked_and_recorded(pilot, app, failed_workers)


async def test_the_lesson_list_takes_arrow_keys_again_after_the_terminal_grows_back(failed_workers):
    from tutor.app.widgets.lesson_list import LessonList

    app = make_app(None)
    async with app.run_test(size=NORMAL) as pilot:
        await settle(pilot)
        lessons = app.screen.query_one(LessonList)
        before = lessons.highlighted
        await resize(pilot, SMALL)
        await resize(pilot, NORMAL)
        await pilot.press("down")
        assert_healthy(app, failed_workers)
        assert app.focused is lessons
        assert lessons.highlighted != before


def drawn_already(app) -> None:
    """The sine neuron's graph step solved before: the graph view draws the learner's graph."""
    app.store.record_attempt("sine-neuron", "graph", "s = w @ x\nt = sin(s)\ny = t - b", "correct", "Correct.",
                             topic="autograd", step_kind="graph")


async def test_the_graph_view_says_too_small_and_redraws_when_the_terminal_grows(failed_workers):
    app = make_app(None, "sine-neuron", "forward")
    drawn_already(app)
    async with app.run_test(size=NORMAL) as pilot:
        lesson = app.screen
        await wait_for_live(pilot, lesson)
        await pilot.press("f4")
        await settle(pilot)
        graph = app.screen
        assert isinstance(graph, GraphScreen)

        await resize(pilot, SMALL)
        assert_too_small(app, GraphScreen.MIN_SIZE, SMALL)

        text = await resize(pilot, NORMAL)
        assert_fits(app)
        view = graph.query_one(GraphView)
        assert view.values is not None
        assert "sin(s)" in text and "= ?" in text  # redrawn, y still unearned
        assert view.lines and max(len(line) for line in view.lines) <= NORMAL[0]  # drawn for 80 columns
        help_text = await visit_help(pilot, "computational graph")
        assert "Back to the lesson" in line_with(help_text, "Esc or F4")

        await back_to_the_lesson_and_answer(pilot, app, lesson, failed_workers)


async def test_the_training_view_says_too_small_and_replots_when_the_terminal_grows(failed_workers):
    app = make_app(None, "sine-neuron", "forward")
    async with app.run_test(size=NORMAL) as pilot:
        lesson = app.screen
        train = lesson.lesson.train
        await wait_for_live(pilot, lesson)
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, TrainScreen)
        rate = app.screen.base_lr  # the update step's α (the plot starts there)
        assert f"lr {rate:g} · {train.steps} steps · loss 9 →" in screen_text(app)

        await resize(pilot, SMALL)
        assert_too_small(app, TrainScreen.MIN_SIZE, SMALL)
        await pilot.press("f3")  # lr × 2 while too small: runs, and shows once there is room
        await settle(pilot)

        text = await resize(pilot, NORMAL)
        assert_fits(app)
        assert f"lr {2 * rate:g} · {train.steps} steps · loss 9 →" in text
        assert f"Loss over {train.steps} SGD steps, lr {2 * rate:g}" in text  # the plot's title
        assert "Training failed" not in text
        help_text = await visit_help(pilot, "training plot")
        for keys, title in [("F2 or [", "lr÷2"), ("F3 or ]", "lr×2"), ("F6 or -", "Steps−"),
                            ("F7 or +", "Steps+"), ("Esc or F5", "Back")]:
            assert title in line_with(help_text, keys), (keys, title)

        await back_to_the_lesson_and_answer(pilot, app, lesson, failed_workers)


async def test_the_graph_view_scrolls_with_the_keyboard_before_and_after_a_resize(failed_workers):
    # the graph takes focus when opened even before its values arrive, and keeps it through a
    # too-small terminal, so the keys always scroll a graph taller than the view
    app = make_app(None, "sine-neuron", "forward")
    drawn_already(app)
    async with app.run_test(size=NORMAL) as pilot:
        await wait_for_live(pilot, app.screen)
        await pilot.press("f4")
        await settle(pilot)
        view = app.screen.query_one(GraphView)
        assert view.max_scroll_y > 0  # the graph is taller than the view at 80x24
        await pilot.press("pagedown")
        await pilot.pause()
        assert view.scroll_y > 0
        await pilot.press("home")
        await pilot.pause()
        assert view.scroll_y == 0
        await resize(pilot, SMALL)
        await resize(pilot, NORMAL)
        assert app.focused is view
        await pilot.press("down")
        await pilot.pause()
        assert view.scroll_y > 0
        assert_healthy(app, failed_workers)


# ---- every view of every built-in lesson -----------------------------------------------


def test_every_built_in_lesson_loads_so_the_sweep_covers_it():
    assert BUILTIN, f"no lessons found in {BUILTIN_DIR}"
    assert [e.id for e in BUILTIN if e.lesson is None] == []
    assert "sine-neuron" in BUILTIN_IDS


async def visit_help(pilot, title: str) -> str:
    """F1 opens this screen's keys, Esc closes them and hands the screen back; returns the help text."""
    app = pilot.app
    under = app.screen
    await pilot.press("f1")
    assert isinstance(app.screen, HelpScreen)
    text = screen_text(app)
    assert f"Keys: {title}" in text and "Esc or F1 closes" in text
    await pilot.press("escape")
    assert app.screen is under
    return text


async def visit_graph(pilot, lesson: LessonScreen, *, unearned: set[str] = frozenset()) -> None:
    """F4 opens the graph with its values; `unearned` names nodes whose value must not show yet."""
    app = pilot.app
    await pilot.press("f4")
    graph = app.screen
    assert isinstance(graph, GraphScreen)
    view = graph.query_one(GraphView)
    await wait_until(pilot, lambda: view.values is not None, "the graph's values")
    await drain(pilot)
    text = screen_text(app)
    assert "could not be evaluated" not in text and "loading PyTorch" not in text
    assert view.values, "the graph shows no values"
    for name in unearned:  # not drawn yet (a lesson that asks for the graph first), or hidden
        assert name not in view.values or view.values[name].value == "?", name
    asks_gradients = any(step.ask.calls() & GRADIENT_CALLS for step in lesson.lesson.steps)
    if graph.board.fields and asks_gradients and graph.board.outputs:
        assert "∂" in text, "a graph to fill in has its gradients to fill in too"
    assert view.lines and "┌" in text  # boxes are drawn
    await pilot.press("escape")
    assert app.screen is lesson
    assert isinstance(app.focused, (AnswerInput, GraphAnswerBox))


async def visit_training(pilot, lesson: LessonScreen, *, replot: bool) -> None:
    app = pilot.app
    train = lesson.lesson.train
    await pilot.press("f5")
    await drain(pilot)  # lets the SGD run's worker finish, so an error in it shows
    assert isinstance(app.screen, TrainScreen)
    text = screen_text(app)
    assert "Training failed" not in text
    rate = app.screen.base_lr  # the update step's α, else the [train] rate
    assert f"lr {rate:g} · {train.steps} steps · loss" in text
    if replot:
        await pilot.press("f3")  # lr × 2
        await drain(pilot)
        text = screen_text(app)
        assert "Training failed" not in text
        assert f"lr {2 * rate:g} · {train.steps} steps · loss" in text
    await pilot.press("escape")
    assert app.screen is lesson
    assert isinstance(app.focused, (AnswerInput, GraphAnswerBox))


@pytest.mark.parametrize("lesson_id", BUILTIN_IDS)
async def test_every_view_of_a_built_in_lesson_opens_cleanly(lesson_id, failed_workers):
    # One app per lesson (starting one costs more than most of what is checked in it): at 80x24,
    # the tight layout, it walks every step from the first with its hint, opens the graph before any
    # answer (no asked value shown) and after the gradient steps, and replots at a doubled rate;
    # then the terminal grows to 120x40 and each view opens once more. (Help on the graph and
    # training views does not depend on the lesson; the resize tests open it.)
    steps = BUILTIN_BY_ID[lesson_id].lesson.steps
    app = make_app(None, lesson_id, step=steps[0].id)
    async with app.run_test(size=NORMAL) as pilot:
        lesson = app.screen
        assert isinstance(lesson, LessonScreen) and lesson.lesson.id == lesson_id
        await wait_for_live(pilot, lesson)
        assert lesson.handle.error is None
        text = assert_fits(app)
        assert "cannot evaluate" not in text and "loading PyTorch" not in text

        asked = {step.ask.text for step in steps} & {line.target for line in lesson.lesson.graph}
        await visit_graph(pilot, lesson, unearned=asked)  # forward values only, none of them asked

        for n in range(len(steps)):
            step = steps[n]
            if n > 0:
                await pilot.press("f7")
            assert f"Step {n + 1}/{len(steps)} · {step.id}" in screen_text(app)
            await pilot.press("f2")
            assert lesson.session.hints_shown == min(1, len(step.hints))
            if step.hints:
                assert f"Hint 1/{len(step.hints)}:" in screen_text(app)

        if len(steps) > 1:
            await pilot.press("f6")
            n = len(steps) - 2
            text = screen_text(app)
            assert f"Step {n + 1}/{len(steps)} · {steps[n].id}" in text
            if steps[n].hints:
                assert f"Hint 1/{len(steps[n].hints)}:" in text  # the hint shown before is kept
            await pilot.press("f7")
            assert f"Step {len(steps)}/{len(steps)} · {steps[-1].id}" in screen_text(app)

        await visit_graph(pilot, lesson)  # from the last step: gradients too

        if lesson.lesson.train is not None:
            await visit_training(pilot, lesson, replot=True)
        else:
            await pilot.press("f5")  # not offered: nothing opens
            assert app.screen is lesson

        help_text = await visit_help(pilot, "lesson")
        offers_train = any("F5" in line and "Train" in line for line in help_text.splitlines())
        assert offers_train == (lesson.lesson.train is not None)

        text = await resize(pilot, LARGE)
        assert_fits(app)
        assert f"Step {len(steps)}/{len(steps)} · {steps[-1].id}" in text
        await visit_graph(pilot, lesson)
        if lesson.lesson.train is not None:
            await visit_training(pilot, lesson, replot=False)
        await visit_help(pilot, "lesson")

        await drain(pilot)
        text = screen_text(app)
        assert "cannot evaluate" not in text
        assert_healthy(app, failed_workers)

        await pilot.press("escape")
        await drain(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert_healthy(app, failed_workers)
    assert app.return_code in (None, 0)
