"""A plain (non-editable) install must carry every module, the built-in lessons and the stylesheet."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import tutor.core.lesson.catalog as catalog  # torch depends on setuptools, so --no-build-isolation works

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # builds a wheel


def test_the_wheel_ships_every_module_lesson_and_the_stylesheet(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                            "-v", "-w", str(tmp_path / "wheel"), "--cache-dir", str(tmp_path / "cache")],
                           check=True, timeout=300, capture_output=True, text=True)
    # a first `./dev` shows none of setuptools' boxed warnings: every lessons folder is declared
    assert "would be ignored" not in build.stdout + build.stderr
    assert "Warning" not in build.stdout + build.stderr
    tmp_path = tmp_path / "wheel"
    (wheel,) = tmp_path.glob("tutor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert catalog.BUILTIN_DIR == ROOT / "lessons"  # a checkout reads the top-level folder
    lessons = {f"tutor/lessons/{p.relative_to(catalog.BUILTIN_DIR).as_posix()}"
               for p in catalog.BUILTIN_DIR.rglob("*.toml")}
    assert len(lessons) >= 6
    assert lessons <= names
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tutor").rglob("*.py")}
    assert modules - names == set(), "a package is missing from pyproject's [tool.setuptools] packages"
    assert "tutor/app/tutor.tcss" in names
