"""The app over a shared folder with hostile files: every good lesson listed, bad ones named, no escape codes."""

import asyncio
import os
import signal
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from app_helpers import SINE_NEURON, screen_text, settle, wait_for_text

SIZE = (80, 24)


async def test_a_hostile_folder_lists_the_good_lessons_and_names_the_bad_ones(tmp_path, monkeypatch):
    import tutor.core.lesson.catalog as catalog
    from tutor.app.app import TutorApp

    monkeypatch.setattr(catalog, "BUILTIN_DIR", tmp_path / "no-built-ins")
    folder = tmp_path / "shared"
    (folder / "answers").mkdir(parents=True)
    sine = textwrap.dedent(SINE_NEURON).lstrip()
    (folder / "sine-neuron-test.toml").write_text(sine.replace(
        'title = "A sine neuron', 'title = "\\u001b]0;owned\\u0007\\u001b[2JA sine neuron', 1))
    (folder / "answers" / "sine-neuron-test.toml").write_text('forward = "-1"\n')  # sorted first
    (folder / "zero.toml").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo.toml")
    (folder / "deep.toml").write_text("x = " + "[" * 5000 + "]" * 5000)
    app = TutorApp(catalog.Catalog.load([str(folder)]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
    assert "A sine neuron" in text and "already used" not in text
    for name in ("zero.toml", "fifo.toml", "deep.toml"):
        assert f"✗ {name}" in text
    assert "\x1b" not in text and "\x07" not in text and "owned" not in text


# ---- Text from files, databases and file names is plain text, never Textual markup ----------------

HOSTILE_MARKUP = [
    "[/x]",
    "[@click=app.quit]QUIT",
    "[@click=app.screenshot('tutor-hostile-x.svg','/tmp')]CLICK",
    "[a=b=c]x",
    "[bold red]",
]
BAIT = ("QUIT", "CLICK")  # the words markup would make clickable

MARKUP_LESSON = '''
id = "markup-test"
title = "{h}"
topic = "{h}"
source = "S {h}"
intro = "Intro {h}"
graph = """
y = a * b
L = (y - 1) ** 2
"""

[given]
a = 2
b = 3

[[steps]]
id = "s1"
ask = "y"
prompt = "Prompt {h}"
hints = ["Hint {h}"]
explain = "Explain {h}"

[[steps.mistakes]]
when = "a + b"
say = "Mistake {h}"

[train]
loss = "L"
params = ["a"]
lr = 0.1
steps = 5
'''

UNFAIR_DRILL = '''
id = "unfair-test"
title = "Unfair"
topic = "unfair"

[given]
a = 2
b = 3

[drill]
a = "randint(1, 5)"

[[steps]]
id = "s1"
ask = "a * b"

[[steps.mistakes]]
when = "b * a"
say = "{h}"
'''


def _toml_text(h: str) -> str:
    return h.replace("\\", "\\\\").replace('"', '\\"')


def _toasts(app) -> list[str]:
    from textual.widgets._toast import Toast

    return [str(t.render()) for t in app.screen.query(Toast)]


def _where(app, word: str) -> tuple[int, int] | None:
    from rich.cells import cell_len

    for y, strip in enumerate(app.screen._compositor.render_strips()):
        x = strip.text.find(word)
        if x >= 0:
            return cell_len(strip.text[:x]) + 1, y
    return None


async def _shown_as_text_and_inert(pilot, h: str, where: str, *, toast: bool = False) -> None:
    """`h` reads literally (in a toast or on the screen), and clicking any bait word in it does nothing."""
    app = pilot.app
    await pilot.pause()
    if toast:
        for _ in range(40):  # the toast is mounted a moment after the notification
            if any(h in t for t in _toasts(app)):
                break
            await pilot.pause(0.05)
        assert any(h in t for t in _toasts(app)), (where, _toasts(app))
    else:
        assert h in screen_text(app), (where, screen_text(app).splitlines())
    for word in BAIT:
        spot = _where(app, word) if word in h else None
        if spot is not None:  # a click on a list row or palette entry opens it, as it should
            await pilot.click(offset=spot)
            await pilot.pause()
    assert app.is_running, f"{where}: clicking {h!r} quit the app"
    assert not any(Path(d, "tutor-hostile-x.svg").exists() for d in ("/tmp", ".")), \
        f"{where}: clicking {h!r} wrote a file"
    app.clear_notifications()  # a toast would cover the next place looked at


async def _back_to_the_list(pilot) -> None:
    """A click on a list row or palette entry opens it, as it should: back to the list after it."""
    from textual.command import CommandPalette

    from tutor.app.screens.lesson_list import LessonListScreen

    app = pilot.app
    if isinstance(app.screen, CommandPalette):
        await pilot.press("escape")
        await settle(pilot)
    if not isinstance(app.screen, LessonListScreen):
        app.back_to_list()
        await settle(pilot)
    assert isinstance(app.screen, LessonListScreen)


@pytest.mark.parametrize("h", HOSTILE_MARKUP)
async def test_text_from_files_and_databases_is_never_markup(h, tmp_path, monkeypatch):
    """Every place the app shows a lesson's text, a file name, a skill from the progress database, a
    drill's failure or a store warning shows it literally; none can bind an action to a click."""
    from textual.widgets import Input

    import tutor.core.drill.variants as variants
    import tutor.core.lesson.catalog as catalog_module
    from tutor.app.app import TutorApp
    from tutor.app.screens.messages import StoreWarning
    from tutor.core.lesson.catalog import Catalog, load_file

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(variants, "MAX_DRAWS", 3)  # every draw is unfair: three say so as well as fifty
    Path("/tmp/tutor-hostile-x.svg").unlink(missing_ok=True)
    monkeypatch.setattr(catalog_module, "BUILTIN_DIR", tmp_path / "no-built-ins")
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "markup-test.toml").write_text(textwrap.dedent(MARKUP_LESSON.format(h=_toml_text(h))).lstrip())
    (folder / "unfair-test.toml").write_text(textwrap.dedent(UNFAIR_DRILL.format(h=_toml_text(h))).lstrip())
    named = tmp_path / "named"
    named.mkdir()
    file_name = h.replace("/tmp", ".").replace("/", "") + ".toml"  # a file name holds no '/'
    (named / file_name).write_text((folder / "markup-test.toml").read_text())
    app = TutorApp(Catalog.load([str(folder)]))
    async with app.run_test(size=(160, 30), notifications=True) as pilot:
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, h, "lesson list")  # a click may open the lesson
        await _back_to_the_list(pilot)
        # the command palette lists every lesson by title, topic and id
        await pilot.press("ctrl+p")
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, f"Open lesson: {h}", "command palette")
        await _back_to_the_list(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"open")
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, f"Open lesson: {h}", "command palette search")
        await _back_to_the_list(pilot)
        # F3 on a topic without drills names the topic in a toast
        app.screen.point_at("markup-test")
        await pilot.press("f3")
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, h, "toast: no drills for the topic", toast=True)
        # the lesson: title bar, intro, source, prompt, hint, a named mistake, the explanation
        app.open_lesson("markup-test")
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, f"Prompt {h}", "prompt")
        await _shown_as_text_and_inert(pilot, f"Intro {h}", "intro")
        await _shown_as_text_and_inert(pilot, f"S {h}", "source")
        await _shown_as_text_and_inert(pilot, f"{h} › {h}", "title bar")
        await pilot.press("f2")
        await _shown_as_text_and_inert(pilot, f"Hint 1/1: Hint {h}", "hint")
        app.screen.query_one("#answer", Input).value = "5"
        await pilot.press("enter")
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, f"Mistake {h}", "named mistake")
        app.screen.query_one("#answer", Input).value = "6"
        await pilot.press("enter")
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, f"Explain {h}", "explanation")
        await pilot.press("f4")
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, f"Graph · {h}", "graph title")
        await pilot.press("escape", "f5")
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, f"Loss over SGD steps · {h}", "training title")
        await pilot.press("escape")
        await settle(pilot)
        # a store warning (a database error quoting a path) and a watched file's name
        app.post_message(StoreWarning(f"Progress is not being saved: {h}"))
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, h, "toast: store warning", toast=True)
        app.start = load_file(named / file_name)
        app.reload_watched()
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, f"Reloaded {file_name}", "toast: watched file reloaded",
                                       toast=True)
        (named / file_name).write_text("x = [")
        app.reload_watched()
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, f"⚠ {file_name}", "watched file does not load")
        # a skill due for review, as the progress database names it
        app.start_review([h])
        await settle(pilot)
        await _shown_as_text_and_inert(pilot, h, "toast: review", toast=True)
        # a drill whose every draw is unfair says why, quoting the lesson's own words
        app.start_drill("unfair")
        await settle(pilot, rounds=6)
        await _shown_as_text_and_inert(pilot, f"({h!r}, when", "toast: drill failure", toast=True)
        assert app.is_running


