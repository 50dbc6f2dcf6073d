"""Lessons and app helpers for the app tests: a folder of small lessons, a fresh app, and settling workers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

SINE_NEURON = r'''
id = "sine-neuron-test"
title = "A sine neuron: forward, gradient, loss, update"
topic = "autograd-test"
order = 10
source = "Lab exercise, computational graphs"
dtype = "float64"

intro = """
The model is $y = \\sin(\\mathbf{w}^T\\mathbf{x}) - b$ with an L2 loss
$\\mathcal{L} = (\\hat{y} - y)^2$. Work it out on paper first.
"""

graph = """
y = sin(w @ x) - b
L = (y_hat - y) ** 2
"""

[given]
x = [2, 1]
w = ["pi/2", "pi"]
b = 1
y_hat = 2
alpha = 0.5

[[steps]]
id = "forward"
ask = "y"
prompt = "Compute the forward pass $y$."
hints = ["$\\mathbf{w}^T\\mathbf{x} = 2\\pi$", "$\\sin(2\\pi) = 0$"]
explain = "The sine of a whole turn is zero, so y = -b."

[[steps]]
id = "dy_dw"
ask = "grad(y, w)"
prompt = "Gradient of the output with respect to the weights, $\\partial y / \\partial \\mathbf{w}$."

[[steps]]
id = "loss"
ask = "L"

[[steps.mistakes]]
when = "y_hat - y"
say = "That is the error ŷ - y. The loss squares it."

[[steps]]
id = "dL_dw"
ask = "grad(L, w)"

[[steps.mistakes]]
when = "grad(y, w)"
say = "That is the gradient of y; multiply it by the gradient of L with respect to y."

[[steps]]
id = "update"
ask = "w - alpha * grad(L, w)"
prompt = "Weights after one SGD step with $\\alpha = 0.5$."
tolerance = { rtol = 1e-3, atol = 1e-4 }

[train]
loss = "L"
params = ["w"]
lr = 0.5
steps = 40
'''

CONV = r'''
id = "conv-test"
title = "A 2-D convolution by hand"
topic = "conv-test"
order = 20

intro = "Slide the kernel $w$ over $x$; each output is a sum of products."

graph = """
y = conv2d(x, w)
"""

[given]
x = [[1, 0, 2], [2, 1, -1], [0, 0, 2]]
w = [[1, -1], [0, 2]]

[[steps]]
id = "conv"
ask = "y"
prompt = "The output of conv(x, w) with stride 1 and no padding."
hints = ["The output is 2×2."]

[[steps]]
id = "conv_shape"
ask = "shape(y)"
prompt = "The shape of the output."
explain = """
A 3×3 input and a 2×2 kernel leave 2 positions per side.

Each side of the output has $n - k + 1$ entries.

With padding $p$ it is $n + 2p - k + 1$.

With stride $s$ it is $\\lfloor (n + 2p - k)/s \\rfloor + 1$.

With dilation $d$ the kernel spans $d(k - 1) + 1$ inputs.

Pooling windows follow the same rule.

PyTorch drops a window that would run past the padded edge.

So the output here is 2×2.

That is why the answer is the shape 2×2, whatever the numbers are.

The end.
"""

[[steps]]
id = "avg"
ask = "mean(y) / 4"
prompt = "The mean of the output, divided by 4."
'''

BROKEN = r'''
title = "A lesson with a typo"
[[steps]]
id = "s1"
ask = "undefined_name + 1"
'''


@pytest.fixture
def lesson_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "sine-neuron-test.toml").write_text(textwrap.dedent(SINE_NEURON).lstrip())
    (folder / "conv-test.toml").write_text(textwrap.dedent(CONV).lstrip())
    return folder


@pytest.fixture
def broken_dir(lesson_dir: Path) -> Path:
    (lesson_dir / "broken-test.toml").write_text(textwrap.dedent(BROKEN).lstrip())
    return lesson_dir


def make_app(folder: Path | None, lesson: str | None = None, step: str | None = None):
    """A TutorApp over only the test lessons in `folder` (so screens and snapshots do not change
    with the curriculum), or over the built-in curriculum when folder is None."""
    from tutor.app.app import TutorApp
    from tutor.core.lesson.catalog import Catalog, load_file

    if folder is None:
        cat = Catalog.load()
    else:
        entries = [load_file(p, p.parent.name) for p in sorted(folder.glob("*.toml"))]
        entries.sort(key=lambda e: (e.topic, e.lesson.order if e.lesson else 1e9, e.id))
        cat = Catalog(entries)
    start = cat.find(lesson) if lesson else None
    return TutorApp(cat, start=start, start_step=step)


async def settle(pilot, rounds: int = 3) -> None:
    """Lets thread workers finish and their messages land on screen."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    for screen in pilot.app.screen_stack:
        await screen.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app) -> str:
    """What the terminal shows now, as plain text lines (what a learner would read)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def type_text(pilot, text: str) -> None:
    """Types like a learner, one key at a time."""
    await pilot.press(*["space" if ch == " " else ch for ch in text])


async def answer(pilot, text: str) -> str:
    """Clears the answer box, types `text`, presses Enter, waits for the check; returns the screen text."""
    from tutor.app.widgets.answer_box import AnswerInput

    pilot.app.screen.query_one(AnswerInput).value = ""
    await type_text(pilot, text)
    await pilot.press("enter")
    await settle(pilot)
    return screen_text(pilot.app)


def line_with(text: str, needle: str) -> str:
    """The first screen line containing `needle` (a row of a list, a status line)."""
    return next((line for line in text.splitlines() if needle in line), "")


async def wait_for_text(pilot, needle: str, timeout: float = 30.0) -> str:
    """Polls the screen until `needle` shows (for things Textual fills in asynchronously); fails the
    test if it never does (a wait that ran out in silence once hid a toast that was never shown)."""
    import time

    end = time.monotonic() + timeout
    while True:
        text = screen_text(pilot.app)
        if needle in text:
            return text
        if time.monotonic() > end:
            pytest.fail(f"{needle!r} did not show within {timeout:g} s; the screen:\n{text}")
        await pilot.pause(0.05)


@pytest.fixture
def torch_held(monkeypatch):
    """Keeps each lesson's PyTorch evaluation waiting until the test sets the returned event."""
    import threading

    from tutor.app.screens.live_handle import LiveHandle

    release = threading.Event()
    real_build = LiveHandle.build

    def held_build(handle):
        release.wait(timeout=30)
        real_build(handle)

    monkeypatch.setattr(LiveHandle, "build", held_build)
    yield release
    release.set()
