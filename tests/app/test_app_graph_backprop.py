"""Backpropagation on the learner's own graph, box by box, and a lesson screen that keeps typed work."""

import os
import re
import signal

import pytest
from app_helpers import make_app, screen_text, settle, type_text

from tutor.app.screens.graph import GraphScreen
from tutor.app.screens.lesson import LessonScreen
from tutor.app.widgets.graph_answer_box import GraphAnswerBox
from tutor.app.widgets.graph_view import GraphView

SIZE = (80, 24)
FORWARD = ("s = w @ x", "a = sin(s)", "y = a - b")


async def wait_until(pilot, done, rounds: int = 200) -> None:
    for _ in range(rounds):
        if done():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out")


async def open_graph(pilot) -> GraphScreen:
    await pilot.press("f4")
    screen = pilot.app.screen
    assert isinstance(screen, GraphScreen)
    await wait_until(pilot, lambda: screen.board is not None)
    await settle(pilot)
    return screen


async def select(pilot, label: str) -> None:
    screen = pilot.app.screen
    for _ in range(60):
        if screen.field is not None and screen.field.label == label:
            return
        await pilot.press("f7")
    raise AssertionError(f"no box {label} to fill in")


async def fill(pilot, label: str, text: str) -> str:
    """Selects `label`, types `text`, Enter; returns what the graph view says about it."""
    screen = pilot.app.screen
    await select(pilot, label)
    screen.note = ""
    await type_text(pilot, text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.note.startswith(("✓", "✗", "≈", "?")))
    await settle(pilot)
    return screen.note


async def draw(pilot, lines, last: str) -> None:
    """Types graph lines into the graph box (after whatever it holds) and checks them with F9."""
    for line in lines:
        await type_text(pilot, line)
        await pilot.press("enter")
    await type_text(pilot, last)
    await pilot.press("f9")
    await wait_until(pilot, lambda: "✓ Correct." in screen_text(pilot.app))
    await settle(pilot)


