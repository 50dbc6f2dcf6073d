"""Pilot fixtures for the app tests; the helpers live in app_helpers so test modules can import them by a unique name."""

from app_helpers import *  # noqa: F401,F403  (fixtures defined there register here)
