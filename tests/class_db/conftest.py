"""The class tests run against a throwaway PostgreSQL server (see pg_server.py), one per test run."""

from __future__ import annotations

import pytest

from tests.class_db.pg_server import ADMIN, STUDENTS, TEACHER, throwaway_server, why_not  # noqa: F401


@pytest.fixture(scope="session")
def pg_server():
    reason = why_not()
    if reason:
        pytest.skip(f"{reason}: class database tests skipped")
    with throwaway_server() as server:
        yield server


@pytest.fixture
def pg(pg_server):
    """The class server with empty tables, and nothing left over from earlier tests."""
    import psycopg

    with psycopg.connect(pg_server.url(ADMIN), autocommit=True) as conn:
        conn.execute("TRUNCATE attempts, reveals, grades, tutor_quota")
    return pg_server
