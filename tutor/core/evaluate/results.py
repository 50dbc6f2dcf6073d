"""Plain-data results of live evaluation, shared by the checker and the app without importing torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tutor.core.vocabulary import Kind


@dataclass(frozen=True)
class Expected:
    """What torch computed for a step, as plain Python data (no tensors leave the core)."""

    kind: Kind
    value: Any                # float | nested list of floats | list[int] for a shape | int
    shape: tuple[int, ...]    # the value's shape; for kind "shape" the length of the list
    noise: float = 1e-6       # float round-off an exact typed value is forgiven, relative to max(1, |value|)


@dataclass(frozen=True)
class NodeValue:
    """A named tensor of the graph as plain data, for display."""

    shape: tuple[int, ...]
    value: Any                # float or nested list of floats
