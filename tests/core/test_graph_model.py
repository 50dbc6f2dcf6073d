"""The computational graph a learner sees: the right nodes and arrows, readable at 80 columns."""

from pathlib import Path

from contract_example import contract_lesson_text

from tutor.core.evaluate.results import NodeValue
from tutor.core.graph.model import INPUT, OP, PARAM, build_graph, resolve_loss
from tutor.core.graph.render import render_graph
from tutor.core.lesson.load import load_lesson, parse_lesson

LESSONS = Path(__file__).resolve().parents[2] / "tutor" / "lessons"
SINE_NEURON = contract_lesson_text()



MLP = '''
id = "mlp3"
title = "Three layers"
graph = """
a1 = w1 @ x + b1
h1 = sigmoid(a1)
a2 = w2 @ h1 + b2
h2 = sigmoid(a2)
a3 = w3 @ h2 + b3
loss = cross_entropy(a3, y)
"""

[given]
w1 = [[0.5488135, 0.71518937, 0.60276338], [0.54488318, 0.4236548, 0.64589411], [0.43758721, 0.891773, 0.96366276]]
w2 = [[0.56804456, 0.92559664, 0.07103606], [0.0871293, 0.0202184, 0.83261985], [0.77815675, 0.87001215, 0.97861834]]
w3 = [[0.11827443, 0.63992102, 0.14335329], [0.94466892, 0.52184832, 0.41466194], [0.26455561, 0.77423369, 0.45615033]]
b1 = [0.38344152, 0.79172504, 0.52889492]
b2 = [0.79915856, 0.46147936, 0.78052918]
b3 = [0.56843395, 0.0187898, 0.6176355]
x = [1.0, 0.0, 1.0]
y = [0, 0, 1]

[[steps]]
id = "loss"
ask = "loss"

[train]
loss = "loss"
params = ["w1", "b1", "w2", "b2", "w3", "b3"]
lr = 1.0
steps = 40
'''


def _values(lesson, grad_scale=None):
    """Plausible numbers of the right shapes (as the live lesson would report them), without torch."""
    shapes = {"x": (3,), "y": (3,), "loss": ()}
    shapes.update({f"w{k}": (3, 3) for k in (1, 2, 3)})
    shapes.update({f"{n}{k}": (3,) for n in "bah" for k in (1, 2, 3)})
    out = {}
    for name, shape in shapes.items():
        fill = -0.1234 if grad_scale else 0.5678
        value = fill if not shape else [fill] * 3 if len(shape) == 1 else [[fill] * 3 for _ in range(3)]
        out[name] = NodeValue(shape, value)
    return out


def test_sine_neuron_nodes_edges_and_loss():
    model = build_graph(parse_lesson(SINE_NEURON))
    kinds = {n.id: n.kind for n in model.nodes}
    assert kinds == {"w": PARAM, "x": INPUT, "b": INPUT, "y_hat": INPUT, "y": OP, "L": OP}
    assert sorted(model.edges) == sorted([("w", "y"), ("x", "y"), ("b", "y"), ("y_hat", "L"), ("y", "L")])
    assert model.loss == "L" and model.node("L").is_loss
    assert model.node("y").label == "sin(w @ x) − b"
    assert model.node("L").label == "(y_hat − y)²"
    assert model.other_givens == ("alpha",)  # a learning rate is not part of the graph


def test_reassignment_and_augmented_assignment_chain_the_bindings():
    text = ('title = "t"\ngraph = """\nh = w @ x\nh = sin(h)\nh -= b\nL = (y_hat - h) ** 2\n"""\n'
            '[given]\nx = [2, 1]\nw = [1, 2]\nb = 1\ny_hat = 2\n[[steps]]\nid = "h"\nask = "h"\n')
    model = build_graph(parse_lesson(text))
    ops = [n for n in model.nodes if n.kind == OP]
    assert [(n.id, n.display, n.inputs) for n in ops] == [
        ("h#1", "h (1)", ("w", "x")),
        ("h#2", "h (2)", ("h#1",)),
        ("h", "h", ("h#2", "b")),
        ("L", "L", ("y_hat", "h")),
    ]
    assert model.node("h").label == "h − b"


