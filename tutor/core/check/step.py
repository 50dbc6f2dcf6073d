"""Checks a typed answer to a step: judges it, then looks for an error carried forward or a named mistake."""

from __future__ import annotations

import weakref

from tutor.core.answer.judge import Verdict, check_answer, read_answer
from tutor.core.answer.parse import ParsedAnswer
from tutor.core.check.carried import carried_verdict
from tutor.core.diagnosis.diagnose import Candidates, Inputs, candidates, diagnose
from tutor.core.diagnosis.rerun import Rerunner
from tutor.core.errors import LessonError
from tutor.core.evaluate.live import LiveLesson
from tutor.core.evaluate.results import Expected
from tutor.core.graph.answer import check_graph
from tutor.core.lesson.model import Lesson
from tutor.core.vocabulary import Kind, Status


class StepChecker:
    """Checks answers to one live lesson's steps; keeps what depends only on the lesson's numbers.

    The live lesson evaluates; this composes judging, errors carried forward, diagnosis and graph
    answers on top of it, handing each the inputs it needs.
    """

    def __init__(self, live: LiveLesson):
        self.live = live
        self._rerun = Rerunner(live)
        self._candidates: dict[str, Candidates] = {}
        self._diagnosis_cache: dict = {}
        self._graphs_checked: set[str] = set()

    def expected(self, step_id: str) -> Expected:
        """The step's answer; a graph step's is the lesson's own graph, which must pass its own check."""
        expected = self.live.expected(step_id)
        if expected.kind == Kind.GRAPH and step_id not in self._graphs_checked:
            step = self.live.lesson.step(step_id)
            with self.live.evaluation():
                verdict = check_graph(self.live, step, expected.value)
            if verdict.status != Status.CORRECT:
                reason = f"the lesson's own graph, one operation per line, does not check: {verdict.message}"
                raise LessonError(self.live.file, f"step {step_id!r}", reason)
            self._graphs_checked.add(step_id)
        return expected

    def check(self, step_id: str, text: str | None, earlier: dict[str, str] | None = None) -> Verdict:
        """Parses a typed answer once, judges it, and names a mistake if exactly one explains it.

        `earlier` holds the learner's typed answers to other steps: a wrong answer that they lead to
        is an error carried forward, named as such instead of as a new mistake.
        """
        live = self.live
        step = live.lesson.step(step_id)
        expected = self.expected(step_id)
        if step.kind == Kind.GRAPH:
            with live.evaluation():
                return check_graph(live, step, text)
        parsed = read_answer(text, expected)
        if not isinstance(parsed, ParsedAnswer):
            return parsed  # missing or unreadable: a verdict already
        with live.evaluation():
            verdict = check_answer(parsed, expected, step.tolerance or live.lesson.tolerance)
            if verdict.status not in (Status.WRONG, Status.WRONG_SHAPE, Status.IMPRECISE):
                return verdict  # a too coarse answer goes on: it may be exactly a named mistake's value
            if earlier and verdict.status != Status.IMPRECISE:
                carried = carried_verdict(live, step, parsed, verdict, earlier)
                if carried is not None:
                    return carried
            return diagnose(self.diagnosis_inputs(step_id), self.mistake_candidates(step_id), parsed, verdict)

    def diagnosis_inputs(self, step_id: str) -> Inputs:
        """What diagnosis reads about a step: the lesson, the step, its answer, this run's values, a rerun."""
        live = self.live
        step = live.lesson.step(step_id)
        return Inputs(live.lesson, step, live.expected(step_id), dict(live.cheapest_scope.env),
                      live.evaluate_cheaply, self._rerun, step.tolerance or live.lesson.tolerance,
                      live.graph_ops, self._diagnosis_cache)

    def mistake_candidates(self, step_id: str) -> Candidates:
        """The step's mistake candidates, computed once (they depend only on the lesson's numbers)."""
        if step_id not in self._candidates:
            with self.live.evaluation():
                self._candidates[step_id] = candidates(self.diagnosis_inputs(step_id))
        return self._candidates[step_id]


_CHECKERS: weakref.WeakKeyDictionary[LiveLesson, StepChecker] = weakref.WeakKeyDictionary()


def checker_for(live: LiveLesson) -> StepChecker:
    """The one checker of a live lesson, so its candidates and reruns are computed once however it is asked."""
    checker = _CHECKERS.get(live)
    if checker is None:
        checker = _CHECKERS[live] = StepChecker(live)
    return checker


def solve(lesson: Lesson) -> tuple[dict[str, Expected], list[LessonError]]:
    """Every step's expected value, and the errors of steps that could not be computed."""
    checker = checker_for(LiveLesson(lesson))
    results: dict[str, Expected] = {}
    errors: list[LessonError] = []
    for step in lesson.steps:
        try:
            results[step.id] = checker.expected(step.id)
        except LessonError as err:
            errors.append(err)
    return results, errors
