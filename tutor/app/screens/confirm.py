"""A yes/no question in a small window, answered with y/Enter or n/Esc."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tutor.app.commands import CANCEL, CONFIRM, bindings


class ConfirmScreen(ModalScreen[bool]):
    TUTOR_COMMANDS = (CONFIRM, CANCEL)
    BINDINGS = bindings(TUTOR_COMMANDS)

    def __init__(self, question: str, yes: str = "Yes", no: str = "No"):
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question", markup=False)
            yield Static(f"[b]y[/b] or [b]Enter[/b]: {self.yes}    [b]n[/b] or [b]Esc[/b]: {self.no}",
                         id="confirm-keys")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
