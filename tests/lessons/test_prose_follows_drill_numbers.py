"""Every built-in drill variant (seeds 0-49) reads true: no number from the lesson's own givens that the
variant changed, no text marked as the lesson's own, no "seed" in anything a learner reads."""

import re

import pytest

from tutor.core.drill import variants as drill
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.catalog import Catalog
from tutor.core.lesson.prose import lesson_texts, own_spans, pieces, render_lesson
from tutor.core.text.latex import to_unicode

CATALOG = Catalog.load()
DRILLED = [e.lesson for e in CATALOG.entries if e.lesson is not None and e.lesson.drill]
SEEDS = range(50)
# numbers that prose uses for structure (a factor 2, k - 1, a first entry), whatever the givens
STRUCTURAL = {0.0, 1.0, 2.0}
# a number on its own: not part of a name (float16), a dimension word (3-D) or a course's name (Lab 5)
_NUMBER = re.compile(r"(?<![\w.^_])(?<!Lab )\d+(?:\.\d+)?(?![\w.]|-D)")
_SEED = re.compile(r"\bseeds?\b", re.IGNORECASE)


def fixed_text(text: str) -> str:
    """The words an author wrote: quoted values and code spans (typing examples such as `3x4`) left out."""
    written = "".join(p.text for p in pieces(text) if p.kind == "text")
    return re.sub(r"`[^`]*`", "", written)


def numbers_in(text: str) -> set[float]:
    return {float(n) for n in _NUMBER.findall(text)}


def small_given_values(lesson, live: LiveLesson | None = None) -> dict[str, set[float]]:
    """The values of each drawn given small enough to be quoted in prose (at most three numbers)."""
    values = (live or LiveLesson(lesson)).node_values(lesson.drill)
    out = {}
    for name in lesson.drill:
        flat = values[name].value
        flat = flat if isinstance(flat, list) else [flat]
        while flat and isinstance(flat[0], list):
            flat = [x for row in flat for x in row]
        if len(flat) <= 3:
            out[name] = {round(abs(x), 4) for x in flat}
    return out


def test_the_number_check_catches_the_old_layer_costs_intro():
    old = "A layer maps an RGB image of $128\\times128$ pixels with $3\\times3$ kernels (2 for float16)."
    assert numbers_in(fixed_text(old)) == {128.0, 3.0, 2.0}


@pytest.mark.slow
@pytest.mark.parametrize("lesson", DRILLED, ids=lambda lesson: lesson.id)
def test_variant_prose_follows_the_variants_numbers(lesson):
    own = small_given_values(lesson)
    problems = []
    for seed in SEEDS:
        variant = drill.variant([lesson], seed)
        live = LiveLesson(variant)
        drawn = small_given_values(variant, live)
        changed = set()
        for name, values in own.items():
            changed |= values - drawn.get(name, set())
        changed -= STRUCTURAL
        rendered = render_lesson(variant, live)
        for where, text in lesson_texts(variant):
            assert not own_spans(text), f"seed {seed} {where}: own-numbers text shown on a variant"
            stale = numbers_in(fixed_text(text)) & changed
            if stale:
                problems.append(f"seed {seed} {where}: says {sorted(stale)}, which this variant changed: {text!r}")
            shown = to_unicode(rendered.get(text, text))
            assert "{{" not in shown and "{%" not in shown
            assert not _SEED.search(shown), f"seed {seed} {where} says 'seed': {shown!r}"
    assert problems == []


def test_no_built_in_lesson_says_seed_to_a_learner():
    for entry in CATALOG.entries:
        lesson = entry.lesson
        if lesson is None:
            continue
        for where, text in lesson_texts(lesson) + [("title", lesson.title), ("source", lesson.source)]:
            assert not _SEED.search(text), f"{lesson.id} {where}: {text!r}"
