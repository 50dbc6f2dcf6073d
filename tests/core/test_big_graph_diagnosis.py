"""A graph too big to compute is diagnosed on its shapes: counts and shapes get their slips named, quickly."""

import time

from tutor.core.check.step import checker_for
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.load import parse_lesson

BIG = '''title = "A batch of 64 images through an 11x11 convolution"
graph = """
x = zeros(64, 3, 224, 224)
w = zeros(64, 3, 11, 11)
y = conv2d(x, w, stride=4, padding=2)
"""
[given]
[[steps]]
id = "shape"
ask = "shape(y)"
[[steps]]
id = "count"
ask = "numel(y)"
[[steps]]
id = "bytes"
ask = "bytes(w)"
'''


def test_a_big_graph_is_diagnosed_on_its_shapes_without_computing_it():
    live = LiveLesson(parse_lesson(BIG, "big.toml"))
    assert live._scope is None  # too big to compute up front
    start = time.process_time()
    # floor((224 + 4 - 11)/4) + 1 = 55; rounding up gives 56
    assert checker_for(live).check("shape", "64x64x56x56").mistake == "output size rounded up"
    assert checker_for(live).check("shape", "64x55x55").mistake == "batch dimension left out"
    assert checker_for(live).check("count", str(64 * 55 * 55)).mistake == "batch dimension left out"   # 64 * 64 * 55 * 55
    assert checker_for(live).check("bytes", str(64 * 3 * 11 * 11)).mistake == "elements instead of bytes"  # float64: 8 each
    assert time.process_time() - start < 5  # seconds of CPU: computing the graph would take minutes
    assert live._scope is None  # and still not computed
