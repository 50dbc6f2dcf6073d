"""Hostile prose, quotes, graphs and drills: text processed in linear time, one budget for all of a
lesson's quotes, a graph check that says when its budget ran out, redraws under a ceiling."""

import time

import pytest

from tutor.app.widgets.prose import prose_text
from tutor.core.drill import variants
from tutor.core.drill.audit import check_lesson
from tutor.core.evaluate.live import LiveLesson
from tutor.core.expr import budget
from tutor.core.expr.budget import Budget, BudgetExceeded
from tutor.core.graph.answer import check_graph
from tutor.core.lesson.load import parse_lesson
from tutor.core.lesson.prose import MAX_QUOTED_NUMBERS, QUOTES_SECONDS, render_lesson_checked
from tutor.core.text.files import MAX_LESSON_BYTES
from tutor.core.text.latex import plain_text, to_unicode

N = MAX_LESSON_BYTES  # a piece of prose is never longer than the file it is in

# Inputs that made the prose parsers quadratic or cubic: runs of backticks (the code-span regex
# backtracked over every run length and start), dollars that open math and never close, ...
PATHOLOGICAL = {
    "backticks": "`" * N,
    "backtick-a": "`a" * (N // 2),
    "backtick runs of every length": " ".join("`" * k for k in range(1, 700)),
    "dollar-letter-space": "$a " * (N // 3),
    "dollars": "$" * N,
    "double dollars": "$$ " * (N // 3),
    "stars": "*a " * (N // 3),
    "bold marks": "**" * (N // 2),
    "bold never closed": "**a " * (N // 4),
    "underscores never closed": "__a " * (N // 4),
    "backslashes": "\\" * N,
    "one long paragraph": "a\n" * (N // 2),
    "bullets": "- a\n" * (N // 4),
    "nested fractions": "$" + "\\frac{" * (N // 7) + "$",
    "braces in math": "$" + "{" * N + "$",
    "superscripts": "$" + "x^" * (N // 2) + "$",
    "macros outside math": "\\alpha" * (N // 6),
    "a huge matrix": "$\\begin{bmatrix}" + "1 & 2 \\\\ " * (N // 10) + "\\end{bmatrix}$",
    "one huge formula": "$" + "a+" * (N // 2) + "b$",
    "many formulas": "$a+b$ " * (N // 6),
    "code holding dollars": "`$" * (N // 2),
    "emphasis never closed": "*a" * (N // 2),
    "a heading of hashes": "#" * N,
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_prose_is_processed_in_linear_time_whatever_it_holds(name):
    text = PATHOLOGICAL[name]
    to_unicode.cache_clear()
    start = time.process_time()
    shown = prose_text(text)
    plain = plain_text(text)
    spent = time.process_time() - start
    # measured at most 0.9 s for both on 256 KB; 12,000 backticks alone took minutes before
    assert spent < 5, f"{name}: {spent:.1f} s of CPU"
    assert isinstance(shown.plain, str) and isinstance(plain, str)


def test_code_spans_pair_runs_of_the_same_length():
    assert prose_text("a `x $y$` b").plain == "a x $y$ b"
    assert plain_text("`a` and $x^2$") == "a and x²"
    assert prose_text("``a ` b`` c").plain == "a ` b c"
    assert prose_text("`never closed $x$").plain == "`never closed x"


QUOTES = '''
id = "quotes"
graph = """
y = sum((w * x) ** 2)
"""
[given]
x = "ones({size})"
w = "ones({size})"
[[steps]]
id = "s"
ask = "y"
prompt = "{prompt}"
[train]
loss = "y"
params = ["w"]
lr = 0.01
steps = 5
'''


def quotes_lesson(prompt: str, size: int = 3):
    return parse_lesson(QUOTES.format(prompt=prompt, size=size), "quotes.toml")


def test_thousands_of_slow_quotes_share_one_budget():
    """5,000 quotes of a distinct 1,000-step SGD run each: a minute and more when each quote had its
    own budget; now all of them together stop at QUOTES_SECONDS of work, the rest showing '?'."""
    lesson = quotes_lesson(" ".join(f"{{{{ sgd(y, 0.0001, {1000 + k}) }}}}" for k in range(5000)))
    live = LiveLesson(lesson)
    start = time.process_time()
    shown, problems = render_lesson_checked(lesson, live)
    spent = time.process_time() - start
    assert spent < QUOTES_SECONDS + 3, f"{spent:.1f} s"
    assert len(problems) == 1  # one line, not 4,900
    where, reason = problems[0]
    assert where == "step 's' prompt" and "the quotes after it were not computed" in reason
    assert "more than 5 seconds of work" in reason
    rendered = shown[lesson.steps[0].prompt].split()
    assert rendered[0] != "?" and rendered[-1] == "?"


def test_quoting_a_huge_value_is_refused_and_20000_such_quotes_are_one_problem():
    lesson = quotes_lesson(" ".join(["{{ x }}"] * 20_000), size=5_000_000)
    live = LiveLesson(lesson)
    start = time.process_time()
    shown, problems = render_lesson_checked(lesson, live)
    assert time.process_time() - start < 5
    assert problems[0][1] == (f"{{{{ x }}}}: the value holds 5,000,000 numbers; a quote shows at most "
                              f"{MAX_QUOTED_NUMBERS:,} (quote a part of it, or its shape)")
    assert len(problems) == 21 and problems[-1][1] == "19,980 more quotes cannot be computed either"
    assert set(shown[lesson.steps[0].prompt].split()) == {"?"}


def test_turning_values_into_text_is_charged_to_the_budget():
    lesson = quotes_lesson("{{ x }} {{ x }} {{ x }}", size=9_000)
    live = LiveLesson(lesson)
    meter = Budget(max_elements=50_000)
    with live.evaluation(meter):
        from tutor.core.lesson.prose import evaluator, render_checked

        _, errors = render_checked(lesson.steps[0].prompt, evaluator(live))
    assert meter.elements <= 50_000
    assert errors and "quoting a value would make" in errors[0]


def test_leaving_stops_the_rendering_between_quotes():
    lesson = quotes_lesson(" ".join(f"{{{{ sgd(y, 0.0001, {1000 + k}) }}}}" for k in range(5000)))
    live = LiveLesson(lesson)
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 3

    with pytest.raises(budget.Cancelled):
        render_lesson_checked(lesson, live, cancelled)
    assert len(asked) == 4


def test_a_quote_that_is_inf_or_nan_is_a_problem_check_reports():
    lesson = quotes_lesson("A {{ log(0 * y) }} and a {{ (0 * y) / (0 * y) }}.")
    problems = [p["reason"] for p in check_lesson(lesson, 0)]
    assert problems == [
        "prompt: cannot quote {{ log(0 * y) }}: the value is -inf, which prose cannot quote as a number",
        "prompt: cannot quote {{ (0 * y) / (0 * y) }}: the value is nan, which prose cannot quote as a number",
    ]


def test_check_reports_a_quote_never_closed():
    lesson = quotes_lesson("Half a quote {{ y is shown raw.")
    problems = [p["reason"] for p in check_lesson(lesson, 0)]
    assert problems == ["prompt: '{{' is never closed with '}}': the text after it shows as written"]


GRAPH_STEP = '''
graph = """
h = relu(W @ x + b)
L = sum(h ** 2)
"""
[given]
W = [[1, -2], [3, 1]]
x = [1, 2]
b = [0.5, -1]

[[steps]]
id = "draw"
ask = "graph(L)"
'''
RIGHT_GRAPH = "z = W @ x\na = z + b\nh = relu(a)\nq = h * h\nL = sum(q)"


def test_a_graph_check_whose_budget_runs_out_says_so_and_blames_no_line():
    live = LiveLesson(parse_lesson(GRAPH_STEP))
    step = live.lesson.steps[0]
    whole = Budget()
    assert check_graph(live, step, RIGHT_GRAPH, whole).status == "correct"
    # enough for the lesson's numbers (both graphs), not for the other sets of givens
    small = Budget(max_ops=whole.ops // 3)
    with pytest.raises(BudgetExceeded) as info:
        check_graph(live, step, RIGHT_GRAPH, small)
    message = str(info.value)
    assert message.startswith("checking the graph ran out of its budget after the lesson's numbers")
    assert "other values of the givens" not in message and "Line" not in message


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
ask = "sgd(y, 0.00001, {steps})"

[[steps.mistakes]]
when = "sgd(y, 0.00001, {steps}) * 1"
say = "Always the answer."

[train]
loss = "y"
params = ["w"]
lr = 0.001
steps = 5
'''


def test_the_redraws_of_one_seed_stop_at_its_ceiling(tmp_path, monkeypatch):
    """Every draw unfair and slow: the seed's draws stop at SEED_SECONDS of work (here 2 s) with one
    line saying so, instead of 50 redraws of seconds each."""
    monkeypatch.setattr(variants, "SEED_SECONDS", 2.0)
    path = tmp_path / "slow-unfair.toml"
    path.write_text(SLOW_UNFAIR.format(steps=3000))
    lesson = parse_lesson(path.read_text(), path)
    start = time.process_time()
    with pytest.raises(variants.SlowDrill) as info:
        variants.accepted(lesson, 0)
    assert time.process_time() - start < 8
    message = str(info.value)
    assert message.startswith(f"{path}: drawing variant 0 took more than 2 s of work")
    assert "the first because step 's': named mistake #1" in message
