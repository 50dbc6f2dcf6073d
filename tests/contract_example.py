"""The contract's complete example lesson, read from docs/lesson-format.md: written from the contract alone."""

import re
from pathlib import Path

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "lesson-format.md"


def contract_lesson_text(**replace: str) -> str:
    """The example's TOML, with `old=new` replacements keyed by a short name for readability."""
    text = re.search(r"```toml\n(.*?)```", CONTRACT.read_text(encoding="utf-8"), re.S).group(1)
    for old, new in replace.values():
        assert old in text, old
        text = text.replace(old, new)
    return text
