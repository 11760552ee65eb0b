"""One DoRA optimisation step, equal to one iteration of the official main.train_one_epoch:

 1. teacher forward on the unmasked global crops of all F frames          teacher_pass
 2. the tracker (MOT) on the teacher's last-block attention → k masked views per frame   run_tracker, masked_views
 3. student forward on the k masked views and the local crops              student_outputs
 4. DINO loss (official or clean)                                          dora_loss
 5. backward, accumulated over micro-batches of clips                      accumulate_gradients
    (under DDP the last micro-batch's backward all-reduces the gradients; step_statistics all-reduces the centre's
    batch sum and the logged numbers in one call)
 6. per-tensor clipping, 7. last-layer freeze, 8. AdamW over the two official groups
 9. EMA teacher, 10. centre update                                         apply_update (update.py)

The official code loops over frames, objects and crops; here every frame, object and crop goes through one batched
forward (row-for-row the same computation). On CUDA the step never waits for the device: a non-finite loss is
handled by device-side guards (the fused AdamW skips on a flag, EMA and centre keep their values), and the caller
learns of it when it reads the outcome (StepOutcome.check_finite). On CPU/MPS it is checked before the update, as
the official code does.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Sequence

import torch

from ..optim.adamw import uses_fused
from .loss import LossVariant, dora_loss, teacher_targets
from .memory import DoraOutOfMemoryError, divisors, is_out_of_memory, out_of_memory_message
from .runtime import Precision, to_device_async
from .sinkhorn import OFFICIAL_SINKHORN, SinkhornOptions
from .state import DoraState
from .step_stats import Collective, step_statistics
from .tracker import TrackerResult, masked_views, run_tracker
from .update import apply_update, update_collecting


@dataclass(frozen=True)
class DoraStepHyper:
    #: Epoch index (the last-layer freeze and the teacher temperature are per epoch).
    epoch: int
    lr: float
    weight_decay: float
    #: Teacher EMA momentum m of this iteration.
    momentum: float
    teacher_temp: float
    freeze_last_layer: int = 1
    clip_grad: float = 3.0
    student_temp: float = 0.1
    center_momentum: float = 0.9
    loss_variant: LossVariant = "official"
    sinkhorn: SinkhornOptions = OFFICIAL_SINKHORN
    #: False = the DINO baseline on the same frames: the student sees the unmasked global crop (one view).
    tracker: bool = True

    @classmethod
    def from_run_config(
        cls, config: dict, epoch: int, lr: float, weight_decay: float, momentum: float, teacher_temp: float
    ) -> "DoraStepHyper":
        """This iteration's hyper-parameters: the schedule values given, the rest from a resolved config.json."""
        t, d = config["training"], config["dora"]
        sk = d["sinkhorn"]
        return cls(
            epoch=epoch,
            lr=lr,
            weight_decay=weight_decay,
            momentum=momentum,
            teacher_temp=teacher_temp,
            freeze_last_layer=int(t["freezeLastLayer"]),
            clip_grad=float(t["clipGrad"]),
            student_temp=float(t["studentTemp"]),
            center_momentum=float(t["centerMomentum"]),
            loss_variant=d["loss"],
            sinkhorn=SinkhornOptions(int(sk["iterations"]), float(sk["epsilon"]), sk["variant"]),
            tracker=bool(d["tracker"]),
        )


@dataclass
class DoraBatch:
    #: [B, F, 3, H, W] normalised global crops (teacher input and tracker images), on the step's device.
    global_crops: torch.Tensor
    #: [nl, B, F, 3, h, w] normalised local crops.
    local_crops: torch.Tensor
    #: The k distinct teacher heads that seed the objects (drawn by the caller's seeded RNG).
    heads: Sequence[int] | torch.Tensor


@dataclass
class StepOptions:
    #: Clips per forward/backward pass (None: the whole batch); halved automatically on out-of-memory.
    micro_batch: int | None = None
    precision: Precision | None = None
    #: Keep what the golden cases and snapshots need (student outputs, clipped gradients).
    collect: bool = False
    #: The other processes of a DDP run (dist.group.Collective); None for one process.
    collective: Collective | None = None


