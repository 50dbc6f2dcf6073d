"""`tutor check`: validate, then solve each lesson and its drill variants and keep named mistakes apart."""

import json
import textwrap
from pathlib import Path

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


# ---- what authors write wrong (2026-12-04) ------------------------------------------------------------

BEFORE = Path(__file__).parents[1] / "fixtures" / "check"   # built-in lessons as they were before the fixes


def check_json(capsys, *args) -> dict:
    main(["check", *map(str, args), "--json"])
    return json.loads(capsys.readouterr().out)


def reasons(report: dict) -> list[str]:
    return [p["reason"] for p in report["problems"]]


def test_the_old_sine_neurons_halving_claim_is_flagged_with_its_line(capsys):
    path = BEFORE / "sine-neuron-before-2026-12-04.toml"
    report = check_json(capsys, path, "--seeds", "0")
    halving = [p for p in report["problems"] if "halv" in p["reason"]]
    assert halving == [{
        "file": str(path), "step": "update", "seed": None, "line": 172,
        "reason": "explain: says 'halve the rate with F2 four times (to 0.0625)', but 4 halvings of the plot's "
                  "starting rate 0.5 give 0.03125; 0.0625 is 3 halvings"}]


def test_the_old_vgg_drill_is_flagged(capsys):
    report = check_json(capsys, BEFORE / "vgg16-conv3x3-costs-before-2026-12-04.toml", "--seeds", "2")
    (drill,) = [p for p in report["problems"] if "[drill]" in p["reason"]]
    assert drill["line"] == 80 and drill["seed"] == 0
    assert drill["reason"].startswith("[drill]: the text calls the layer VGG-16's and c_in and c_out are both 64 "
                                      "in the lesson's own numbers, but [drill] draws them independently")
    assert drill["reason"].endswith("so most variants are no VGG-16 layer: draw the layer's sizes together "
                                    "(one choice of rows, read in the graph)")


@pytest.mark.parametrize("name, step, reason", [
    ("chain-rule-scalar", "dL_da",
     "named mistake #1 ('That is ∂ℒ/∂v', when = 'grad(L, v)') is never named on the lesson's own numbers: its "
     "value is also what '∂L/∂b instead of ∂L/∂a', '∂L/∂u instead of ∂L/∂a' and '∂L/∂v instead of ∂L/∂a' give, "
     "so no name is sure"),
    ("weight-decay", "penalty",
     "named mistake #1 ('The penalty has λ/2 in front, so that its gradient is λw', when = 'wd * sum(w ** 2)') is "
     "never named on the lesson's own numbers: its value is also the value of 'lr', so naming it could be wrong"),
    ("sine-neuron", "loss",
     "named mistake #2 ('Check the sign', when = '(y_hat + y) ** 2') is never named on the lesson's own numbers: "
     "its value is also the value of 'b', so naming it could be wrong"),
])
def test_named_mistakes_that_were_never_named_are_flagged(capsys, name, step, reason):
    report = check_json(capsys, BEFORE / f"{name}-before-2026-12-04.toml", "--seeds", "1")
    assert {"step": step, "seed": None, "reason": reason} in [
        {k: p[k] for k in ("step", "seed", "reason")} for p in report["problems"]]


def test_a_mistake_never_named_on_any_variant_is_flagged_with_the_first_variants_reason(capsys):
    report = check_json(capsys, BEFORE / "chain-rule-scalar-before-2026-12-04.toml", "--seeds", "2")
    (drilled,) = [p for p in report["problems"] if p["seed"] is not None and p["step"] == "dL_da"]
    assert drilled["reason"].startswith("named mistake #1 ('That is ∂ℒ/∂v', when = 'grad(L, v)') is never named "
                                        "on any of the 2 drill variants checked; here: its value is also what")


