"""sgd(), adam() and rmsprop(): torch.optim's own update rules run on copies of a lesson's [train].params."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch.optim.adam import adam as adam_update
from torch.optim.rmsprop import rmsprop as rmsprop_update
from torch.optim.sgd import sgd as sgd_update

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
    """Checked keyword values for torch.optim.SGD, Adam or RMSprop (one clear line when one is off)."""
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
    if kind == "rmsprop":
        out["alpha"] = _number(options.get("alpha", 0.99), "rmsprop(): alpha")
        if out["alpha"] > 1:
            raise ExprError("rmsprop(): alpha must be from 0 to 1")
        out["eps"] = _number(options.get("eps", 1e-8), "rmsprop(): eps")
        out["momentum"] = _number(options.get("momentum", 0), "rmsprop(): momentum")
        centered = limits.as_int(options.get("centered", 0), "rmsprop(): centered")
        if centered not in (0, 1):
            raise ExprError("rmsprop(): centered must be 0 or 1")
        out["centered"] = bool(centered)
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
    update = _update_rule(kind, settings, list(leaves.values()))
    size = sum(p.numel() for p in leaves.values())
    meter = budget.current()
    for _ in range(steps):
        meter.check()
        for p in leaves.values():
            p.grad = None
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
        with torch.no_grad():
            update()
    return {n: p.detach() for n, p in leaves.items()}


def _with_grads(params: list[torch.Tensor]) -> tuple[list[int], list[torch.Tensor]]:
    """The indices of the params that have a gradient, and those gradients: torch.optim skips unused params."""
    used: list[int] = []
    grads: list[torch.Tensor] = []
    for k, p in enumerate(params):
        if p.grad is not None:
            used.append(k)
            grads.append(p.grad)
    return used, grads


def _update_rule(kind: str, settings: dict[str, Any], params: list[torch.Tensor]) -> Callable[[], None]:
    """One optimizer step over `params`, by torch.optim's own functional update (what SGD.step and
    Adam.step run on the CPU), keeping the optimizer's state between steps.

    The functional form is used because constructing a torch.optim.Optimizer imports torch's compiler
    stack (800 modules, over a second of CPU, on first use); the update rule is the same code.
    """
    if kind == "sgd":
        buffers: list[torch.Tensor | None] = [None] * len(params)

        def sgd_step() -> None:
            used, grads = _with_grads(params)
            held = [buffers[k] for k in used]
            sgd_update([params[k] for k in used], grads, held, foreach=False,
                       lr=settings["lr"], weight_decay=settings["weight_decay"], momentum=settings["momentum"],
                       dampening=settings["dampening"], nesterov=settings["nesterov"],
                       maximize=settings.get("maximize", False))
            for k, buffer in zip(used, held, strict=True):
                buffers[k] = buffer
        return sgd_step

    # torch.optim.Adam and RMSprop keep their step count as a float tensor of this dtype
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    if kind == "rmsprop":
        return _rmsprop_rule(settings, params, step_dtype)
    moments = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
    squares = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
    counts = [torch.tensor(0.0, dtype=step_dtype) for _ in params]
    beta1, beta2 = settings["betas"]

    def adam_step() -> None:
        used, grads = _with_grads(params)
        adam_update([params[k] for k in used], grads, [moments[k] for k in used],
                    [squares[k] for k in used], [], [counts[k] for k in used], foreach=False, amsgrad=False,
                    beta1=beta1, beta2=beta2, lr=settings["lr"], weight_decay=settings["weight_decay"],
                    eps=settings["eps"], maximize=settings.get("maximize", False))
    return adam_step


def _rmsprop_rule(settings: dict[str, Any], params: list[torch.Tensor], step_dtype: torch.dtype) -> Callable[[], None]:
    """torch.optim.RMSprop's update: v = alpha·v + (1 − alpha)·g², w −= lr · g / (sqrt(v) + eps)."""
    squares = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
    averages = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
    buffers = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
    counts = [torch.tensor(0.0, dtype=step_dtype) for _ in params]

    def rmsprop_step() -> None:
        used, grads = _with_grads(params)
        rmsprop_update([params[k] for k in used], grads, [squares[k] for k in used],
                       [averages[k] for k in used], [buffers[k] for k in used],
                       [counts[k] for k in used], foreach=False, maximize=settings.get("maximize", False),
                       lr=settings["lr"],
                       alpha=settings["alpha"], eps=settings["eps"], weight_decay=settings["weight_decay"],
                       momentum=settings["momentum"], centered=settings["centered"])
    return rmsprop_step
