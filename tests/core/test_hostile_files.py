"""Hostile lesson and answers files: each is refused with one line naming the file, or read harmlessly."""

import os
import signal
from contextlib import contextmanager

import pytest

from tutor.core.errors import LessonErrors
from tutor.core.lesson.catalog import Catalog
from tutor.core.lesson.load import MAX_GRAPH_LINES, parse_lesson
from tutor.core.text.files import MAX_LESSON_BYTES, MAX_TOML_DEPTH, FileRefused, loads_toml, nesting_depth, read_text
from tutor.core.text.safe import clean, csv_cell

LESSON = '''
id = "{id}"
title = "A small graph"
graph = """
y = w * x
"""
[given]
w = 2
x = 3
[[steps]]
id = "y"
ask = "y"
prompt = "Compute $y$."
'''

ESC_TITLE = "\x1b]0;owned\x07"          # sets the terminal window's title
CLEAR = "\x1b[2J\x1b[H"                 # clears the screen
OSC52 = "\x1b]52;c;ZWNobyBoaQ==\x1b\\"  # writes to the clipboard


@contextmanager
def at_most(seconds: int):
    """Fails the test instead of hanging it when a read blocks (a FIFO with no writer)."""
    def expired(*_):
        raise AssertionError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def errors_of(text: str, name: str = "bad.toml") -> list[str]:
    with pytest.raises(LessonErrors) as info:
        parse_lesson(text, name)
    return [str(e) for e in info.value.errors]


# ---- text that reaches a terminal or a spreadsheet ----------------------------------------

@pytest.mark.parametrize("attack", [ESC_TITLE, CLEAR, OSC52, "\x1b[31m", "\x9b2J", "\x9d0;t\x07", "\x07\x08\r\x00\x7f"])
def test_escape_sequences_and_control_characters_are_removed_whole(attack):
    assert clean(f"before{attack}after") == "beforeafter"


def test_newlines_tabs_and_ordinary_unicode_are_kept():
    text = "Σ ∂L/∂w = 2·v\n\tη = 0.05 — ok"
    assert clean(text) == text


def test_bidirectional_overrides_that_reorder_what_is_shown_are_removed():
    assert clean("pay \u202eevil\u202c now") == "pay evil now"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-cmd", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"x\")"])
def test_csv_cells_that_a_spreadsheet_would_run_are_made_text(cell):
    assert csv_cell(cell).startswith("'")


@pytest.mark.parametrize("cell", ["alice", "3/4", "correct", 12, -3.5, ""])
def test_ordinary_csv_cells_and_numbers_are_unchanged(cell):
    assert csv_cell(cell) == cell


# ---- files that are not regular, or too large --------------------------------------------

def test_a_lesson_that_links_to_dev_zero_is_refused_without_reading(tmp_path):
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    with at_most(10), pytest.raises(FileRefused, match="not a regular file"):
        read_text(link, MAX_LESSON_BYTES)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with at_most(10), pytest.raises(FileRefused, match="not a regular file"):
        read_text(fifo, MAX_LESSON_BYTES)


