"""Filling a graph node by node: values and gradients computed live, errors carried forward both ways."""

import pytest

from tutor.core.check.node import check_node
from tutor.core.evaluate.live import LiveLesson
from tutor.core.graph.answer import read_graph
from tutor.core.graph.board import Work, build_board
from tutor.core.graph.node_check import NodeChecker, compute, make_drawing
from tutor.core.lesson.catalog import Catalog

FORWARD = "s = w @ x\na = sin(s)\ny = a - b\n"
WITH_LOSS = FORWARD + "d = y_hat - y\nL = d ** 2\n"


@pytest.fixture(scope="module")
def live():
    return LiveLesson(Catalog.load().lesson("sine-neuron"))


@pytest.fixture(scope="module")
def checker(live):
    drawing = make_drawing(read_graph(WITH_LOSS, set(live.givens)), live.givens)
    labels = {"v:y": "y", "v:d": "d", "g:L:y": "∂ℒ/∂y", "g:L:d": "∂ℒ/∂d", "g:L:a": "∂ℒ/∂a"}
    return NodeChecker(live, drawing, ("L",), labels)


def drawn(states=None, answers=None, current="forward", nodes=None):
    answers = {"graph": FORWARD, "loss_graph": WITH_LOSS, **(answers or {})}
    states = {"graph": "solved", "loss_graph": "solved", **(states or {})}
    return Work(states, answers, {"graph": FORWARD, "loss_graph": WITH_LOSS}, nodes or {}, current)


def test_node_by_node_backprop_agrees_with_autograd(live):
    drawing = make_drawing(read_graph(WITH_LOSS, set(live.givens)), live.givens)
    numbers = compute(live, drawing, ("L",))
    torch_grads = live.node_grads()  # the lesson's own graph, differentiated by autograd at once
    assert numbers.grads[("L", "w")].tolist() == pytest.approx(torch_grads["w"].value)
    assert numbers.grads[("L", "y")].item() == pytest.approx(torch_grads["y"].value)
    assert numbers.values["L"].item() == pytest.approx(live.node_values()["L"].value)


def test_a_gradient_carried_from_the_learners_own_downstream_gradient_names_it(checker):
    # ∂ℒ/∂y is -6; the learner wrote -5, and ∂ℒ/∂a = ∂ℒ/∂y · ∂y/∂a = -5 follows from it
    verdict = checker.check("g:L:a", "-5", {"g:L:y": "-5"})
    assert verdict.status == "wrong" and verdict.carried_from == ("g:L:y",)
    assert verdict.message == "That is right for your ∂ℒ/∂y = -5; the slip is at y."


def test_a_value_carried_from_the_learners_own_upstream_value(checker):
    verdict = checker.check("v:d", "1", {"v:y": "1"})  # d = y_hat - y for their y = 1
    assert verdict.message == "That is right for your y = 1; the slip is at y."


def test_a_gradient_uses_the_learners_own_values_in_its_local_derivative(checker):
    # ∂ℒ/∂d = 2d: for their d = 1 (carried from y = 1) it is 2, and the slip is traced back to y
    verdict = checker.check("g:L:d", "2", {"v:y": "1", "v:d": "1"})
    assert verdict.message == "That is right for your d = 1; the slip is at y."


def test_a_wrong_answer_nothing_explains_is_just_wrong(checker):
    verdict = checker.check("g:L:a", "7", {"g:L:y": "-5"})
    assert verdict.status == "wrong" and not verdict.carried_from
    assert checker.check("g:L:a", "-6", {"g:L:y": "-5"}).status == "correct"


def test_the_board_fills_every_node_and_ties_step_nodes_to_their_steps(live):
    board = build_board(live, drawn())
    by_label = {f.label: f for f in board.fields}
    assert by_label["y"].step_id == "forward" and by_label["L"].step_id == "loss"
    assert by_label["∂ℒ/∂w"].step_id == "dL_dw" and by_label["∂y/∂w"].step_id == "dy_dw"
    assert by_label["a"].step_id is None and by_label["∂ℒ/∂a"].step_id is None
    # the loss's backward pass comes right after the values, from the loss back to w
    labels = [f.label for f in board.fields]
    assert labels[:5] == ["s", "a", "y", "d", "L"]
    assert labels[5:10] == ["∂ℒ/∂d", "∂ℒ/∂y", "∂ℒ/∂a", "∂ℒ/∂s", "∂ℒ/∂w"]
    assert all(v.value == "?" for node in ("s", "a", "y", "d", "L") for _, v in board.rows[node])


def test_the_board_shows_what_is_earned_and_the_learners_own_wrong_numbers(live):
    work = drawn({"forward": "attempted", "dL_dw": "solved"}, {"forward": "1", "dL_dw": "-12 -6"},
                 nodes={})
    board = build_board(live, work)
    rows = {node: dict(lines) for node, lines in board.rows.items()}
    assert rows["w"]["∂ℒ/∂w = "].value == pytest.approx([-12, -6], abs=1e-5)
    assert rows["y"]["∂ℒ/∂y = "].value == pytest.approx(-6, abs=1e-5)  # on the way to ∂ℒ/∂w
    assert rows["w"]["∂y/∂w = "].value == "?"                            # another output's, not earned


def test_a_node_answer_is_checked_as_its_steps_answer_too(live):
    # forward's own named mistake (sin(s) without the bias) is named on the graph as well
    verdict = check_node(live, drawn(), "v:y", "0")
    assert verdict.status == "wrong" and verdict.mistake


def test_a_drawing_that_repeats_its_lines_is_one_graph(live):
    repeated = FORWARD + FORWARD + "d = y_hat - y\nL = d ** 2\n"
    work = Work({"graph": "solved", "loss_graph": "solved"}, {"loss_graph": repeated},
                {"graph": FORWARD, "loss_graph": repeated}, {}, "forward")
    board = build_board(live, work)
    targets = [a.target for a in board.lesson.graph]
    assert targets == ["s", "a", "y", "d", "L"]


def test_a_draw_the_graph_step_shows_the_drawing_so_far_never_the_lessons(live):
    board = build_board(live, Work({}, {}, {}, {}, "graph", "s = w @ x\nt = sin(s"))
    assert board.source == "so far" and [a.target for a in board.lesson.graph] == ["s"]
    assert board.fields == []
    nothing = build_board(live, Work({}, {}, {}, {}, "forward"))
    assert nothing.source == "nothing" and nothing.lesson.graph == ()
    assert "step 1 (graph)" in nothing.note
    revealed = build_board(live, Work({"graph": "revealed"}, {}, {}, {}, "forward"))
    assert revealed.source == "revealed" and revealed.fields  # the lesson's graph, once revealed
