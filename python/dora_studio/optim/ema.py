"""The EMA teacher: θ_t ← m·θ_t + (1 − m)·θ_s over every parameter (the teacher's frozen weight_g too)."""

from __future__ import annotations

from typing import Sequence

import torch


@torch.no_grad()
def ema_update_teacher(
    teacher: Sequence[torch.Tensor], student: Sequence[torch.Tensor], momentum: float, apply: torch.Tensor | None = None
) -> None:
    """Official arithmetic (t·m, then + (1−m)·s). ``apply`` (a 0-d bool tensor on the device) makes the update
    conditional without a host sync: where it is False the teacher keeps its values."""
    if len(teacher) != len(student):
        raise ValueError(f"ema_update_teacher: {len(teacher)} teacher vs {len(student)} student tensors")
    teacher, student = list(teacher), list(student)
    if apply is None:
        torch._foreach_mul_(teacher, momentum)
        torch._foreach_add_(teacher, torch._foreach_mul(student, 1.0 - momentum))
        return
    updated = torch._foreach_mul(teacher, momentum)
    torch._foreach_add_(updated, torch._foreach_mul(student, 1.0 - momentum))
    for t, u in zip(teacher, updated):
        t.copy_(torch.where(apply, u, t))
