"""`tutor check`: validate, then solve each lesson and its drill variants and keep named mistakes apart."""

import json
import textwrap

import pytest

from tutor.cli.main import main
from tutor.core.lesson.catalog import BUILTIN_DIR

SQUARE = '''
id = "square"
[given]
x = 3
[[steps]]
id = "sq"
ask = "x * x"
prompt = "Square {{ x }}."
[[steps.mistakes]]
when = "2 * x"
say = "That doubles x; square it instead."
[drill]
x = "randint(1, 4)"
'''


def write(tmp_path, text, name="square.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.slow
def test_every_built_in_lesson_passes_with_twenty_variants(capsys):
    assert main(["check", str(BUILTIN_DIR), "--seeds", "20"]) == 0
    out = capsys.readouterr().out
    assert "no problems" in out and "checked with 20 drill variants each" in out


def test_a_named_mistake_equal_to_the_answer_is_reported_with_file_step_seed_and_reason(tmp_path, capsys):
    # 2x = x·x only at x = 2: fine for the lesson's own 3, unfair for a drawn 2 (that draw is redrawn),
    # and unfair for every draw once x can only be 2
    path = write(tmp_path, SQUARE)
    assert main(["check", str(path), "--seeds", "5"]) == 0
    capsys.readouterr()
    write(tmp_path, SQUARE.replace("randint(1, 4)", "randint(2, 2)"))
    assert main(["check", str(path), "--seeds", "2", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["files"] == 1 and len(report["problems"]) == 2
    first = report["problems"][0]
    assert first["file"] == str(path) and first["step"] == "sq" and first["seed"] == 0
    assert "named mistake #1" in first["reason"] and "gives the right answer" in first["reason"]
    assert main(["check", str(path), "--seeds", "1"]) == 1
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith(f"{path}: step 'sq', seed 0: every one of 50 draws is unfair")


def test_the_lessons_own_numbers_are_checked_too(tmp_path, capsys):
    path = write(tmp_path, SQUARE.replace("x = 3", "x = 2"))
    assert main(["check", str(path), "--seeds", "0"]) == 1
    out = capsys.readouterr().out
    assert "step 'sq', the lesson's own numbers: named mistake #1" in out


def test_two_mistakes_with_one_value_and_a_quote_that_fails_are_problems(tmp_path, capsys):
    text = SQUARE.replace('[drill]', '[[steps.mistakes]]\nwhen = "x + x"\nsay = "Also doubled."\n\n[drill]')
    text = text.replace("Square {{ x }}.", "Square {{ x[5] }}.")
    path = write(tmp_path, text)
    assert main(["check", str(path), "--seeds", "0"]) == 1
    out = capsys.readouterr().out
    assert "named mistake #2 ('Also doubled', when = 'x + x') gives the same value as named mistake #1" in out
    assert "prompt: cannot quote {{ x[5] }}" in out


def test_invalid_files_and_bad_arguments(tmp_path, capsys):
    bad = write(tmp_path, 'id = "b"\n[[steps]]\nid = "s"\nask = "nope"\n', "bad.toml")
    assert main(["check", str(bad)]) == 1
    assert "bad.toml" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "missing.toml")]) == 1
    assert main(["check", str(bad), "--seeds", "-1"]) == 2


def test_without_a_path_it_checks_the_built_in_lessons_and_the_authors_folders(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    bad = SQUARE.replace('when = "2 * x"', 'when = "x * x"')
    write(folder, bad)
    monkeypatch.setenv("TUTOR_LESSONS", str(folder))
    assert main(["check", "--seeds", "0"]) == 1
    out = capsys.readouterr().out
    assert "square.toml: step 'sq'" in out
    assert f"{len(list(BUILTIN_DIR.rglob('*.toml'))) + 1} lesson files checked" in out
