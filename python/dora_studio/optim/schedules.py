"""The official schedules (DINO utils.cosine_scheduler and DINOLoss.teacher_temp_schedule) in numpy float64.

Quirks kept: the warm-up is ``linspace(start, base, warmup_iters)`` INCLUDING its endpoint, after which the cosine
part starts at ``base`` again, and the cosine part never reaches ``final``. Fractional warm-up epochs (short demo
runs) round to whole iterations, as the TF.js engine does.
"""

from __future__ import annotations

import numpy as np


def cosine_scheduler(
    base: float, final: float, epochs: int, niter_per_epoch: int, warmup_epochs: float = 0, start_warmup: float = 0
) -> np.ndarray:
    """One value per iteration, epochs × niter_per_epoch long (float64)."""
    total = epochs * niter_per_epoch
    warmup_iters = int(np.floor(warmup_epochs * niter_per_epoch + 0.5))
    if warmup_iters > total:
        raise ValueError(f"cosine_scheduler: {warmup_epochs} warm-up epochs exceed the {epochs} epochs")
    warmup = np.linspace(start_warmup, base, warmup_iters) if warmup_epochs > 0 else np.array([])
    iters = np.arange(total - warmup_iters)
    cosine = final + 0.5 * (base - final) * (1 + np.cos(np.pi * iters / max(len(iters), 1)))
    return np.concatenate((warmup, cosine)).astype(np.float64)


def teacher_temp_schedule(warmup_temp: float, temp: float, warmup_epochs: int, epochs: int) -> np.ndarray:
    """Per EPOCH: linspace(warmup, final, warmup_epochs), then constant."""
    return np.concatenate(
        (np.linspace(warmup_temp, temp, warmup_epochs), np.ones(max(0, epochs - warmup_epochs)) * temp)
    )
