"""The tutor's words for states, statuses, kinds and exit codes: each defined here once, used everywhere."""

from __future__ import annotations

from enum import IntEnum, StrEnum

# StrEnum members are equal to their strings, so values read back from a database, a JSON
# export or an older progress file compare equal to the members without conversion.


class Status(StrEnum):
    """What a checked answer was judged to be (the `verdict` of an attempt, `grade --json`)."""

    CORRECT = "correct"
    WRONG = "wrong"
    WRONG_SHAPE = "wrong_shape"
    IMPRECISE = "imprecise"      # right as far as it goes, but too few significant figures
    UNPARSED = "unparsed"        # could not be read: says where and why, not an attempt
    MISSING = "missing"          # no answer at all (grading a file), not an attempt


# Statuses that are not attempts: nothing was answered that could be right or wrong.
NOT_ATTEMPTS = frozenset({Status.UNPARSED, Status.MISSING})


class StepState(StrEnum):
    """Where a learner stands on one step."""

    SOLVED = "solved"
    REVEALED = "revealed"
    ATTEMPTED = "attempted"


# A step that is settled needs no more answers: its value is earned (answered or revealed).
SETTLED = frozenset({StepState.SOLVED, StepState.REVEALED})

# A step's state only moves up this order within a session: solved stays solved after a reveal.
_STATE_RANK: dict[str, int] = {StepState.ATTEMPTED: 1, StepState.REVEALED: 2, StepState.SOLVED: 3}


def merge_states(shown: dict[str, str], stored: dict[str, str]) -> dict[str, str]:
    """The states on screen brought up to date with what a store read back: the higher of the two
    for each step, so a read taken before the newest answer's write landed cannot undo it."""
    merged = dict(shown)
    for step_id, state in stored.items():
        if _STATE_RANK.get(state, 0) >= _STATE_RANK.get(merged.get(step_id, ""), 0):
            merged[step_id] = state
    return merged


class LessonState(StrEnum):
    """Where a learner stands on a whole lesson, for the lesson list and the progress table."""

    SOLVED = "solved"
    REVEALED = "revealed"        # every step settled, at least one by a reveal
    IN_PROGRESS = "in progress"
    NOT_STARTED = "not started"


class Kind(StrEnum):
    """How a step's answer is read and compared (`solve --json`'s `kind`)."""

    VALUE = "value"
    SHAPE = "shape"
    INTEGER = "integer"          # a count: must match exactly
    GRAPH = "graph"              # a computational graph, one operation per line


class ExitCode(IntEnum):
    """The `tutor` command's exit statuses (docs/cli.md)."""

    OK = 0
    PROBLEMS = 1                 # some answers wrong, some lessons invalid, nothing importable
    BAD_INPUT = 2                # an unknown lesson, an unreadable file, unusable arguments
    INTERRUPTED = 130            # Ctrl+C
