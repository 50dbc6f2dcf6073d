"""Quitting never waits for a check: Ctrl+Q during a long evaluation ends the real process at once."""

import resource
import time

from pty_run import PtyApp

# Thirty tanh layers trained for 4,000 SGD steps inside one ask: about 7 s of checking here,
# within the evaluation budget, so only cancelling can end it early.
SLOW = '''
id = "slow-check"
title = "A deliberately slow check"
topic = "slow"
dtype = "float64"
graph = """
h0 = tanh(W @ x)
{layers}
L = sum(h29 ** 2)
"""

[given]
W = "ones(40, 40) / 200"
x = "ones(40, 1)"

[[steps]]
id = "trained"
ask = "sgd(L, 0.001, steps=4000)"
prompt = "The loss after 4000 SGD steps."
'''.format(layers="\\n".join(f"h{i} = tanh(W @ h{i - 1})" for i in range(1, 30)))


def test_ctrl_q_during_a_long_check_ends_the_process_within_a_second(tmp_path):
    lesson = tmp_path / "slow-check.toml"
    lesson.write_text(SLOW)
    app = PtyApp(["open", str(lesson)], {})
    try:
        assert app.wait_for("Step 1/1"), app.output[-2000:]
        app.send("1\r")
        assert app.wait_for("reads as scalar: 1")
        app.read(1.0)  # the check is under way (torch loading, then the 4,000 steps)
        assert b"Not quite" not in app.output and b"Correct" not in app.output
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        used_before_quit = app.cpu_seconds()
        sent = time.monotonic()
        app.send("\x11")  # Ctrl+Q
        code = app.finish(timeout=15)
        took = time.monotonic() - sent
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        if app.proc.poll() is None:
            app.finish(timeout=0)
    assert code == 0
    # The CPU the process spent after Ctrl+Q: finishing the check would cost seconds of it, and a
    # busy machine stretches the clock but not this (0.3 s by the clock on an idle machine).
    quitting = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) - used_before_quit
    # (Interpreter shutdown with torch loaded is about 0.4 s of it idle, more on a crowded machine.)
    assert quitting < 2.0, f"quitting used {quitting:.2f} s of CPU"
    assert took < 15, "quitting hung"
