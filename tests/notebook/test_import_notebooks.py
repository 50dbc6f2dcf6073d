"""`tutor import`: a teacher's notebook becomes a lesson whose live solution holds every number it prints.

Every expected number here is computed independently: the seed exercise sets' printouts typed in, or
PyTorch code written in this test that does what the notebook does (the notebook itself never runs).
Every imported lesson is also run through `tutor validate` and `tutor check`.
"""

import json
from pathlib import Path

import pytest
import torch

from tutor.cli.main import main

NOTEBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"


def imported(tmp_path, capsys, name: str, *extra: str) -> tuple[Path, list[str]]:
    """Imports a fixture to a file, checks it with the CLI, and returns its path and the left-out lines."""
    out = tmp_path / (Path(name).stem + ".toml")
    assert main(["import", str(NOTEBOOKS / name), "-o", str(out), *extra]) == 0
    left_out = capsys.readouterr().err.splitlines()
    assert main(["validate", str(out)]) == 0, capsys.readouterr().out
    capsys.readouterr()
    assert main(["check", str(out)]) == 0, capsys.readouterr().out
    capsys.readouterr()
    return out, left_out


def solved(path: Path, capsys) -> dict:
    assert main(["solve", str(path), "--json"]) == 0
    return {s["id"]: s["expected"] for s in json.loads(capsys.readouterr().out)["steps"]}


def flat(value) -> list[float]:
    if isinstance(value, list):
        return [x for v in value for x in flat(v)]
    return [float(value)]


def holds(solution: dict, expected, rel: float = 1e-6, abs_: float = 1e-6) -> bool:
    """Some step's live value equals `expected` (a number or nested list), entry by entry."""
    want = flat(expected.tolist() if isinstance(expected, torch.Tensor) else expected)
    for value in solution.values():
        got = flat(value)
        if len(got) == len(want) and all(g == pytest.approx(w, rel=rel, abs=abs_) for g, w in zip(got, want, strict=True)):
            return True
    return False


def test_the_lab_notebook_on_computational_graphs_gives_task_1_with_the_numbers_it_printed(tmp_path, capsys):
    path, left_out = imported(tmp_path, capsys, "000_eb896e95124c5a9b.txt")
    s = solved(path, capsys)
    # the notebook's own printout (typed in): y = -1, w.grad = [-12, -6], L = 9, w = [7.5708, 6.1416]
    assert s["y"] == pytest.approx(-1, abs=1e-6)
    assert s["dL2_dw"] == pytest.approx([-12, -6], abs=1e-5)
    assert s["L2"] == pytest.approx(9, abs=1e-5)
    assert s["w_updated"] == pytest.approx([7.5708, 6.1416], abs=1e-4)
    # Task 2 and Task 3 as far as the language reaches: the convolutions, the max-pool, the gradient
    assert holds(s, [[3, -4], [1, 6]]) and holds(s, [[2, 0], [0, 2]]) and holds(s, [[2, 2], [2, 2]])
    assert holds(s, [2]) and holds(s, [2, 1])
    text = path.read_text()
    assert 'dtype = "float32"' in text and "ask = 'w - alpha * grad(L2, w)'" in text
    assert "#   2): Feed-forward pass result is : -0.9999998211860657" in text
    # the notebook printed its kernel "updated" without ever stepping: said, not asked
    assert left_out == ["tutor: cell 9, line 15: `conv1.weight.data` is the given `w_3` itself, unchanged (the "
                        "notebook never calls its optimizer's step()); not asked; left out"]


