"""Imports that must stay deferred, proven in a fresh interpreter (the only honest way)."""

import pkgutil
import subprocess
import sys

import tutor.core


def fresh_modules(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return {m.split(".")[0] for m in out.split()}


def test_the_core_never_imports_textual_or_rich():
    names = [m.name for m in pkgutil.walk_packages(tutor.core.__path__, "tutor.core.")]
    loaded = fresh_modules("\n".join(f"import {n}" for n in names))
    assert len(names) > 10
    assert "textual" not in loaded and "rich" not in loaded


def test_listing_lessons_needs_neither_torch_nor_textual():
    loaded = fresh_modules("import tutor.cli.main, tutor.core.lesson.catalog, tutor.core.answer.parse, tutor.core.answer.judge\n"
                           "tutor.core.lesson.catalog.Catalog.load()")
    assert "torch" not in loaded and "textual" not in loaded
