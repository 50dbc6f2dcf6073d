"""sgd() and adam(): torch.optim's own optimizers run on copies of a lesson's [train].params."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from tutor.core.errors import ExprError
from tutor.core.expr import budget, limits


def _number(v: Any, what: str, low: float = 0.0) -> float:
    if isinstance(v, torch.Tensor):
        if v.numel() != 1:
            raise ExprError(f"{what} must be a single number")
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)) or v < low:
        raise ExprError(f"{what} must be a number of at least {low:g}")
    return float(v)


def optimizer_settings(kind: str, lr: Any, options: dict[str, Any]) -> dict[str, Any]:
    """Checked keyword values for torch.optim.SGD or torch.optim.Adam (one clear line when one is off)."""
    out: dict[str, Any] = {"lr": _number(lr, f"{kind}(): lr")}
    out["weight_decay"] = _number(options.get("weight_decay", 0), f"{kind}(): weight_decay")
    if kind == "sgd":
        out["momentum"] = _number(options.get("momentum", 0), "sgd(): momentum")
        out["dampening"] = _number(options.get("dampening", 0), "sgd(): dampening")
        nesterov = limits.as_int(options.get("nesterov", 0), "sgd(): nesterov")
        if nesterov not in (0, 1):
            raise ExprError("sgd(): nesterov must be 0 or 1")
        if nesterov and (out["momentum"] <= 0 or out["dampening"] != 0):
            raise ExprError("sgd(): nesterov needs a momentum above 0 and no dampening")
        out["nesterov"] = bool(nesterov)
        return out
    betas = options.get("betas", (0.9, 0.999))
    if not isinstance(betas, tuple) or len(betas) != 2:
        raise ExprError("adam(): betas is a pair, as in betas=(0.9, 0.999)")
    b1, b2 = (_number(b, "adam(): betas") for b in betas)
    if not (b1 < 1 and b2 < 1):
        raise ExprError("adam(): each beta must be below 1")
    out["betas"] = (b1, b2)
    out["eps"] = _number(options.get("eps", 1e-8), "adam(): eps")
    return out


def train(kind: str, settings: dict[str, Any], params: dict[str, torch.Tensor],
          loss_of: Callable[[dict[str, torch.Tensor]], torch.Tensor], steps: int,
          losses: list[float] | None = None) -> dict[str, torch.Tensor]:
    """The parameters after `steps` optimizer steps on copies of `params`; the originals are not touched.

    `losses`, when given, receives the loss before each step (for the loss plot).

    Each step is charged its forward work twice (the backward pass costs about as much), so a run too big
    for the evaluation is refused at the step that would cross the budget. Stops once the loss is not finite.
    """
    leaves = {n: p.detach().clone().requires_grad_(True) for n, p in params.items()}
    make = torch.optim.SGD if kind == "sgd" else torch.optim.Adam
    try:  # torch's fused kernels: the same update rule, several times faster for a small graph's many steps
        optimizer = make(list(leaves.values()), fused=True, **settings)
    except (RuntimeError, ValueError, TypeError):
        optimizer = make(list(leaves.values()), foreach=False, **settings)
    size = sum(p.numel() for p in leaves.values())
    meter = budget.current()
    for _ in range(steps):
        meter.check()
        optimizer.zero_grad(set_to_none=True)
        before = meter.ops
        loss = loss_of(leaves)
        if loss.numel() != 1:
            raise ExprError("the [train] loss must be a scalar")
        meter.charge(max(meter.ops - before, 1) + 4 * size, size, f"{kind}() steps")
        value = float(loss.item())
        if losses is not None:
            losses.append(value)
        if not math.isfinite(value):
            break
        loss.reshape(()).backward()
        optimizer.step()
    return {n: p.detach() for n, p in leaves.items()}
