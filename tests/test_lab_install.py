"""The README's lab install: a wheel in a fresh venv made by the system Python, run by an ordinary user."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = Path("/usr/bin/python3")

pytestmark = pytest.mark.slow


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "making OS accounts needs root"
    for tool in ("useradd", "userdel", "runuser"):
        if shutil.which(tool) is None:
            return f"no {tool} on this machine"
    if not SYSTEM_PYTHON.exists():
        return f"no system Python at {SYSTEM_PYTHON}"
    version = subprocess.run([str(SYSTEM_PYTHON), "-c", "import sys, venv, ensurepip; print(sys.version_info >= (3, 11))"],
                             capture_output=True, text=True)
    if version.stdout.strip() != "True":
        return f"{SYSTEM_PYTHON} is older than 3.11 or has no venv/ensurepip"
    return None


def _user(name: str) -> None:
    done = subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make the account {name}: {done.stderr.strip()}")
    home = Path(os.path.expanduser(f"~{name}"))
    home.chmod(0o755)  # a lab where homes are open to all: tutor's own modes must keep answers private


def _as(name: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    home = os.path.expanduser(f"~{name}")
    clean = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", **(env or {})}
    return subprocess.run(["runuser", "-u", name, "--", "env", "-i", *(f"{k}={v}" for k, v in clean.items()), *args],
                          capture_output=True, text=True, timeout=300, cwd="/")


def test_a_student_runs_the_system_wide_install_and_cannot_read_another_students_answers():
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    place = Path(tempfile.mkdtemp(prefix="tutor-lab-"))
    place.chmod(0o755)
    students = [f"tlab{uuid.uuid4().hex[:6]}", f"tlab{uuid.uuid4().hex[:6]}"]
    try:
        subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(place / "dist")], check=True, timeout=300, capture_output=True)
        (wheel,) = (place / "dist").glob("tutor-*.whl")
        venv = place / "opt-tutor"
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(venv)], check=True, timeout=300)
        installed = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)],
                                   capture_output=True, text=True, timeout=1200)
        assert installed.returncode == 0, installed.stderr[-3000:]
        names = subprocess.run([str(venv / "bin" / "pip"), "list", "--format=freeze"], capture_output=True,
                               text=True, check=True).stdout.lower()
        assert "pytest" not in names and "hypothesis" not in names  # no test tools on a lab machine
        # its python is the system's, which every account can run (not a home folder's of mode 0700)
        assert (venv / "bin" / "python").resolve().is_relative_to("/usr")

        for name in students:
            _user(name)
        listed = _as(students[0], str(venv / "bin" / "tutor"), "lessons")
        assert listed.returncode == 0, listed.stderr
        assert "chain-rule-scalar" in listed.stdout and "Permission denied" not in listed.stderr
        answered = _as(students[0], str(venv / "bin" / "python"), "-c",
                       "from tutor.core.progress.store import ProgressStore\n"
                       "with ProgressStore.open() as s: s.record_attempt('l', 's', 'secret answer', 'wrong')")
        assert answered.returncode == 0, answered.stderr
        mine = Path(os.path.expanduser(f"~{students[0]}")) / ".local" / "share" / "tutor" / "progress.sqlite3"
        assert mine.exists()
        peek = _as(students[1], "cat", str(mine))
        assert peek.returncode != 0 and "Permission denied" in peek.stderr
    finally:
        for name in students:
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        shutil.rmtree(place, ignore_errors=True)
