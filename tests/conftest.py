"""Every test gets its own empty data dir and no extra lesson folders, so no test touches a real user's files."""

import pytest


@pytest.fixture(autouse=True)
def isolated_user_data(tmp_path_factory, monkeypatch):
    data = tmp_path_factory.mktemp("tutor-data")
    monkeypatch.setenv("TUTOR_DATA_DIR", str(data))
    monkeypatch.setenv("TUTOR_LESSONS", "")
    # a developer's class stays untouched, and `--database` in one test does not leak to the next
    monkeypatch.setenv("TUTOR_DATABASE_URL", "")
    return data
