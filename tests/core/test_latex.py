"""Lesson prose with LaTeX reads as plain Unicode in a terminal, and never breaks the screen."""

import re
from pathlib import Path

import pytest

from tutor.core.lesson.load import load_lesson
from tutor.core.text.latex import math_to_unicode, plain_text, to_unicode

LESSONS = Path(__file__).resolve().parents[2] / "tutor" / "lessons"

# Every math snippet of the seed exercises (/work/shared/seeds), and what a learner should read.
SEED_SNIPPETS = [
    (r"$\mathbf{w}$", "w"),
    (r"$\mathbf{X}$", "X"),
    ("$$\ny = \\sin{(\\mathbf{w}^T\\mathbf{x})} - b,\n$$", "y = sin(wᵀx) - b,"),
    (r"$$\mathbf{x} = \begin{bmatrix} 2 & 1 \end{bmatrix}, \mathbf{w} = "
     r"\begin{bmatrix} \frac{\pi}{2} & \pi \end{bmatrix}, b = 1, \hat{y} = 2.$$",
     "x = [2 1], w = [π/2 π], b = 1, ŷ = 2."),
    (r"$\frac{\partial y}{\partial \mathbf{w}}$", "∂y/∂w"),
    (r"$\text{L}_{2}$", "L₂"),
    (r"$\hat{y}$", "ŷ"),
    (r"$\frac{\partial\mathcal{L}}{\partial\mathbf{w}}$", "∂ℒ/∂w"),
    (r"$\alpha = 0.5$", "α = 0.5"),
    (r"$$\mathbf{x} = \begin{bmatrix} 1 & 0 & 2 \\ 2 & 1 & -1 \\ 0 & 0 & 2 \end{bmatrix}, "
     r"\mathbf{w} = \begin{bmatrix} 1 & -1 \\ 0 & 2 \end{bmatrix}.$$",
     "x = [1 0 2; 2 1 -1; 0 0 2], w = [1 -1; 0 2]."),
    (r"$\text{conv}(\mathbf{x}, \mathbf{w}, \text{stride}=1, \text{padding}=0)$",
     "conv(x, w, stride=1, padding=0)"),
    (r"$\text{max}(\mathbf{x}, 2\times2)$", "max(x, 2 × 2)"),
    (r"$\frac{\partial f(\mathbf{x}, \mathbf{w})}{\partial \mathbf{w}}$", "∂f(x, w)/∂w"),
    (r"$$ \textbf{x} = \left(\begin{array}{ccc} 1 & 0 & 2 \\ 2 & 1 & -1 \\ 0 & 0 & 2 \\ \end{array}\right) ,~ "
     r"\textbf{w} = \left(\begin{array}{cc} 1 & -1 \\ 0 & 2 \end{array}\right) $$",
     "x = [1 0 2; 2 1 -1; 0 0 2] , w = [1 -1; 0 2]"),
    (r"$$3)~ maxpool2d(~\textbf{x},~ 1~ x~ 2)~=$$", "3) maxpool2d( x, 1 x 2) ="),
    (r"W $\in R^{4×6}$", "W ∈ R⁴ˣ⁶"),
    (r"$\frac{\partial \mathcal{L}}{\partial q}, \frac{\partial q}{\partial z}, \frac{\partial z}{\partial w}$",
     "∂ℒ/∂q, ∂q/∂z, ∂z/∂w"),
    (r"$l_1$", "l₁"),
    (r"$\textbf{x} \in \mathbb{R}^{3}$", "x ∈ ℝ³"),
    (r"$\textbf{x} \in \mathbb{R}^{4\times 6}$", "x ∈ ℝ⁴ˣ⁶"),
    (r"$l^{th}$", "lᵗʰ"),
    (r"$(l + 1)^{th}$", "(l + 1)ᵗʰ"),
    (r"$3 \times 3 + 3 \times 3 = 9 + 9$", "3 × 3 + 3 × 3 = 9 + 9"),
    (r"$[\textbf{a}_{2}, \textbf{h}_{2}, \textbf{a}_{3}]$", "[a₂, h₂, a₃]"),
    (r"$\nabla_{a_{3}}\mathscr{L}(\theta)$", "∇ₐ₃ℒ(θ)"),
    ("$$\n\\textbf{b}_{2} - \\eta\\nabla_{b_{2}}\\mathscr{L}(\\theta)\n$$", "b₂ - η∇_b₂ℒ(θ)"),
    (r"$\theta_{\text{new}} = \theta_{\text{old}} - \eta \nabla\mathscr{L}(\theta)$", "θ_new = θ_old - η∇ℒ(θ)"),
    (r"$a \cdot b \le c$", "a · b ≤ c"),
]


