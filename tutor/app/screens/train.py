"""The loss over SGD steps, rerun in a worker whenever the learning rate or step count changes."""

from __future__ import annotations

from textual import work
from textual.worker import get_current_worker
from textual.app import ComposeResult
from textual.widgets import Footer, Static

from tutor.app.commands import (
    CLOSE_TRAIN, HELP, LOG_Y, LR_DOWN, LR_UP, PALETTE, QUIT, STEPS_DOWN, STEPS_UP, bindings,
)
from tutor.app.screens.base import TutorScreen
from tutor.app.screens.messages import TrainDone
from tutor.app.widgets.loss_plot import LossPlot
from tutor.app.widgets.train_status import train_status
from tutor.core.lesson import MAX_TRAIN_STEPS, Lesson

LR_RANGE = (1e-6, 1e3)


class TrainScreen(TutorScreen):
    TUTOR_COMMANDS = (LR_DOWN, LR_UP, STEPS_DOWN, STEPS_UP, LOG_Y, CLOSE_TRAIN, HELP, PALETTE, QUIT)
    BINDINGS = bindings(TUTOR_COMMANDS)
    HELP_TITLE = "training plot"
    MIN_SIZE = (60, 20)

    def __init__(self, lesson: Lesson, answers: dict[str, str]):
        super().__init__()
        self.lesson = lesson
        self.answers = answers  # step id -> what the learner last typed, for their own update
        self.lr = lesson.train.lr
        self.steps = lesson.train.steps

    def compose_body(self) -> ComposeResult:
        yield Static(f"Loss over SGD steps · {self.lesson.title}", id="title-bar", markup=False)
        yield LossPlot(id="plot")
        yield Static(id="status-line", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(LossPlot).focus()
        self.replot()

    def replot(self) -> None:
        self.query_one("#status-line", Static).update(
            f"Running SGD: lr {self.lr:g}, {self.steps} steps…")
        self._run(self.lr, self.steps)

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _run(self, lr: float, steps: int) -> None:
        from tutor.core.training import loss_after_update, run_sgd, update_steps

        run, marker, error = None, None, None
        try:
            run = run_sgd(self.lesson, lr, steps)
            for step_id in update_steps(self.lesson):
                if step_id in self.answers:
                    marker = loss_after_update(self.lesson, step_id, self.answers[step_id])
                    if marker is not None:
                        break
        except Exception as failure:  # noqa: BLE001 - shown under the plot
            error = str(failure) or type(failure).__name__
        if not get_current_worker().is_cancelled:  # a newer lr or step count replaced this run
            self.post_message(TrainDone(run, marker, error))

    def on_train_done(self, message: TrainDone) -> None:
        status = self.query_one("#status-line", Static)
        if message.error:
            status.update(f"⚠ Training failed: {message.error}")
            return
        run = message.run
        if (run.lr, run.steps) != (self.lr, self.steps):
            return  # an older run; the newest is on its way
        self.query_one(LossPlot).show_run(run.losses, run.lr, marker=message.marker)
        status.update(train_status(run, message.marker))

    def action_lr(self, factor: float) -> None:
        lr = min(max(self.lr * factor, LR_RANGE[0]), LR_RANGE[1])
        if lr != self.lr:
            self.lr = lr
            self.replot()

    def action_steps(self, factor: float) -> None:
        steps = min(max(round(self.steps * factor), 1), MAX_TRAIN_STEPS)
        if steps != self.steps:
            self.steps = steps
            self.replot()

    def action_toggle_log(self) -> None:
        self.query_one(LossPlot).action_toggle_log()

    def action_back(self) -> None:
        self.app.pop_screen()
