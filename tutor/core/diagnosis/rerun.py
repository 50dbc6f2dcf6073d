"""Reruns a lesson's graph with one slip written into it, from the original givens, for diagnosis."""

from __future__ import annotations

import ast
from typing import Any

from tutor.core.diagnosis import rewrites
from tutor.core.evaluate.live import LiveLesson, cheaply
from tutor.core.evaluate.run import run_graph
from tutor.core.expr import budget
from tutor.core.expr.compile import Scope
from tutor.core.expr.meta import ShapesOnly


class Rerunner:
    """Runs slips of one lesson: each rewritten graph once, kept for the lesson's other steps."""

    def __init__(self, live: LiveLesson):
        self.live = live
        self._compiler = rewrites.compiler()
        self._slip_scopes: dict[str, Scope] = {}

    def __call__(self, slip: str, graph_trees: list | None, ask_tree: ast.AST) -> Any:
        """A rewritten graph (None keeps a line as written) run from the givens, then a rewritten ask on it."""
        live = self.live
        scope: Scope | None
        if graph_trees is None:  # the graph as written: only the ask changes
            scope = live.cheapest_scope
        else:
            scope = self._slip_scopes.get(slip)
            if scope is None:
                lines = [(a, fn if tree is None else self._compiler.compile(tree))
                         for tree, (a, fn) in zip(graph_trees, live.lines, strict=False)]
                if live.shapes_only:  # a real-size graph: the slip is rerun on its shapes
                    with budget.running(ShapesOnly(budget.current())):
                        scope = run_graph(lines, live.givens, live.dtype, lesson=live, file=live.file, meta=True)
                else:
                    scope = run_graph(lines, live.givens, live.dtype, lesson=live, file=live.file)
                self._slip_scopes[slip] = scope
        return cheaply(self._compiler.compile(ask_tree), ask_tree, scope)
