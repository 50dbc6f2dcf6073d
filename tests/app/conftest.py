"""Pilot fixtures for the app tests; the helpers live in app_helpers so test modules can import them by a unique name."""

import textual._wait
from app_helpers import *  # noqa: F401,F403  (fixtures defined there register here)
from textual.pilot import Pilot

# Pilot waits after each key until the app looks idle, judged in windows of Textual's 1/50 s, and
# the tests wait for workers themselves (settle). Finer windows keep every wait and cut the idle time
# of the suite's thousands of key presses; after each press the animations it started finish and the
# screen is laid out (as Pilot.pause does), so what a test reads next is what a learner would see.
textual._wait.SLEEP_GRANULARITY = 1 / 200
textual._wait.SLEEP_IDLE = textual._wait.SLEEP_GRANULARITY / 20.0
_press = Pilot.press


async def _press_then_lay_out(self, *keys: str) -> None:
    await _press(self, *keys)
    for _ in range(2):
        # Home/End scroll after the next refresh: the first round lays out and runs that callback,
        # the second lets the scroll it started finish (idleness is misjudged on a loaded machine)
        await self.app.animator.wait_until_complete()
        self.app.screen._on_timer_update()
        await self._wait_for_screen()


Pilot.press = _press_then_lay_out  # type: ignore[method-assign]
