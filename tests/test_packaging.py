"""A plain (non-editable) install must carry the built-in lessons and the app's stylesheet."""

import subprocess
import sys
import zipfile
from pathlib import Path


import tutor.core.catalog as catalog  # torch depends on setuptools, so --no-build-isolation works

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_every_lesson_and_the_stylesheet(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path)], check=True, timeout=300, capture_output=True)
    (wheel,) = tmp_path.glob("tutor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    lessons = {f"tutor/lessons/{p.relative_to(catalog.BUILTIN_DIR).as_posix()}"
               for p in catalog.BUILTIN_DIR.rglob("*.toml")}
    assert len(lessons) >= 6
    assert lessons <= names
    assert "tutor/app/tutor.tcss" in names
