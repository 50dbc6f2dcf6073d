"""The `tutor` command line as scripts and teachers use it: exit codes, JSON shapes, messages."""

import json
import subprocess
import sys

import pytest
from contract_example import contract_lesson_text

from tutor.cli.main import main

# the contract's own example, under an id of its own so it cannot shadow the built-in lesson
SINE = contract_lesson_text(id=('id = "sine-neuron"', 'id = "sine-neuron-copy"'))



ALL_RIGHT = 'forward = "-1"\ndy_dw = "[2, 1]"\nloss = "9"\ndL_dw = "-12 -6"\nupdate = "[7.5708, 6.1416]"\n'


@pytest.fixture
def lesson_file(tmp_path):
    path = tmp_path / "sine.toml"
    path.write_text(SINE)
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_grade_all_correct_exits_0(lesson_file, tmp_path, capsys):
    answers = tmp_path / "a.toml"
    answers.write_text(ALL_RIGHT)
    code, out, _ = run(capsys, "grade", str(lesson_file), "--answers", str(answers), "--json")
    report = json.loads(out)
    assert code == 0
    assert report["correct"] == report["total"] == 5
    assert [s["verdict"] for s in report["steps"]] == ["correct"] * 5


def test_grade_names_wrong_missing_and_unparsed_and_exits_1(lesson_file, tmp_path, capsys):
    answers = tmp_path / "a.toml"
    # the seed notebook printed dL/dw under the label of dy/dw: that answer is wrong for dy_dw
    answers.write_text('forward = "-1"\ndy_dw = "[-12, -6]"\nloss = "9 +"\ndL_dw = "-12 -6 3"\n')
    code, out, _ = run(capsys, "grade", str(lesson_file), "--answers", str(answers), "--json")
    verdicts = {s["id"]: s["verdict"] for s in json.loads(out)["steps"]}
    assert code == 1
    assert verdicts == {"forward": "correct", "dy_dw": "wrong", "loss": "unparsed",
                        "dL_dw": "wrong_shape", "update": "missing"}


def test_grade_keeps_the_operators_a_message_quotes(lesson_file, tmp_path, capsys):
    # `**` in a message is an operator to type, not Markdown bold: plain text keeps it
    answers = tmp_path / "a.toml"
    answers.write_text('loss = "3^2"\n')
    _, out, _ = run(capsys, "grade", str(lesson_file), "--answers", str(answers), "--json")
    (loss,) = [s for s in json.loads(out)["steps"] if s["id"] == "loss"]
    assert loss["message"] == "Couldn't read that: use ** for powers, e.g. 2**3 (at character 2)."


def test_grade_text_output_summarises(lesson_file, tmp_path, capsys):
    answers = tmp_path / "a.toml"
    answers.write_text(ALL_RIGHT.replace('"9"', '"8"'))
    code, out, _ = run(capsys, "grade", str(lesson_file), "--answers", str(answers))
    assert code == 1 and "4/5 correct" in out


def test_grade_unreadable_answers_or_unknown_lesson_exit_2(lesson_file, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("forward = ")
    code, _, err = run(capsys, "grade", str(lesson_file), "--answers", str(bad))
    assert code == 2 and "not valid TOML" in err
    code, _, err = run(capsys, "grade", str(lesson_file), "--answers", str(tmp_path / "none.toml"))
    assert code == 2 and "cannot read" in err
    code, _, err = run(capsys, "grade", "no-such-lesson", "--answers", str(bad))
    assert code == 2 and "unknown lesson" in err


def test_solve_json_shape(lesson_file, capsys):
    code, out, _ = run(capsys, "solve", str(lesson_file), "--json")
    data = json.loads(out)
    assert code == 0 and data["lesson"] == "sine-neuron-copy"
    step = data["steps"][3]
    assert set(step) == {"id", "prompt", "expected", "kind"}
    assert step["kind"] == "value" and step["expected"] == pytest.approx([-12, -6])


def test_solve_an_invalid_lesson_exits_2_with_the_reason(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(SINE.replace('ask = "L"', 'ask = "conv2d(L, w)"'))
    code, _, err = run(capsys, "solve", str(path))
    assert code == 2 and "step 'loss'" in err and "Traceback" not in err


def test_validate_exit_codes(lesson_file, tmp_path, capsys):
    assert run(capsys, "validate", str(lesson_file))[0] == 0
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.toml").write_text(SINE.replace("y = sin(w @ x) - b", "y = sin(w @ x @ x @ q) - b"))
    code, out, _ = run(capsys, "validate", str(broken), str(lesson_file))
    assert code == 1 and "x.toml: graph line 1: uses 'q'" in out and "2 lesson files checked: 1 valid, 1 invalid" in out


def test_lessons_json_lists_builtins_and_broken_files(tmp_path, capsys):
    (tmp_path / "broken.toml").write_text("title = [")
    code, out, _ = run(capsys, "lessons", "--json", "--lessons", str(tmp_path))
    rows = json.loads(out)
    assert code == 0
    broken = [r for r in rows if r["id"] == "broken"]
    assert broken and "error" in broken[0]
    good = [r for r in rows if "error" not in r]
    assert good and set(good[0]) == {"id", "topic", "title", "steps", "solved", "path"}


def test_extra_lesson_folders_from_the_environment(lesson_file, monkeypatch, capsys):
    monkeypatch.setenv("TUTOR_LESSONS", str(lesson_file.parent))
    code, out, _ = run(capsys, "solve", "sine-neuron-copy", "--json")
    assert code == 0 and json.loads(out)["lesson"] == "sine-neuron-copy"


def test_the_installed_command_never_shows_a_traceback(tmp_path):
    bad = tmp_path / "weird.toml"
    bad.write_bytes(b"\x00\xff garbage")
    result = subprocess.run([sys.executable, "-m", "tutor", "solve", str(bad)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "weird.toml" in result.stderr


def test_a_wrong_answer_on_a_pool_with_positional_arguments_is_graded_not_stopped(tmp_path, capsys):
    # The slip "stride left at its default" rewrites max_pool1d(x, 2, 1, 0); it once stopped
    # grading with "NameError: name 'copy' is not defined" (exit 2) before any verdict was given.
    lesson = tmp_path / "pool.toml"
    lesson.write_text('graph = "p = max_pool1d(x, 2, 1, 0)"\n[given]\nx = [1, 3, 2, 5]\n'
                      '[[steps]]\nid = "p"\nask = "p"\n')
    answers = tmp_path / "answers.toml"
    answers.write_text('p = "3 5"\n')  # the pool with stride 2: a wrong answer for stride 1
    code, out, err = run(capsys, "grade", str(lesson), "--answers", str(answers), "--json")
    assert code == 1 and "NameError" not in out + err
    (step,) = json.loads(out)["steps"]
    assert step["verdict"] in ("wrong", "wrong_shape")
