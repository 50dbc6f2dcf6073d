"""Generated calls of every function with random shapes, sizes and keyword values never run over the budget."""

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutor.core.errors import TutorError
from tutor.core.evaluate.live import LiveLesson
from tutor.core.expr.signatures import GRAPH, SIGNATURES
from tutor.core.lesson.load import parse_lesson

CALLABLE = [s for s in SIGNATURES if GRAPH in s.where or s.name in ("shape", "flops", "bytes")]
SIZES = st.sampled_from([1, 2, 3, 5, 64, 3000, 10**6, 10**9])
NUMBERS = st.sampled_from(["-1", "0", "1", "2", "3", "0.5", "100000000", "(1, 2)", "(0, 3)", "-100"])


@st.composite
def tensor(draw) -> str:
    dims = draw(st.lists(SIZES, min_size=0, max_size=4))
    maker = draw(st.sampled_from(["zeros", "ones"]))
    return f"{maker}({', '.join(map(str, dims)) or '()'})" if dims else draw(NUMBERS)


@st.composite
def call(draw) -> str:
    sig = draw(st.sampled_from(CALLABLE))
    if sig.name in ("shape", "flops", "bytes"):
        return f"{sig.name}({draw(call())})"
    args = [draw(tensor()) for _ in range(sig.required)]
    if sig.variadic:
        args += draw(st.lists(st.one_of(tensor(), NUMBERS), max_size=3))
    optional = [p for p in sig.params[sig.required:]] + list(sig.keywords)
    chosen = draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional))) if optional else []
    keywords = [f"{k}={draw(st.one_of(NUMBERS, tensor()))}" for k in chosen]
    return f"{sig.name}({', '.join(args + keywords)})"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(call())
def test_generated_calls_give_a_value_or_one_line_within_the_budget(text):
    lesson = f'[given]\nx = [1, 2, 3]\n[[steps]]\nid = "s"\nask = "{text}"\n'
    start = time.process_time()
    try:
        LiveLesson(parse_lesson(lesson)).expected("s")
    except TutorError as err:
        assert "\n" not in str(err) and str(err)
    assert time.process_time() - start < 14, text  # the budget allows 10 s of work
