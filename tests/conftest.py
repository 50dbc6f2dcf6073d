"""Every test gets its own empty data dir and no extra lesson folders, so no test touches a real user's files."""

import pytest

from tutor.core.lesson.catalog import Catalog


@pytest.fixture(autouse=True)
def isolated_user_data(tmp_path_factory, monkeypatch):
    data = tmp_path_factory.mktemp("tutor-data")
    monkeypatch.setenv("TUTOR_DATA_DIR", str(data))
    monkeypatch.setenv("TUTOR_LESSONS", "")
    # a developer's class stays untouched, and `--database` in one test does not leak to the next
    monkeypatch.setenv("TUTOR_DATABASE_URL", "")
    return data


@pytest.fixture(scope="module")
def catalog():
    """Every lesson the tutor finds, loaded once per test module."""
    return Catalog.load()


@pytest.fixture(scope="module")
def live(catalog):
    """A lesson id -> its LiveLesson, each evaluated by torch once per test module."""
    from tutor.core.evaluate.live import LiveLesson

    cache = {}

    def get(lesson_id):
        if lesson_id not in cache:
            cache[lesson_id] = LiveLesson(catalog.lesson(lesson_id))
        return cache[lesson_id]

    return get
