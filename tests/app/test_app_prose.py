"""Lesson prose reads well in a terminal: Markdown marks become styles, math becomes Unicode."""

from tutor.app.widgets.prose import prose_text


def styled(text, word: str) -> set[str]:
    """The styles applied to the characters of `word` in a Rich Text."""
    start = text.plain.index(word)
    return {str(span.style) for span in text.spans if span.start <= start < span.end}


def test_wrapped_source_lines_become_one_paragraph_and_lists_get_bullets():
    text = prose_text("A neuron\nwith a sine.\n\nConventions:\n- one\n  continued\n- two")
    assert text.plain == "A neuron with a sine.\n\nConventions:\n• one continued\n• two"


def test_bold_can_contain_math_and_math_becomes_unicode():
    text = prose_text(r"The **stride $s$** moves it; $\alpha = 0.5$.")
    assert text.plain == "The stride s moves it; α = 0.5."
    assert "bold" in styled(text, "stride")


def test_stars_and_dollars_that_are_not_markup_stay_as_written():
    text = prose_text(r"`x$y` is code; it costs $5 and $6; 2 * 3 = 6; \$ is a dollar.")
    assert text.plain == "x$y is code; it costs $5 and $6; 2 * 3 = 6; $ is a dollar."


def test_display_math_stands_on_its_own_line():
    text = prose_text("The model,\n\n$$y = \\sin(x)$$\n\nis small.")
    assert text.plain.splitlines() == ["The model,", "", "  y = sin(x)", "", "is small."]
