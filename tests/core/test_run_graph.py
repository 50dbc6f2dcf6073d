"""run_graph: every graph run starts from the original givens; pinned nodes replace computed ones."""

import torch

from tutor.core.check.step import checker_for
from tutor.core.evaluate.live import LiveLesson, run_graph
from tutor.core.lesson.load import parse_lesson


def live(graph: str, given: str, asks: dict[str, str]) -> LiveLesson:
    steps = "".join(f'[[steps]]\nid = "{k}"\nask = "{v}"\n' for k, v in asks.items())
    return LiveLesson(parse_lesson(f'title = "t"\ngraph = """\n{graph}\n"""\n[given]\n{given}\n{steps}', "t.toml"))


def test_a_pinned_node_is_used_instead_of_computed_and_is_differentiable():
    lesson = live("h = w * x\nL = h ** 2", "x = 3\nw = 2", {"L": "L"})
    scope = run_graph(lesson.lines, lesson.givens, lesson.dtype, pinned={"h": 5.0})
    assert scope.env["L"].item() == 25.0          # 5 ** 2, not (2 * 3) ** 2
    (g,) = torch.autograd.grad(scope.env["L"], scope.env["h"])
    assert g.item() == 10.0                        # dL/dh = 2h at the pinned h


def test_runs_start_from_the_givens_not_from_values_the_graph_changed():
    lesson = live("x += 1\ny = 2 * x", "x = 1", {"y": "y"})
    assert lesson.scope.env["y"].item() == 4.0
    again = run_graph(lesson.lines, lesson.givens, lesson.dtype)
    assert again.env["y"].item() == 4.0            # not 6: x is incremented once per run


def test_a_mistake_rerun_starts_from_the_givens():
    # x becomes [2, 3, 4]; the flipped kernel [2, 1] slid over it by hand gives [7, 10]
    # (rerunning from the already-incremented x would give [10, 13])
    lesson = live("x += 1\ny = conv1d(x, k)", "x = [1, 2, 3]\nk = [1, 2]", {"y": "y"})
    assert checker_for(lesson).check("y", "7 10").mistake == "true convolution (flipped kernel)"
