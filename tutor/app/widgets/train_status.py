"""One line under the loss plot: the settings, the loss it started and ended at, and the learner's update."""

from __future__ import annotations

from tutor.core.text.matrix import format_number


def train_status(run, marker: tuple[int, float, str] | None, where_to_type: str | None = None,
                 marker_rate: float | None = None) -> str:
    """`marker` is (SGD step, loss, step id) of the learner's own update; without one,
    `where_to_type` names the step whose answer would put it on the plot. The update was made at
    `marker_rate`: at another rate it is not on this curve, so it is hidden and the line says why."""
    parts = [f"lr {run.lr:g} · {run.steps} step{'' if run.steps == 1 else 's'}"]
    if run.losses:
        parts.append(f"loss {format_number(run.losses[0])} → {format_number(run.losses[-1])}")
    if getattr(run, "diverged", False):
        parts.append("diverged: try a smaller lr (F2)")
    if marker is not None and marker_rate is not None and run.lr != marker_rate:
        parts.append(f"◆ hidden: your update used lr {marker_rate:g}")
    elif marker is not None:
        parts.append(f"your update: loss {format_number(marker[1])} (◆)")
    elif where_to_type:
        parts.append(f"◆: answer {where_to_type}")
    return " · ".join(parts)
