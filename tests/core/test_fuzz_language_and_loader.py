"""Fuzzing: any expression or lesson file gives a value or the project's own error, quickly."""

import contextlib
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutor.core.errors import ExprError, LessonError, LessonErrors
from tutor.core.evaluate.live import LiveLesson
from tutor.core.expr import names
from tutor.core.expr.syntax import parse_expr
from tutor.core.lesson.load import parse_lesson

OURS = (ExprError, LessonError, LessonErrors)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BASE = '''title = "fuzz"
graph = """
y = sin(w @ x) - b
L = (y_hat - y) ** 2
"""
[given]
x = [2, 1]
w = [1.5, 3]
b = 1
y_hat = 2
M = [[1, 2], [3, 4]]
[train]
loss = "L"
params = ["w"]
lr = 0.5
steps = 3
[[steps]]
id = "s"
ask = """{ask}"""
'''

atoms = st.sampled_from(["x", "w", "b", "y", "L", "M", "pi", "e", "0", "1", "2", "-1", "0.5", "1e3",
                         "(2,)", "(2, 2)", "[1, 2]", "[[1, 0], [0, 1]]", "10**6", "9**9", "dim=0", "stride=2"])
functions = st.sampled_from(sorted(names.FUNCTIONS - names.DRILL_ONLY))
operators = st.sampled_from(["+", "-", "*", "/", "**", "@"])


def expressions():
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.tuples(inner, operators, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(functions, st.lists(inner, min_size=0, max_size=3)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"),
            inner.map(lambda a: f"{a}.T"),
            inner.map(lambda a: f"{a}[0]"),
        ),
        max_leaves=8,
    )


def evaluate(ask: str):
    lesson = parse_lesson(BASE.format(ask=ask), "fuzz.toml")
    return LiveLesson(lesson).expected("s")


@FAST
@given(expressions())
def test_generated_expressions_give_a_value_or_our_error_quickly(ask):
    start = time.process_time()
    with contextlib.suppress(OURS):
        evaluate(ask)
    assert time.process_time() - start < 2.0, ask


@FAST
@given(st.text(max_size=120))
def test_arbitrary_text_is_parsed_or_refused(text):
    try:
        parse_expr(text)
    except ExprError as err:
        assert err.message


lesson_values = st.recursive(
    st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=True), st.booleans(), st.text(max_size=20)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
top_keys = st.sampled_from(["id", "title", "topic", "order", "dtype", "intro", "graph", "given", "steps",
                            "train", "drill", "tolerance", "source", "bogus"])


def toml_of(value) -> str:
    import tomlkit

    try:
        return tomlkit.dumps(value)
    except Exception as err:  # noqa: BLE001 - tomlkit refuses what TOML cannot hold
        raise ValueError(str(err)) from None


@FAST
@given(st.dictionaries(top_keys, lesson_values, max_size=8))
def test_arbitrary_lesson_data_loads_or_lists_its_problems(data):
    try:
        text = toml_of(data)
    except (ValueError, TypeError):
        return  # not representable as TOML (nan, nested tables in arrays): not a lesson anyone can write
    try:
        lesson = parse_lesson(text, "fuzz.toml")
    except LessonErrors as errs:
        assert errs.errors and all(str(e).startswith("fuzz.toml") for e in errs.errors)
        return
    with contextlib.suppress(OURS):
        LiveLesson(lesson)


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_a_lesson_file(tmp_path_factory, raw):
    from tutor.core.lesson.catalog import load_file

    path = tmp_path_factory.mktemp("fuzz") / "bytes.toml"
    path.write_bytes(raw)
    entry = load_file(path)
    assert entry.lesson is not None or entry.errors
