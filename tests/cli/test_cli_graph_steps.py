"""`tutor grade`/`solve` on graph steps and errors carried forward, with the sine neuron's own numbers."""

import json

from tutor.cli.main import main

RIGHT_GRAPH = '''graph = """
s = w @ x
t = sin(s)
y = t - b
"""
'''


def grade(capsys, tmp_path, answers: str, lesson: str = "sine-neuron") -> dict:
    path = tmp_path / "answers.toml"
    path.write_text(answers)
    main(["grade", lesson, "--answers", str(path), "--json"])
    return {s["id"]: s for s in json.loads(capsys.readouterr().out)["steps"]}


def test_a_right_graph_is_correct(capsys, tmp_path):
    assert grade(capsys, tmp_path, RIGHT_GRAPH)["graph"]["verdict"] == "correct"


def test_a_graph_that_forgets_the_bias_names_that_line(capsys, tmp_path):
    step = grade(capsys, tmp_path, 'graph = """\ns = w @ x\ny = sin(s)\n"""\n')["graph"]
    assert step["verdict"] == "wrong"
    assert step["message"].startswith("Line 2 (y = sin(s))")


def test_two_operations_on_a_line_are_refused(capsys, tmp_path):
    step = grade(capsys, tmp_path, 'graph = """\ns = w @ x\ny = sin(s) - b\n"""\n')["graph"]
    assert step["verdict"] == "wrong"
    assert "does 2 operations" in step["message"]


def test_a_graph_with_a_given_typed_as_its_number_is_wrong(capsys, tmp_path):
    # right for b = 1 only: the fresh values of the givens catch it
    step = grade(capsys, tmp_path, 'graph = "s = w @ x\\nt = sin(s)\\ny = t - 1"\n')["graph"]
    assert step["verdict"] == "wrong"
    assert "not their numbers" in step["message"]


def test_a_loss_that_follows_from_a_wrong_forward_value_is_carried_not_correct(capsys, tmp_path):
    steps = grade(capsys, tmp_path, 'forward = "1"\nloss = "1"\n')
    assert steps["loss"]["verdict"] == "wrong"
    assert steps["loss"]["carried_from"] == ["forward"]
    assert "right for your y = 1" in steps["loss"]["message"]
    assert "carried_from" not in steps["forward"]


def test_a_gradient_carries_the_learners_own_forward_value(capsys, tmp_path):
    # by hand: dL/dw = -2 (y_hat - y) cos(w.x) x = -2 (2 - 1) * 1 * [2, 1] for the learner's y = 1
    steps = grade(capsys, tmp_path, 'forward = "1"\ndL_dw = "-4 -2"\n')
    assert steps["dL_dw"]["carried_from"] == ["forward"]
    assert steps["dL_dw"]["verdict"] == "wrong"


def test_easy_upstream_values_gain_nothing(capsys, tmp_path):
    # y typed as the label makes the loss 0: still not counted correct
    steps = grade(capsys, tmp_path, 'forward = "2"\nloss = "0"\n')
    assert steps["loss"]["verdict"] == "wrong"
    assert steps["loss"]["carried_from"] == ["forward"]


def test_a_wrong_answer_after_a_right_forward_is_not_carried(capsys, tmp_path):
    steps = grade(capsys, tmp_path, 'forward = "-1"\nloss = "1"\n')
    assert steps["loss"]["verdict"] == "wrong"
    assert "carried_from" not in steps["loss"]


def test_the_conv_network_graph_is_checked_by_what_it_computes(capsys, tmp_path):
    steps = grade(capsys, tmp_path, 'graph = "c = conv1d(x, w)\\nf = max(c)"\n', "conv1d-maxpool-backprop")
    assert steps["graph"]["verdict"] == "correct"


def test_solve_gives_the_lessons_graph_one_operation_per_line(capsys):
    main(["solve", "sine-neuron", "--json"])
    steps = {s["id"]: s for s in json.loads(capsys.readouterr().out)["steps"]}
    assert steps["graph"]["kind"] == "graph"
    lines = steps["loss_graph"]["expected"].splitlines()
    assert lines[0] == "s = w @ x" and lines[-1].startswith("L = ")
    assert len(lines) == 5   # dot, sine, minus b, minus the label, square
