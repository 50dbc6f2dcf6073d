"""A teacher's notebook translated into a lesson: the code is read, never run.

`import_notebook(path)` reads a `.ipynb`, a `.py` script or a notebook's "In [n]:" text export and
translates it; `Imported.text()` writes the lesson file. What the lesson language cannot express is
left out, one line each naming the cell and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tutor.core.notebook.cell import NotebookRefused
from tutor.core.notebook.cells import read_notebook
from tutor.core.notebook.compose import compose, lesson_id, needed
from tutor.core.notebook.translate import MAX_WORK, Program, translate

__all__ = ["Imported", "NotebookRefused", "import_notebook", "needed"]


@dataclass
class Imported:
    program: Program
    source: Path
    lesson_id: str

    def text(self, drop: dict[str, str] | None = None) -> str:
        """The lesson file; `drop` maps step ids to leave out to why."""
        return compose(self.program, self.source, self.lesson_id, drop)

    def left_out(self, drop: dict[str, str] | None = None) -> list[str]:
        drop = drop or {}
        return list(self.program.left_out) + [f"{s.where}: `{s.code}` {drop[s.id]}; left out"
                                              for s in self.program.steps if s.id in drop]


def import_notebook(path: str | Path, lesson_id_: str | None = None, work: int = MAX_WORK) -> Imported:
    """The notebook at `path` translated; NotebookRefused (one line) for a file that is not one."""
    path = Path(path)
    notebook = read_notebook(path)
    program = translate(notebook, work)
    return Imported(program, path, lesson_id_ or lesson_id(path))