# ---- Ctrl+Q answers at once: prose, graphs and drill draws never hold the UI thread -------------

@contextmanager
def at_most(seconds: int):
    """Fails the test instead of letting it hang (the UI thread stuck in a regex or a layout)."""
    def expired(*_):
        raise AssertionError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _lesson_file(tmp_path, text: str, name: str = "hostile.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


BACKTICKS = f'''
id = "backticks"
title = "Thirty thousand backticks"
topic = "hostile"
intro = "{"`" * 30_000} and $a $b $c"
graph = """
y = a * b
"""
[given]
a = 2
b = 3
[[steps]]
id = "s"
ask = "y"
prompt = "{"`" * 30_000}"
hints = ["{"`a" * 15_000}", "{"$x " * 10_000}"]
explain = "{"``` `` ` " * 3_000}"
'''


async def test_ctrl_q_answers_at_once_on_a_lesson_of_30000_backticks(tmp_path):
    from tutor.app.app import TutorApp
    from tutor.core.lesson.catalog import Catalog, load_file

    entry = load_file(_lesson_file(tmp_path, BACKTICKS))
    app = TutorApp(Catalog([entry]), start=entry)
    with at_most(60):
        ui = time.thread_time()
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert "Step 1/1 · s" in screen_text(app)
            await pilot.press("f2", "f2")  # both hints, on the UI thread
            await pilot.pause()
            opened = time.thread_time() - ui
            quit_start = time.thread_time()
            await pilot.press("ctrl+q")
        quitting = time.thread_time() - quit_start
    # measured: opening 0.5 s of the UI thread's time, quitting 0.02 s (a cubic regex took minutes)
    assert opened < 5, f"opening the lesson took {opened:.1f} s of the UI thread"
    assert quitting < 1, f"quitting took {quitting:.2f} s of the UI thread"


def _wide_graph(lines: int) -> str:
    """`lines` graph lines, each reading a given of its own: 2 x lines + 1 nodes, all in two rows."""
    graph = "\n".join(f"y{i} = g{i} * a" for i in range(lines))
    givens = "".join(f"g{i} = {i}\n" for i in range(lines))
    return (f'id = "wide"\ntitle = "A wide graph"\ntopic = "hostile"\ngraph = """\n{graph}\n"""\n'
            f'[given]\na = 1\n{givens}[[steps]]\nid = "s"\nask = "y0"\n')


async def test_a_500_node_graph_says_it_is_too_big_and_ctrl_q_answers(tmp_path):
    from tutor.app.app import TutorApp
    from tutor.core.lesson.catalog import Catalog, load_file

    entry = load_file(_lesson_file(tmp_path, _wide_graph(250)))
    app = TutorApp(Catalog([entry]), start=entry)
    with at_most(60):
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            ui = time.thread_time()
            await pilot.press("f4")
            await settle(pilot)
            text = screen_text(app)
            drawing = time.thread_time() - ui
            quit_start = time.thread_time()
            await pilot.press("ctrl+q")
        quitting = time.thread_time() - quit_start
    assert "The graph has 501 nodes, too many to draw here (at most 100)" in text
    assert drawing < 2 and quitting < 1, (drawing, quitting)  # drawing it took 32 s of the UI thread


async def test_a_graph_still_being_drawn_lets_the_learner_leave(tmp_path, monkeypatch):
    """A graph under the limit can take seconds to lay out: it is drawn in a worker, and Esc (or
    Ctrl+Q) while it is drawn answers at once; the drawing is abandoned. The layout here never
    ends on its own, so the test does not depend on how fast the machine is."""
    import threading

    import tutor.app.widgets.graph_view as graph_view
    from tutor.app.app import TutorApp
    from tutor.app.screens.graph import GraphScreen
    from tutor.app.screens.lesson import LessonScreen
    from tutor.core.graph.render import DrawingCancelled
    from tutor.core.lesson.catalog import Catalog, load_file

    real_render = graph_view.render_graph
    drawing_threads: list[str] = []
    abandoned = threading.Event()

    def endless_render(*args, cancelled=None, **kwargs):
        drawing_threads.append(threading.current_thread().name)
        while not cancelled():              # as a huge layout would, until the learner leaves
            time.sleep(0.01)
        abandoned.set()
        raise DrawingCancelled

    monkeypatch.setattr(graph_view, "render_graph", endless_render)
    entry = load_file(_lesson_file(tmp_path, _wide_graph(49)))  # 99 nodes: under the limit, drawn
    app = TutorApp(Catalog([entry]), start=entry)
    with at_most(60):
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("f4")
            for _ in range(500):  # values arrive, then the drawing starts
                await pilot.pause(0.02)
                if drawing_threads:
                    break
            assert isinstance(app.screen, GraphScreen) and app.screen.query_one("GraphView").drawing
            assert "Drawing the graph…" in screen_text(app)
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, LessonScreen)   # answered while the layout still ran
            assert await asyncio.to_thread(abandoned.wait, 30), "the drawing was not abandoned"
            assert threading.main_thread().name not in drawing_threads

            monkeypatch.setattr(graph_view, "render_graph", real_render)
            await pilot.press("f4")
            await settle(pilot)
            assert "┌" in screen_text(app)  # drawn in full when the learner stays


