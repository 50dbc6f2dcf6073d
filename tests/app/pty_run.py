"""Runs the real `tutor` in a pseudo-terminal of a given size and collects every byte it writes."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SGR = re.compile(rb"\x1b\[([0-9;:]*)m")


class PtyApp:
    """`tutor ARGS` on a pty (80x24 unless told); feed it keys, wait for text, read what it sent."""

    def __init__(self, args: list[str], env: dict[str, str], size: tuple[int, int] = (80, 24)):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        inherited = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        full_env = {**inherited, "TERM": "xterm", "PYTHONPATH": str(ROOT), **env}
        self.proc = subprocess.Popen([sys.executable, "-m", "tutor", *args], stdin=slave,
                                     stdout=slave, stderr=slave, env=full_env, close_fds=True,
                                     start_new_session=True)
        os.close(slave)
        self.output = bytearray()

    def read(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                self.output += chunk

    def wait_for(self, text: str, timeout: float = 30.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text.encode() in self.output:
                return True
            self.read(0.1)
        return False

    def cpu_seconds(self) -> float:
        """CPU time the running process has used so far (user + system), from /proc."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def send(self, data: str) -> None:
        os.write(self.master, data.encode())

    def finish(self, timeout: float = 10.0) -> int | None:
        """Waits for the process to end (reading what it still writes); kills it if it will not."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            self.read(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        return self.proc.returncode


def colour_codes(output: bytes) -> list[str]:
    """Every SGR parameter that sets a colour (30-38, 40-48, 90-97, 100-107); 39/49 are 'default'."""
    found = []
    for match in SGR.finditer(output):
        params = [p for p in re.split(rb"[;:]", match.group(1)) if p]
        for p in params:
            n = int(p)
            if 30 <= n <= 38 or 40 <= n <= 48 or 90 <= n <= 97 or 100 <= n <= 107:
                found.append(match.group(0).decode())
                break
    return found


def styles_used(output: bytes) -> set[int]:
    """Every plain SGR attribute number sent (1 bold, 4 underline, 7 reverse, ...)."""
    return {int(p) for m in SGR.finditer(output) for p in re.split(rb"[;:]", m.group(1)) if p}
