"""Tensors as aligned text: compact numbers, right-aligned columns, wrong elements marked, big ones summarised."""

import pytest

from tutor.core.text.matrix import format_number, format_plain, format_value, to_lines
from tutor.core.text.shapes import shape_text


@pytest.mark.parametrize("x, shown", [
    (2.0, "2"), (-12, "-12"), (0.25000, "0.25"), (7.570796, "7.5708"), (-0.0, "0"),
    (-0.00001, "-1e-5"), (1e-7, "1e-7"), (0.99999982, "1"), (-0.99999982, "-1"),
    (float("nan"), "nan"), (float("-inf"), "-inf"), (2.5e12, "2.5e12"),
])
def test_numbers_are_compact_and_never_a_false_zero(x, shown):
    assert format_number(x) == shown


def test_matrix_columns_are_right_aligned_inside_brackets():
    lines = to_lines(format_value([[1, -12.5], [100, 2]], (2, 2)))
    assert lines == ["⎡   1  -12.5 ⎤", "⎣ 100      2 ⎦"]


def test_three_row_matrix_uses_middle_bracket_pieces():
    lines = to_lines(format_value([[1, 0, 2], [2, 1, -1], [0, 0, 2]], (3, 3)))
    assert [line[0] + line[-1] for line in lines] == ["⎡⎤", "⎢⎥", "⎣⎦"]
    assert len({len(line) for line in lines}) == 1


def test_ascii_brackets_for_plain_terminals():
    lines = to_lines(format_value([[3, -4], [1, 6]], (2, 2), ascii=True))
    assert lines == ["[ 3  -4 ]", "[ 1   6 ]"]
    assert all(ch.isascii() for line in lines for ch in line)


def test_wrong_elements_are_marked_and_only_they():
    lines = format_value([[3, -4], [1, 6]], (2, 2), mark={(0, 1)})
    marked = [cell.text.strip() for line in lines for cell in line if cell.marked]
    assert marked == ["-4"]
    indexed = {cell.index: cell.text.strip() for line in lines for cell in line if cell.index is not None}
    assert indexed == {(0, 0): "3", (0, 1): "-4", (1, 0): "1", (1, 1): "6"}


def test_vector_is_one_row_and_accepts_plain_int_marks():
    (line,) = format_value([1, -2.5, 3], (3,), mark=[1])
    assert "".join(c.text for c in line) == "[ 1  -2.5  3 ]"
    assert [c.text for c in line if c.marked] == ["-2.5"]


def test_scalar_and_column_vector():
    assert to_lines(format_value(-0.9999998, ())) == ["-1"]
    assert to_lines(format_value([[1.0], [2.25]], (2, 1))) == ["⎡    1 ⎤", "⎣ 2.25 ⎦"]


def test_long_vectors_keep_their_ends_around_an_ellipsis():
    (line,) = to_lines(format_value(list(range(20)), (20,)))
    assert line.startswith("[ 0  1  2  3") and line.endswith("17  18  19 ]") and "…" in line


def test_rank_four_tensors_show_labelled_slices_or_a_summary():
    small = to_lines(format_value([[[[3, -4], [1, 6]]]], (1, 1, 2, 2)))
    assert small[0] == "[0, 0, :, :]" and "-4" in small[1]
    kernel = [[[[0.5] * 3] * 3] * 3] * 16
    big = to_lines(format_value(kernel, (16, 3, 3, 3)))
    assert big == ["16×3×3×3 tensor, 432 values", "min 0.5  max 0.5  mean 0.5"]


def test_one_line_form_is_typeable_back_as_an_answer():
    assert format_plain(3.14159) == "3.1416"
    assert format_plain([7.5708, 6.1416]) == "[7.5708 6.1416]"
    assert format_plain([[3, -4], [1, 6]]) == "[3 -4; 1 6]"
    assert format_plain([[[[0.0] * 3] * 3] * 3] * 16) == "16×3×3×3 (432 values)"
    assert shape_text((4, 24)) == "4×24" and shape_text(()) == "scalar" and shape_text((3,)) == "vector of 3"


def test_a_value_that_does_not_match_its_shape_still_shows():
    assert to_lines(format_value([1, 2], (3, 3)))  # no exception
