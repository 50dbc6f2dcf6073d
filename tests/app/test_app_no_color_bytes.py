"""NO_COLOR in the real terminal output: not one colour escape, emphasis by reverse/bold instead."""

from pty_run import PtyApp, colour_codes, styles_used


def run_conv_lesson(lesson_dir, env) -> bytes:
    app = PtyApp(["open", "conv-test", "--lessons", str(lesson_dir)], env)
    try:
        assert app.wait_for("Step 1/3"), app.output[-2000:]
        app.send("3 -4; 1 7\r")  # a wrong entry: marked in the feedback
        assert app.wait_for("Not quite"), app.output[-2000:]
        app.send("\x11")  # Ctrl+Q
    finally:
        app.finish()
    return bytes(app.output)


def test_no_color_sends_no_colour_at_all(lesson_dir):
    output = run_conv_lesson(lesson_dir, {"NO_COLOR": "1"})
    assert colour_codes(output) == []
    assert {1, 7} <= styles_used(output)  # bold, and reverse for the title bar and marked entries


def test_without_no_color_the_same_screens_are_in_colour(lesson_dir):
    # the check above can fail: the same run with colour allowed does send colour escapes
    assert colour_codes(run_conv_lesson(lesson_dir, {})) != []