def test_a_precision_claim_must_be_declared_and_is_then_tested_on_every_variant(tmp_path, capsys):
    old = BEFORE / "cs231n-sigmoid-neuron-before-2026-12-04.toml"
    report = check_json(capsys, old, "--seeds", "0")
    assert reasons(report) == ["intro: says 'two decimals are enough'; declare it in [conventions] as decimals = 2 "
                               "so that `tutor check` tests it on every variant"]
    assert report["problems"][0]["line"] == 7
    declared = write(tmp_path, old.read_text(encoding="utf-8").replace(
        "\n[given]\n", "\n[conventions]\ndecimals = 2\n\n[given]\n", 1), "sigmoid.toml")
    report = check_json(capsys, declared, "--seeds", "8")
    # one problem per step, on the first variant that breaks the claim (f = 0.0474 there)
    first = {p["step"]: p["reason"] for p in report["problems"]}
    assert first["f"] == ("[conventions] decimals = 2, but the answer rounded so (0.05) is graded imprecise: Right "
                          "as far as it goes; give at least 2 significant figures (e.g. 3 decimals here).")
    assert set(first) == {"f", "ddot", "dw", "dx"}


def test_a_whole_numbers_claim_is_tested_on_every_variant(tmp_path, capsys):
    text = SQUARE.replace('id = "square"', 'id = "halves"\nintro = "Whole numbers throughout."') \
        .replace('ask = "x * x"', 'ask = "x / 2"').replace("[given]", "[conventions]\nwhole_numbers = true\n\n[given]")
    report = check_json(capsys, write(tmp_path, text), "--seeds", "0")
    assert reasons(report) == ["[conventions] whole_numbers: this answer is not a whole number (1.5)"]


DRILLED = '''
id = "drilled"
intro = """
One SGD step with $\\\\alpha = 0.5$ on an $8\\\\times8$ input, here an {{ n }} by {{ n }} one.
"""
graph = "X = zeros(n, n)"
[given]
n = 8
alpha = 0.5
[[steps]]
id = "size"
ask = "shape(X)"
prompt = "The shape of X."
explain = "Each side of the input is {{ n }}."
[drill]
n = "choice([9, 10, 12])"
alpha = "choice([0.25, 0.125])"
'''


def test_a_number_typed_in_drilled_prose_is_reported_with_file_field_and_line(tmp_path, capsys):
    path = write(tmp_path, DRILLED, "drilled.toml")
    report = check_json(capsys, path, "--seeds", "4")
    typed = [(p["line"], p["reason"]) for p in report["problems"] if "is typed" in p["reason"]]
    assert typed == [
        (4, "intro: '0.5' is typed, but it is the given alpha on the lesson's own numbers and differs on drill "
            "variants: quote it with {{ }} or mark the sentence {% own %}"),
        (4, "intro: '8 × 8' is typed, but it is a size of X on the lesson's own numbers and differs on drill "
            "variants: quote it with {{ }} or mark the sentence {% own %}"),
    ]


def test_an_article_before_a_quoted_number_is_checked_against_every_variant(tmp_path, capsys):
    report = check_json(capsys, write(tmp_path, DRILLED, "drilled.toml"), "--seeds", "4")
    (article,) = [p for p in report["problems"] if "article" in p["reason"]]
    assert article["reason"] in [f"intro: 'an {{{{ n }}}}' reads 'an {n}'; rephrase so the sentence needs no "
                                 "article before the number" for n in (9, 10, 12)]
    assert article["seed"] is not None


def test_a_lesson_without_drill_is_not_said_to_be_checked_with_drill_variants(tmp_path, capsys):
    path = write(tmp_path, SQUARE.split("[drill]")[0], "plain.toml")
    assert main(["check", str(path), "--seeds", "3"]) == 0
    assert capsys.readouterr().out == "1 lesson file checked on its own numbers (no [drill], so no variants): " \
                                      "no problems\n"
    drilled = write(tmp_path, SQUARE)
    assert main(["check", str(path), str(drilled), "--seeds", "3"]) == 0
    assert capsys.readouterr().out.endswith("2 lesson files checked, 1 of them with 3 drill variants each: "
                                            "no problems\n")
    report = check_json(capsys, path, "--seeds", "3")
    assert (report["files"], report["drilled"]) == (1, 0)
