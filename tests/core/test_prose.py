"""Prose with live numbers: {{ expr }} quotes, own-numbers spans, and drill variants written with tomlkit."""

import textwrap
import tomllib

import pytest

from tutor.core.check.step import checker_for
from tutor.core.drill.variants import DrillError, accepted, emit_variant, variant
from tutor.core.errors import LessonErrors
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.load import load_lesson, parse_lesson
from tutor.core.lesson.prose import placeholder, render_lesson, without_own
from tutor.core.text.latex import plain_text


def lesson_file(tmp_path, body: str, name: str = "quoting.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


QUOTING = '''
# the author's own comment, kept in every variant
id = "quoting"
title = "Quoting"
intro = "The input is $x = {{ x }}$ and the bias $b = {{ b }}$."
graph = """
y = x * b     # one product
"""

[given]
x = [1, 2]    # the lesson's own numbers
b = 3

[[steps]]
id = "y"
ask = "y"
prompt = "Compute $y = {{ b }}\\\\,x$."
hints = ["Each entry of {{ x }} times {{ b }}.", "{% own %}Three times two is six.{% end %}"]
explain = "So $y = {{ y }}$, summing to {{ sum(y) }}.{% own %} With these numbers every entry is a multiple of 3.{% end %}"

[[steps.mistakes]]
when = "x"
say = "That is {{ x }}: multiply by $b$."

[[steps.mistakes]]
when = "x + b"
say = "{% own %}Adding 3 happens to look right here.{% end %}"

[drill]
b = "randint(4, 6)"
'''


def test_quoted_values_are_shown_as_the_tutor_shows_values(tmp_path):
    lesson = load_lesson(lesson_file(tmp_path, QUOTING))
    shown = render_lesson(lesson, LiveLesson(lesson))
    assert shown[lesson.intro] == "The input is $x = [1 2]$ and the bias $b = 3$."
    step = lesson.steps[0]
    assert shown[step.prompt] == "Compute $y = 3\\,x$."
    assert shown[step.explain] == ("So $y = [3 6]$, summing to 9. With these numbers every entry is a "
                                   "multiple of 3.")
    assert placeholder(step.hints[0]) == "Each entry of … times …."


def test_a_named_mistakes_message_quotes_this_runs_numbers(tmp_path):
    live = LiveLesson(load_lesson(lesson_file(tmp_path, QUOTING)))
    verdict = checker_for(live).check("y", "1 2")
    assert verdict.status == "wrong"
    assert "That is [1 2]: multiply by $b$." in verdict.message
    assert "{{" not in verdict.message


@pytest.mark.parametrize("prose, reason", [
    ("prompt = \"Compute {{ y[ }}.\"", "prompt: {{ y[ }}"),
    ("prompt = \"Compute {{ nothere + 1 }}.\"", "'nothere'"),
    ("prompt = \"Compute {{ }}.\"", "is empty"),
    ("hints = [\"{% own %}never closed\"]", "hint 1: '{% own %}' is never closed"),
    ("explain = \"{% if x %}no{% end %}\"", "explain: unknown tag"),
])
def test_a_bad_quote_is_a_lesson_error_with_file_and_place(tmp_path, prose, reason):
    text = f'id = "bad"\n[given]\nx = 1\n[[steps]]\nid = "s"\nask = "x"\n{prose}\n'
    with pytest.raises(LessonErrors) as err:
        parse_lesson(text, tmp_path / "bad.toml")
    [error] = err.value.errors
    assert error.file.endswith("bad.toml") and error.where == "step 's'"
    assert reason in error.reason


def test_a_variant_never_holds_own_numbers_text_and_keeps_the_authors_layout(tmp_path):
    lesson = load_lesson(lesson_file(tmp_path, QUOTING))
    text = emit_variant([lesson], 5)
    assert "# the author's own comment, kept in every variant" in text
    assert "y = x * b     # one product" in text
    for own_only in ("{% own %}", "{% end %}", "Three times two", "multiple of 3", "Adding 3"):
        assert own_only not in text
    data = tomllib.loads(text)
    assert data["given"]["b"] in (4, 5, 6) and data["given"]["x"] == [1, 2]
    step = data["steps"][0]
    assert step["hints"] == ["Each entry of {{ x }} times {{ b }}."]          # an own-only hint is dropped
    assert [m["when"] for m in step["mistakes"]] == ["x"]                    # so is an own-only mistake
    assert step["explain"] == "So $y = {{ y }}$, summing to {{ sum(y) }}."
    assert "drill" not in data


def test_without_own_leaves_no_gap():
    assert without_own("Right.{% own %} Here x = 3.{% end %} Next.") == "Right. Next."


def test_emit_survives_a_prompt_with_a_control_character(tmp_path):
    # rewritten (an own span goes) and holding a bell: the printed string must still be valid TOML
    body = QUOTING.replace('prompt = "Compute', 'prompt = "\\u0007{% own %}Here b = 3. {% end %}Compute')
    lesson = load_lesson(lesson_file(tmp_path, body))
    text = emit_variant([lesson], 1)
    reread = parse_lesson(text, tmp_path / "again.toml")  # the printed file is a valid lesson
    assert "Compute $y = {{ b }}" in reread.steps[0].prompt


def test_a_degenerate_draw_is_redrawn_the_same_way_every_time(tmp_path):
    body = '''
    id = "redraw"
    [given]
    x = 2
    [[steps]]
    id = "inverse"
    ask = "1 / x"
    [[steps.mistakes]]
    when = "x"
    say = "That is x itself."
    [drill]
    x = "randint(-1, 1)"
    '''
    lesson = load_lesson(lesson_file(tmp_path, body, "redraw.toml"))
    # x = 0 divides by zero and x = 1 or -1 makes the named mistake the right answer: only... none is fair
    with pytest.raises(DrillError, match="no fair variant for seed 3 in 50 draws"):
        variant([lesson], 3)
    fair = lesson_file(tmp_path, body.replace("randint(-1, 1)", "randint(0, 2)"), "redraw.toml")
    lesson = load_lesson(fair)
    for seed in range(10):
        text, drawn, redraws = accepted(lesson, seed)
        assert drawn.given["x"] == 2
        assert text == emit_variant([lesson], seed)


def test_plain_text_leaves_no_markup():
    assert plain_text(r"That is $\partial\mathcal{L}/\partial\mathbf{w}$, **not** `y` ($2 \times 3$).") \
        == "That is ∂ℒ/∂w, not y (2 × 3)."
    assert plain_text(r"partialmathcal \mathcal{L}") == "partialmathcal ℒ"
