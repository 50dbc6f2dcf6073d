"""The loss over SGD steps at the lesson's own learning rate, rerun in a worker when the rate or step count changes."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from tutor.app.commands import (
    CLOSE_TRAIN,
    HELP,
    LOG_Y,
    LR_DOWN,
    LR_UP,
    PALETTE,
    QUIT,
    STEPS_DOWN,
    STEPS_UP,
    bindings,
)
from tutor.app.screens.base import TutorScreen
from tutor.app.screens.live_handle import LiveCancelled, LiveHandle
from tutor.app.screens.messages import TrainDone
from tutor.app.widgets.loss_plot import LossPlot
from tutor.app.widgets.train_status import train_status
from tutor.core.lesson.load import MAX_TRAIN_STEPS
from tutor.core.lesson.model import Lesson
from tutor.core.training.runs import (
    PLOT_STEPS,
    learner_marker,
    plot_lesson,
    plot_rate,
    run_sgd,
    update_steps,
    written_rate,
)

LR_RANGE = (1e-6, 1e3)


class TrainScreen(TutorScreen):
    """Starts at the rate the lesson's update step uses (its α), else the [train] section's; the
    lr keys halve and double it, so they always come back to it exactly."""

    TUTOR_COMMANDS = (LR_DOWN, LR_UP, STEPS_DOWN, STEPS_UP, LOG_Y, CLOSE_TRAIN, HELP, PALETTE, QUIT)
    BINDINGS = bindings(TUTOR_COMMANDS)
    HELP_TITLE = "training plot"
    MIN_SIZE = (60, 20)

    def __init__(self, lesson: Lesson, handle: LiveHandle, own_answers: Callable[[], dict[str, str]]):
        super().__init__()

        self.lesson = plot_lesson(lesson) or lesson
        self.handle = handle
        self.own_answers = own_answers  # step id -> what the learner last typed (read in the worker)
        # the lesson's α: read from the lesson when it is written as a number, else found by the
        # first run (which evaluates it)
        self.base_lr: float | None = written_rate(self.lesson)
        self.doublings = 0                # lr = base_lr * 2 ** doublings: exact, and back again
        self.steps = self.lesson.train.steps if self.lesson.train else PLOT_STEPS
        self.marker: tuple[int, float, str] | None = None
        self.update_ids: list[str] = []
        self.found_update = False  # the learner's own update has been looked for

    @property
    def lr(self) -> float | None:
        return None if self.base_lr is None else self.base_lr * 2.0 ** self.doublings

    def compose_body(self) -> ComposeResult:
        yield Static(Text(f"Loss over SGD steps · {self.lesson.title}", no_wrap=True, overflow="ellipsis"),
                     id="title-bar")
        yield LossPlot(id="plot")
        yield Static(id="status-line", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(LossPlot).focus()
        self.replot()

    def replot(self) -> None:
        rate = f"lr {self.lr:g}" if self.lr is not None else "the lesson's learning rate"
        steps = f"{self.steps} step{'' if self.steps == 1 else 's'}"
        self.query_one("#status-line", Static).update(f"Running SGD: {rate}, {steps}…")
        self._run(self.lr, self.steps, not self.found_update)

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _run(self, lr: float | None, steps: int, find_update: bool) -> None:

        lesson = self.lesson
        run, marker, error, rate = None, None, None, None
        try:
            own = self.handle.lesson is lesson  # a made-up [train] needs a LiveLesson of its own

            def job(live):
                if not own:
                    # lazy: torch, in the plot's worker thread
                    from tutor.core.evaluate.live import LiveLesson

                    live = LiveLesson(lesson)
                rate = plot_rate(lesson, live) if lr is None else lr
                return rate, run_sgd(lesson, rate, steps, live=live)

            rate, run = self.handle.call(job)
            if find_update:
                # the learner's own update: computed once, from what they typed
                answers = self.own_answers()
                marker = self.handle.call(lambda live: learner_marker(lesson, answers))
        except LiveCancelled:
            return  # a newer lr or step count replaced this run, or the learner left
        except Exception as failure:  # noqa: BLE001 - shown under the plot
            error = str(failure) or type(failure).__name__
        ids = [u.step_id for u in update_steps(lesson)]
        self.post_message(TrainDone(run, marker, error, base_lr=rate, update_ids=ids, first=find_update))

    def on_train_done(self, message: TrainDone) -> None:
        status = self.query_one("#status-line", Static)
        if self.base_lr is None:
            self.base_lr = message.base_lr
        if message.first and not message.error:
            self.marker, self.update_ids, self.found_update = message.marker, message.update_ids, True
        if message.error:
            status.update(f"⚠ Training failed: {message.error}")
            return
        run = message.run
        if (run.lr, run.steps) != (self.lr, self.steps):
            return  # an older run; the newest is on its way
        # the learner's update was made at the lesson's own rate: on another curve it would mislead
        at_own_rate = self.doublings == 0
        point = self.marker[:2] if self.marker and at_own_rate else None
        self.query_one(LossPlot).show_run(run.losses, run.lr, marker=point)
        status.update(train_status(run, self.marker, self._update_number(), marker_rate=self.base_lr))

    def _update_number(self) -> str | None:
        """'step 5 (update)': where to type an update, when the learner has not typed one yet."""
        if self.marker is not None or not self.update_ids:
            return None
        ids = [s.id for s in self.lesson.steps]
        first = self.update_ids[0]
        return f"step {ids.index(first) + 1} ({first})"

    def action_lr(self, factor: float) -> None:
        if self.base_lr is None:
            return  # the first run is still finding the lesson's rate
        doublings = self.doublings + (1 if factor > 1 else -1)
        if LR_RANGE[0] <= self.base_lr * 2.0 ** doublings <= LR_RANGE[1]:
            self.doublings = doublings
            self.replot()
        else:
            self.say(f"The learning rate stays between {LR_RANGE[0]:g} and {LR_RANGE[1]:g}.")

    def say(self, text: str) -> None:
        """A notice on the status line, under the plot: never over its axes."""
        self.query_one("#status-line", Static).update(text)

    def on_loss_plot_notice(self, message: LossPlot.Notice) -> None:
        self.say(message.text)

    def action_steps(self, factor: float) -> None:
        steps = min(max(round(self.steps * factor), 1), MAX_TRAIN_STEPS)
        if steps != self.steps:
            self.steps = steps
            self.replot()

    def action_toggle_log(self) -> None:
        self.query_one(LossPlot).action_toggle_log()

    def action_back(self) -> None:
        self.app.pop_screen()
