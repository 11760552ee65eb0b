"""The student under DistributedDataParallel, as the official main.py wraps it: gradients averaged over the processes
during the backward (bucketed, overlapping the backward), parameters broadcast from rank 0 when wrapped. The teacher
is not wrapped (a ViT has no batch-norm to synchronise; the official `teacher_without_ddp` is the teacher then): it
follows the student by EMA on every process alike."""

from __future__ import annotations

import torch
from torch.nn.parallel import DistributedDataParallel

from ..dora.state import DoraState


def wrap_student(state: DoraState, device: torch.device) -> None:
    """Replaces ``state.student_pass`` by its DDP wrapper (after any checkpoint was loaded)."""
    module = state.student_pass
    assert module is not None
    if isinstance(module, DistributedDataParallel):
        return
    device_ids = (
        [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else None
    )
    state.student_pass = DistributedDataParallel(module, device_ids=device_ids, broadcast_buffers=False)
