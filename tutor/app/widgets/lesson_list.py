"""The lesson list: a 'continue' row, then each topic's lessons with their status and solved/total."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.styled import Styled
from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from tutor.app.widgets.status_glyphs import lesson_state
from tutor.core.lesson.catalog import Catalog, Entry
from tutor.core.vocabulary import StepState

CONTINUE_ID = "continue"
Row = Callable[[bool], RenderableType]  # draws the row, pointed at or not
# (option id, how to draw it, True for a topic header that cannot be selected)


class LessonList(OptionList):
    """Options whose ids say what Enter opens: 'continue', 'lesson:ID' or 'broken:N'.

    The highlighted row also gets a ▸, since a highlight drawn only as a background vanishes
    under NO_COLOR.
    """

    # OptionList's own Enter is hidden; this one puts "Open" in the footer (it selects, in typing order)
    BINDINGS = [Binding("enter", "select", "Open", tooltip="Open the highlighted lesson")]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._draw: list[Row] = []
        self._pointed: int | None = None

    def show(self, catalog: Catalog, store, resume: tuple[Entry, str] | None) -> None:
        rows = _rows(catalog, store, resume)
        self._draw = [draw for _, draw, _ in rows]
        self._pointed = None
        self.clear_options()
        self.add_options([Option(draw(False), id=oid, disabled=header) for oid, draw, header in rows])
        self.highlighted = 0 if self.option_count else None

    def highlighted_id(self) -> str | None:
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id

    def highlight_id(self, option_id: str | None) -> None:
        """Moves the cursor to the row with this id, if the list has it."""
        if option_id is None:
            return
        try:
            self.highlighted = self.get_option_index(option_id)
        except OptionDoesNotExist:
            pass  # the lesson is no longer in the catalog

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        if self._pointed is not None and self._pointed < len(self._draw):
            self.replace_option_prompt_at_index(self._pointed, self._draw[self._pointed](False))
        if highlighted is not None and highlighted < len(self._draw):
            pointed = self._draw[highlighted](True)
            if self.app.no_color:
                # Textual's component styles drop `reverse` (get_visual_style keeps only bold, dim,
                # italic, underline, strike), so the tcss rule alone cannot show the cursor row
                pointed = Styled(pointed, "reverse")
            self.replace_option_prompt_at_index(highlighted, pointed)
        self._pointed = highlighted


def _same(text: Text) -> Row:
    """A row drawn the same whether pointed at or not (a topic header)."""
    return lambda _on: text


def _pointer(on: bool) -> Text:
    return Text("▸" if on else " ", "bold")


def _rows(catalog: Catalog, store, resume: tuple[Entry, str] | None) -> list[tuple[str, Row, bool]]:
    started = store.last_position() is not None
    rows: list[tuple[str, Row, bool]] = [(CONTINUE_ID, _continue_row(catalog, resume, started), False)]
    practice = _practice_row(catalog, store)
    if practice is not None:
        rows.append(practice)
    mastery = store.topic_mastery()
    for topic in catalog.topics():
        entries = catalog.in_topic(topic)
        statuses = {e.id: _status(store, e) for e in entries}
        done = sum(1 for s in statuses.values() if s == StepState.SOLVED)
        header = Text.assemble("  ", (topic, "bold underline"), f"   {done}/{len(entries)} lessons solved")
        drilled = mastery.get(topic)
        if drilled is not None and drilled.drill_attempts:
            header.append(f" · drills {drilled.drill_accuracy:.0%} right of {drilled.drill_attempts}")
        rows.append((f"topic:{topic}", _same(header), True))
        for e in entries:
            index = catalog.entries.index(e)
            oid = f"lesson:{e.id}" if e.lesson else f"broken:{index}"
            rows.append((oid, _lesson_row(e, statuses[e.id], store), False))
    if len(rows) == 1:
        empty = Text("  No lessons found. Point tutor at a folder with --lessons DIR.")
        rows.append(("topic:", _same(empty), True))
    return rows


def _practice_row(catalog: Catalog, store) -> tuple[str, Row, bool] | None:
    """'Practice what you miss most': a drill in the topic whose steps were missed most."""
    drillable = {e.topic for e in catalog.entries if e.lesson is not None and e.lesson.drill}
    missed = [m for m in store.most_missed(20) if m.topic in drillable]
    if not missed:
        return None
    worst = missed[0]
    text = Text.assemble(("Practice what you miss most: ", "bold"), f"drill {worst.topic}",
                         (f" ({worst.step_id} missed {worst.misses}×)", "dim"))
    return f"practice:{worst.topic}", lambda on: Text.assemble(_pointer(on), " ", text), False


def _status(store, entry: Entry) -> str:
    if entry.lesson is None:
        return "broken"
    return store.lesson_status(entry.id, len(entry.lesson.steps))


def _continue_row(catalog: Catalog, resume: tuple[Entry, str] | None, started: bool) -> Row:
    if resume is not None:
        entry, step_id = resume
        steps = [s.id for s in entry.lesson.steps] if entry.lesson else []  # resume_point offers loaded ones
        where = f"step {steps.index(step_id) + 1}/{len(steps)}" if step_id in steps else "start"
        text = Text.assemble(("Continue where you left off: ", "bold"), entry.title)

        def draw(on: bool) -> RenderableType:
            # a long title is cut with an ellipsis; the step it points at always shows
            grid = Table.grid(expand=True)
            grid.add_column(width=2, no_wrap=True)
            grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
            grid.add_column(no_wrap=True, justify="right")
            grid.add_row(Text.assemble(_pointer(on), " "), text, f" {where}")
            return grid

        return draw
    elif started and any(e.lesson for e in catalog.entries):
        text = Text.assemble(("Every lesson is done. ", "bold"),
                             "Open any to go over it, or drill a topic (F3).")
    else:
        first = next((e for e in catalog.entries if e.lesson), None)
        text = Text.assemble(("Start: ", "bold"), first.title if first else "no lesson yet")
    return lambda on: Text.assemble(_pointer(on), " ", text)


def broken_reason(entry: Entry) -> str:
    """Why a lesson file did not load, without repeating its path on every error."""
    parts = [f"{e.where}: {e.reason}" if e.where else e.reason for e in entry.errors]
    return "; ".join(parts) or "cannot load"


def _lesson_row(entry: Entry, status: str, store) -> Row:
    glyph, word, style = lesson_state(status)
    if entry.lesson is None:
        name, count = entry.path.name, ""
    else:
        states = store.step_states(entry.id)
        solved = sum(1 for s in states.values() if s == StepState.SOLVED)
        name, count = entry.title, f"{solved}/{len(entry.lesson.steps)}"

    def draw(on: bool) -> RenderableType:
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(width=1, no_wrap=True)   # ▸ pointer
        grid.add_column(width=1, no_wrap=True)   # state glyph
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(width=12, no_wrap=True, justify="right")
        grid.add_column(width=5, no_wrap=True, justify="right")
        grid.add_row(_pointer(on), Text(glyph, style), Text(name), Text(word, style), count)
        if entry.lesson is None:
            return Group(grid, Padding(Text(broken_reason(entry), "italic"), (0, 0, 0, 4)))
        return grid

    return draw
