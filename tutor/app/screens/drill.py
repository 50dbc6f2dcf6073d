"""Drills: an endless run of fresh variants of a topic, with a streak, accuracy and time per item."""

from __future__ import annotations

import dataclasses

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Footer, Static

from tutor.app.commands import (
    CHECK,
    GRAPH,
    HELP_F1,
    HINT,
    NEXT,
    PALETTE,
    PREV,
    QUIT,
    REVEAL,
    SCROLL_DOWN,
    SCROLL_UP,
    TRAIN,
    Command,
    bindings,
)
from tutor.app.screens.base import TutorScreen
from tutor.app.screens.lesson import LessonScreen
from tutor.app.screens.messages import Checked, Revealed
from tutor.core.drill.run import DrillRun
from tutor.core.lesson.catalog import Entry
from tutor.core.vocabulary import Status, StepState

NEW_NUMBERS = Command("new_numbers", "New", "Skip to fresh numbers (a new variant of this topic)", "f8",
                      "new_numbers")
# 80 columns fit nine footer keys: Prev stays on its key and in help, off the footer
PREV_QUIET = dataclasses.replace(PREV, show=False)
END_DRILL = Command("end_drill", "End", "End the drill and see what went wrong", "escape", "back")
AGAIN = Command("again", "Again", "Start another run of fresh variants", "enter,f2", "again", priority=True)
LEAVE = Command("leave", "Back", "Back to the lesson list", "escape", "leave")


def _entry(run: DrillRun) -> Entry:
    lesson = run.current()
    # a variant is the lesson's own file redrawn, parsed as a file beside it (tutor.core.drill.variants)
    assert lesson.path is not None, f"the drill variant {lesson.id!r} has no file"
    return Entry(lesson.id, lesson.topic, lesson.path, lesson)


class DrillScreen(LessonScreen):
    """The lesson screen on a drill variant; Enter after the last step brings fresh numbers."""

    TUTOR_COMMANDS = (CHECK, HINT, REVEAL, GRAPH, TRAIN, PREV_QUIET, NEXT, NEW_NUMBERS, END_DRILL,
                      SCROLL_UP, SCROLL_DOWN, HELP_F1, PALETTE, QUIT)
    BINDINGS = bindings(TUTOR_COMMANDS)
    HELP_TITLE = "drill"

    def __init__(self, run: DrillRun, topic: str):
        super().__init__(_entry(run))
        self.run = run
        self.topic = topic
        self.drill_states: dict[str, str] = {}

    def on_mount(self) -> None:
        # attempts are stored with this variant's seed, so any of them can be replayed with --emit
        self.tutor_app.drill_seed = self.run.current_seed
        super().on_mount()

    def current_states(self) -> dict[str, str]:
        """A variant is always fresh: its states are this visit's, not the lesson's history."""
        return dict(self.drill_states)

    # Textual calls every class's own handler along the MRO, this one first: the lesson screen's
    # handler then records the attempt and redraws with the states kept here.
    def on_checked(self, message: Checked) -> None:
        verdict = message.verdict
        self.run.record(self.lesson, message.step_id, verdict.status, verdict.mistake)
        if verdict.status == Status.CORRECT and self.drill_states.get(message.step_id) != StepState.REVEALED:
            self.drill_states[message.step_id] = "solved"
        elif verdict.counts_as_attempt and message.step_id not in self.drill_states:
            self.drill_states[message.step_id] = "attempted"

    def on_revealed(self, message: Revealed) -> None:
        if message.record:
            self.run.record(self.lesson, message.step_id, "revealed")
            self.drill_states[message.step_id] = "revealed"

    def show_status(self) -> None:
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(no_wrap=True, justify="right")
        run = self.run
        accuracy = f"{run.accuracy:.0%} of {run.attempts}" if run.accuracy is not None else "no answers yet"
        loading = "loading PyTorch… · " if not self.handle.ready else ""
        grid.add_row(Text(f"drill › {self.topic} · seed {run.current_seed}", "bold"),
                     f" {loading}streak {run.streak} (best {run.best_streak}) · {accuracy}"
                     f" · step {self.index + 1}/{len(self.lesson.steps)}")
        self.query_one("#title-bar", Static).update(grid)

    def _finish(self) -> None:
        text = Text.assemble(("Variant done. ", "bold"),
                             f"Enter: fresh numbers (seed {self.run.current_seed + 1}) · Esc: end the drill.")
        self._show_feedback(text)
        self.finished = True

    def _open_next_lesson(self) -> None:
        self.action_new_numbers()

    def action_new_numbers(self) -> None:
        self.run.advance()
        self.tutor_app.show_drill(self.run, self.topic, replace=True)

    def action_back(self) -> None:
        self.app.switch_screen(DrillSummaryScreen(self.run, self.topic))


class DrillSummaryScreen(TutorScreen):
    """Where the run ended: how it went, and which kinds of step went wrong most."""

    TUTOR_COMMANDS = (AGAIN, LEAVE, HELP_F1, QUIT)
    BINDINGS = bindings(TUTOR_COMMANDS)
    HELP_TITLE = "drill summary"

    def __init__(self, run: DrillRun, topic: str):
        super().__init__()
        self.run = run
        self.topic = topic

    def compose_body(self) -> ComposeResult:
        with Vertical(id="drill-summary"):
            yield Static(summary_text(self.run, self.topic), id="summary", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def action_again(self) -> None:
        run = DrillRun(self.run.lessons, self.run.current_seed + 1)
        self.tutor_app.show_drill(run, self.topic, replace=True)

    def action_leave(self) -> None:
        self.tutor_app.drill_seed = None
        self.tutor_app.back_to_list()


def summary_text(run: DrillRun, topic: str) -> Text:
    text = Text(f"Drill: {topic}\n\n", "bold")
    accuracy = f"{run.accuracy:.0%}" if run.accuracy is not None else "—"
    per_item = f"{run.seconds_per_item:.0f} s" if run.seconds_per_item is not None else "—"
    skipped = f"   skipped: {run.skipped}" if run.skipped else ""
    text.append(f"Variants answered: {run.variants}{skipped}\n")
    text.append(f"Answers: {run.attempts}   right: {run.correct} ({accuracy})"
                + (f"   revealed: {run.reveals}" if run.reveals else "") + "\n")
    text.append(f"Best streak: {run.best_streak}   time per variant answered: {per_item}\n\n")
    misses = run.summary()
    if misses:
        text.append("What went wrong most:\n", "bold")
        for label, count in misses[:8]:
            text.append(f"  {count:>3} × {label}\n")
    elif run.attempts:
        text.append("Nothing went wrong. ✓\n")
    if getattr(run, "replayable", True):  # a review run follows what is due, not a topic
        text.append(f"\nReplay this run: tutor drill {topic} --seed {run.seed}\n", "dim")
        text.append(f"Print a variant:  tutor drill {topic} --seed {run.current_seed} --emit\n", "dim")
    return text
