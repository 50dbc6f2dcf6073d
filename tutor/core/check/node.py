"""A value or gradient typed on a node of the graph view: checked on the graph (errors carried forward
both ways, tutor.core.graph), and, on a node a step asks for, as that step's answer too."""

from __future__ import annotations

from tutor.core.answer.judge import Verdict
from tutor.core.check.step import checker_for
from tutor.core.graph.board import Work, node_verdict
from tutor.core.vocabulary import Status


def check_node(live, work: Work, key: str, text: str) -> Verdict:
    """The graph's verdict; a wrong answer the graph cannot explain, on a step's node, gets the step
    checker's verdict instead when it says the same (it names mistakes and errors carried from
    earlier steps)."""
    verdict, step_id = node_verdict(live, work, key, text)
    if step_id is None or verdict.status not in (Status.WRONG, Status.WRONG_SHAPE) or verdict.carried_from:
        return verdict
    as_step = checker_for(live).check(step_id, text, earlier=work.answers)
    return as_step if as_step.status == verdict.status else verdict