SLOW_DRAW = '''
id = "slow-draw"
title = "Every draw is slow and unfair"
topic = "slow-draw"
graph = """
y = sum((w * x) ** 2)
"""
[given]
x = [1, 2, 3]
w = [1, 1, 1]

[drill]
x = "[randint(1, 9), randint(1, 9), randint(1, 9)]"

[[steps]]
id = "s"
ask = "sgd(y, 0.00001, 10000)"

[[steps.mistakes]]
when = "sgd(y, 0.00001, 10000) * 1"
say = "Always the answer."

[train]
loss = "y"
params = ["w"]
lr = 0.001
steps = 5
'''


def busy_threads(window: float = 1.0) -> list[str]:
    """The threads of this process, other than this one, that did work during `window` seconds: an
    evaluation abandoned by a learner who left should not be one of them."""
    import threading

    def clock(thread) -> float:
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
        except (OSError, TypeError):  # it ended meanwhile
            return 0.0

    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    before = {t: clock(t) for t in others}
    time.sleep(window)
    return [t.name for t in others if clock(t) - before[t] > 0.05]


async def test_ctrl_q_during_a_drill_draw_answers_and_stops_the_draw(tmp_path):
    from tutor.app.app import TutorApp
    from tutor.core.lesson.catalog import Catalog, load_file

    entry = load_file(_lesson_file(tmp_path, SLOW_DRAW))
    app = TutorApp(Catalog([entry]), drill_topic="slow-draw", drill_seed=1)
    with at_most(60):
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(1.5)  # the draw is under way: each of its draws takes seconds
            assert app.screen_stack[1:] == [], "the draw should still be running"
            quit_start = time.thread_time()
            await pilot.press("ctrl+q")
        quitting = time.thread_time() - quit_start
        time.sleep(0.5)  # the abandoned draw stops at its next step, not after 50 redraws
        busy = busy_threads()
    assert quitting < 1, f"quitting took {quitting:.2f} s of the UI thread"
    assert not busy, f"still drawing after the app quit: {busy}"


