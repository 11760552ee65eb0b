"""Steps 6-10 of a DoRA iteration, after the gradients of the whole (global) batch are in place: per-tensor clipping,
the last-layer freeze, AdamW over the two official groups, the EMA teacher and the DINO centre."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ..optim.adamw import adamw_step
from ..optim.clip import cancel_last_layer_gradients, clip_gradients_per_tensor
from ..optim.ema import ema_update_teacher
from .loss import center_from_batch_mean
from .state import DoraState

if TYPE_CHECKING:
    from .train_step import DoraStepHyper, StepDiagnostics


def apply_update(
    state: DoraState, hyper: "DoraStepHyper", batch_center: torch.Tensor, finite: torch.Tensor, device_guard: bool
) -> tuple[torch.Tensor, list[str]]:
    """Clip (per tensor) → cancel the last layer → AdamW → EMA teacher → centre. Returns the raw gradient norms.
    ``batch_center`` [1, D] is the mean teacher output of the global batch (step_stats)."""
    named = list(state.student.named_parameters())
    if state.scaler is not None:
        state.scaler.unscale_(state.optimizer)
    norm_names = [n for n, p in named if p.grad is not None]
    norms = clip_gradients_per_tensor([p for _, p in named], hyper.clip_grad)
    cancel_last_layer_gradients(state.student, hyper.epoch, hyper.freeze_last_layer)
    guard = device_guard and state.scaler is None
    if guard:
        state.optimizer.found_inf = (~finite).float()  # type: ignore[attr-defined]
    try:
        adamw_step(state.optimizer, hyper.lr, hyper.weight_decay, state.scaler)
    finally:
        if guard:
            del state.optimizer.found_inf  # type: ignore[attr-defined]
    state.optimizer.zero_grad(set_to_none=True)
    apply = finite if device_guard else None
    ema_update_teacher(list(state.teacher.parameters()), [p for _, p in named], hyper.momentum, apply)
    new_center = center_from_batch_mean(state.center, batch_center, hyper.center_momentum)
    state.center.copy_(torch.where(finite, new_center, state.center) if device_guard else new_center)
    return norms, norm_names


def update_collecting(
    state: DoraState,
    hyper: "DoraStepHyper",
    batch_center: torch.Tensor,
    finite: torch.Tensor,
    device_guard: bool,
    diagnostics: "StepDiagnostics",
) -> tuple[torch.Tensor, list[str]]:
    """apply_update, keeping a copy of the gradients AdamW consumes (golden cases, debugging)."""
    original = state.optimizer.step

    def step_and_record(*args, **kwargs):  # type: ignore[no-untyped-def]
        for name, p in state.student.named_parameters():
            if p.grad is not None:
                diagnostics.clipped_grads[name] = p.grad.detach().float().clone()
        return original(*args, **kwargs)

    state.optimizer.step = step_and_record  # type: ignore[method-assign]
    try:
        return apply_update(state, hyper, batch_center, finite, device_guard)
    finally:
        del state.optimizer.step  # back to the class method
