"""A throwaway PostgreSQL server from the binaries on this machine, for the class tests and benchmarks.

It runs as an unprivileged user (`postgres` when started by root), listens only on a socket in
a temporary folder, trusts the local roles it creates (three students and a teacher) except
PEER_STUDENT, who must pass peer authentication, allows PostgreSQL's default 100 connections,
holds one class database set up by `tutor class init` with the built-in lessons published, and
is removed when stopped.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

STUDENTS = ("alice", "bob", "carol")
PEER_STUDENT = "peer_student"   # enrolled, but only peer authentication lets this login in
TEACHER = "teacher"
ADMIN = "tutor_admin"
DATABASE = "tutor_class"


def binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def why_not() -> str | None:
    """Why no server can be started here (the class tests then say so and are skipped)."""
    if binaries() is None:
        return "no PostgreSQL binaries (initdb, pg_ctl) on this machine"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root with no 'postgres' user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root without runuser to start PostgreSQL as 'postgres'"
    return None


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
        hba = self.data / "pg_hba.conf"
        hba.write_text(f"local all {PEER_STUDENT} peer\n" + hba.read_text())

    def start(self) -> None:
        options = (f"-k {self.socket} -c listen_addresses='' -c max_connections=100"
                   " -c shared_buffers=16MB -c fsync=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, role: str, database: str = DATABASE) -> str:
        return f"postgresql://{role}@/{database}?host={self.socket}"


def builtin_lessons():
    from tutor.core.lesson.catalog import Catalog
    from tutor.core.progress.class_db import publishable

    found = [publishable(entry) for entry in Catalog.load(()).entries]
    return [lesson for lesson in found if not isinstance(lesson, str)]


@contextlib.contextmanager
def throwaway_server():
    """Yields a running Server with the class set up; stops and removes it afterwards."""
    import psycopg

    from tutor.core.progress.class_db import init

    root = Path(tempfile.mkdtemp(prefix="tutor-pg-"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    server = Server(binaries(), root, as_user)
    server.socket.mkdir()
    if as_user:  # PostgreSQL refuses to run as root: the folder goes to postgres
        root.chmod(0o755)
        shutil.chown(root, "postgres")
        shutil.chown(server.socket, "postgres")
    try:
        server.init()
        server.start()
        with psycopg.connect(server.url(ADMIN, "postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        init(server.url(ADMIN), students=[*STUDENTS, PEER_STUDENT], teachers=[TEACHER],
             lessons=builtin_lessons())
        yield server
    finally:
        try:
            server.stop("immediate")
        except RuntimeError:
            pass  # never started, or already stopped
        shutil.rmtree(root, ignore_errors=True)
