"""A hostile notebook gets one line and exit 2 (or a lesson without its hostile parts), within a work budget.

The budget is CPU time of this process (what the import costs), not wall-clock time, so a busy
machine cannot fail these tests.
"""

import json
import os
import time

import pytest

from tutor.cli.main import main

CPU_BUDGET = 20.0  # seconds of CPU for one import, far above what a real notebook takes


def run_import(path, capsys, *extra) -> tuple[int, list[str], str]:
    start = time.process_time()
    code = main(["import", str(path), *extra])
    spent = time.process_time() - start
    captured = capsys.readouterr()
    assert spent < CPU_BUDGET, f"import took {spent:.1f} s of CPU"
    assert "Traceback" not in captured.err and "\x1b" not in captured.err + captured.out
    if code == 0:  # what was written is a lesson that validates and passes `tutor check`
        lesson = path.parent / (path.stem + "-imported.toml")
        lesson.write_text(captured.out, encoding="utf-8")
        assert main(["validate", str(lesson)]) == 0 and main(["check", str(lesson)]) == 0
        capsys.readouterr()
    return code, captured.err.splitlines(), captured.out


def one_line_refusal(path, capsys, reason: str) -> None:
    code, err, out = run_import(path, capsys)
    assert code == 2 and out == ""
    assert len(err) == 1 and err[0].startswith(f"tutor: {path}: ") and reason in err[0], err


def notebook(cells: list[dict]) -> str:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def code_cell(source: str, i: int = 0) -> dict:
    return {"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "outputs": [],
            "source": source}


def test_a_huge_notebook_is_refused_unread(tmp_path, capsys):
    path = tmp_path / "huge.ipynb"
    path.write_text(notebook([code_cell("x = 1\n" * 10, 0)]) + " " * (9 * 1024 * 1024))
    one_line_refusal(path, capsys, "file too large (more than 8192 KB)")


def test_deeply_nested_json_is_refused_before_parsing(tmp_path, capsys):
    path = tmp_path / "deep.ipynb"
    path.write_text("[" * 200_000 + "]" * 200_000)
    one_line_refusal(path, capsys, "not a usable notebook: nested 200000 deep (at most 64)")


@pytest.mark.parametrize("text, reason", [
    ('{"cells": [', "not a valid Jupyter notebook"),
    ('{"cells": "no", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "not a valid Jupyter notebook"),
    ("[1, 2, 3]", "not a valid Jupyter notebook"),
])
def test_invalid_json_or_a_notebook_that_breaks_the_format_gets_one_line(tmp_path, capsys, text, reason):
    path = tmp_path / "bad.ipynb"
    path.write_text(text)
    one_line_refusal(path, capsys, reason)


def test_a_file_that_is_not_utf8_is_refused(tmp_path, capsys):
    path = tmp_path / "latin1.py"
    path.write_bytes("x = torch.tensor([1.0])  # café".encode("latin-1"))
    one_line_refusal(path, capsys, "not UTF-8 text")


def test_thousands_of_cells_are_refused(tmp_path, capsys):
    path = tmp_path / "many.ipynb"
    path.write_text(notebook([code_cell(f"x{i} = {i}", i) for i in range(5000)]))
    one_line_refusal(path, capsys, "too many cells (5000; at most 1000)")
    text = tmp_path / "many.txt"
    text.write_text("".join(f"In [{i}]:\nx = {i}\n\n" for i in range(5000)))
    one_line_refusal(text, capsys, "too many cells (5000; at most 1000)")


def test_a_folder_a_fifo_and_a_missing_file_are_bad_files(tmp_path, capsys):
    one_line_refusal(tmp_path, capsys, "not a regular file")
    one_line_refusal(tmp_path / "missing.ipynb", capsys, "cannot read file")
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.ipynb"
        os.mkfifo(fifo)
        one_line_refusal(fifo, capsys, "not a regular file")


def test_loops_and_recursion_stop_at_the_work_budget(tmp_path, capsys):
    path = tmp_path / "loops.py"
    path.write_text("import torch\nx = torch.tensor([1.0], requires_grad=True)\n"
                    "for i in range(100):\n    for j in range(100):\n        for k in range(100):\n"
                    "            y = x * 2\n")
    one_line_refusal(path, capsys, "too much to translate")
    path.write_text("import torch\ndef f(t):\n    return f(t * 2)\nx = torch.tensor([1.0])\ny = f(x)\nprint(y)\n")
    code, err, _ = run_import(path, capsys)
    assert code == 1 and any("calls functions more than 8 deep" in line for line in err)


def test_deeply_nested_code_is_left_out_not_a_crash(tmp_path, capsys):
    path = tmp_path / "nested.py"
    path.write_text("import torch\nx = torch.tensor([2.0], requires_grad=True)\n"
                    "a = " + "-" * 20_000 + "x\n" + "b = " + "(" * 150 + "x" + ")" * 150 + "\n"
                    "y = x * 3\nprint(y)\n")
    code, err, out = run_import(path, capsys)
    assert code == 0 and "ask = 'y'" in out
    assert any(line.startswith("tutor: line 3: ") for line in err)


def test_escape_sequences_in_a_notebook_never_reach_the_terminal(tmp_path, capsys):
    path = tmp_path / "escapes.ipynb"
    cells = [{"cell_type": "markdown", "id": "m", "metadata": {}, "source": "# Title\x1b]0;pwned\x07\n\x1b[2J"},
             code_cell("import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\ns = (x * x).sum()\n"
                       "print('\x1b[31m', s)\nundefined_\u202ename(x)", 1)]
    path.write_text(notebook(cells))
    code, err, out = run_import(path, capsys)
    assert code == 0 and "\x1b" not in out and "\u202e" not in out + "".join(err)
    assert "ask = 's'" in out


def test_tensors_too_big_for_a_lesson_are_left_out(tmp_path, capsys):
    path = tmp_path / "big.py"
    path.write_text("import torch\na = torch.ones(100, 100)\nb = torch.ones(100, 60)\nc = torch.tensor("
                    + str([[1.5] * 12_000]) + ")\nprint(a.sum())\nprint(b.sum())\n")
    code, err, out = run_import(path, capsys)
    assert code == 0 and "ask = 'sum(a)'" in out and "sum(b)" not in out
    assert any(line.startswith("tutor: line 3: `b = torch.ones(100, 60)` would write more than 15,000 numbers")
               for line in err)
    assert any(line.startswith("tutor: line 4: ") and "more than 10,000 numbers" in line for line in err)


def test_a_notebook_whose_cells_have_no_ids_imports_without_nbformats_warning(tmp_path, capsys, recwarn):
    # saved by Jupyter before nbformat 4.5, or written by hand: nbformat printed a MissingIDFieldWarning
    # paragraph on stderr, above tutor's own lines
    cell = code_cell("import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\ny = (x ** 2).sum()\n"
                     "y.backward()\nprint(x.grad)")
    del cell["id"]
    path = tmp_path / "old.ipynb"
    path.write_text(notebook([cell]))
    code, err, out = run_import(path, capsys)
    assert code == 0 and err == [] and "ask = 'grad(y, x)'" in out
    assert [str(w.message) for w in recwarn] == []
