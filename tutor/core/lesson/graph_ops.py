"""Graphs one operation per line: counting a line's operations and splitting a lesson's graph into such lines."""

from __future__ import annotations

import ast
import copy

from tutor.core.expr.syntax import Assignment

_AUG_OPS = {"+=": ast.Add, "-=": ast.Sub, "*=": ast.Mult, "/=": ast.Div}


def _constant_like(node: ast.AST | None) -> bool:
    """A number, a signed number, a slice of numbers or a list of them: data, not an operation."""
    if node is None or isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return True
    if isinstance(node, ast.Slice):
        return all(_constant_like(p) for p in (node.lower, node.upper, node.step))
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(_constant_like(e) for e in node.elts)
    return False


def operation_count(node: ast.AST | None) -> int:
    """How many operations an expression does: each operator, call, index, `.T` or built list is one."""
    if node is None or isinstance(node, (ast.Name, ast.Constant)) or _constant_like(node):
        return 0
    if isinstance(node, ast.UnaryOp):
        return 1 + operation_count(node.operand)
    if isinstance(node, ast.BinOp):
        return 1 + operation_count(node.left) + operation_count(node.right)
    if isinstance(node, ast.Call):
        return 1 + sum(operation_count(a) for a in node.args) + sum(operation_count(k.value) for k in node.keywords)
    if isinstance(node, ast.Subscript):
        return 1 + operation_count(node.value) + operation_count(node.slice)
    if isinstance(node, ast.Attribute):
        return 1 + operation_count(node.value)
    if isinstance(node, ast.Slice):
        return sum(operation_count(p) for p in (node.lower, node.upper, node.step))
    if isinstance(node, (ast.List, ast.Tuple)):
        return 1 + sum(operation_count(e) for e in node.elts)
    return 1


def plain_assignment(assignment: Assignment) -> ast.expr:
    """The right-hand side with an augmented `h += b` written out as `h + b`."""
    if assignment.op == "=":
        return assignment.expr.tree
    op = _AUG_OPS[assignment.op]()
    return ast.BinOp(ast.Name(assignment.target, ast.Load()), op, copy.deepcopy(assignment.expr.tree))


def needed_lines(graph: tuple[Assignment, ...] | list[Assignment], name: str) -> list[Assignment]:
    """The lines `name`'s last binding depends on, in order (everything else is left out)."""
    last = max((i for i, a in enumerate(graph) if a.target == name), default=None)
    if last is None:
        return []
    needed = {name}
    kept: list[Assignment] = []
    for a in reversed(graph[: last + 1]):
        if a.target not in needed:
            continue
        kept.append(a)
        if a.op == "=":
            needed.discard(a.target)
        needed |= a.expr.reads()
    return kept[::-1]


def one_operation_lines(graph: list[Assignment], taken: set[str]) -> list[tuple[str, str]]:
    """(target, expression text) lines doing one operation each; fresh names t1, t2... hold the pieces."""
    used = set(taken) | {a.target for a in graph}
    counter = 0
    out: list[tuple[str, str]] = []

    def fresh() -> str:
        nonlocal counter
        while True:
            counter += 1
            name = f"t{counter}"
            if name not in used:
                used.add(name)
                return name

    def emit(node: ast.expr) -> ast.Name:
        name = fresh()
        out.append((name, ast.unparse(node)))
        return ast.Name(name, ast.Load())

    def operand(node: ast.expr) -> ast.expr:
        node = flatten(node)
        return node if operation_count(node) == 0 else emit(node)

    def flatten(node: ast.expr) -> ast.expr:
        if operation_count(node) <= 1:
            return node
        node = copy.copy(node)
        if isinstance(node, ast.BinOp):
            node.left, node.right = operand(node.left), operand(node.right)
        elif isinstance(node, ast.UnaryOp):
            node.operand = operand(node.operand)
        elif isinstance(node, ast.Call):
            node.args = [operand(a) for a in node.args]
            node.keywords = [ast.keyword(k.arg, operand(k.value)) for k in node.keywords]
        elif isinstance(node, (ast.Subscript, ast.Attribute)):
            node.value = operand(node.value)
        elif isinstance(node, (ast.List, ast.Tuple)):
            node.elts = [operand(e) for e in node.elts]
        return node

    for assignment in graph:
        tree = flatten(plain_assignment(assignment))
        out.append((assignment.target, ast.unparse(tree)))
    return out


def expected_graph(lesson, name: str) -> str:
    """The lesson's own graph for `name`, one operation per line: a graph step's expected value."""
    lines = one_operation_lines(needed_lines(list(lesson.graph), name), set(lesson.given))
    return "\n".join(f"{target} = {text}" for target, text in lines)