def test_the_iitm_notebook_gives_the_sums_and_the_losses_it_printed(tmp_path, capsys):
    path, left_out = imported(tmp_path, capsys, "004_dde93ab3c568eabd.txt")
    s = solved(path, capsys)
    # printed in the notebook (typed in): the sums of a1, h1, [a2, h2, a3], the loss, its gradients, the new loss
    assert s["sum_a1"] == pytest.approx(5.4477, abs=1e-4)
    assert s["sum_h1"] == pytest.approx(2.5750, abs=1e-4)
    assert [s["sum_a2"], s["sum_h2"], s["sum_a3"]] == pytest.approx(
        [6.460166777022406, 2.6313930964242145, 4.874920995857018], rel=1e-12)
    assert s["loss"] == pytest.approx(0.8564, abs=1e-4)
    assert s["grad_loss_a3"] == pytest.approx([0.2369, 0.3384, -0.5753], abs=1e-4)
    assert s["dloss_db2"] == pytest.approx([0.0184, -0.0200, -0.0038], abs=1e-4)
    assert s["loss_after_update"] == pytest.approx(0.0725333007370964, rel=1e-9)
    text = path.read_text()
    assert "ask = 'sgd(loss, 1)'" in text and 'params = ["w1", "w2", "w3", "b1", "b2", "b3"]' in text
    assert left_out[0] == ("tutor: cell 39, line 1: `class NeuralNetwork` defines a class; the translator reads "
                           "plain functions only; left out")
    assert all("left out" in line for line in left_out)


def test_a_lab_page_with_only_a_code_stub_has_nothing_to_import(tmp_path, capsys):
    out = tmp_path / "lab5.toml"
    assert main(["import", str(NOTEBOOKS / "001_ea7be755c8d88bb6.txt"), "-o", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert not out.exists()
    assert err[-1].endswith("nothing in it could be imported (no value it shows is part of the lesson language)")
    assert any("`conv2` is never defined in the notebook" in line for line in err)
    assert any("random initial values" in line for line in err)
    assert "tutor: cell 2, line 10: `conv1` is a layer, not a value; left out" in err


def test_pytorchs_autograd_warm_up_with_a_tensor_of_ones(tmp_path, capsys):
    path, left_out = imported(tmp_path, capsys, "autograd_ones.ipynb")
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    out.backward()
    s = solved(path, capsys)
    assert s["y"] == y.tolist() and s["z"] == z.tolist() and s["out"] == out.item()
    assert s["dout_dx"] == x.grad.tolist()
    assert left_out == ["tutor: cell 3, line 2: `x` is the given `x` itself, unchanged; not asked; left out"]
    assert "Add two to every entry" in path.read_text()  # the nearest markdown is the step's prompt


def test_the_micrograd_tanh_neuron(tmp_path, capsys):
    path, left_out = imported(tmp_path, capsys, "micrograd_neuron.py")
    x1, x2, w1, w2 = (torch.tensor([v], dtype=torch.float64, requires_grad=True) for v in (2.0, 0.0, -3.0, 1.0))
    b = torch.tensor([6.8813735870195432], dtype=torch.float64, requires_grad=True)
    o = torch.tanh(x1 * w1 + x2 * w2 + b)
    o.backward()
    s = solved(path, capsys)
    assert s["o"] == pytest.approx([o.item()], rel=1e-12)
    for name, leaf in (("x1", x1), ("x2", x2), ("w1", w1), ("w2", w2)):
        assert s[f"do_d{name}"] == pytest.approx([leaf.grad.item()], abs=1e-12)
    assert left_out == []


def test_a_relu_layer_with_mse_and_one_sgd_step(tmp_path, capsys):
    path, _ = imported(tmp_path, capsys, "relu_mse_sgd.py")
    x, t = torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0])
    layer = torch.nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.5, -1.0], [1.0, 0.5]]))
        layer.bias.copy_(torch.tensor([0.5, -0.5]))
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    h = torch.relu(layer(x))
    loss = torch.nn.functional.mse_loss(h, t)
    loss.backward()
    grads = layer.weight.grad.clone(), layer.bias.grad.clone()
    optimizer.step()
    after = torch.nn.functional.mse_loss(torch.relu(layer(x)), t)
    s = solved(path, capsys)
    assert s["h"] == pytest.approx(h.tolist()) and s["loss"] == pytest.approx(loss.item())
    assert flat(s["dloss_dlayer_weight"]) == pytest.approx(flat(grads[0].tolist()))
    assert s["dloss_dlayer_bias"] == pytest.approx(grads[1].tolist())
    assert flat(s["layer_weight_updated"]) == pytest.approx(flat(layer.weight.tolist()))
    assert s["layer_bias_updated"] == pytest.approx(layer.bias.tolist())
    assert s["loss_after_update"] == pytest.approx(after.item())


