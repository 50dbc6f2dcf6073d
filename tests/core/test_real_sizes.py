"""Real layer sizes: shapes, counts, bytes and FLOPs come from meta tensors, so AlexNet and VGG answer at once."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from tutor.core.check.step import solve
from tutor.core.evaluate.live import LiveLesson
from tutor.core.lesson.load import parse_lesson

ROOT = Path(__file__).parents[2]

REAL = '''
title = "real layers"
graph = """
y = conv2d(x, w, stride=4)
v = conv2d(a, k, padding=1)
"""
[given]
x = "zeros(1, 3, 227, 227)"
w = "zeros(96, 3, 11, 11)"
a = "zeros(1, 64, 224, 224)"
k = "zeros(64, 64, 3, 3)"
[[steps]]
id = "alexnet-shape"
ask = "shape(y)"
[[steps]]
id = "alexnet-weights"
ask = "numel(w)"
[[steps]]
id = "alexnet-flops"
ask = "flops(y)"
[[steps]]
id = "alexnet-bytes"
ask = "bytes(y)"
[[steps]]
id = "vgg-shape"
ask = "shape(v)"
[[steps]]
id = "vgg-weights"
ask = "numel(k) + numel(k[0, 0, 0])"
[[steps]]
id = "vgg-flops"
ask = "flops(v)"
[[steps]]
id = "vgg-bytes"
ask = "bytes(zeros(64, 64, 3, 3, dtype=float32))"
[[steps]]
id = "inline"
ask = "flops(conv2d(zeros(1, 3, 227, 227), zeros(96, 3, 11, 11), stride=4))"
'''


def test_alexnet_conv1_and_a_vgg_layer_by_hand():
    results, errors = solve(parse_lesson(REAL))
    assert errors == []
    got = {k: v.value for k, v in results.items()}
    # AlexNet conv1: (227 - 11) / 4 + 1 = 55; 96 filters of 3x11x11; 2 FLOPs per multiply-add
    assert got["alexnet-shape"] == [1, 96, 55, 55]
    assert got["alexnet-weights"] == 96 * 3 * 11 * 11
    assert got["alexnet-flops"] == 2 * (96 * 55 * 55) * (3 * 11 * 11) == got["inline"]
    assert got["alexnet-bytes"] == 96 * 55 * 55 * 8
    # VGG-16 3x3, 64 -> 64 channels at 224x224, padding 1 keeps the size
    assert got["vgg-shape"] == [1, 64, 224, 224]
    assert got["vgg-weights"] == 64 * 64 * 9 + 3
    assert got["vgg-flops"] == 2 * (64 * 224 * 224) * (64 * 9)
    assert got["vgg-bytes"] == 64 * 64 * 9 * 4


def test_the_real_size_lesson_adds_little_to_a_process_that_has_torch():
    # A fresh process; one tiny convolution first loads torch's meta-shape machinery (a one-time import
    # of sympy that any first convolution pays), so what is measured is the lesson's own.
    # The lesson's growth of the peak is asserted, not the whole peak: the peak also counts torch's
    # shared libraries as mapped, which varies by 60 MB with how the files sit in the page cache
    # (218 MB after `import torch` in one venv, 275 MB in a freshly installed copy of the same files).
    script = textwrap.dedent(f'''
        import time
        from tutor.core.lesson.load import parse_lesson
        from tutor.core.check.step import solve
        def peak():  # VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's size at fork
            return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
        solve(parse_lesson('[given]\\nx = [1, 2]\\n[[steps]]\\nid = "s"\\nask = "conv1d(x, x)"\\n'))
        text = {REAL!r}
        before = peak()
        start = time.monotonic()
        results, errors = solve(parse_lesson(text))
        assert not errors, errors
        print(time.monotonic() - start, before, peak())
    ''')
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    _, before_mb, peak_mb = map(float, out.stdout.split())  # the time is a benchmark figure (benchmarks/run.py)
    assert peak_mb - before_mb < 80  # AlexNet conv1 and a VGG-16 layer at real size, on meta tensors


def _flops(ask: str, given: str) -> int:
    text = f'[given]\n{given}\n[[steps]]\nid = "s"\nask = "{ask}"\n'
    return LiveLesson(parse_lesson(text)).expected("s").value


def _torch_flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def z(*shape):
    return torch.zeros(*shape, dtype=torch.float64)


@pytest.mark.parametrize("ask, given, reference", [
    ("flops(A @ B)", 'A = "zeros(7, 5)"\nB = "zeros(5, 3)"', lambda: z(7, 5) @ z(5, 3)),
    ("flops(A @ B)", 'A = "zeros(2, 7, 5)"\nB = "zeros(2, 5, 3)"', lambda: z(2, 7, 5) @ z(2, 5, 3)),
    ("flops(linear(x, W, b))", 'x = "zeros(4, 6)"\nW = "zeros(3, 6)"\nb = "zeros(3)"',
     lambda: F.linear(z(4, 6), z(3, 6), z(3))),
    ("flops(conv2d(x, w, stride=2, padding=1, groups=2))", 'x = "zeros(2, 4, 9, 9)"\nw = "zeros(6, 2, 3, 3)"',
     lambda: F.conv2d(z(2, 4, 9, 9), z(6, 2, 3, 3), stride=2, padding=1, groups=2)),
    ("flops(conv1d(x, w, dilation=2))", 'x = "zeros(1, 3, 20)"\nw = "zeros(5, 3, 4)"',
     lambda: F.conv1d(z(1, 3, 20), z(5, 3, 4), dilation=2)),
    ("flops(conv_transpose2d(x, w, stride=2))", 'x = "zeros(1, 4, 5, 5)"\nw = "zeros(4, 3, 3, 3)"',
     lambda: F.conv_transpose2d(z(1, 4, 5, 5), z(4, 3, 3, 3), stride=2)),
    ("flops(max_pool2d(x, 2) + relu(x[:, :, :4, :4]))", 'x = "zeros(1, 2, 8, 8)"',
     lambda: F.max_pool2d(z(1, 2, 8, 8), 2) + torch.relu(z(1, 2, 4, 4))),
])
def test_flops_match_pytorchs_flop_counter(ask, given, reference):
    assert _flops(ask, given) == _torch_flops(reference)


def test_attention_flops_match_pytorchs_formula():
    # torch.utils.flop_counter's sdpa formula: 2·L·S·E for the scores plus 2·L·S·Ev for the weighted sum
    assert _flops("flops(scaled_dot_product_attention(q, k, v))",
                  'q = "zeros(2, 5, 8)"\nk = "zeros(2, 7, 8)"\nv = "zeros(2, 7, 4)"') == 2 * (2 * 5 * 7 * 8 + 2 * 5 * 7 * 4)
