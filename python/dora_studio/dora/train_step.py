"""One DoRA optimisation step, equal to one iteration of the official main.train_one_epoch:

 1. teacher forward on the unmasked global crops of all F frames          teacher_pass
 2. the tracker (MOT) on the teacher's last-block attention → k masked views per frame   run_tracker, masked_views
 3. student forward on the k masked views and the local crops              student_outputs
 4. DINO loss (official or clean)                                          dora_loss
 5. backward, accumulated over micro-batches of clips                      accumulate_gradients
 6. per-tensor clipping, 7. last-layer freeze, 8. AdamW over the two official groups
 9. EMA teacher, 10. centre update                                         apply_update

The official code loops over frames, objects and crops; here every frame, object and crop goes through one batched
forward (row-for-row the same computation). On CUDA the step never waits for the device: a non-finite loss is
handled by device-side guards (the fused AdamW skips on a flag, EMA and centre keep their values), and the caller
learns of it when it reads the outcome (StepOutcome.check_finite). On CPU/MPS it is checked before the update, as
the official code does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import torch

from ..optim.adamw import adamw_step, uses_fused
from ..optim.clip import cancel_last_layer_gradients, clip_gradients_per_tensor
from ..optim.ema import ema_update_teacher
from .loss import LossVariant, dora_loss, teacher_targets, updated_center
from .memory import DoraOutOfMemoryError, divisors, is_out_of_memory, out_of_memory_message
from .runtime import Precision, to_device_async
from .sinkhorn import OFFICIAL_SINKHORN, SinkhornOptions
from .state import DoraState
from .tracker import TrackerResult, masked_views, run_tracker


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
    [F, nl, b, 3, h, w] → [F, nl·b, out]: two backbone passes (one per resolution), one head pass."""
    v, f, bc = masked.shape[:3]
    nl = local.shape[1]
    with precision.autocast():
        cls_masked = state.student.backbone(masked.flatten(0, 2), cls_only=True).cls
        cls_local = state.student.backbone(local.flatten(0, 2), cls_only=True).cls
        out = state.student.head(torch.cat([cls_masked, cls_local]))
    split = v * f * bc
    return out[:split].reshape(v, f, bc, -1), out[split:].reshape(f, nl * bc, -1)


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
    return acc


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


def entropies(targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean per-row entropy of the teacher targets, and the entropy of their batch mean (collapse watch)."""
    q = targets.reshape(-1, targets.shape[-1])
    entropy = lambda p: -(p * torch.log(p + 1e-12)).sum(dim=-1)  # noqa: E731
    return entropy(q).mean(), entropy(q.mean(dim=0))


def apply_update(
    state: DoraState, hyper: DoraStepHyper, teacher_out: torch.Tensor, finite: torch.Tensor, device_guard: bool
) -> tuple[torch.Tensor, list[str]]:
    """Clip (per tensor) → cancel the last layer → AdamW → EMA teacher → centre. Returns the raw gradient norms."""
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
    new_center = updated_center(state.center, teacher_out, hyper.center_momentum)
    state.center.copy_(torch.where(finite, new_center, state.center) if device_guard else new_center)
    return norms, norm_names


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
    opts = StepOptions(opts.micro_batch, precision, opts.collect)
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
    finite = torch.isfinite(acc.loss)
    device_guard = device.type == "cuda" and (uses_fused(state.optimizer) or state.scaler is not None)
    if not device_guard and not bool(finite):
        state.optimizer.zero_grad(set_to_none=True)
        raise NonFiniteLossError(float(acc.loss), hyper)
    diagnostics = None
    if opts.collect:
        diagnostics = StepDiagnostics(
            teacher_out=teacher.teacher_out.clone(),
            student_masked=torch.cat(acc.student_masked, dim=2),
            student_local=torch.cat(acc.student_local, dim=2).reshape(f, -1, teacher.teacher_out.shape[-1]),
        )
    teacher_entropy, batch_entropy = entropies(targets)
    if diagnostics is not None:
        norms, names = _update_collecting(state, hyper, teacher.teacher_out, finite, device_guard, diagnostics)
    else:
        norms, names = apply_update(state, hyper, teacher.teacher_out, finite, device_guard)
    return StepOutcome(
        loss=acc.loss,
        loss_masked=acc.loss_masked,
        loss_local=acc.loss_local,
        teacher_entropy=teacher_entropy,
        teacher_batch_entropy=batch_entropy,
        grad_norms=norms,
        grad_norm_names=names,
        finite=finite,
        micro_batch=micro,
        hyper=hyper,
        tracker=tracker,
        diagnostics=diagnostics,
    )


def _update_collecting(
    state: DoraState,
    hyper: DoraStepHyper,
    teacher_out: torch.Tensor,
    finite: torch.Tensor,
    device_guard: bool,
    diagnostics: StepDiagnostics,
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
        return apply_update(state, hyper, teacher_out, finite, device_guard)
    finally:
        del state.optimizer.step  # back to the class method