async def test_the_sine_neuron_forward_and_backward_on_the_graph_with_a_slip_carried_forward():
    app = make_app(None, "sine-neuron", "graph")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lesson = app.screen
        await draw(pilot, FORWARD[:2], FORWARD[2])
        await pilot.press("enter")                     # after ✓ Enter moves on, adding no line
        await settle(pilot)
        assert lesson.step.id == "forward"
        assert lesson.sessions["graph"].draft is None

        await open_graph(pilot)
        assert "Your graph" in screen_text(app)
        assert await fill(pilot, "s", "6.2832") == "✓ s: Correct."
        assert await fill(pilot, "a", "0") == "✓ a: Correct."
        assert (await fill(pilot, "y", "1")).startswith("✗ y:")          # the slip
        assert await fill(pilot, "∂y/∂a", "1") == "✓ ∂y/∂a: Correct."
        assert await fill(pilot, "∂y/∂w", "2 1") == "✓ ∂y/∂w: Correct."  # step 3 (dy_dw), solved here
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is lesson
        assert lesson.states.get("dy_dw") == "solved" and lesson.states.get("forward") == "attempted"

        await pilot.press("f7", "f7")                   # the loss graph, starting from the learner's own
        await settle(pilot)
        assert lesson.step.id == "loss_graph"
        assert app.screen.query_one(GraphAnswerBox).text.startswith("s = w @ x\na = sin(s)\ny = a - b\n")
        await draw(pilot, ["d = y_hat - y"], "L = d ** 2")

        await open_graph(pilot)
        said = await fill(pilot, "d", "1")
        assert said == "✗ d: That is right for your y = 1; the slip is at y."
        assert await fill(pilot, "L", "1") == "✗ L: That is right for your d = 1; the slip is at y."
        assert await fill(pilot, "∂ℒ/∂d", "2") == "✗ ∂ℒ/∂d: That is right for your d = 1; the slip is at y."
        assert await fill(pilot, "∂ℒ/∂y", "-2") == \
            "✗ ∂ℒ/∂y: That is right for your ∂ℒ/∂d = 2; the slip is at y."
        view = app.screen.query_one(GraphView)
        assert "? (yours -2, carried)" in "\n".join(view.lines)

        # the slip put right, the rest redone: every step on the way is solved from the graph
        for label, text in [("y", "-1"), ("d", "3"), ("L", "9"), ("∂ℒ/∂d", "6"), ("∂ℒ/∂y", "-6"),
                            ("∂ℒ/∂a", "-6"), ("∂ℒ/∂s", "-6"), ("∂ℒ/∂w", "-12 -6")]:
            assert await fill(pilot, label, text) == f"✓ {label}: Correct.", label
        states = app.store.step_states("sine-neuron")
        assert {s: states.get(s) for s in ("graph", "forward", "dy_dw", "loss_graph", "loss", "dL_dw")} == \
            dict.fromkeys(("graph", "forward", "dy_dw", "loss_graph", "loss", "dL_dw"), "solved")

        # practice on a solved node is not a miss
        misses = sum(1 for a in app.store.attempts() if a.step_id == "forward" and a.verdict != "correct")
        said = await fill(pilot, "y", "5")
        assert said.startswith("✗ y:") and "not recorded" in said
        assert sum(1 for a in app.store.attempts() if a.step_id == "forward" and a.verdict != "correct") == misses

        # one graph, the learner's latest drawing, with every value and gradient they earned
        lines = "\n".join(view.lines)
        assert "(old)" not in lines
        titles = [m.group(1) for line in view.lines for m in re.finditer(r"[│║] (\w+)(?: · \w+)? +[│║]", line)]
        assert sorted(t for t in titles if t in ("s", "a", "y", "d", "L")) == ["L", "a", "d", "s", "y"]
        for shown in ("= 6.2832", "= -1", "= 3", "= 9", "∂ℒ/∂d = 6", "∂ℒ/∂y = -6", "∂ℒ/∂a = -6", "∂ℒ/∂s = -6",
                      "∂ℒ/∂w = [-12 -6]", "∂y/∂w = [2 1]", "∂y/∂a = 1"):
            assert shown in lines, shown
        await pilot.press("escape")
        await settle(pilot)
        assert lesson.states.get("loss") == "solved"   # the lesson screen counts it at once


async def test_f4_on_a_draw_the_graph_step_shows_the_drawing_so_far_and_the_lessons_only_once_revealed():
    app = make_app(None, "sine-neuron", "graph")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_text(pilot, "s = w @ x")
        await open_graph(pilot)
        text = screen_text(app)
        drawing = "\n".join(app.screen.query_one(GraphView).lines)
        assert "Your drawing so far" in text and "w @ x" in drawing
        assert "sin" not in drawing and "loss" not in drawing  # nothing of the lesson's graph
        assert "not checked yet" in text
        await pilot.press("escape")
        await pilot.press("f3")                             # reveal: asked, then recorded
        await pilot.press("y")
        await wait_until(pilot, lambda: app.store.step_states("sine-neuron").get("graph") == "revealed")
        await settle(pilot)
        await open_graph(pilot)
        assert "The lesson's graph (revealed)" in screen_text(app)
        assert "sin(" in "\n".join(app.screen.query_one(GraphView).lines)


async def test_pgdn_scrolls_the_lesson_text_on_a_graph_step():
    app = make_app(None, "sine-neuron", "graph")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_text(pilot, "s = w @ x")
        body = app.screen.query_one("#body")
        assert body.scroll_y == 0 and body.max_scroll_y > 0
        await pilot.press("pagedown")
        await settle(pilot)
        assert body.scroll_y > 0
        assert "Conventions used here" in screen_text(app)   # further down the intro
        await pilot.press("pageup")
        await settle(pilot)
        assert body.scroll_y == 0
        box = app.screen.query_one(GraphAnswerBox)
        assert box.text == "s = w @ x" and box.has_focus


