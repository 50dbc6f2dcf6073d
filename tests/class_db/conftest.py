"""A throwaway PostgreSQL server for the class tests, started from the binaries on this machine.

It runs as an unprivileged user (`postgres` when the tests run as root), listens only on a
socket in a temporary folder, trusts the local roles it creates (three students and a
teacher), and is stopped at the end. Without PostgreSQL binaries the class tests are skipped.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

STUDENTS = ("alice", "bob", "carol")
TEACHER = "teacher"
ADMIN = "tutor_admin"
DATABASE = "tutor_class"


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    return Path(versions[-1]).parent if versions else None


class Server:
    """Start, stop and connection URLs of the throwaway server."""

    def __init__(self, bin_dir: Path, root: Path, as_user: list[str]):
        self.bin_dir, self.root, self.as_user = bin_dir, root, as_user
        self.data, self.socket, self.log = root / "data", root / "socket", root / "server.log"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, str(self.bin_dir / args[0]), *args[1:]],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr or done.stdout}"
                               f"\n{self.log.read_text() if self.log.exists() else ''}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", ADMIN, "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")

    def start(self) -> None:
        options = f"-k {self.socket} -c listen_addresses='' -F -c max_connections=40"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, role: str, database: str = DATABASE) -> str:
        return f"postgresql://{role}@/{database}?host={self.socket}"


@pytest.fixture(scope="session")
def pg_server():
    bin_dir = _binaries()
    if bin_dir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) on this machine: class database tests skipped")
    root = Path(tempfile.mkdtemp(prefix="tutor-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: hand the folder to postgres
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root with no 'postgres' user to run PostgreSQL as: class tests skipped")
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
        as_user = ["runuser", "-u", "postgres", "--"]
        root.chmod(0o755)
    server = Server(bin_dir, root, as_user)
    server.socket.mkdir()
    server.socket.chmod(0o777)
    if as_user:
        shutil.chown(root, "postgres")
        shutil.chown(server.socket, "postgres")
    server.init()
    server.start()
    try:
        import psycopg

        from tutor.core.class_db import init

        with psycopg.connect(server.url(ADMIN, "postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        init(server.url(ADMIN), students=list(STUDENTS), teachers=[TEACHER])
        yield server
    finally:
        try:
            server.stop("immediate")
        except RuntimeError:
            pass  # already stopped by a failed test
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg(pg_server):
    """The class server with empty tables, and nothing left over from earlier tests."""
    import psycopg

    with psycopg.connect(pg_server.url(ADMIN), autocommit=True) as conn:
        conn.execute("TRUNCATE attempts, reveals, position")
    return pg_server
