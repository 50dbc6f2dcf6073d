"""Help, the command palette, the footer, and terminals that are small, colorless or mouse-free."""

from app_helpers import make_app, screen_text, settle, type_text, wait_for_text

from tutor.app.commands import HINT, REVEAL
from tutor.app.screens.help import HelpScreen
from tutor.app.screens.lesson import LessonScreen

SIZE = (80, 24)


async def test_f1_lists_every_key_of_the_lesson_screen(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key, title in [("Enter", "Check"), ("F2", "Hint"), ("F3", "Reveal"), ("F4", "Graph"),
                           ("F5", "Train"), ("F6", "Prev"), ("F7", "Next"), ("Esc", "Back"),
                           ("Ctrl+P", "Commands"), ("Ctrl+Q", "Quit")]:
            assert any(key in line and title in line for line in text.splitlines()), (key, title)
        await pilot.press("escape")
        assert isinstance(app.screen, LessonScreen)


async def test_the_footer_shows_the_keys_of_every_action(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        for label in ("f2 Hint", "f3 Reveal", "f4 Graph", "f5 Train", "f6 Prev", "f7 Next",
                      "esc Back", "f1 Help", "^q Quit"):
            assert label in footer


async def test_train_is_offered_only_for_lessons_with_a_train_section(lesson_dir):
    app = make_app(lesson_dir, "conv-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Train" not in screen_text(app).splitlines()[-1]
        await pilot.press("f5")
        assert isinstance(app.screen, LessonScreen)


async def test_the_command_palette_runs_the_same_commands(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await type_text(pilot, "hint")
        await wait_for_text(pilot, HINT.help)
        await pilot.press("enter")
        await settle(pilot)
        assert "Hint 1/2" in screen_text(app)


async def test_the_palette_opens_a_lesson_by_name(lesson_dir):
    app = make_app(lesson_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await type_text(pilot, "open lesson convolution")
        await wait_for_text(pilot, "Open lesson: A 2-D convolution by hand")
        await pilot.press("enter")
        await settle(pilot)
        assert "conv-test › A 2-D convolution by hand" in screen_text(app)


async def test_palette_and_help_describe_commands_from_one_list(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        text = await wait_for_text(pilot, REVEAL.help)
        assert HINT.help in text and REVEAL.help in text


async def test_a_small_terminal_is_told_how_big_to_be(lesson_dir):
    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=(50, 15)) as pilot:
        await settle(pilot)
        assert "Make the terminal at least 60×20" in screen_text(app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        text = screen_text(app)
        assert "Make the terminal" not in text
        assert "Step 1/5 · forward" in text


async def test_no_color_keeps_state_readable_and_wrong_entries_marked(lesson_dir, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(lesson_dir, "conv-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.no_color
        await type_text(pilot, "3 -4; 1 7")
        await pilot.press("enter")
        await settle(pilot)
        strips = app.screen._compositor.render_strips()
        styled = [seg for strip in strips for seg in strip if seg.text.strip() == "7" and seg.style]
        # the wrong entry is in reverse video, which survives without color
        assert any(seg.style.reverse for seg in styled)
        assert "✗ 1 conv" in screen_text(app) and "tried" in screen_text(app)


def test_no_mouse_turns_mouse_reporting_off(monkeypatch, lesson_dir):
    import tutor.app
    from tutor.app.app import TutorApp

    calls = {}
    monkeypatch.setattr(TutorApp, "run", lambda self, **kw: calls.update(kw))
    assert tutor.app.run_app(extra_dirs=(str(lesson_dir),), mouse=False) == 0
    assert calls == {"mouse": False}


def test_an_unknown_lesson_exits_2_without_opening_the_app(monkeypatch, capsys, lesson_dir):
    import tutor.app
    from tutor.app.app import TutorApp

    monkeypatch.setattr(TutorApp, "run", lambda self, **kw: (_ for _ in ()).throw(AssertionError))
    assert tutor.app.run_app(lesson_ref="no-such-lesson", extra_dirs=(str(lesson_dir),)) == 2
    assert "unknown lesson 'no-such-lesson'" in capsys.readouterr().err


def test_open_starts_in_the_lesson_and_drill_in_the_topic(monkeypatch, lesson_dir):
    import tutor.app
    from tutor.app.app import TutorApp

    opened = []
    monkeypatch.setattr(TutorApp, "run", lambda self, **kw: opened.append(
        (self.start.id if self.start else None, self.start_drill_topic, self.start_drill_seed)))
    tutor.app.run_app(lesson_ref="conv-test", extra_dirs=(str(lesson_dir),))
    tutor.app.run_app(drill_topic="autograd", drill_seed=12, extra_dirs=(str(lesson_dir),))
    assert opened == [("conv-test", None, None), (None, "autograd", 12)]
    assert tutor.app.run_app(drill_topic="no-such-topic", extra_dirs=(str(lesson_dir),)) == 2


async def test_opening_a_lesson_from_inside_another_replaces_it(lesson_dir):
    from tutor.app.screens.lesson_list import LessonListScreen

    app = make_app(lesson_dir, "sine-neuron-test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await type_text(pilot, "open lesson convolution")
        await wait_for_text(pilot, "Open lesson: A 2-D convolution by hand")
        await pilot.press("enter")
        await settle(pilot)
        assert "conv-test › A 2-D convolution by hand" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, LessonListScreen)
