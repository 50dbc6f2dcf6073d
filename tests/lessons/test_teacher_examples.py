"""The five examples a teacher hit while writing lessons from course material (issue 10), as tests.

The lessons live in tests/fixtures/courses/teacher-course/, written against the lesson contract
alone; its answers/ subfolder holds two students' answer files, as a teacher keeps them.
"""

import math
from pathlib import Path

from tutor.cli.main import main
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.catalog import Catalog, load_file

COURSE = Path(__file__).parents[1] / "fixtures" / "courses" / "teacher-course"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_lesson_may_name_its_nodes_e_and_dot():
    lesson = load_file(COURSE / "named-nodes.toml").lesson
    live = LiveLesson(lesson)
    # CS231n's sigmoid example: dot = 1, so e = exp(-1) = 0.3679 and f = 0.73.
    assert live.expected("dot").value == 1
    assert abs(live.expected("e").value - 0.3679) < 5e-5
    assert abs(live.expected("f").value - 0.73) < 5e-3


def test_an_answers_subfolder_never_hides_a_lesson(capsys):
    code, out, err = run(capsys, "--lessons", str(COURSE), "lessons")
    assert code == 0
    assert "named-nodes" in out
    assert "already used" not in out + err
    assert "failed to load" not in out
    for lesson_id in ("named-nodes", "alexnet-conv1", "batched-cross-entropy", "momentum"):
        assert lesson_id in out
        code, _, _ = run(capsys, "--lessons", str(COURSE), "solve", lesson_id)
        assert code == 0, lesson_id


def test_a_students_answers_from_the_subfolder_grade(capsys):
    lesson = COURSE / "named-nodes.toml"
    code, out, _ = run(capsys, "grade", str(lesson), "--answers", str(COURSE / "answers" / "bob.toml"))
    assert code == 1
    assert "1/4 correct" in out


def course(lesson_id: str) -> LiveLesson:
    return LiveLesson(Catalog.load([str(COURSE)]).lesson(lesson_id))


def test_alexnet_conv1_at_real_size_as_the_teacher_wrote_it():
    alexnet = course("alexnet-conv1")
    # CS231n: 227x227x3 input, 96 filters of 11x11x3, stride 4 -> 55x55x96 = 290,400 outputs,
    # 96 * 11 * 11 * 3 = 34,848 weights. Each output is 363 multiply-adds: 2 * 290,400 * 363 FLOPs.
    assert list(alexnet.expected("shape").value) == [1, 96, 55, 55]
    assert alexnet.expected("weights").value == 34_848
    assert alexnet.expected("flops").value == 210_830_400
    assert alexnet.expected("bytes").value == 290_400 * 4


def test_cross_entropy_of_a_batch_with_a_vector_of_class_indices():
    batch = course("batched-cross-entropy")
    # True-class probabilities 1/4, 3/6 and 5/8: the mean of ln 4, ln 2 and ln(8/5) is ln(12.8)/3.
    assert abs(batch.expected("loss").value - math.log(12.8) / 3) < 1e-12
    first_row = batch.expected("grad").value[0]
    assert all(abs(g - w) < 1e-12 for g, w in zip(first_row, [1 / 12, -1 / 4, 1 / 12, 1 / 12], strict=False))


def test_two_steps_of_sgd_with_momentum():
    steps = course("momentum")
    # v1 = 4, w1 = 4 - 0.5 * 4 = 2; v2 = 0.5 * 4 + 2 = 4, w2 = 2 - 0.5 * 4 = 0.
    assert steps.expected("one").value == 2
    assert steps.expected("two").value == 0
