"""Process start reference, imported first so start-up can be measured from it."""

import time

START = time.perf_counter()


def elapsed_ms() -> float:
    """Milliseconds since this module was first imported."""
    return (time.perf_counter() - START) * 1000.0
