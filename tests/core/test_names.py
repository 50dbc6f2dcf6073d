"""A lesson's own names: any ASCII identifier, so no function the language adds can break a lesson."""

import math

import pytest

from tutor.core.check.step import solve
from tutor.core.errors import ExprError, LessonErrors
from tutor.core.evaluate.live import LiveLesson
from tutor.core.expr import names
from tutor.core.expr.syntax import parse_expr, parse_graph
from tutor.core.graph.model import build_graph
from tutor.core.lesson.load import parse_lesson

EVERY_NAME = sorted(names.FUNCTIONS | names.CONSTANTS | names.DTYPES)


def _every_name_lesson() -> str:
    given = "\n".join(f"{n} = {i + 1}" for i, n in enumerate(EVERY_NAME))
    total = "sum(stack([" + ", ".join(EVERY_NAME) + "]))"
    return f'''
title = "every name"
graph = """
total = {total}
dot = dot([sum, max], [e, pi])
out = sum(exp(stack([relu, sin])))
sum = sum([sum, 1])
"""
[given]
{given}
[[steps]]
id = "total"
ask = "total"
[[steps]]
id = "dot"
ask = "dot"
[[steps]]
id = "out"
ask = "out"
[[steps]]
id = "shadowed-sum"
ask = "sum + 0"
[[steps]]
id = "constant-free"
ask = "max([pi, e])"
'''


def test_a_lesson_using_every_function_name_as_a_value_loads_and_solves():
    lesson = parse_lesson(_every_name_lesson())
    value = {n: i + 1 for i, n in enumerate(EVERY_NAME)}
    results, errors = solve(lesson)
    assert errors == []
    assert results["total"].value == pytest.approx(sum(value.values()))
    assert results["dot"].value == pytest.approx(value["sum"] * value["e"] + value["max"] * value["pi"])
    assert results["out"].value == pytest.approx(math.exp(value["relu"]) + math.exp(value["sin"]))
    assert results["shadowed-sum"].value == pytest.approx(value["sum"] + 1)
    # the lesson's own `pi` and `e` win over the constants
    assert results["constant-free"].value == pytest.approx(max(value["pi"], value["e"]))


def test_a_lesson_named_e_is_a_node_of_the_graph_not_the_constant():
    lesson = parse_lesson('''
graph = """
e = a * b
d = e + c
"""
[given]
a = 2
b = -3
c = 10
[[steps]]
id = "d"
ask = "d"
''')
    assert solve(lesson)[0]["d"].value == pytest.approx(4.0)
    model = build_graph(lesson)
    d_node = next(n for n in model.nodes if n.name == "d")
    e_node = next(n for n in model.nodes if n.name == "e")
    assert e_node.id in d_node.inputs


def test_a_bare_name_is_the_constant_when_the_lesson_does_not_define_it():
    lesson = parse_lesson('''
[given]
x = 1
[[steps]]
id = "y"
ask = "x + pi + e"
''')
    assert solve(lesson)[0]["y"].value == pytest.approx(1 + math.pi + math.e)


def test_dtype_keyword_names_the_dtype_even_when_a_value_has_that_name():
    live = LiveLesson(parse_lesson('''
[given]
float32 = 3
[[steps]]
id = "b"
ask = "bytes(zeros(2, 2, dtype=float32))"
'''))
    assert live.expected("b").value == 16


@pytest.mark.parametrize("text", ["ｐｉ", "2 * ｐｉ", "ｓｉｎ(1)", "x + é", "π"])
def test_non_ascii_names_are_refused_never_folded(text):
    with pytest.raises(ExprError) as info:
        parse_expr(text)
    assert "outside ASCII" in str(info.value)


def test_non_ascii_symbols_are_refused_with_their_code_point():
    with pytest.raises(ExprError) as info:
        parse_expr("3 − 1")
    assert "U+2212" in str(info.value)


def test_a_non_ascii_given_or_graph_target_is_refused_when_the_lesson_loads():
    with pytest.raises(LessonErrors) as info:
        parse_lesson('''
graph = "ｙ = x"
[given]
x = 1
"ｐｉ" = 3
[[steps]]
id = "x"
ask = "x"
''')
    text = str(info.value)
    assert "[given] ｐｉ" in text and "outside ASCII" in text
    assert "graph line 1" in text


def test_names_starting_with_underscore_stay_refused():
    with pytest.raises(ExprError):
        parse_graph("_x = 1")
