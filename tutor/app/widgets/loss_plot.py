"""The loss per SGD step as a terminal plot, with the learner's own one-step update as a distinct point."""

from __future__ import annotations

import math
import os

from textual.binding import Binding
from textual.message import Message
from textual_plotext import PlotextPlot

from tutor.core.text.matrix import format_number

RUN_MARKER = "hd"        # plotext's half-block dots: a dense line
LEARNER_MARKER = "◆"     # the same glyph the status line uses for "your one-step update"
DECADES_FOR_LOG = 2      # losses spanning 100× read better on a log axis


class LossPlot(PlotextPlot, can_focus=True):
    """Replotted by `show_run`; `l` switches the y axis between linear and log. Never animates."""

    BINDINGS = [Binding("l", "toggle_log", "Log y", tooltip="Switch the loss axis between linear and log")]

    class Notice(Message):
        """Something to say about the plot; the screen says it on its status line, never over the axes."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self.losses: list[float] = []
        self.lr: float | None = None
        self.marker: tuple[int, float] | None = None
        self.plot_title = "Loss over SGD steps"
        self.log_y = False
        self._log_choice: bool | None = None  # the learner's own toggle outlives reruns; None: automatic

    def on_mount(self) -> None:
        # Textual takes NO_COLOR out of the environment and keeps it as app.no_color
        if getattr(self.app, "no_color", False) or "NO_COLOR" in os.environ:
            self.theme = "clear"
        self._replot()

    def show_run(self, losses: list[float], lr: float,
                 marker: tuple[int, float] | float | None = None, title: str | None = None) -> None:
        """Plots loss[k] at step k = 0..n; `marker` is (step, loss) or just the loss after step 1."""
        self.losses = [float(v) for v in losses]
        self.lr = lr
        self.marker = (1, float(marker)) if isinstance(marker, (int, float)) else marker
        steps = max(len(self.losses) - 1, 0)
        self.plot_title = title or f"Loss over {steps} SGD step{'' if steps == 1 else 's'}, lr {lr:g}"
        self.log_y = self.spans_decades if self._log_choice is None else self._log_choice
        self._replot()

    @property
    def spans_decades(self) -> bool:
        finite = [v for v in self.losses if math.isfinite(v)]
        return bool(finite) and min(finite) > 0 and max(finite) / min(finite) >= 10 ** DECADES_FOR_LOG

    @property
    def can_log(self) -> bool:
        return bool(self.losses) and all(v > 0 for v in self.losses if math.isfinite(v))

    def action_toggle_log(self) -> None:
        if not self.can_log:
            self.post_message(self.Notice("A log axis needs every loss above zero; the axis stays linear."))
            return
        self.log_y = self._log_choice = not self.log_y
        self._replot()

    def _replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        finite = [(k, v) for k, v in enumerate(self.losses) if math.isfinite(v)]
        diverged = len(finite) < len(self.losses)
        log = self.log_y and self.can_log
        # plotext picks a series colour when it is plotted, before render() applies the theme
        colour = "default" if self.theme == "clear" else None
        # plotext 5 takes the log of the data in place on every build, and Textual builds on every
        # refresh (plotext issue #209), so a log axis is drawn as log10 values with decade labels
        scale = math.log10 if log else float
        plt.title(self.plot_title + (" (diverged)" if diverged else ""))
        plt.xlabel("SGD step")
        plt.ylabel("loss, log scale" if log else "loss")
        if finite:
            steps, values = zip(*finite, strict=False)
            # no legend: plotext puts it top left, right where step 1 (the learner's point) lands;
            # the status line under the plot explains ◆ instead
            plt.plot(list(steps), [scale(v) for v in values], marker=RUN_MARKER, color=colour)
            plt.xticks(_integer_ticks(max(len(self.losses) - 1, 1)))
            if log:
                plt.yticks(*_log_ticks([scale(v) for v in values]))
        if self.marker is not None and math.isfinite(self.marker[1]) and (not log or self.marker[1] > 0):
            plt.scatter([self.marker[0]], [scale(self.marker[1])], marker=LEARNER_MARKER, color=colour)
        self.refresh()


def _integer_ticks(last: int, most: int = 6) -> list[float]:
    """Whole steps only: plotext would otherwise label step 2.5."""
    stride = max(1, math.ceil(last / (most - 1)))
    return list(range(0, last + 1, stride))


def _log_ticks(logs: list[float], most: int = 6) -> tuple[list[float], list[str]]:
    """Tick positions in log10 space, labelled with the losses they stand for (1e-3, 0.01, 1, ...).

    Decades when the losses span several; inside fewer, 1-2-5 steps, then every whole multiple of
    the decade; within a narrow band, evenly spaced values: always at least two labels on the axis.
    """
    lo, hi = min(logs), max(logs)
    low, high = math.floor(lo), math.ceil(hi)
    if high - low >= 3:
        stride = max(1, math.ceil((high - low) / (most - 1)))
        ticks = list(range(low, high + 1, stride))
        return [float(t) for t in ticks], [format_number(10.0 ** t) for t in ticks]
    for multiples, fewest in (((1, 2, 5), 3), (tuple(range(1, 10)), 2)):
        values = [m * 10.0 ** d for d in range(low - 1, high + 1) for m in multiples]
        inside = [v for v in values if lo - 1e-9 <= math.log10(v) <= hi + 1e-9]
        if fewest <= len(inside) <= most + 3:
            inside = inside[:: max(1, math.ceil(len(inside) / most))]
            return [math.log10(v) for v in inside], [format_number(v) for v in inside]
    a, b = 10.0 ** lo, 10.0 ** hi
    if b <= a:
        return [lo], [format_number(a)]
    values = [a + (b - a) * k / 4 for k in range(5)]
    return [math.log10(v) for v in values], [_short(v) for v in values]


def _short(value: float) -> str:
    """Three significant figures: tick labels stay short and still differ."""
    return format_number(float(f"{value:.3g}"))
