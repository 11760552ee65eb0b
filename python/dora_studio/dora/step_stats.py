"""The numbers of one step that span the whole global batch: the loss parts, the teacher's entropies and the mean
teacher output that moves the DINO centre. With one process they come from its batch; with W processes (DDP) each
process contributes sums of its own clips and ONE all-reduce adds them up (official DINOLoss.update_center all-reduces
the centre's batch sum the same way; its logged loss is averaged over processes by the metric logger). Every rank then
holds the same numbers, so every rank takes the same decisions from them (a non-finite loss stops all of them).

Every process has the same number of clips, so a mean over processes of per-process batch means is the global mean."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import torch

#: In-place sum over the processes of a run (``Collective.all_reduce_sum_``); None for one process.
AllReduce = Callable[[torch.Tensor], torch.Tensor]


class Collective(Protocol):
    """What the step needs of the other processes (implemented by dist.group)."""

    world_size: int

    def all_reduce_sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        ...


@dataclass
class StepStats:
    loss: torch.Tensor  # 0-d
    loss_masked: torch.Tensor
    loss_local: torch.Tensor
    #: mean per-row entropy of the teacher targets
    teacher_entropy: torch.Tensor
    #: entropy of the batch-mean target (collapse watch)
    teacher_batch_entropy: torch.Tensor
    #: [1, D] mean teacher output over all F·B rows of the global batch
    batch_center: torch.Tensor


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * torch.log(p + 1e-12)).sum(dim=-1)


def step_statistics(
    teacher_out: torch.Tensor,
    targets: torch.Tensor,
    losses: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    all_reduce: AllReduce | None = None,
    world_size: int = 1,
) -> StepStats:
    """teacher_out [F, B, D] (raw head outputs), targets [F, B, D] (softmax targets), losses (loss, masked, local) of
    this process's batch → the statistics of the global batch."""
    d = teacher_out.shape[-1]
    rows = teacher_out.float().reshape(-1, d)
    q = targets.reshape(-1, d)
    count = rows.shape[0]
    row_sum = rows.sum(dim=0, keepdim=True)
    if all_reduce is None or world_size == 1:
        loss, masked, local = losses
        entropy = _entropy(q).mean()
        return StepStats(loss, masked, local, entropy, _entropy(q.mean(dim=0)), row_sum / count)
    scalars = torch.stack([*(x.float() for x in losses), _entropy(q).sum()])
    packed = torch.cat([row_sum[0], q.sum(dim=0), scalars])
    all_reduce(packed)
    total = count * world_size
    loss, masked, local = (packed[2 * d + i] / world_size for i in range(3))
    return StepStats(
        loss=loss,
        loss_masked=masked,
        loss_local=local,
        teacher_entropy=packed[2 * d + 3] / total,
        teacher_batch_entropy=_entropy(packed[d : 2 * d] / total),
        batch_center=(packed[:d] / total).unsqueeze(0),
    )
