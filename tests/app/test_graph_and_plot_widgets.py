"""The graph view and the loss plot at 80x24: they draw, scroll by keyboard, and say what they show."""

import math

from contract_example import contract_lesson_text
from textual.app import App, ComposeResult

from tutor.app.widgets.graph_view import GraphView
from tutor.app.widgets.loss_plot import LossPlot
from tutor.core.evaluate.results import NodeValue
from tutor.core.lesson.load import parse_lesson

SINE_NEURON = contract_lesson_text()



VALUES = {"x": NodeValue((2,), [2, 1]), "w": NodeValue((2,), [1.5708, 3.1416]), "b": NodeValue((), 1),
          "y_hat": NodeValue((), 2), "y": NodeValue((), -1.0), "L": NodeValue((), 9.0)}
GRADS = {"w": NodeValue((2,), [-12.0, -6.0]), "x": NodeValue((2,), [-9.4248, -18.8496]),
         "b": NodeValue((), 6.0), "y_hat": NodeValue((), 6.0), "y": NodeValue((), -6.0)}


# the same neuron one operation per line: a graph taller than the screen
LONG_CHAIN = SINE_NEURON.replace("y = sin(w @ x) - b", "s = w @ x\nu = sin(s)\ny = u - b")


class GraphApp(App):
    def __init__(self, lesson_text: str = SINE_NEURON):
        super().__init__()
        self.lesson_text = lesson_text

    def compose(self) -> ComposeResult:
        yield GraphView(parse_lesson(self.lesson_text), id="graph")


class PlotApp(App):
    def compose(self) -> ComposeResult:
        yield LossPlot(id="plot")


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def drawn(pilot) -> None:
    """The graph is laid out in a worker: waits for it, and for the drawing to be shown and sized
    (Home/End scroll by the size the view knows, and a loaded machine lays out late)."""
    await pilot.app.workers.wait_for_complete()
    view = pilot.app.query_one(GraphView)
    for _ in range(200):
        await pilot.pause()
        if view.virtual_size.height >= len(view.lines):
            return


async def test_graph_view_says_values_are_loading_then_shows_them():
    app = GraphApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(GraphView)
        await drawn(pilot)
        shown = screen_text(app)
        assert "loading" in shown
        assert "w · param" in shown and "= [pi/2, pi]" in shown
        view.update(VALUES, GRADS)
        await drawn(pilot)
        assert not view.awaiting_values and "loading" not in screen_text(app)
        assert any("∂L/∂w = [-12 -6]" in line for line in view.lines)
        assert max(map(len, view.lines)) <= 80


async def test_graph_view_scrolls_with_the_keyboard():
    app = GraphApp(LONG_CHAIN)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(GraphView)
        view.update({**VALUES, "s": NodeValue((), 6.2832), "u": NodeValue((), 0.0)}, GRADS)
        view.focus()
        await drawn(pilot)
        assert "L · loss" not in screen_text(app)  # the loss is below the fold at 24 lines
        await pilot.press("end")
        await pilot.pause()
        assert view.scroll_y > 0 and "L · loss" in screen_text(app)
        await pilot.press("home")
        await pilot.pause()
        assert view.scroll_y == 0


async def test_loss_plot_shows_title_axes_and_the_learners_point():
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        plot = app.query_one(LossPlot)
        plot.show_run([9 * 0.9 ** k for k in range(41)], 0.5, marker=4.0)
        await pilot.pause()
        shown = screen_text(app)
        assert "Loss over 40 SGD steps, lr 0.5" in shown
        assert "SGD step" in shown and "loss" in shown
        assert "◆" in shown
        assert not plot.log_y  # 9 down to 0.13 is under two decades


async def test_losses_spanning_decades_get_a_log_axis_that_survives_redraws():
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        plot = app.query_one(LossPlot)
        plot.show_run([9 * 0.5 ** k for k in range(41)], 0.5, marker=(1, 4.5))
        await pilot.pause()
        assert plot.log_y and "log scale" in screen_text(app)
        await pilot.resize_terminal(70, 20)  # plotext 5 re-took the log on every redraw
        await pilot.pause()
        assert "1e-9" in screen_text(app)
        plot.focus()
        await pilot.press("l")
        await pilot.pause()
        assert not plot.log_y and "log scale" not in screen_text(app)


async def test_a_diverging_run_is_plotted_up_to_where_it_broke():
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(LossPlot).show_run([1.0, 10.0, 1e3, math.inf, math.nan], 5.0)
        await pilot.pause()
        assert "(diverged)" in screen_text(app)


async def test_no_color_gives_a_monochrome_plot(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = PlotApp()
    async with app.run_test(size=(80, 24)) as pilot:
        plot = app.query_one(LossPlot)
        plot.show_run([3.0, 2.0, 1.5], 0.1)
        await pilot.pause()
        assert plot.theme == "clear"
        assert all(span.style in ("", None) or not getattr(span.style, "color", None)
                   for span in plot.render().spans)
