"""The app shows a lesson's quoted values ({{ }}) once PyTorch has computed them, and '…' until then."""

import textwrap

from app_helpers import make_app, screen_text, settle

QUOTED = '''
id = "quoted"
title = "Quoted numbers"
intro = "The input is $x = {{ x }}${% own %}, with a zero in the middle{% end %}."
graph = "y = 3 * x"

[given]
x = [4, 0, 2]

[[steps]]
id = "y"
ask = "y"
prompt = "Triple **each** entry of {{ x }}."
hints = ["Three times {{ x[0] }} is the first entry."]
'''


def quoted_app(tmp_path):
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "quoted.toml").write_text(textwrap.dedent(QUOTED), encoding="utf-8")
    return make_app(folder, lesson="quoted")


async def test_before_pytorch_is_ready_quoted_values_show_as_ellipses(tmp_path, torch_held):
    app = quoted_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "The input is x = …, with a zero in the middle." in text
        assert "Triple each entry of …." in text
        torch_held.set()
        await settle(pilot)
        assert "Triple each entry of [4 0 2]." in screen_text(app)


async def test_quoted_values_fill_in_and_own_text_shows_on_the_lessons_numbers(tmp_path):
    app = quoted_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "The input is x = [4 0 2], with a zero in the middle." in text
        assert "Triple each entry of [4 0 2]." in text
        assert "{{" not in text and "**" not in text and "{%" not in text
        await pilot.press("f2")
        await settle(pilot)
        assert "Hint 1/1: Three times 4 is the first entry." in screen_text(app)
