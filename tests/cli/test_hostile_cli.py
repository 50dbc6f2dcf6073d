"""The command line on hostile folders: one line per problem, the contract's exit codes, within 15 s and 1 GB."""

import csv
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tutor.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
CHAIN = (ROOT / "lessons" / "autograd" / "chain-rule-scalar.toml").read_text()
ONE_GB = 1 << 30
ESC = ("\x1b", "\x07", "\x9b", "\x9d")

RIGHT = {"forward": "5", "loss": "25", "dL_dv": "10", "dL_da": "30", "dL_dx": "20", "dL_db": "10",
         "a_new": "0.5"}  # chain-rule-scalar's numbers: v = 2*3 - 1 = 5, L = 25, worked by hand


def lesson(lesson_id: str, old: str = "", new: str = "") -> str:
    text = CHAIN.replace('id = "chain-rule-scalar"', f'id = "{lesson_id}"')
    if old:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def limited():
    resource.setrlimit(resource.RLIMIT_AS, (ONE_GB, ONE_GB))


def tutor(*argv: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    """The real command in its own process, stopped at 15 s and 1 GB."""
    # a strict UTF-8 terminal: a file name that is not UTF-8 must not stop the output
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8:strict",
           **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "tutor", *argv], capture_output=True, text=True,
                          timeout=15, preexec_fn=limited, env=env, cwd=ROOT)