def test_a_conv1d_then_max_pool_then_sum(tmp_path, capsys):
    path, _ = imported(tmp_path, capsys, "conv1d_maxpool_sum.txt")
    x = torch.tensor([[[1.0, 3.0, -2.0, 4.0, 0.0]]])
    w = torch.tensor([[[2.0, -1.0]]], requires_grad=True)
    y = torch.nn.functional.conv1d(x, w)
    p = torch.nn.functional.max_pool1d(y, kernel_size=2)
    total = p.sum()
    total.backward()
    s = solved(path, capsys)
    assert s["y"] == y.tolist() and s["p"] == p.tolist() and s["s"] == total.item()
    assert s["ds_dw"] == w.grad.tolist()
    assert s["w_updated"] == (w - 0.5 * w.grad).tolist()
    text = path.read_text()
    assert "Which weights does the sum depend on" in text  # markdown after an output is the next prompt


def test_a_notebook_that_reaches_outside_is_imported_without_running_anything(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # every command in the notebook would touch MARKER_FILE here
    path, left_out = imported(tmp_path, capsys, "reaches_outside.ipynb")
    assert not (tmp_path / "MARKER_FILE").exists() and not (NOTEBOOKS / "MARKER_FILE").exists()
    s = solved(path, capsys)
    assert s["q"] == 4 and s["dq_dw"] == [12, 2]
    expected = [
        "cell 2, line 1: `import os` imports a module the lesson language does not have; not imported, left out",
        "cell 2, line 4: `from helpers import secret_weights` imports a module the lesson language does not have;",
        "cell 3, line 3: `!touch MARKER_FILE` is a shell or IPython command, not Python; not run, left out",
        "cell 3, line 1: `os.system` uses `os`, which was left out (cell 2, line 1); left out",
        "cell 4, line 1: `open` is Python's open(), which reads or writes files; not run; left out",
        "cell 4, line 4: `torch.load('weights.pt')` is not part of the lesson language; left out",
        "cell 5, line 8: `eval` runs text as code; not run; left out",
        "cell 6, line 1: `secret_weights @ x` uses `secret_weights`, which was left out (cell 2, line 4); left out",
    ]
    for line in expected:
        assert any(got.startswith("tutor: " + line) for got in left_out), line
    text = path.read_text()
    assert "# What the notebook does that this lesson leaves out" in text and "`import os`" in text


def test_the_lesson_goes_to_standard_output_with_the_id_asked_for(capsys):
    assert main(["import", str(NOTEBOOKS / "autograd_ones.ipynb"), "--id", "warm-up"]) == 0
    out = capsys.readouterr().out
    assert "\nid = 'warm-up'\n" in out and "[[steps]]" in out
    assert "# The notebook showed (cell 10):\n#   tensor([[4.5000, 4.5000],\n" in out
    assert main(["import", str(NOTEBOOKS / "autograd_ones.ipynb"), "--id", "../bad id"]) == 2


def test_attention_is_imported_with_its_query_key_and_value(tmp_path, capsys):
    script = tmp_path / "attention.py"
    script.write_text(
        "import torch\nimport torch.nn.functional as F\n"
        "q = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])\n"
        "k = torch.tensor([[1.0, 2.0], [3.0, 1.0]])\n"
        "v = torch.tensor([[0.5, 1.0, -1.0], [2.0, 0.0, 1.0]])\n"
        "a = F.scaled_dot_product_attention(q, k, v)\nprint(a)\n"
        "c = F.scaled_dot_product_attention(query=q, key=k, value=v, scale=0.5)\nprint(c)\n"
        "nothing = F.scaled_dot_product_attention(q, k)\n"
    )
    path, left_out = imported(tmp_path, capsys, str(script))
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    k = torch.tensor([[1.0, 2.0], [3.0, 1.0]])
    v = torch.tensor([[0.5, 1.0, -1.0], [2.0, 0.0, 1.0]])
    s = solved(path, capsys)
    assert flat(s["a"]) == pytest.approx(flat(torch.nn.functional.scaled_dot_product_attention(q, k, v).tolist()))
    assert flat(s["c"]) == pytest.approx(
        flat(torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=0.5).tolist()))
    assert left_out == ["tutor: line 10: `F.scaled_dot_product_attention(q, k)` leaves out the argument value; "
                        "left out"]
