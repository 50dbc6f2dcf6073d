"""`tutor progress` uses the terminal's width: whole titles when they fit, an ellipsis wherever one is cut."""

import pytest

from tutor.cli.progress_table import format_progress
from tutor.core.progress.store import ProgressStore

LONG = "What a fully connected layer costs: parameters, memory and operations"
LESSONS = [("fc", "layer-costs", LONG, 5), ("chain", "autograd", "The chain rule on a scalar graph", 8)]


@pytest.fixture
def store(tmp_path):
    with ProgressStore.open(tmp_path / "progress.sqlite3") as opened:
        opened.record_attempt("chain", "forward", "1", "correct", topic="autograd")
        yield opened


def row(table: str, topic: str) -> str:
    """The first lesson row under a topic's line."""
    lines = table.splitlines()
    return lines[lines.index(topic) + 1]


def test_a_wide_terminal_shows_whole_titles(store, monkeypatch):
    monkeypatch.setenv("COLUMNS", "140")
    table = format_progress(store, LESSONS)
    assert LONG in row(table, "layer-costs")
    assert "The chain rule on a scalar graph" in row(table, "autograd")
    assert all(len(line) <= 139 for line in table.splitlines() if "progress.sqlite3" not in line)


def test_at_80_columns_titles_get_more_than_20_characters_and_a_cut_one_ends_in_an_ellipsis(store, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    table = format_progress(store, LESSONS)
    cut = row(table, "layer-costs")
    assert len(cut) <= 79
    assert "What a fully connected layer" in cut  # 28 characters: more than the old 20
    assert "…" in cut and LONG not in cut
    assert "The chain rule on a scalar graph" in row(table, "autograd")  # it fits: whole
    assert "~" not in table


def test_an_explicit_width_wins(store):
    assert LONG in row(format_progress(store, LESSONS, width=200), "layer-costs")