def clean_output(result: subprocess.CompletedProcess) -> None:
    both = result.stdout + result.stderr
    assert "Traceback" not in both
    assert not any(c in both for c in ESC), repr(both[:300])


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory) -> Path:
    """Two good lessons and one of each kind of bad file, plus an answers/ folder of a class."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "good-one.toml").write_text(lesson("good-one"))
    (root / "good-two.toml").write_text(lesson("good-two").replace(
        'title = "The chain rule on a scalar graph"', 'title = "Two\\u001b]0;owned\\u0007\\u001b[2J"'))
    long_list = "a = [" + ", ".join(['"pi"'] + ["12345"] * 1000) + "]\n"
    (root / "long-given.toml").write_text(lesson("long-given", "a = 2\n", long_list))
    (root / "big-rtol.toml").write_text(lesson("big-rtol", "[given]", "tolerance = {rtol = 1" + "0" * 400 + "}\n[given]"))
    (root / "big-int.toml").write_text(lesson("big-int", "a = 2\n", "a = " + "9" * 400 + "\n"))
    (root / "deep.toml").write_text(lesson("deep") + "\nz = " + "[" * 5000 + "]" * 5000 + "\n")
    (root / "huge.toml").write_text(lesson("huge") + "#" * (24 << 20))
    graph = "\n".join(["n=a"] * 40_000)  # 160 KB: under the size cap, over the line cap
    (root / "long-graph.toml").write_text(f'id = "long-graph"\ngraph = """\n{graph}\n"""\n[given]\na = 1\n'
                                          '[[steps]]\nid = "s"\nask = "n"\n')
    (root / "zero.toml").symlink_to("/dev/zero")
    os.mkfifo(root / "fifo.toml")
    Path(os.fsdecode(bytes(root) + b"/not-utf8-\xff.toml")).write_text("x = [")
    (root / "new\nline.toml").write_text("x = [")
    answers = root / "answers"
    answers.mkdir()
    (answers / "good-one.toml").write_text('forward = "5"\n')  # named like a lesson, sorted first
    (answers / "good-two.toml").write_text('forward = "5"\n')
    return root


def test_lessons_lists_every_good_lesson_and_each_bad_file_on_one_line(hostile_folder):
    # a terminal wide enough for every reason (a narrower one wraps a reason, and never cuts it)
    result = tutor("lessons", "--lessons", str(hostile_folder), env_extra={"COLUMNS": "400"})
    clean_output(result)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    listed = {line.split()[0]: line for line in lines if line.startswith("  ")}
    assert "✗" not in listed["good-one"] and "✗" not in listed["good-two"]
    assert "Two" in listed["good-two"]
    for bad, reason in [("long-given", "[given] a: expression too long"),
                        ("big-rtol", "whole number too large"), ("big-int", "[given] a: whole number too large"),
                        ("deep", "nested 5000 deep"), ("huge", "file too large"),
                        ("long-graph", "too many lines"), ("zero", "not a regular file"),
                        ("fifo", "not a regular file")]:
        assert "✗ failed to load:" in listed[bad] and reason in listed[bad], listed[bad]
    assert "already used" not in result.stdout
    assert "✗ failed to load:" in listed["not-utf8-\ufffd"] and "✗ failed to load:" in listed["new"]
    assert "chain-rule-scalar" in listed  # the built-in lessons are still there


def test_lessons_json_lists_the_same(hostile_folder):
    result = tutor("lessons", "--json", "--lessons", str(hostile_folder))
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert result.returncode == 0
    assert rows["good-one"]["steps"] == rows["good-two"]["steps"] == 8
    assert "error" in rows["deep"] and "error" not in rows["good-one"]
    assert "answers" not in {r["topic"] for r in rows.values()}


def test_validate_reports_each_bad_file_with_its_name_and_exits_1(hostile_folder):
    result = tutor("validate", str(hostile_folder))
    clean_output(result)
    assert result.returncode == 1
    named = {line.split(":")[0].rsplit("/", 1)[-1] for line in result.stdout.splitlines()[:-1]}
    assert named == {"long-given.toml", "big-rtol.toml", "big-int.toml", "deep.toml", "huge.toml",
                     "long-graph.toml", "zero.toml", "fifo.toml", "not-utf8-\ufffd.toml", "new line.toml"}
    assert result.stdout.splitlines()[-1] == "12 lesson files checked: 2 valid, 10 invalid"


def test_validate_still_reports_a_file_without_steps_when_asked_for_it(hostile_folder):
    result = tutor("validate", str(hostile_folder / "answers" / "good-one.toml"))
    assert result.returncode == 1
    assert "a lesson needs at least one [[steps]]" in result.stdout


@pytest.fixture(scope="module")
def class_answers(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("class")
    (folder / "alice.toml").write_text("".join(f'{k} = "{v}"\n' for k, v in RIGHT.items()) + 'loss_after = "0"\n')
    (folder / "bob.toml").write_text('forward = "=HYPERLINK(\\"http://x\\")"\nloss = "\\u001b]52;c;eA==\\u0007 25"\n')
    (folder / "=cmd.toml").write_text('forward = 5\ndL_dv = ' + "9" * 400 + '\n')
    (folder / "deep.toml").write_text("forward = " + "[" * 5000 + "]" * 5000 + "\n")
    (folder / "digits.toml").write_text("forward = " + "9" * 5000 + "\n")
    (folder / "zero.toml").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo.toml")
    return folder


def test_grade_a_folder_as_csv_one_row_per_file_with_inert_cells(class_answers):
    result = tutor("grade", "chain-rule-scalar", "--answers", str(class_answers), "--csv")
    clean_output(result)
    assert result.returncode == 1
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    by_file = {r["file"]: r for r in rows}
    assert set(by_file) == {"alice.toml", "bob.toml", "'=cmd.toml", "deep.toml", "digits.toml",
                            "zero.toml", "fifo.toml"}
    assert (by_file["alice.toml"]["correct"], by_file["alice.toml"]["total"]) == ("8", "8")
    assert by_file["bob.toml"]["forward"] == "unparsed" and by_file["bob.toml"]["loss"] == "correct"
    assert by_file["'=cmd.toml"]["forward"] == "correct" and by_file["'=cmd.toml"]["dL_dv"] == "unparsed"
    for name, reason in [("deep.toml", "nested 5000 deep"), ("digits.toml", "too many digits"),
                         ("zero.toml", "not a regular file"), ("fifo.toml", "not a regular file")]:
        assert reason in by_file[name]["error"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())


def test_grade_a_folder_gives_the_same_verdicts_as_one_file(class_answers, tmp_path):
    folder = json.loads(tutor("grade", "chain-rule-scalar", "--answers", str(class_answers), "--json").stdout)
    one = tutor("grade", "chain-rule-scalar", "--answers", str(class_answers / "bob.toml"), "--json")
    rows = {r["file"]: r for r in folder["files"]}
    assert rows["bob.toml"]["steps"] == json.loads(one.stdout)["steps"]
    assert one.returncode == 1 and folder["total"] == 8


@pytest.mark.parametrize("name", ["zero.toml", "fifo.toml"])
def test_grade_one_special_answers_file_is_one_line_and_exit_2(class_answers, name):
    result = tutor("grade", "chain-rule-scalar", "--answers", str(class_answers / name))
    clean_output(result)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"tutor: answers file {class_answers / name}: ")


# ---- in-process: the same containment without starting a process -----------------------

def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", ["deep.toml", "digits.toml"])
def test_grade_one_unreadable_answers_file_in_process(class_answers, capsys, name):
    code, out, err = run(capsys, "grade", "chain-rule-scalar", "--answers", str(class_answers / name))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"tutor: answers file {class_answers / name}: ")


@pytest.mark.parametrize("seed", [str(2**63), "-1", "2**63", "9" * 5000])
def test_a_seed_out_of_range_is_refused_before_any_work(capsys, seed):
    with pytest.raises(SystemExit) as info:
        main(["drill", "autograd", "--seed", seed, "--emit"])
    assert info.value.code == 2
    assert "--seed: a seed is a whole number from 0 to 9007199254740991" in capsys.readouterr().err


def test_the_largest_seed_gives_a_variant(capsys):
    code, out, _ = run(capsys, "drill", "autograd", "--seed", str(2**53 - 1), "--emit")
    assert code == 0 and f"--seed {2**53 - 1}" in out


def test_solve_prints_an_empty_matrix(tmp_path, capsys):
    path = tmp_path / "empty.toml"
    path.write_text(lesson("empty", 'ask = "v"', 'ask = "zeros(3, 0)"'))
    code, out, _ = run(capsys, "solve", str(path))
    assert code == 0 and "expected: [[], [], []]" in out


def test_solve_never_shows_escape_sequences(tmp_path, capsys):
    path = tmp_path / "esc.toml"
    path.write_text(lesson("esc", 'prompt = "Forward pass: $v = a x + b$."',
                           'prompt = "\\u001b]0;owned\\u0007\\u001b[2JForward\\u001b]52;c;eA==\\u001b\\\\ pass"'))
    code, out, err = run(capsys, "solve", str(path))
    assert code == 0 and "forward: Forward pass" in out
    assert not any(c in out + err for c in ESC)


@pytest.mark.parametrize("command, code", [("solve", 2), ("validate", 1)])
@pytest.mark.parametrize("error", [RecursionError("deep"), MemoryError(), OverflowError("big"), IndexError("x")])
def test_an_unforeseen_error_is_one_line_with_a_contract_exit_code(monkeypatch, capsys, command, code, error):
    import tutor.cli.main as cli

    def explode(*_):
        raise error

    monkeypatch.setitem(cli.COMMANDS, command, explode)
    got, out, err = run(capsys, command, "x")
    assert got == code and out == ""
    assert err.startswith(f"tutor: {command} stopped: ") and err.count("\n") == 1


def test_file_names_are_cleaned_on_the_way_to_the_terminal(tmp_path, capsys):
    path = tmp_path / "\x1b]0;owned\x07.toml"
    path.write_text("not toml [")
    code, out, err = run(capsys, "validate", str(path))
    assert code == 1 and "not valid TOML" in out
    assert not any(c in out + err for c in ESC)


def test_a_drill_draw_that_overflows_names_the_file_and_seed(tmp_path, capsys):
    (tmp_path / "pow.toml").write_text(lesson("pow", 'a = "randint(-3, 3)"', 'a = "randint(10, 10) ** 400"'))
    code, out, err = run(capsys, "drill", "pow", "--seed", "1", "--emit", "--lessons", str(tmp_path))
    assert code == 2 and out == ""
    assert err.startswith(f"tutor: {tmp_path / 'pow.toml'}: [drill] seed 1: ") and err.count("\n") == 1


def test_progress_shows_hostile_rows_without_escape_codes(capsys):
    from tutor.core.progress.store import ProgressStore

    with ProgressStore.open() as store:
        store.record_attempt("chain-rule-scalar", "forward", "\x1b]0;owned\x07=5", "wrong", "\x1b[2J",
                             topic="\x1b]52;c;eA==\x07autograd")
    for argv in (["progress"], ["progress", "--export", "csv"], ["progress", "--export", "json"]):
        code, out, err = run(capsys, *argv)
        assert code == 0 and not any(c in out + err for c in ESC), argv


def test_thousands_of_unknown_answer_keys_are_one_note(tmp_path, capsys):
    answers = tmp_path / "many.toml"
    answers.write_text("".join(f'k{i} = "1"\n' for i in range(5000)) + 'forward = "5"\n')
    code, out, err = run(capsys, "grade", "chain-rule-scalar", "--answers", str(answers))
    assert code == 1 and "1/8 correct" in out
    assert err == ("tutor: note: the answers file has 'k0', 'k1', 'k10', 'k100', 'k1000' and 4995 more, "
                   "which are not steps of this lesson\n")


# ---- bounded work: check, solve, and names that would forge a row ----------------------------

def tutor_cpu(*argv: str) -> tuple[subprocess.CompletedProcess, float]:
    """The real command, limited to 15 s of CPU and 1 GB (not to a time on the clock, which a busy
    machine stretches), and the CPU seconds it used."""
    def limits():
        limited()
        resource.setrlimit(resource.RLIMIT_CPU, (15, 15))

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8:strict"}
    result = subprocess.run([sys.executable, "-m", "tutor", *argv], capture_output=True, text=True,
                            timeout=300, preexec_fn=limits, env=env, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return result, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


SLOW_UNFAIR = '''
id = "slow-unfair"
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


def test_check_of_a_slow_lesson_whose_every_draw_is_unfair_stops_at_the_files_ceiling(tmp_path):
    """A 3 s step and 50 unfair redraws took 210 s; the file's ceiling (10.5 s of work for one
    seed) ends it with one line per problem."""
    path = tmp_path / "slow-unfair.toml"
    path.write_text(SLOW_UNFAIR)
    result, cpu = tutor_cpu("check", str(path), "--seeds", "1")
    clean_output(result)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert f"{path}: seed 0: checking this file took more than 10.5 s of work; seed 0 not checked" in lines
    assert lines[-1] == "1 lesson file checked with 1 drill variant each: 2 problems in 1 file"
    assert cpu < 15


def test_solve_of_5000_slow_quotes_spends_one_budget(tmp_path):
    quotes = " ".join(f"{{{{ sgd(y, 0.0001, {1000 + k}) }}}}" for k in range(5000))
    path = tmp_path / "quotes.toml"
    path.write_text(SLOW_UNFAIR.split("[drill]")[0] + f'[[steps]]\nid = "s"\nask = "y"\nprompt = "{quotes}"\n'
                    '[train]\nloss = "y"\nparams = ["w"]\nlr = 0.001\nsteps = 5\n')
    result, cpu = tutor_cpu("solve", str(path))
    clean_output(result)
    assert result.returncode == 0, result.stderr
    prompt = result.stdout.splitlines()[2]
    assert prompt.startswith("s: ") and prompt.endswith("?")  # the quotes past the budget
    assert cpu < 15  # over a minute with a budget per quote


def test_check_skips_a_folder_too_big_to_search(tmp_path, capsys, monkeypatch):
    import tutor.core.lesson.catalog as catalog

    monkeypatch.setattr(catalog, "MAX_ENTRIES", 100)
    for k in range(150):
        (tmp_path / f"notes-{k}.txt").write_text("x")
    (tmp_path / "slow.toml").write_text(SLOW_UNFAIR)  # never reached
    start = time.process_time()
    code, out, err = run(capsys, "check", str(tmp_path))
    assert time.process_time() - start < 5
    assert code == 1 and err == ""
    assert out.splitlines() == [
        f"{tmp_path}: stopped looking after 100 entries; nothing in it was checked (name a smaller folder)",
        "no lesson files found"]


def test_check_searches_a_folder_as_validate_does(tmp_path, capsys):
    (tmp_path / "good.toml").write_text(lesson("good"))
    (tmp_path / "loop").symlink_to(tmp_path)  # followed, it would be searched forever
    (tmp_path / "answers.toml").write_text('forward = "5"\n')
    code, out, _ = run(capsys, "check", str(tmp_path), "--seeds", "0")
    assert code == 0, out
    assert out.splitlines() == ["1 lesson file checked on its own numbers only (--seeds 0): no problems"]


@pytest.mark.parametrize("name", ["forged\n  good.toml    8 ✓ ✓ ✓.toml", "tab\there.toml", "line\u2028sep.toml",
                                  "cr\rreturn.toml"])
def test_a_line_break_in_an_answers_file_name_cannot_forge_a_row(tmp_path, capsys, name):
    (tmp_path / name).write_text('forward = "5"\n')
    (tmp_path / "real.toml").write_text('forward = "5"\n')
    code, out, _ = run(capsys, "grade", "chain-rule-scalar", "--answers", str(tmp_path))
    header, *rows = out.splitlines()[2:-1]
    assert header.split() == ["answers", "file", "right", "steps"], out
    assert len(rows) == 2, out  # one row per file, never a third made up by a name
    assert all(row.startswith("  ") and "1/8" in row for row in rows)
