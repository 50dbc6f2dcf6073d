"""What the graph view is given (the learner's work) and what it gets back (a Board to draw): plain
data, without torch, so the app can hold it on the UI thread."""

from __future__ import annotations

from dataclasses import dataclass, field

from tutor.core.evaluate.results import NodeValue
from tutor.core.lesson.model import Lesson

# where the drawing comes from
LESSON, DRAWN, REVEALED, SO_FAR, NOTHING = "lesson", "drawn", "revealed", "so far", "nothing"


@dataclass(frozen=True)
class Work:
    """What the learner has done in one lesson, as the graph view needs it."""

    states: dict[str, str]                      # step id -> solved | revealed | attempted
    answers: dict[str, str]                     # step id -> the latest answer typed for it
    drawn: dict[str, str] = field(default_factory=dict)   # graph step id -> the latest right graph
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)  # stable key -> (typed, status)
    current: str | None = None                  # the step the lesson screen is on
    draft: str | None = None                    # what is typed but unchecked on that step


@dataclass(frozen=True)
class FieldView:
    """One box line the learner can fill in: a node's value or one of its gradients."""

    key: str              # v:node or g:output:node, for this drawing
    stable: str           # the same field in any drawing that computes the same thing
    label: str            # "y", "∂ℒ/∂y"
    node: str             # node id in the drawing
    row: int              # its line among the node's value lines (for the ▸ marker)
    step_id: str | None   # the step that asks for exactly this
    earned: bool          # shown as a number: typing it again is practice


@dataclass(frozen=True)
class Board:
    lesson: Lesson                                  # the lesson, with the graph that is drawn
    rows: dict[str, list[tuple[str, NodeValue]]]    # node id -> (label, value) lines of its box
    fields: list[FieldView]
    source: str                                     # LESSON | DRAWN | REVEALED | SO_FAR | NOTHING
    note: str = ""                                  # one sentence about the drawing, for the status line
    outputs: tuple[str, ...] = ()
    symbols: dict[str, str] = field(default_factory=dict)   # output node id -> how it is written


