"""Shapes in words, one way everywhere: what shape a value has, and a shape written as a value."""

from __future__ import annotations

from collections.abc import Iterable


def shape_text(shape: Iterable[int]) -> str:
    """The shape a value has, for people: "scalar", "vector of 3", "4×24"."""
    dims = tuple(int(d) for d in shape)
    if not dims:
        return "scalar"
    if len(dims) == 1:
        return f"vector of {dims[0]}"
    return "×".join(map(str, dims))


def dims_text(dims: Iterable[int]) -> str:
    """A shape written as a value (a shape answer, a quoted shape()): "()", "(4,)", "4×24"."""
    dims = tuple(int(d) for d in dims)
    if not dims:
        return "()"
    if len(dims) == 1:
        return f"({dims[0]},)"
    return "×".join(map(str, dims))