@dataclass
class StepDiagnostics:
    teacher_out: torch.Tensor  # [F, B, out]
    student_masked: torch.Tensor  # [k, F, B, out]
    student_local: torch.Tensor  # [F, nl·B, out]
    #: The gradients AdamW consumed (after clipping and the last-layer freeze).
    clipped_grads: dict[str, torch.Tensor] = field(default_factory=dict)


class NonFiniteLossError(RuntimeError):
    """The loss was NaN or ±Inf; no parameter, moment, teacher weight or centre value was changed."""

    def __init__(self, loss: float, hyper: DoraStepHyper) -> None:
        super().__init__(
            f"the loss is {loss} at epoch {hyper.epoch} (lr {hyper.lr:.3e}, teacher temperature {hyper.teacher_temp}); "
            "no parameter was updated"
        )
        self.loss = loss


@dataclass
class StepOutcome:
    """Device tensors: reading them (``float(...)``, ``scalars()``) waits for the step to finish."""

    loss: torch.Tensor
    loss_masked: torch.Tensor
    loss_local: torch.Tensor
    teacher_entropy: torch.Tensor
    teacher_batch_entropy: torch.Tensor
    #: Raw per-tensor gradient norms (utils.clip_gradients' return value) in the order of ``grad_norm_names``.
    grad_norms: torch.Tensor
    grad_norm_names: list[str]
    finite: torch.Tensor
    micro_batch: int
    hyper: DoraStepHyper
    tracker: TrackerResult | None = None
    diagnostics: StepDiagnostics | None = None

    def scalars(self) -> dict[str, float]:
        """loss, lossMasked, lossLocal, teacherEntropy, teacherBatchEntropy as floats (one device sync)."""
        values = torch.stack(
            [self.loss, self.loss_masked, self.loss_local, self.teacher_entropy, self.teacher_batch_entropy]
        ).tolist()
        return dict(zip(("loss", "lossMasked", "lossLocal", "teacherEntropy", "teacherBatchEntropy"), values))

    def check_finite(self) -> None:
        """Raises NonFiniteLossError when the step's loss was not finite (its update was then skipped)."""
        value = float(self.loss)
        if not math.isfinite(value):
            raise NonFiniteLossError(value, self.hyper)


@dataclass
class TeacherPass:
    teacher_out: torch.Tensor  # [F, B, out] float32
    anchor_attn: torch.Tensor  # [B, h, T, T]
    anchor_query: torch.Tensor  # [B, h, T, dh]
    keys: torch.Tensor  # [F, B, h, T, dh]
    anchor_patches: torch.Tensor  # [B, N, D]


@torch.no_grad()
def teacher_pass(state: DoraState, global_frames_first: torch.Tensor, precision: Precision) -> TeacherPass:
    """Teacher forward on every frame's global crop at once (MultiCropWrapper with return_track=True)."""
    f, b = global_frames_first.shape[:2]
    with precision.autocast():
        out = state.teacher.backbone(global_frames_first.flatten(0, 1), track=True)
        head = state.teacher.head(out.cls)
    assert out.attn is not None and out.q is not None and out.k is not None and out.tokens is not None
    return TeacherPass(
        teacher_out=head.float().reshape(f, b, -1),
        anchor_attn=out.attn[:b],
        anchor_query=out.q[:b],
        keys=out.k.reshape(f, b, *out.k.shape[1:]),
        anchor_patches=out.tokens[:b, 1:],
    )


def student_outputs(
    state: DoraState, masked: torch.Tensor, local: torch.Tensor, precision: Precision
) -> tuple[torch.Tensor, torch.Tensor]:
    """Student head outputs for masked views [V, F, b, 3, H, W] → [V, F, b, out] and local crops
    [F, nl, b, 3, h, w] → [F, nl·b, out]: one call of ``state.student_pass`` (two backbone passes, one per
    resolution, and one head pass; the DDP-wrapped module in a multi-process run)."""
    v, f, bc = masked.shape[:3]
    nl = local.shape[1]
    with precision.autocast():
        out = state.student_pass(masked.flatten(0, 2), local.flatten(0, 2))
    split = v * f * bc
    return out[:split].reshape(v, f, bc, -1), out[split:].reshape(f, nl * bc, -1)


