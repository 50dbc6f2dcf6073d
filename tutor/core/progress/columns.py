"""The columns of the learner's progress tables, defined once: the schema check, the writer and exports use them."""

from __future__ import annotations

# In the order the SQLite migrations made them (sqlite.MIGRATIONS, which are history and never edited;
# a test checks that a fresh file has exactly these).
TABLES: dict[str, tuple[str, ...]] = {
    "attempts": ("id", "at", "lesson_id", "topic", "step_id", "step_kind", "answer", "verdict", "message",
                 "mistake", "seconds", "drill_seed", "session_id", "skills", "write_id"),
    "reveals": ("id", "lesson_id", "step_id", "at", "write_id", "skills"),
    "position": ("only_row", "lesson_id", "step_id", "at"),
}
SET_BY_THE_DATABASE = frozenset({"id", "only_row"})

# What a write may set, per table (a journal left by another session is read back only within these).
WRITE_COLUMNS: dict[str, frozenset[str]] = {
    table: frozenset(columns) - SET_BY_THE_DATABASE for table, columns in TABLES.items()}
