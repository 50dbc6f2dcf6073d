"""Loading lessons: every problem is reported with the file, the place and the reason."""

import pytest

from tutor.core.errors import LessonErrors
from tutor.core.lesson.catalog import Catalog
from tutor.core.lesson.load import load_lesson, parse_lesson

GOOD = '''
title = "ok"
graph = """
y = w * x
"""
[given]
w = 2
x = 3
[[steps]]
id = "y"
ask = "y"
'''


def errors_of(text: str, name: str = "bad.toml") -> list[str]:
    with pytest.raises(LessonErrors) as info:
        parse_lesson(text, name)
    return [str(e) for e in info.value.errors]


def test_defaults_come_from_the_file_and_folder(tmp_path):
    path = tmp_path / "convs" / "my-lesson.toml"
    path.parent.mkdir()
    path.write_text(GOOD)
    lesson = load_lesson(path)
    assert (lesson.id, lesson.topic, lesson.dtype) == ("my-lesson", "convs", "float64")


def test_invalid_toml_names_the_file():
    (msg,) = errors_of("title = ", "a/broken.toml")
    assert msg.startswith("a/broken.toml: ") and "not valid TOML" in msg


def test_every_problem_is_reported_at_once_with_its_place():
    text = '''
title = "t"
dtpye = "float64"
graph = """
y = w * q
z = sin(
"""
[given]
w = [1, [2]]
[[steps]]
id = "a"
ask = "foo(y)"
[[steps]]
id = "a"
ask = "y"
[[steps]]
ask = "y"
'''
    msgs = errors_of(text)
    joined = "\n".join(msgs)
    assert "unknown key 'dtpye' (did you mean 'dtype'?)" in joined
    assert "graph line 1: uses 'q' before it is defined" in joined
    assert "graph line 2: cannot read 'z = sin('" in joined
    assert "[given] w:" in joined
    assert "step 'a': ask: unknown function 'foo'" in joined
    assert "ids must be unique" in joined
    assert "step #3: needs an id" in joined
    assert all(m.startswith("bad.toml: ") for m in msgs)


def test_asks_may_only_use_defined_names_and_drills_only_replace_givens():
    msgs = errors_of(GOOD + '[[steps]]\nid = "b"\nask = "grad(y, v)"\n[drill]\nv = "randint(0, 1)"\n')
    assert any("step 'b': ask uses 'v'" in m for m in msgs)
    assert any("[drill] v" in m for m in msgs)


def test_train_params_must_be_givens():
    msgs = errors_of(GOOD + '[train]\nloss = "y"\nparams = ["y"]\nlr = 0\nsteps = 0\n')
    assert any("[train] params: 'y' is not in [given]" in m for m in msgs)
    assert any("[train] lr" in m for m in msgs)
    assert any("[train] steps" in m for m in msgs)


def test_step_kind_follows_the_ask():
    text = GOOD + '[[steps]]\nid = "s"\nask = "shape(y)"\n[[steps]]\nid = "n"\nask = "numel(w)"\n'
    kinds = {s.id: s.kind for s in parse_lesson(text, "k.toml").steps}
    assert kinds == {"y": "value", "s": "shape", "n": "integer"}


def test_one_broken_lesson_never_hides_the_others(tmp_path, monkeypatch):
    (tmp_path / "good.toml").write_text(GOOD)
    (tmp_path / "broken.toml").write_text("title = [")
    (tmp_path / "notes.toml").write_bytes(b"\xff\xfe")
    monkeypatch.setenv("TUTOR_LESSONS", str(tmp_path))
    catalog = Catalog.load()
    by_id = {e.id: e for e in catalog.entries if e.path.parent == tmp_path}
    assert by_id["good"].lesson is not None
    assert "not valid TOML" in by_id["broken"].error
    assert "not UTF-8" in by_id["notes"].error
    assert len(catalog.entries) > 3  # the built-in lessons are still there