async def test_a_half_typed_graph_and_number_are_back_in_their_boxes_after_quitting():
    app = make_app(None, "sine-neuron", "graph")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_text(pilot, "s = w @ x")
        await pilot.press("enter")
        await type_text(pilot, "a = sin(s)")
        await pilot.press("f7")
        await type_text(pilot, "0.75")
        await pilot.press("f6")                             # back to the graph: it is still there
        assert app.screen.query_one(GraphAnswerBox).text == "s = w @ x\na = sin(s)"
        await pilot.press("f7")
        await pilot.press("ctrl+q")
    assert not [a for a in app.store.attempts() if a.lesson_id == "sine-neuron"]  # drafts are no attempts

    again = make_app(None, "sine-neuron", "graph")
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.screen.query_one(GraphAnswerBox).text == "s = w @ x\na = sin(s)"
        await pilot.press("f7")
        await settle(pilot)
        assert "0.75" in screen_text(again)
        await pilot.press("enter")                          # checked: no longer a draft
        await settle(pilot)
        assert again.drafts.get("sine-neuron", "forward") is None
        assert isinstance(again.screen, LessonScreen)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGKILL], ids=["hup", "kill-9"])
def test_typed_work_is_back_after_the_terminal_is_killed(tmp_path, sig):
    from pty_run import PtyApp

    env = {"TUTOR_DATA_DIR": str(tmp_path)}
    first = PtyApp(["open", "sine-neuron"], env)
    try:
        assert first.wait_for("Step 1/7"), first.output[-2000:]
        first.send("s = w @ x\r")
        first.send("a = sin(s)")
        assert first.wait_for("a = sin(s)")
        first.send("\x1b[18~")                          # F7: the next step
        assert first.wait_for("Step 2/7")
        first.send("0.75")
        assert first.wait_for("reads as")
        first.read(0.3)                                 # the drafts file is written as the learner types
        os.killpg(first.proc.pid, sig)                  # the SSH connection drops, or worse
        first.finish(timeout=10)
    finally:
        if first.proc.poll() is None:
            first.finish(timeout=0)

    again = PtyApp(["open", "sine-neuron"], env)
    try:
        assert again.wait_for("Step 1/7"), again.output[-2000:]
        assert again.wait_for("a = sin(s)"), "the half-typed graph is back in its box"
        again.send("\x1b[18~")
        assert again.wait_for("Step 2/7")
        assert again.wait_for("0.75"), "the half-typed number is back in its box"
        again.send("\x11")                              # Ctrl+Q
        again.finish(timeout=10)
    finally:
        if again.proc.poll() is None:
            again.finish(timeout=0)


NARROW = (60, 20)


def footer_words() -> set[str]:
    from tutor.app import commands

    words = {"⏎", "esc", "tab", "^q", "^p", "palette", "l", "?", "[", "]", "-", "+"} | {f"f{k}" for k in range(1, 13)}
    for value in vars(commands).values():
        if isinstance(value, commands.Command):
            words |= set(value.title.split())
    for short in commands.SHORT_TITLES.values():
        words |= set(short.split())
    return words


async def test_at_60x20_no_footer_and_no_line_under_a_box_is_cut_mid_word(lesson_dir):
    from app_helpers import line_with

    app = make_app(None, "sine-neuron", "graph")
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        seen = []
        for keys in ((), ("f4",), ("escape", "f7"), ("f4",), ("escape", "f5")):
            await pilot.press(*keys)
            await settle(pilot)
            await pilot.pause(0.3)
            await settle(pilot)
            text = screen_text(app)
            footer = text.splitlines()[-1]
            assert set(footer.replace("▏", " ").split()) <= footer_words(), footer
            seen.append(footer)
        assert all("^q" in f or "f1 Help" in f for f in seen)
        await pilot.press("escape", "f6")
        await settle(pilot)
        assert "One operation a line · Enter: new line · F9: check." in screen_text(app)
        await pilot.press("f7")
        await settle(pilot)
        assert line_with(screen_text(app), "Type a number").strip() == \
            "Type a number, [a, b], or rows 1 2; 3 4. Enter checks it."