@pytest.mark.slow
async def test_a_slow_drill_draw_says_so_until_it_ends_and_then_says_why_it_failed(tmp_path, monkeypatch):
    import tutor.core.drill.variants as variants
    from tutor.app.app import TutorApp
    from tutor.app.screens.lesson_list import LessonListScreen
    from tutor.core.lesson.catalog import Catalog, load_file

    monkeypatch.setattr(variants, "SEED_SECONDS", 5.0)  # the ceiling is 10 s; half shows the same
    entry = load_file(_lesson_file(tmp_path, SLOW_DRAW))
    app = TutorApp(Catalog([entry]), drill_topic="slow-draw", drill_seed=1)
    with at_most(120):
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.pause(3)  # past a toast's usual life; the draw needs 5 s of work to give up
            assert [n.message for n in app._notifications] == ["Drawing fresh numbers… (Ctrl+Q quits)"]
            while not any("took more than 5 s of work" in n.message for n in app._notifications):
                await pilot.pause(0.2)
            told = [n.message for n in app._notifications]
            assert len(told) == 1, told                      # the drawing note is gone
            await settle(pilot)
            assert isinstance(app.screen, LessonListScreen)  # and the list is there to go on from


# ---- --watch in a hostile folder -------------------------------------------------------------

def _watched(path):
    from tutor.app.app import TutorApp
    from tutor.core.lesson.catalog import Catalog, load_file

    return TutorApp(Catalog([]), start=load_file(path), start_step="loss", watch=True)


