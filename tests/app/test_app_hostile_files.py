"""The app over a shared folder with hostile files: every good lesson listed, bad ones named, no escape codes."""

import os
import textwrap

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
