"""The app over a shared folder with hostile files: every good lesson listed, bad ones named, no escape codes."""

import os
import textwrap
from pathlib import Path

import pytest
from app_helpers import SINE_NEURON, screen_text, settle

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
        await _shown_as_text_and_inert(pilot, f"Graph · forward values · {h}", "graph title")
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