def _gradient_sync(state: DoraState, last: bool) -> contextlib.AbstractContextManager:
    """DDP all-reduces the gradients in the backward of the last micro-batch only (``no_sync`` before it)."""
    no_sync = getattr(state.student_pass, "no_sync", None)
    return contextlib.nullcontext() if last or no_sync is None else no_sync()


@dataclass
class Accumulated:
    loss: torch.Tensor
    loss_masked: torch.Tensor
    loss_local: torch.Tensor
    student_masked: list[torch.Tensor] = field(default_factory=list)
    student_local: list[torch.Tensor] = field(default_factory=list)


def accumulate_gradients(
    state: DoraState,
    views: torch.Tensor,
    local_grid: torch.Tensor,
    teacher: TeacherPass,
    targets: torch.Tensor,
    hyper: DoraStepHyper,
    micro_batch: int,
    opts: StepOptions,
) -> Accumulated:
    """Forward + backward over micro-batches of clips. The loss is a fixed linear combination of batch-mean
    cross-entropies, so Σ (clips in chunk / B) · loss(chunk) is exactly the full-batch loss, and so are its
    gradients; the tracker threshold and the centre already used the whole batch."""
    precision = opts.precision or Precision("fp32", views.device.type)
    b = views.shape[2]
    zero = torch.zeros((), device=views.device)
    acc = Accumulated(zero, zero, zero)
    for b0 in range(0, b, micro_batch):
        b1 = min(b, b0 + micro_batch)
        with _gradient_sync(state, last=b1 == b):
            _accumulate_chunk(state, views, local_grid, teacher, targets, hyper, (b0, b1), acc, opts, precision)
    return acc


def _accumulate_chunk(
    state: DoraState, views: torch.Tensor, local_grid: torch.Tensor, teacher: TeacherPass, targets: torch.Tensor,
    hyper: DoraStepHyper, chunk: tuple[int, int], acc: Accumulated, opts: StepOptions, precision: Precision,
) -> None:  # fmt: skip
    """Forward, loss and backward of clips [b0, b1) of the batch, weighted by their share of it."""
    b = views.shape[2]
    b0, b1 = chunk
    masked_out, local_out = student_outputs(state, views[:, :, b0:b1], local_grid[:, :, b0:b1], precision)
    parts = dora_loss(
        teacher.teacher_out[:, b0:b1],
        masked_out,
        local_out,
        state.center,
        hyper.teacher_temp,
        hyper.student_temp,
        hyper.loss_variant,
        targets=targets[:, b0:b1],
    )
    weight = (b1 - b0) / b
    scaled = parts.loss * weight
    (state.scaler.scale(scaled) if state.scaler is not None else scaled).backward()
    acc.loss = acc.loss + scaled.detach()
    acc.loss_masked = acc.loss_masked + parts.ce_masked.detach().mean() * weight
    acc.loss_local = acc.loss_local + parts.ce_local.detach().mean() * weight
    if opts.collect:
        acc.student_masked.append(masked_out.detach().float())
        acc.student_local.append(
            local_out.detach().float().reshape(local_out.shape[0], -1, b1 - b0, local_out.shape[-1])
        )