@pytest.mark.parametrize("latex, expected", SEED_SNIPPETS)
def test_seed_math_reads_as_unicode(latex, expected):
    assert to_unicode(latex) == expected


def test_contract_intro_reads_as_plain_text():
    intro = ("The model is $y = \\sin(\\mathbf{w}^T\\mathbf{x}) - b$ with an L2 loss\n"
             "$\\mathcal{L} = (\\hat{y} - y)^2$. Work it out on paper first.")
    assert to_unicode(intro) == (
        "The model is y = sin(wᵀx) - b with an L2 loss\nℒ = (ŷ - y)². Work it out on paper first.")


def test_bold_math_letters_stay_plain_letters_terminal_fonts_can_draw():
    # 𝐰 (U+1D430) is missing from many terminal fonts
    assert to_unicode(r"$\mathbf{w}^T\mathbf{x}$") == "wᵀx"
    assert all(ord(ch) < 0x10000 for ch in to_unicode(r"$\mathcal{A} \mathbb{K} \mathbf{z}$"))


def test_subscripts_without_a_unicode_form_keep_an_underscore():
    assert to_unicode(r"$x_{init}$") == "x_init"
    assert to_unicode(r"$b_{1,i}$") == "b_(1,i)"
    assert to_unicode(r"$e^{\ln n}$") == "e^(ln n)"


def test_markdown_and_prices_are_left_alone():
    text = "**Bold**, _em_, `code $x$` and a price of $5 and $6; 50% off & # here."
    assert to_unicode(text) == text


def test_display_math_stands_in_its_own_paragraph():
    assert to_unicode("where:\n$$\nx = 1\n$$\nand so on") == "where:\n\nx = 1\n\nand so on"


def test_broken_latex_never_raises():
    for text in [r"$\frac{a$ b", r"$\begin{bmatrix} 1 & 2$", r"$}{$", "$$", "$ $", r"$\undefinedmacro{x}$"]:
        assert isinstance(to_unicode(text), str)
    assert math_to_unicode(r"\frac{1}{2}") == "1/2"


def test_no_raw_latex_reaches_the_screen_in_any_shipped_lesson():
    texts = []
    for path in sorted(LESSONS.glob("*/*.toml")):
        lesson = load_lesson(path)
        texts.append(lesson.intro)
        for step in lesson.steps:
            texts += [step.prompt, step.explain, *step.hints, *(m.say for m in step.mistakes)]
    for text in texts:
        shown = to_unicode(text)
        outside_code = re.sub(r"`[^`]*`", "", shown)
        assert not re.search(r"\\[A-Za-z]+", outside_code), shown
        assert "$" not in outside_code, shown


def test_plain_text_drops_bold_markers_but_keeps_operators():
    assert plain_text("**About the notebook:** it printed") == "About the notebook: it printed"
    assert plain_text("use `**` for powers, e.g. `2**3`") == "use ** for powers, e.g. 2**3"
    assert plain_text("Couldn't read that: use ** for powers, e.g. 2**3.") == \
        "Couldn't read that: use ** for powers, e.g. 2**3."
