"""A terminal driver that notices when the terminal has gone, and the app's end on signals.

Textual's input thread keeps reading a standard input that has reached end of file (a dropped SSH
connection whose SIGHUP never arrived leaves exactly that): `select` says it is readable, `read`
returns nothing, and the thread spins at a core's worth of CPU (upstream, Textualize/textual#6690
stops the reading; the app then runs on with nobody to see it). Here the end of input, or a read
error from a terminal that has hung up, ends the session as SIGHUP does.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder
from collections.abc import Callable

from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver


def ending_driver(base: type, on_input_closed: Callable[[], None]) -> type:
    """`base` (Textual's LinuxDriver or a subclass) whose input thread calls `on_input_closed` once
    and stops when the terminal's input ends."""
    if not (isinstance(base, type) and issubclass(base, LinuxDriver)):
        return base  # another platform's or a test's driver: left as it is

    class EndingDriver(base):
        def run_input_thread(self) -> None:
            selector = selectors.SelectSelector()
            selector.register(self.fileno, selectors.EVENT_READ)
            parser = XTermParser(self._debug)
            decode = getincrementaldecoder("utf-8")().decode
            try:
                while not self.exit_event.is_set():
                    for _key, mask in selector.select(0.1):
                        if not mask & selectors.EVENT_READ:
                            continue
                        try:
                            data = os.read(self.fileno, 4096)
                        except OSError:  # EIO: the terminal hung up
                            data = b""
                        if not data:
                            on_input_closed()
                            return
                        for event in parser.feed(decode(data)):
                            self.process_message(event)
                    for event in parser.tick():
                        self.process_message(event)
            finally:
                selector.close()

    EndingDriver.__name__ = f"Ending{base.__name__}"
    return EndingDriver
