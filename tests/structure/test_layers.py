"""The layers contract: data flows one way through tutor's packages, with no import cycles."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "tutor"

# Lowest first. A package may import its own modules and packages of lower layers only; packages
# sharing a layer do not import each other. docs/development.md draws the same picture.
LAYERS: list[set[str]] = [
    {"tutor._start_time", "tutor.core.errors", "tutor.core.vocabulary"},
    {"tutor.core.text"},
    {"tutor.core.expr"},
    {"tutor.core.lesson"},
    {"tutor.core.evaluate"},
    {"tutor.core.answer"},
    {"tutor.core.diagnosis", "tutor.core.graph", "tutor.core.training"},
    {"tutor.core.check"},
    {"tutor.core.drill"},
    {"tutor.core.progress"},
    {"tutor.core.notebook"},
    {"tutor.app"},
    {"tutor.cli"},
    {"tutor.__main__"},
]
UI_LIBRARIES = {"textual", "rich", "textual_plotext", "plotext"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an import names (a name imported from a package may be a module of it)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path) -> list[tuple[ast.stmt, str, bool]]:
    """(statement, imported name, at function level) for every import in a file, TYPE_CHECKING ones too."""
    tree = ast.parse(path.read_text())
    nested = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
              for n in ast.walk(f) if n is not f}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                out.append((node, f"{node.module}.{alias.name}", id(node) in nested))
        elif isinstance(node, ast.Import):
            out.extend((node, alias.name, id(node) in nested) for alias in node.names)
    return out


def _layer(module: str) -> int:
    for index, layer in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in layer):
            return index
    raise AssertionError(f"{module} belongs to no layer: add its package to LAYERS and docs/development.md")


def _package(module: str) -> str:
    for layer in LAYERS:
        for p in layer:
            if module == p or module.startswith(p + "."):
                return p
    return module


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        for _, name, _ in _imports(path):
            target = _resolve(name) if name.startswith("tutor") else None
            if target and target != module and target not in ("tutor", "tutor.core"):
                edges[module].add(target)
    return edges


def test_every_module_belongs_to_a_layer():
    for module in MODULES:
        if module not in ("tutor", "tutor.core"):  # the packages' own docstrings
            _layer(module)


def test_no_package_imports_a_higher_layer_or_a_sibling():
    wrong = []
    for module, targets in _graph().items():
        for target in targets:
            if _package(target) == _package(module):
                continue
            if _layer(target) >= _layer(module):
                wrong.append(f"{module} imports {target}")
    assert not wrong, "imports against the flow of data:\n" + "\n".join(sorted(wrong))


def test_no_module_imports_one_that_imports_it_back():
    edges = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(MODULES):
        if module not in index:
            visit(module)
    assert not cycles, f"import cycles: {cycles}"


def test_the_core_never_imports_a_user_interface():
    wrong = [f"{module} imports {name}" for module, path in MODULES.items() if module.startswith("tutor.core")
             for _, name, _ in _imports(path) if name.split(".")[0] in UI_LIBRARIES | {"tutor"}
             and (name.split(".")[0] in UI_LIBRARIES or name.startswith(("tutor.app", "tutor.cli")))]
    assert not wrong, wrong


def test_imports_inside_functions_say_why_they_wait():
    # A project module imported inside a function is one that would slow start-up (torch, Textual,
    # psycopg): it says so in a `# lazy:` comment on its line or the line above.
    silent = []
    for path in MODULES.values():
        lines = path.read_text().splitlines()
        for node, name, nested in _imports(path):
            if not nested or not name.startswith("tutor"):
                continue
            here = lines[node.lineno - 1]
            above = lines[node.lineno - 2] if node.lineno > 1 else ""
            if "# lazy:" not in here and "# lazy:" not in above:
                silent.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: {here.strip()}")
    assert not silent, "function-level imports without a `# lazy:` reason:\n" + "\n".join(silent)