async def test_watch_goes_on_when_a_symlink_loop_appears_in_the_folder(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(textwrap.dedent(SINE_NEURON).lstrip())
    app = _watched(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        (tmp_path / "loop.toml").symlink_to("loop.toml")          # a link to itself
        (tmp_path / "a").symlink_to("b")
        (tmp_path / "b").symlink_to("a")                          # two links to each other
        (tmp_path / "d").mkdir()
        (tmp_path / "d" / "up").symlink_to(tmp_path)              # a folder that holds itself
        await pilot.pause(0.5)
        path.write_text(textwrap.dedent(SINE_NEURON).lstrip().replace(
            'id = "loss"\nask = "L"', 'id = "loss"\nask = "L"\nprompt = "Saved after the loops."'))
        text = await wait_for_text(pilot, "Saved after the loops.")
    assert "Step 3/5 · loss  Saved after the loops." in text


async def test_watch_notices_the_file_replaced_by_a_link(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(textwrap.dedent(SINE_NEURON).lstrip())
    elsewhere = tmp_path / "drafts"
    elsewhere.mkdir()
    draft = elsewhere / "draft.toml"
    draft.write_text(textwrap.dedent(SINE_NEURON).lstrip().replace(
        'id = "loss"\nask = "L"', 'id = "loss"\nask = "L"\nprompt = "From the draft."'))
    app = _watched(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        link = tmp_path / "new-link.toml"
        link.symlink_to(draft)
        os.replace(link, path)  # as an editor or a script swaps a file in
        text = await wait_for_text(pilot, "From the draft.")
        assert "Step 3/5 · loss  From the draft." in text
        # the link's own target is watched from now on
        await pilot.pause(0.5)
        draft.write_text(draft.read_text().replace("From the draft.", "The draft, edited."))
        text = await wait_for_text(pilot, "The draft, edited.")
        assert "Step 3/5 · loss  The draft, edited." in text
        zero = tmp_path / "zero-link.toml"
        zero.symlink_to("/dev/zero")
        os.replace(zero, path)
        text = await wait_for_text(pilot, "does not load now")
    assert "⚠ mine.toml does not load now:" in text and "Step 3/5 · loss" in text


async def test_a_folder_that_cannot_be_watched_is_said_not_ended_in_silence(tmp_path, monkeypatch):
    import watchfiles

    calls = []

    def broken_watch(*args, **kwargs):
        calls.append(1)
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(watchfiles, "watch", broken_watch)
    path = tmp_path / "mine.toml"
    path.write_text(textwrap.dedent(SINE_NEURON).lstrip())
    app = _watched(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = await wait_for_text(pilot, "is not being watched now")
        said = " ".join(text.split())  # the banner wraps at 80 columns
        assert "⚠ mine.toml is not being watched now ([Errno 24] Too many open files); trying again" in said
        await pilot.pause(1.5)
    assert len(calls) >= 2  # tried again


SLOW_QUOTES = '''
id = "slow-quotes"
title = "Five thousand slow quotes"
topic = "hostile"
graph = """
y = sum((w * x) ** 2)
"""
[given]
x = [1, 2, 3]
w = [1, 1, 1]
[[steps]]
id = "s"
ask = "y"
prompt = "{quotes}"
[train]
loss = "y"
params = ["w"]
lr = 0.001
steps = 5
'''.format(quotes=" ".join(f"{{{{ sgd(y, 0.0001, {1000 + k}) }}}}" for k in range(5000)))


async def test_leaving_a_lesson_stops_its_quotes_being_computed(tmp_path):
    """Five thousand slow quotes: one budget for all of them, and Esc stops them at once (an
    abandoned rendering used to keep a core busy for over a minute)."""
    from tutor.app.app import TutorApp
    from tutor.core.lesson.catalog import Catalog, load_file

    entry = load_file(_lesson_file(tmp_path, SLOW_QUOTES))
    app = TutorApp(Catalog([entry]), start=entry)
    with at_most(60):
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            for _ in range(300):  # PyTorch is ready and the quotes are being computed
                await pilot.pause(0.05)
                if screen.handle.live is not None:
                    break
            await pilot.pause(0.5)
            assert not screen.handle.prose, "the quotes should still be being computed"
            await pilot.press("escape")
            await pilot.pause(0.5)
            busy = busy_threads()
            await pilot.press("ctrl+q")
    assert not busy, f"still computing quotes after the learner left: {busy}"