def test_a_lesson_over_the_size_cap_is_refused(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text(LESSON.format(id="huge") + "#" * (MAX_LESSON_BYTES + 1))
    with pytest.raises(FileRefused, match="too large"):
        read_text(path, MAX_LESSON_BYTES)


def test_a_file_at_the_cap_is_read(tmp_path):
    path = tmp_path / "full.toml"
    path.write_text("#" * MAX_LESSON_BYTES)
    assert len(read_text(path, MAX_LESSON_BYTES)) == MAX_LESSON_BYTES


# ---- TOML that would overflow the parser ------------------------------------------------

@pytest.mark.parametrize("deep", ["x = " + "[" * 5000 + "]" * 5000, "x = " + "{a = " * 5000 + "1" + "}" * 5000])
def test_toml_nested_5000_deep_is_refused_in_one_line(deep):
    with pytest.raises(FileRefused) as info:
        loads_toml(deep)
    assert "nested 5000 deep" in info.value.reason and "\n" not in info.value.reason


@pytest.mark.parametrize("text", [
    'x = "' + "[" * 100 + '"',
    "x = '" + "{" * 100 + "'",
    'x = """\n' + "[[" * 100 + '\n"""',
    "x = '''" + "[" * 100 + "'''",
    'x = "a \\" [[[[" # ' + "[" * 100,
    'x = """ends with quotes [[[[""""',
])
def test_brackets_inside_strings_and_comments_do_not_count(text):
    assert nesting_depth(text) <= 1
    loads_toml(text)


def test_lessons_nest_well_within_the_depth_cap():
    assert nesting_depth('m = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]\n[[steps]]\nt = {a = {b = 1}}') == 3 < MAX_TOML_DEPTH


def test_a_whole_number_of_5000_digits_is_refused_in_one_line():
    with pytest.raises(FileRefused, match="too many digits"):
        loads_toml("x = " + "9" * 5000)


# ---- numbers range-checked when a lesson loads -------------------------------------------

def test_a_400_digit_given_names_the_given():
    (msg,) = errors_of(LESSON.format(id="big").replace("w = 2", "w = " + "9" * 400))
    assert msg.startswith("bad.toml: [given] w: whole number too large (400 digits")


def test_a_huge_tolerance_names_the_step_and_does_not_crash():
    text = LESSON.format(id="tol") + "tolerance = {rtol = " + "9" * 400 + "}\n"
    (msg,) = errors_of(text)
    assert msg.startswith("bad.toml: step 'y' tolerance.rtol: whole number too large")


@pytest.mark.parametrize("ask, reason", [
    ("y * " + "9" * 400, "is too large"),
    ("y * 1e999", "too large to be a float"),
    ("zeros(" + "9" * 30 + ")", "is too large"),
])
def test_numbers_inside_expressions_are_range_checked_at_load(ask, reason):
    (msg,) = errors_of(LESSON.format(id="ask").replace('ask = "y"', f'ask = "{ask}"'))
    assert msg.startswith("bad.toml: step 'y': ask: ") and reason in msg


def test_inf_and_nan_in_toml_are_refused_where_they_are():
    msgs = errors_of(LESSON.format(id="inf").replace("x = 3", "x = [1, inf]\nv = nan"))
    assert msgs == ["bad.toml: [given] x[1]: numbers must be finite (not inf or nan)",
                    "bad.toml: [given] v: numbers must be finite (not inf or nan)"]


def test_a_list_of_expressions_too_long_together_is_an_error_not_a_crash():
    items = ", ".join(['"pi"'] + ["12345"] * 1000)
    (msg,) = errors_of(LESSON.format(id="long").replace("x = 3", f"x = [{items}]"))
    assert msg.startswith("bad.toml: [given] x: expression too long")


# ---- graphs: bounded and parsed in linear time --------------------------------------------

def test_a_40000_line_graph_is_refused_with_one_error():
    graph = "\n".join(f"n{i} = x + {i}" for i in range(40_000))
    text = f'id = "g"\ngraph = """\n{graph}\n"""\n[given]\nx = 1\n[[steps]]\nid = "s"\nask = "n5"\n'
    assert errors_of(text) == [f"bad.toml: graph: too many lines (40000; at most {MAX_GRAPH_LINES})"]


def test_graph_errors_keep_their_line_numbers():
    text = LESSON.format(id="g").replace("y = w * x\n", "y = w * x\n\n# note\nz = q + 1\n")
    assert errors_of(text) == ["bad.toml: graph line 4: uses 'q' before it is defined"]


# ---- lesson text is cleaned when it is read ---------------------------------------------

def test_escape_sequences_in_lesson_text_never_reach_the_lesson():
    text = LESSON.format(id="esc").replace('title = "A small graph"', 'title = "Hi\\u001b]0;owned\\u0007 there"')
    text = text.replace('prompt = "Compute $y$."', 'prompt = "\\u001b[2JCompute \\u009b31m$y$."')
    lesson = parse_lesson(text, "esc.toml")
    assert lesson.title == "Hi there" and lesson.steps[0].prompt == "Compute $y$."


def test_a_title_is_one_line():
    lesson = parse_lesson(LESSON.format(id="t").replace('"A small graph"', '"""A small\ngraph"""'), "t.toml")
    assert lesson.title == "A small graph"


def test_an_id_long_enough_to_wreck_a_table_is_refused():
    (msg,) = errors_of(LESSON.format(id="a" * 200))
    assert "is not a usable id" in msg and len(msg) < 200


# ---- one bad file never hides the others ------------------------------------------------

def test_answers_files_named_like_lessons_never_take_their_ids(tmp_path):
    for name in ("alpha", "beta"):
        (tmp_path / f"{name}.toml").write_text(LESSON.format(id=name))
    answers = tmp_path / "answers"
    answers.mkdir()
    for name in ("alpha", "beta", "carol"):  # sorted before the lessons, named after them
        (answers / f"{name}.toml").write_text('y = "6"\n')
    catalog = Catalog.load([str(tmp_path)])
    mine = {e.id: e for e in catalog.entries if tmp_path in e.path.parents}
    assert {i: e.error for i, e in mine.items()} == {"alpha": None, "beta": None}
    assert sorted(p.name for p in catalog.skipped) == ["alpha.toml", "beta.toml", "carol.toml"]


def test_a_broken_file_never_takes_an_id_from_a_valid_lesson(tmp_path):
    (tmp_path / "a-first").mkdir()
    (tmp_path / "a-first" / "alpha.toml").write_text(LESSON.format(id="alpha").replace("w = 2", "w = [1, inf]"))
    (tmp_path / "z-later").mkdir()
    (tmp_path / "z-later" / "alpha.toml").write_text(LESSON.format(id="alpha"))
    catalog = Catalog.load([str(tmp_path)])
    assert catalog.lesson("alpha").path == tmp_path / "z-later" / "alpha.toml"
    broken = [e for e in catalog.entries if e.lesson is None and tmp_path in e.path.parents]
    assert [e.error.split(": ", 1)[1] for e in broken] == ["[given] w[1]: numbers must be finite (not inf or nan)"]


def test_special_files_and_bad_lessons_are_listed_beside_the_good_ones(tmp_path):
    (tmp_path / "good.toml").write_text(LESSON.format(id="good"))
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "fifo.toml")
    (tmp_path / "deep.toml").write_text(LESSON.format(id="deep") + "x2 = " + "[" * 5000 + "]" * 5000)
    (tmp_path / "\x1b]0;owned\x07.toml").write_text("not toml at all [")
    with at_most(20):
        catalog = Catalog.load([str(tmp_path)])
    mine = {e.path.name: e for e in catalog.entries if tmp_path in e.path.parents}
    assert mine["good.toml"].lesson is not None
    for name in ("zero.toml", "fifo.toml", "deep.toml", "\x1b]0;owned\x07.toml"):
        error = mine[name].error
        assert error and "\n" not in error and "\x1b" not in error and "\x07" not in error
        assert "\x1b" not in mine[name].id


