"""A dropped SSH connection (SIGHUP), SIGTERM or a terminal that vanished ends tutor within a
second, and the answer on screen is saved by the next tutor command."""

from __future__ import annotations

import os
import signal
import time

import pytest
from pty_run import PtyApp

from tutor.core.progress.store import ProgressStore

pytestmark = pytest.mark.slow


def _answered(tmp_path) -> PtyApp:
    app = PtyApp(["open", "chain-rule-scalar"], {"TUTOR_DATA_DIR": str(tmp_path)})
    assert app.wait_for("Step 1/"), app.output[-2000:]
    app.send("123456\r")
    assert app.wait_for("Not quite", timeout=60), app.output[-2000:]  # the verdict is on screen
    return app


def _saved(tmp_path, monkeypatch) -> list[str]:
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path))
    with ProgressStore.open() as store:
        assert store.flush(timeout=10)
        return [a.answer for a in store.attempts()]


@pytest.mark.parametrize("signal_name", ["SIGHUP", "SIGTERM"])
def test_a_signal_ends_the_app_within_a_second_and_the_answer_is_kept(tmp_path, monkeypatch, signal_name):
    app = _answered(tmp_path)
    try:
        sent = time.monotonic()
        os.kill(app.proc.pid, getattr(signal, signal_name))
        code = app.finish(timeout=10)
        took = time.monotonic() - sent
    finally:
        if app.proc.poll() is None:
            app.finish(timeout=0)
    assert code == 128 + getattr(signal, signal_name)
    assert took < 1.5, f"ending took {took:.2f} s"  # 0.9 s at most by design; slack for a shared machine
    assert _saved(tmp_path, monkeypatch) == ["123456"]


def test_a_terminal_that_vanishes_without_a_sighup_ends_the_app_instead_of_spinning(tmp_path, monkeypatch):
    app = _answered(tmp_path)
    os.close(app.master)  # the terminal is gone; tutor (in a session of its own) gets no SIGHUP
    app.master = os.open(os.devnull, os.O_RDONLY)  # for finish() to close
    started = time.monotonic()
    while app.proc.poll() is None and time.monotonic() - started < 10:
        time.sleep(0.05)
    took = time.monotonic() - started
    if app.proc.poll() is None:
        app.proc.kill()
    app.proc.wait()
    assert took < 1.5, f"still running {took:.1f} s after the terminal went"
    assert app.proc.returncode == 128 + signal.SIGHUP
    assert _saved(tmp_path, monkeypatch) == ["123456"]

