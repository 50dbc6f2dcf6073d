"""The worked example in docs/lesson-authoring.md is what `tutor import` writes, and reading a notebook needs no torch."""

import re
import subprocess
import sys
from pathlib import Path

from tutor.cli.main import main

DOCS = Path(__file__).resolve().parents[2] / "docs" / "lesson-authoring.md"


def test_the_worked_example_in_the_authoring_guide_is_what_import_writes(tmp_path, capsys):
    section = DOCS.read_text().split("### A worked example", 1)[1]
    script = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    lesson = re.search(r"```toml\n(.*?)```", section, re.DOTALL).group(1)
    (tmp_path / "lab.py").write_text(script)
    assert main(["import", str(tmp_path / "lab.py")]) == 0
    captured = capsys.readouterr()
    assert captured.out == lesson
    assert captured.err == ("tutor: line 25: `torch.save(w, 'weights.pt')` is not part of the lesson language; "
                            "left out\n")


def test_reading_and_translating_a_notebook_never_imports_torch():
    code = ("import sys\nfrom tutor.core.notebook import import_notebook\nimport tutor.cli.import_command\n"
            f"import_notebook({str(Path(__file__).parents[1] / 'fixtures' / 'notebooks' / 'autograd_ones.ipynb')!r})\n"
            "print('torch' in sys.modules, 'textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_prose_with_quotes_backslashes_and_latex_survives_the_lesson_file():
    import tomllib

    from tutor.core.notebook.compose import toml_string

    for text in ["a\n\\nabla ''' \"\"\" x\\", "one \\n \" ' line", "x\ny\\\\", "ends with a quote\n'", "$\\frac{a}{b}$", "a\x01b\nc\x1b", "one\x7f"]:
        assert tomllib.loads("k = " + toml_string(text))["k"] in (text, text + "\n")
