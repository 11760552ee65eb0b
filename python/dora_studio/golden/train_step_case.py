"""The ``train_step`` golden case: one full official step (dora_train_step) from the case's parameters, AdamW state,
crops and heads, with every tensor the case checks (outputs, masks, norms, clipped gradients, updated weights)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import torch

from ..dora.runtime import Precision
from ..dora.sinkhorn import OFFICIAL_SINKHORN
from ..dora.state import create_dora_state
from ..dora.train_step import DoraBatch, DoraStepHyper, StepOptions, dora_train_step
from ..model.dora_model import DoraModelConfig
from ..model.head import HeadConfig
from ..model.vit import VitConfig

if TYPE_CHECKING:
    from .cases import GoldenCase


def _adam_tensors(c: "GoldenCase") -> dict[str, torch.Tensor]:
    step = c.tensors.get("input.adam_step")
    if step is None:
        return {}
    out: dict[str, torch.Tensor] = {}
    for key in c.tensors:
        if key.startswith("input.adam.exp_avg."):
            name = key[len("input.adam.exp_avg.") :]
            out[f"exp_avg.{name}"] = c.input(key)
            out[f"exp_avg_sq.{name}"] = c.input(f"input.adam.exp_avg_sq.{name}")
            out[f"step.{name}"] = step
    return out


def run_train_step(
    c: "GoldenCase", teacher_temp: float, vit: VitConfig, head_config: Callable[..., HeadConfig]
) -> dict[str, torch.Tensor]:
    cfg = DoraModelConfig(vit, head_config(c, vit.embed_dim, c.config.get("student_norm_last_layer") is True))
    state = create_dora_state(cfg, c.device)
    with torch.no_grad():
        state.student.load_state_dict(c.params("param.student."), strict=True)
        state.teacher.load_state_dict(c.params("param.teacher."), strict=True)
        state.center.copy_(c.input("input.center"))
    state.load_optimizer_tensors(_adam_tensors(c), c.file)
    hyper = DoraStepHyper(
        epoch=c.int("epoch"),
        lr=float(c.num("lr")),
        weight_decay=float(c.num("weight_decay")),
        momentum=float(c.num("momentum")),
        teacher_temp=teacher_temp,
        freeze_last_layer=c.int("freeze_last_layer"),
        clip_grad=float(c.num("clip_grad")),
        student_temp=float(c.num("student_temp", 0.1)),
        center_momentum=float(c.num("center_momentum", 0.9)),
        loss_variant="official",
        sinkhorn=OFFICIAL_SINKHORN,
        tracker=True,
    )
    batch = DoraBatch(c.input("input.global"), c.input("input.local"), c.input("input.heads").long())
    outcome = dora_train_step(
        state, batch, hyper, StepOptions(precision=Precision("fp32", c.device.type), collect=True)
    )
    outcome.check_finite()
    diag, tracker = outcome.diagnostics, outcome.tracker
    assert diag is not None and tracker is not None
    k, b, f, n = tracker.mask.shape
    out = {
        "loss": outcome.loss,
        "center": state.center,
        "teacher_output": diag.teacher_out,
        "student_masked": diag.student_masked,
        "student_local": diag.student_local,
        "sk_logits": tracker.sk_logits,
        "assignment": tracker.assignment,
        "mask_patch": tracker.mask.to(torch.uint8),
        "margin": tracker.binarised.margin,
    }
    norms = dict(zip(outcome.grad_norm_names, outcome.grad_norms.tolist()))
    order = c.config.get("param_names_student") or outcome.grad_norm_names
    out["grad_norm"] = torch.tensor([norms.get(n, float("nan")) for n in order])
    out.update({f"grad.{n}": g for n, g in diag.clipped_grads.items()})
    out.update({f"student.{n}": p for n, p in state.student.named_parameters()})
    out.update({f"teacher.{n}": p for n, p in state.teacher.named_parameters()})
    return out
