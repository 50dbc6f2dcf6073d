"""Graph steps in lesson files: loading, validation, and how a typed graph is read and bounded."""

import pytest

from tutor.core.check.step import checker_for
from tutor.core.errors import LessonErrors
from tutor.core.evaluate.live import LiveLesson
from tutor.core.expr.syntax import parse_expr
from tutor.core.lesson.graph_ops import operation_count
from tutor.core.lesson.load import parse_lesson

LESSON = '''
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


def test_a_graph_step_loads_with_its_kind_and_a_default_prompt():
    step = parse_lesson(LESSON).steps[0]
    assert step.kind == "graph"
    assert "computational graph" in step.prompt


def test_a_graph_step_must_name_a_graph_line():
    with pytest.raises(LessonErrors) as err:
        parse_lesson(LESSON.replace("graph(L)", "graph(x)"))
    assert "graph(x) needs 'x' to be computed by a graph line" in str(err.value)


@pytest.mark.parametrize("text,count", [
    ("w @ x", 1), ("sin(w @ x) - b", 3), ("-x", 1), ("-1", 0), ("x", 0), ("x[0:2]", 1),
    ("reshape(x, (2, 1))", 1), ("max_pool1d(c, 2, stride=1)", 1), ("x.T", 1), ("(a - b) ** 2", 2),
])
def test_operations_are_counted_one_per_operator_or_call(text, count):
    assert operation_count(parse_expr(text).tree) == count


def test_a_matrix_graph_is_checked_and_any_right_order_passes():
    live = LiveLesson(parse_lesson(LESSON))
    right = "z = W @ x\na = z + b\nh = relu(a)\nq = h * h\nL = sum(q)"
    assert checker_for(live).check("draw", right).status == "correct"
    forgot_relu = "z = W @ x\na = z + b\nq = a * a\nL = sum(q)"
    verdict = checker_for(live).check("draw", forgot_relu)
    assert verdict.status == "wrong" and verdict.message.startswith("Line 3 (q = a * a)")


def test_a_graph_answer_is_bounded_in_lines_and_work():
    live = LiveLesson(parse_lesson(LESSON))
    many = "\n".join(f"a{k} = x + {k}" for k in range(200))
    assert checker_for(live).check("draw", many).status == "unparsed"
    huge = "z = zeros(100000, 100000)\nL = sum(z)"
    verdict = checker_for(live).check("draw", huge)
    assert verdict.status == "wrong" and "can't be computed" in verdict.message


def test_a_graph_cannot_overwrite_a_given():
    verdict = checker_for(LiveLesson(parse_lesson(LESSON))).check("draw", "x = W @ x\nL = sum(x)")
    assert verdict.status == "unparsed" and "x is a given" in verdict.message


def test_the_graph_view_earns_numbers_from_value_steps_not_from_drawing_the_graph():
    from tutor.core.graph.earned import earned_values
    from tutor.core.lesson.catalog import Catalog

    lesson = Catalog.load().lesson("sine-neuron")
    values = LiveLesson(lesson).node_values()
    shown = earned_values(lesson, {"graph": "solved"}, {}, values)
    assert shown["s"].value == shown["y"].value == shown["L"].value == "?"
    assert shown["x"].value == [2.0, 1.0]
    shown = earned_values(lesson, {"graph": "solved", "forward": "solved"}, {"forward": "-1"}, values)
    assert shown["s"].value != "?" and shown["y"].value != "?" and shown["L"].value == "?"


SINE = '''
intro = "The sine neuron of the lab notebook on computational graphs."
graph = """
y = sin(w @ x) - b
L = (y_hat - y) ** 2
"""
[given]
x = [2, 1]
w = ["pi/2", "pi"]
b = 1
y_hat = 2

[[steps]]
id = "graph"
ask = "graph(L)"
'''


def test_a_caret_in_a_graph_gets_the_power_hint_with_the_learners_own_operands():
    verdict = checker_for(LiveLesson(parse_lesson(SINE))).check("graph", "s = w @ x\nt = sin(s)\ny = t - b\nd = y_hat - y\nL = d^2")
    assert verdict.status == "unparsed"
    assert verdict.message == "Couldn't read line 5: use ** for powers, as in d ** 2 (^ is not a power here)."


def test_an_unknown_function_in_a_graph_offers_the_closest_names():
    verdict = checker_for(LiveLesson(parse_lesson(SINE))).check("graph", "c = conv(x, w)\nL = sum(c)")
    assert verdict.message == "Couldn't read line 1: unknown function 'conv'; did you mean conv1d or conv2d?"
    assert "did you mean sigmoid?" in checker_for(LiveLesson(parse_lesson(SINE))).check("graph", "L = sigmod(x)").message


def test_a_line_equal_to_a_node_only_for_these_givens_names_the_node_and_says_why():
    # sin(w·x) = sin(2π) = 0 here, so t + b happens to equal the given b
    verdict = checker_for(LiveLesson(parse_lesson(SINE))).check(
        "graph", "s = w @ x\nt = sin(s)\ny = t + b\nd = y_hat - y\nL = d ** 2")
    assert verdict.message == ("Line 3 (y = t + b) equals the given b for the lesson's numbers only: these givens "
                               "make them equal, other values do not. Check that operation.")
