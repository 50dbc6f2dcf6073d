"""The graph view shows only what the learner earned, and graph steps are answered in a multi-line box.

(That no asked value shows before any answer is checked for every built-in lesson in
test_app_resilience's walk of every view.)
"""

from app_helpers import answer, make_app, screen_text, settle

from tutor.app.screens.graph import GraphScreen
from tutor.app.widgets.graph_view import GraphView

SIZE = (80, 24)


async def open_graph(pilot) -> list[str]:
    await pilot.press("f4")
    assert isinstance(pilot.app.screen, GraphScreen)
    view = pilot.app.screen.query_one(GraphView)
    for _ in range(100):
        if view.values is not None:
            break
        await pilot.pause(0.1)
    await settle(pilot)
    return view.lines


async def draw_the_sine_neurons_graph(pilot) -> None:
    """Types a right graph of the sine neuron (names of the learner's own) into the box and checks it."""
    await settle(pilot)
    for line in ("a = w @ x", "q = sin(a)"):
        await pilot.press(*line, "enter")
    await pilot.press(*"y = q - b", "f9")
    for _ in range(100):
        if "✓ Correct." in screen_text(pilot.app):
            break
        await pilot.pause(0.1)


async def test_after_the_forward_step_its_node_appears_and_a_wrong_try_shows_as_yours(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test", "forward")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "1")
        lines = "\n".join(await open_graph(pilot))
        assert "= ? (yours 1 ✗ first slip)" in lines
        await pilot.press("escape")
        assert "✓ Correct." in await answer(pilot, "-1")
        lines = "\n".join(await open_graph(pilot))
        assert "= -1" in lines and "yours" not in lines
        assert "= ?" in lines  # the loss is still not earned


async def test_a_graph_step_is_typed_on_several_lines_and_checked_with_f9():
    app = make_app(None, "sine-neuron", "graph")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for line in ("s = w @ x", "y = sin(s)"):
            await pilot.press(*line)
            await pilot.press("enter")
        await pilot.press("f9")
        for _ in range(100):
            if "Line 2" in screen_text(app):
                break
            await pilot.pause(0.1)
        assert "Line 2 (y = sin(s)) gives a value on the way to y" in screen_text(app)
        await pilot.press(*["backspace"] * len("y = sin(s)\n"))  # line 2 rubbed out
        await pilot.press(*"t = sin(s)", "enter", *"y = t - b")
        await pilot.press("ctrl+j")
        for _ in range(100):
            if "✓ Correct." in screen_text(app):
                break
            await pilot.pause(0.1)
        assert "✓ Correct." in screen_text(app)


async def test_a_node_filled_in_on_the_graph_after_an_upstream_slip_is_marked_carried(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test", "forward")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await answer(pilot, "1")                 # the slip: y is -1
        lines = "\n".join(await open_graph(pilot))
        assert "(yours 1 ✗ first slip)" in lines
        await pilot.press("f7", "1", "enter")    # the loss node, filled in as (2 - 1)² for the learner's y
        for _ in range(100):
            if "the slip is at y" in screen_text(app):
                break
            await pilot.pause(0.1)
        await settle(pilot)
        assert "✗ L: That is right for your y = 1; the slip is at y." in screen_text(app)
        view = app.screen.query_one(GraphView)
        assert view.values["L"].value == "? (yours 1, carried)"
        stored = [(a.step_id, a.verdict) for a in app.store.attempts() if a.lesson_id == "sine-neuron-test"]
        assert ("loss", "wrong") in stored


async def test_revealing_a_node_from_the_graph_asks_first_and_counts_as_a_reveal(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test", "forward")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_graph(pilot)
        await pilot.press("f3")                  # the selected node: y, asked by step 'forward'
        assert "Reveal y?" in screen_text(app)
        await pilot.press("y")
        for _ in range(100):
            if app.store.step_states("sine-neuron-test").get("forward") == "revealed":
                break
            await pilot.pause(0.1)
        await settle(pilot)
        assert app.store.step_states("sine-neuron-test").get("forward") == "revealed"
        assert app.screen.query_one(GraphView).values["y"].value != "?"


async def test_a_solved_graph_step_is_drawn_as_the_learner_wrote_it():
    app = make_app(None, "sine-neuron", "graph")
    async with app.run_test(size=SIZE) as pilot:
        await draw_the_sine_neurons_graph(pilot)
        lines = "\n".join(await open_graph(pilot))
        assert "Your graph" in screen_text(app)
        assert "│ a " in lines and "sin(a)" in lines and "q − b" in lines  # the learner's names
        assert "= ?" in lines  # still no number earned: no value step answered yet


async def test_the_learners_own_graph_never_shows_the_value_of_a_step_they_got_wrong():
    app = make_app(None, "sine-neuron", "graph")
    async with app.run_test(size=SIZE) as pilot:
        await draw_the_sine_neurons_graph(pilot)
        await pilot.press("f7")
        await settle(pilot)
        await answer(pilot, "1")  # the forward pass is -1; 1 is a slip
        lines = "\n".join(await open_graph(pilot))
        assert "Your graph" in screen_text(app)
        assert "= -1" not in lines
        assert "? (yours 1" in lines
