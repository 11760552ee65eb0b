"""The student under DistributedDataParallel, as the official main.py wraps it: gradients averaged over the processes
during the backward (bucketed, overlapping the backward), parameters broadcast from rank 0 when wrapped. The teacher
is not wrapped (a ViT has no batch-norm to synchronise; the official `teacher_without_ddp` is the teacher then): it
follows the student by EMA on every process alike."""

from __future__ import annotations

import gc

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


def unwrap_student(state: DoraState) -> None:
    """Drops the DDP wrapper, and with it DDP's Reducer, before the process group is destroyed. The Reducer holds a
    reference to the group: were it the last one, the group's destructor would run with the GIL held and join a gloo
    worker thread that needs the GIL to free the last tensor it used — a deadlock at exit, seen here about once in
    five 2-process runs on a loaded machine (torch 1.13; pytorch/pytorch#56297, the GIL is released there from 2.8).
    Destroyed through `destroy_process_group`, the group's destructor releases the GIL."""
    module = state.student_pass
    if isinstance(module, DistributedDataParallel):
        state.student_pass = module.module
        del module
        gc.collect()  # DDP's hooks refer back to it: the cycle, and the Reducer with it, goes now
