"""The help window: every key of the screen it was opened from, from the same command list."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tutor.app.commands import CLOSE, Command, bindings


class HelpScreen(ModalScreen[None]):
    TUTOR_COMMANDS = (CLOSE,)
    BINDINGS = bindings(TUTOR_COMMANDS)

    def __init__(self, title: str, commands: list[Command], note: str = ""):
        super().__init__()
        self.help_title = title
        self.commands = commands
        self.note = note

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column()
        for c in self.commands:
            table.add_row(c.key_label, c.title, c.help)
        with VerticalScroll(id="help-box") as box:
            box.border_title = f"Keys: {self.help_title}"
            box.border_subtitle = "Esc or F1 closes"
            yield Static(table, id="help-keys")
            if self.note:
                yield Static(self.note, id="help-note", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