def test_without_train_the_last_graph_name_is_the_loss_unless_it_is_not_a_scalar():
    text = SINE_NEURON.split("[train]")[0].replace("L = (y_hat - y) ** 2", "L = (y_hat - y) ** 2\nv = w * L")
    model = build_graph(parse_lesson(text))
    assert model.loss == "v"
    values = {"L": NodeValue((), 9.0), "v": NodeValue((2,), [1.0, 2.0]), "y": NodeValue((), -1.0)}
    assert resolve_loss(model, values) == "L"


def test_sine_neuron_render_shows_values_and_gradients():
    model = build_graph(parse_lesson(SINE_NEURON))
    values = {"x": NodeValue((2,), [2, 1]), "w": NodeValue((2,), [1.5708, 3.1416]), "b": NodeValue((), 1),
              "y_hat": NodeValue((), 2), "y": NodeValue((), -0.9999998), "L": NodeValue((), 8.999999)}
    grads = {"w": NodeValue((2,), [-12.0, -6.0]), "y": NodeValue((), -6.0)}
    text = "\n".join(render_graph(model, values, grads, 80))
    assert "= -1" in text and "= 9" in text
    assert "∂L/∂w = [-12 -6]" in text
    assert "╔" in text  # the loss box is drawn with double lines, visible without colour
    assert "▼" in text


def test_before_values_arrive_givens_show_as_written():
    text = "\n".join(render_graph(build_graph(parse_lesson(SINE_NEURON)), None, None, 80))
    assert "= [pi/2, pi]" in text and "= [2 1]" in text
    assert "∂L/∂" not in text


def test_three_layer_mlp_fits_80_columns_with_every_node_named():
    model = build_graph(parse_lesson(MLP))
    for values, grads in [(None, None), (_values(None), None), (_values(None), _values(None, grad_scale=1))]:
        lines = render_graph(model, values, grads, 80)
        assert max(map(len, lines)) <= 80
        text = "\n".join(lines)
        for name in ("w1", "b1", "w2", "b2", "w3", "b3", "x", "y", "a1", "h1", "a2", "h2", "a3", "loss"):
            assert f"│ {name} " in text or f"║ {name} " in text, name
    assert "∂loss/∂w2" in text  # named with the lesson's own output
    assert "-0.1234" in text  # the gradients keep four decimals at 80 columns


def test_inputs_come_before_the_operations_that_read_them_and_the_loss_is_last():
    lines = render_graph(build_graph(parse_lesson(MLP)), None, None, 80)
    row_of = {name: next(i for i, line in enumerate(lines) if f" {name} " in line)
              for name in ("x", "w1", "a1", "h1", "a2", "a3", "loss")}
    assert row_of["x"] < row_of["a1"] < row_of["h1"] < row_of["a2"] < row_of["a3"] < row_of["loss"]
    assert row_of["w1"] < row_of["a1"]
    assert row_of["loss"] == max(i for i, line in enumerate(lines) if "║" in line or "│" in line) - 1


def test_ascii_fallback_uses_only_ascii():
    model = build_graph(parse_lesson(MLP))
    lines = render_graph(model, _values(None), _values(None, grad_scale=1), 80, ascii=True)
    assert all(ch.isascii() for line in lines for ch in line)
    assert "dloss/dw1" in "\n".join(lines)


def test_every_shipped_lesson_draws_within_80_columns():
    for path in sorted(LESSONS.glob("*/*.toml")):
        lines = render_graph(build_graph(load_lesson(path)), None, None, 80)
        assert lines and max(map(len, lines)) <= 80, path.name
