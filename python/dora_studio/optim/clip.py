"""utils.clip_gradients (each tensor's gradient scaled by clip/(‖g‖ + 1e-6) when that is < 1) and
utils.cancel_gradients_last_layer, without host synchronisation."""

from __future__ import annotations

from typing import Iterable

import torch
from torch import nn


@torch.no_grad()
def clip_gradients_per_tensor(params: Iterable[nn.Parameter], clip: float) -> torch.Tensor:
    """Clips in place; returns the raw norms [P] of the tensors that have a gradient, in the given order (callers
    pass named_parameters order, as the official function iterates)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(0)
    norms = torch.stack(torch._foreach_norm(grads) if hasattr(torch, "_foreach_norm") else [g.norm(2) for g in grads])
    if clip > 0:
        coef = (clip / (norms.float() + 1e-6)).clamp(max=1.0).to(grads[0].dtype)
        torch._foreach_mul_(grads, list(coef.unbind(0)))
    return norms


def cancel_last_layer_gradients(model: nn.Module, epoch: int, freeze_last_layer: int) -> None:
    """During the first ``freeze_last_layer`` epochs the last layer gets no gradient at all (so AdamW skips it)."""
    if epoch >= freeze_last_layer:
        return
    for name, p in model.named_parameters():
        if "last_layer" in name:
            p.grad = None
