"""DoRA's DINO loss (official main.DINOLoss semantics) with centring and the teacher-temperature schedule, batched
over frames, objects and crops (one log-softmax per student row instead of one per loss term).

With q_t = softmax((teacher_t − c)/τ_t) (a constant for the gradient) and CE(q, s) = mean_b Σ_d −q·log_softmax(s/τ_s):
- ``official`` keeps both quirks of the released code: local crop v = 0 is never used (``if v == iq: continue`` with
  iq ≡ 0), and ``frame_loss`` is not reset between objects: FL_j = (FL_{j−1} + Σ_t x_jt)/F, loss = Σ_j FL_j / k with
  x_jt = ½(CE(q_t, masked_j,t) + mean_{v≥1} CE(q_t, local_t,v)). Unrolled, loss = Σ_j w_j Σ_t x_jt / k with
  w_j = Σ_{m=1}^{k−j} F^−m.
- ``clean``: mean_t ½(mean_j CE(q_t, masked_j,t) + mean_{v≥0} CE(q_t, local_t,v)) — the loss the paper describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

LossVariant = Literal["official", "clean"]


@dataclass
class LossParts:
    loss: torch.Tensor  # 0-d
    ce_masked: torch.Tensor  # [k, F] CE(q_t, masked_j,t)
    ce_local: torch.Tensor  # [F, nl] CE(q_t, local_t,v)


def teacher_targets(teacher_out: torch.Tensor, center: torch.Tensor, teacher_temp: float) -> torch.Tensor:
    """q_t = softmax((teacher − centre)/τ) in float32: the centred, sharpened targets [F, B, D]."""
    return ((teacher_out.float() - center.float()) / teacher_temp).softmax(dim=-1)


def _cross_entropy(targets: torch.Tensor, student: torch.Tensor, student_temp: float) -> torch.Tensor:
    """Batch-mean CE; targets broadcast against student logits [..., B, D] → [...]."""
    log_probs = torch.log_softmax(student.float() / student_temp, dim=-1)
    return -(targets * log_probs).sum(dim=-1).mean(dim=-1)


def official_object_weights(objects: int, frames: int, device: torch.device) -> torch.Tensor:
    """w_j = Σ_{m=1}^{k−j} F^−m: how much object j's frame sum weighs in the official (non-reset) frame_loss."""
    remaining = torch.arange(objects, 0, -1, device=device, dtype=torch.float32)  # k − j
    if frames == 1:
        return remaining
    return (1.0 - float(frames) ** -remaining) / (frames - 1.0)


def dora_loss(
    teacher_out: torch.Tensor,
    student_masked: torch.Tensor,
    student_local: torch.Tensor,
    center: torch.Tensor,
    teacher_temp: float,
    student_temp: float = 0.1,
    variant: LossVariant = "official",
    targets: torch.Tensor | None = None,
) -> LossParts:
    """teacher_out [F, B, D], student_masked [k, F, B, D], student_local [F, nl·B, D] (row v·B + b), center [1, D].
    ``targets`` (teacher_targets of these rows) may be passed when already computed."""
    f, b, d = teacher_out.shape
    k = student_masked.shape[0]
    nl, rest = divmod(student_local.shape[1], b)
    if rest:
        raise ValueError(f"dora_loss: {student_local.shape[1]} local rows are not a multiple of batch {b}")
    q = teacher_targets(teacher_out, center, teacher_temp) if targets is None else targets
    ce_masked = _cross_entropy(q.unsqueeze(0), student_masked, student_temp)  # [k, F]
    ce_local = _cross_entropy(q.unsqueeze(1), student_local.reshape(f, nl, b, d), student_temp)  # [F, nl]
    if variant == "official":
        if nl < 2:
            raise ValueError(
                "dora_loss: the official loss skips local crop 0, so it needs ≥ 2 local crops (use 'clean')"
            )
        per_object_frame = 0.5 * (ce_masked + ce_local[:, 1:].mean(dim=1))  # x_jt [k, F]
        weights = official_object_weights(k, f, per_object_frame.device)
        loss = (per_object_frame.sum(dim=1) * weights).sum() / k
    elif variant == "clean":
        loss = (0.5 * (ce_masked.mean(dim=0) + ce_local.mean(dim=1))).mean()
    else:
        raise ValueError(f"loss variant must be 'official' or 'clean' (got {variant!r})")
    return LossParts(loss, ce_masked, ce_local)


@torch.no_grad()
def center_from_batch_mean(center: torch.Tensor, batch_mean: torch.Tensor, momentum: float = 0.9) -> torch.Tensor:
    """c ← m·c + (1 − m)·batch mean (the mean teacher output of the global batch, see step_stats)."""
    return center * momentum + batch_mean * (1 - momentum)


@torch.no_grad()
def updated_center(center: torch.Tensor, teacher_out: torch.Tensor, momentum: float = 0.9) -> torch.Tensor:
    """update_center of one process's rows: c ← m·c + (1 − m)·mean over all F·B teacher rows. (Under DDP the mean
    spans every process's rows: step_stats.step_statistics all-reduces it.)"""
    rows = teacher_out.float().reshape(-1, teacher_out.shape[-1])
    return center_from_batch_mean(center, rows.sum(dim=0, keepdim=True) / rows.shape[0], momentum)
