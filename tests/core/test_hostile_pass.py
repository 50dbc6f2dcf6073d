"""A bounded hostile pass: mutated lessons, answers files and progress rows through every output path."""

import pytest
from hostile_cases import ANSWERS, all_cases, answers_cases, run_answers_case, run_case, run_progress_case, sample

LESSON_CASES = sample(80)
ANSWERS_CASES = answers_cases()[::3]


def test_the_pass_covers_every_kind_of_place():
    kinds = {name.split()[0] for name, _ in all_cases()}
    assert {"title", "order", "a", "lr", "tolerance", "ask", "given", "graph", "mistake", "drill"} <= kinds


@pytest.mark.parametrize("name, text", LESSON_CASES, ids=[n[:40] for n, _ in LESSON_CASES])
def test_a_hostile_lesson_is_refused_or_solved_and_graded_cleanly(name, text, tmp_path):
    assert run_case(text, tmp_path, ANSWERS) == []


@pytest.mark.parametrize("name, text", ANSWERS_CASES, ids=[n[:40] for n, _ in ANSWERS_CASES])
def test_a_hostile_answers_file_is_refused_or_graded_cleanly(name, text, tmp_path):
    assert run_answers_case(text, tmp_path) == []


@pytest.mark.parametrize("answer", ANSWERS[::3])
def test_hostile_progress_rows_export_as_inert_cells(answer, tmp_path):
    assert run_progress_case(answer, tmp_path) == []


def test_a_bom_at_the_start_of_an_answers_file_is_ignored(tmp_path):
    from tutor.cli.lesson_commands import read_answers

    path = tmp_path / "notepad.toml"
    path.write_bytes(b"\xef\xbb\xbfforward = \"5\"\n")
    assert read_answers(path) == {"forward": "5"}
