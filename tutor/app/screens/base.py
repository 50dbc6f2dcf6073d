"""The base of every full screen: bindings from its command list, help, and a 'too small' notice."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from tutor.app.commands import Command, fit_footer, screen_commands
from tutor.app.screens.help import HelpScreen

if TYPE_CHECKING:
    from tutor.app.services import TutorServices


class TutorScreen(Screen):
    """Subclasses set TUTOR_COMMANDS (and BINDINGS = bindings(TUTOR_COMMANDS)) and compose_body()."""

    TUTOR_COMMANDS: tuple[Command, ...] = ()
    HELP_TITLE = "tutor"
    HELP_NOTE = ""  # one sentence the help window adds for this screen
    MIN_SIZE = (60, 20)

    def compose(self) -> ComposeResult:
        yield from self.compose_body()
        yield Static(id="too-small")

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def tutor_app(self) -> TutorServices:
        """The app as tutor's own: Textual types `self.app` as any App."""
        return cast("TutorServices", self.app)

    @property
    def active_bindings(self):
        """As Textual's, but fitted to the terminal's width for the footer (shorter labels, then
        fewer keys): a label is never cut in the middle of a word."""
        width = self.app.size.width
        if self.is_mounted and any(f.show_command_palette for f in self.query(Footer)):
            width -= 14  # the palette's key, docked on the right: "▏^p palette"
        return fit_footer(super().active_bindings, width, self.app.get_key_display)

    def on_mount(self) -> None:
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def on_screen_resume(self) -> None:
        # the terminal may have been resized while another screen was on top
        self._fit()

    _focus_before_small = None

    def _fit(self) -> None:
        width, height = self.app.size
        need_w, need_h = self.MIN_SIZE
        small = width < need_w or height < need_h
        was_small = self.has_class("-too-small")
        if small and not was_small:
            # hiding the view drops keyboard focus; remember it to hand back when the terminal grows
            self._focus_before_small = self.focused
        self.set_class(small, "-too-small")
        if getattr(self, "_fitted_width", None) != width:
            self._fitted_width = width
            self.refresh_bindings()  # the footer's labels depend on the width
        if was_small and not small and self._focus_before_small is not None:
            self.call_after_refresh(self._focus_before_small.focus)
            self._focus_before_small = None
        if small:
            self.query_one("#too-small", Static).update(
                f"Make the terminal at least {need_w}×{need_h} for this view "
                f"(it is {width}×{height} now).\nCtrl+Q quits."
            )

    def action_help(self) -> None:

        self.app.push_screen(HelpScreen(self.HELP_TITLE, screen_commands(self), self.HELP_NOTE))