def accumulate_with_backoff(
    state: DoraState, views: torch.Tensor, local_grid: torch.Tensor, teacher: TeacherPass, targets: torch.Tensor,
    hyper: DoraStepHyper, opts: StepOptions,
) -> tuple[Accumulated, int]:  # fmt: skip
    """accumulate_gradients; on out-of-memory: drop the gradients, halve the micro-batch (a divisor of B), retry."""
    b = views.shape[2]
    micro = min(opts.micro_batch or b, b)
    while True:
        try:
            return accumulate_gradients(state, views, local_grid, teacher, targets, hyper, micro, opts), micro
        except Exception as e:  # noqa: BLE001 — only out-of-memory is handled; everything else re-raises
            if not is_out_of_memory(e):
                raise
            state.optimizer.zero_grad(set_to_none=True)
            if views.device.type == "cuda":
                torch.cuda.empty_cache()
            smaller = [d for d in divisors(b) if d <= micro // 2]
            if micro == 1 or not smaller:
                precision = opts.precision or Precision("fp32", views.device.type)
                raise DoraOutOfMemoryError(out_of_memory_message(views.device, b, precision)) from None
            micro = max(smaller)


def _heads_tensor(heads: Sequence[int] | torch.Tensor, device: torch.device, num_heads: int) -> torch.Tensor:
    if isinstance(heads, torch.Tensor):
        return heads.to(device=device, dtype=torch.long, non_blocking=True)
    values = [int(h) for h in heads]
    if not values or len(set(values)) != len(values) or not all(0 <= h < num_heads for h in values):
        raise ValueError(f"dora_train_step: heads must be distinct indices in 0..{num_heads - 1} (got {values})")
    return to_device_async(torch.tensor(values, dtype=torch.long), device)


def dora_train_step(
    state: DoraState, batch: DoraBatch, hyper: DoraStepHyper, opts: StepOptions | None = None
) -> StepOutcome:
    """One official DoRA iteration on ``batch`` (already on the state's device); updates ``state`` in place.

    On CPU/MPS (and on CUDA without the fused AdamW, torch < 2.0) a non-finite loss raises NonFiniteLossError before
    any update. On CUDA with torch ≥ 2.0 nothing waits for the device: the update is skipped on the device and
    ``outcome.check_finite()`` raises when the caller reads it."""
    opts = opts or StepOptions()
    device = state.device
    precision = opts.precision or Precision("fp32", device.type)
    opts = StepOptions(opts.micro_batch, precision, opts.collect, opts.collective)
    b, f = batch.global_crops.shape[:2]
    global_ff = batch.global_crops.transpose(0, 1)  # [F, B, 3, H, W]
    local_grid = batch.local_crops.permute(2, 0, 1, 3, 4, 5)  # [F, nl, B, 3, h, w]
    teacher = teacher_pass(state, global_ff, precision)
    tracker = None
    if hyper.tracker:
        heads = _heads_tensor(batch.heads, device, state.cfg.vit.num_heads)
        tracker = run_tracker(
            teacher.anchor_attn, teacher.anchor_query, teacher.keys, teacher.anchor_patches, heads, hyper.sinkhorn
        )
        views = masked_views(global_ff, tracker.mask, state.cfg.vit.patch_size)  # [k, F, B, 3, H, W]
    else:
        views = global_ff.unsqueeze(0)
    targets = teacher_targets(teacher.teacher_out, state.center, hyper.teacher_temp)
    acc, micro = accumulate_with_backoff(state, views, local_grid, teacher, targets, hyper, opts)
    c = opts.collective
    stats = step_statistics(
        teacher.teacher_out,
        targets,
        (acc.loss, acc.loss_masked, acc.loss_local),
        c.all_reduce_sum_ if c is not None else None,
        c.world_size if c is not None else 1,
    )
    finite = torch.isfinite(stats.loss)  # of the global batch: every process decides alike
    device_guard = device.type == "cuda" and (uses_fused(state.optimizer) or state.scaler is not None)
    if not device_guard and not bool(finite):
        state.optimizer.zero_grad(set_to_none=True)
        raise NonFiniteLossError(float(stats.loss), hyper)
    diagnostics = None
    if opts.collect:
        diagnostics = StepDiagnostics(
            teacher_out=teacher.teacher_out.clone(),
            student_masked=torch.cat(acc.student_masked, dim=2),
            student_local=torch.cat(acc.student_local, dim=2).reshape(f, -1, teacher.teacher_out.shape[-1]),
        )
    if diagnostics is not None:
        norms, names = update_collecting(state, hyper, stats.batch_center, finite, device_guard, diagnostics)
    else:
        norms, names = apply_update(state, hyper, stats.batch_center, finite, device_guard)
    return StepOutcome(
        loss=stats.loss,
        loss_masked=stats.loss_masked,
        loss_local=stats.loss_local,
        teacher_entropy=stats.teacher_entropy,
        teacher_batch_entropy=stats.teacher_batch_entropy,
        grad_norms=norms,
        grad_norm_names=names,
        finite=finite,
        micro_batch=micro,
        hyper=hyper,
        tracker=tracker,
        diagnostics=diagnostics,
    )