def test_a_folder_too_big_to_search_ends_with_a_message(tmp_path, monkeypatch):
    import tutor.core.lesson.catalog as catalog

    monkeypatch.setattr(catalog, "MAX_ENTRIES", 30)
    for i in range(40):
        (tmp_path / f"d{i:02}").mkdir()
    (tmp_path / "lesson.toml").write_text(LESSON.format(id="lesson"))
    files, problem = catalog.toml_files(tmp_path)
    assert problem == f"{tmp_path}: stopped looking after 30 entries"


def test_links_to_folders_are_not_followed(tmp_path):
    from tutor.core.lesson.catalog import toml_files

    (tmp_path / "topic").mkdir()
    (tmp_path / "topic" / "a.toml").write_text(LESSON.format(id="a"))
    (tmp_path / "topic" / "loop").symlink_to(tmp_path)
    assert toml_files(tmp_path) == ([tmp_path / "topic" / "a.toml"], None)


def test_a_step_with_thousands_of_named_mistakes_is_refused_at_load():
    mistakes = "".join(f'[[steps.mistakes]]\nwhen = "y + {i}"\nsay = "no"\n' for i in range(1, 1000))
    (msg,) = errors_of(LESSON.format(id="m") + mistakes)
    assert msg == "bad.toml: step 'y': too many mistakes (999; at most 30 per step)"


def test_a_drill_variant_of_a_lesson_with_escape_codes_is_a_valid_clean_lesson(tmp_path):
    from tutor.core.drill.variants import emit_variant, variant
    from tutor.core.lesson.load import load_lesson

    path = tmp_path / "esc.toml"
    path.write_text(LESSON.format(id="esc").replace('prompt = "Compute $y$."', 'prompt = "\\u001b[2JCompute $y$."')
                    + '[drill]\nw = "randint(1, 3)"\n')
    lesson = load_lesson(path)
    assert "\x1b" not in emit_variant([lesson], 5)
    assert variant([lesson], 5).steps[0].prompt == "Compute $y$."
