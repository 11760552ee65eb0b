"""The training state of one DoRA run: student, EMA teacher, DINO centre, AdamW (+ GradScaler in fp16), and its
tensors under the checkpoint names shared with the TF.js engine (``student.<name>``, ``teacher.<name>``,
``loss.center``; AdamW ``exp_avg.<name>``, ``exp_avg_sq.<name>``, ``step.<name>``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import torch
from torch import nn

from ..model.dora_model import DoraModelConfig, DoraNetwork, StudentPass, build_dora_networks
from ..optim.adamw import adamw_state_tensors, build_adamw, load_adamw_state_tensors
from .runtime import Precision

CENTER_TENSOR = "loss.center"


@dataclass
class DoraState:
    cfg: DoraModelConfig
    student: DoraNetwork
    teacher: DoraNetwork
    #: [1, out_dim] float32 DINO centre (updated in place).
    center: torch.Tensor
    optimizer: torch.optim.AdamW
    #: torch GradScaler in fp16 mode, else None.
    scaler: Any | None = None
    #: student parameter → official name (``backbone.*`` / ``head.*``).
    names: dict[nn.Parameter, str] = field(default_factory=dict)
    #: The student's forward of a step (StudentPass), replaced by its DDP wrapper in a multi-process run.
    student_pass: nn.Module | None = None

    def __post_init__(self) -> None:
        if self.student_pass is None:
            self.student_pass = StudentPass(self.student)

    @property
    def device(self) -> torch.device:
        return self.center.device

    def named_student(self) -> dict[str, nn.Parameter]:
        return dict(self.student.named_parameters())

    def named_teacher(self) -> dict[str, nn.Parameter]:
        return dict(self.teacher.named_parameters())

    def weight_tensors(self) -> dict[str, torch.Tensor]:
        """Student, teacher and centre under the checkpoint names (float32 on the CPU; syncs with the device)."""
        out: dict[str, torch.Tensor] = {}
        teacher = self.named_teacher()
        for name, p in self.student.named_parameters():
            out[f"student.{name}"] = p.detach().float().cpu()
            out[f"teacher.{name}"] = teacher[name].detach().float().cpu()
        out[CENTER_TENSOR] = self.center.detach().float().cpu()
        return out

    def optimizer_tensors(self) -> dict[str, torch.Tensor]:
        return adamw_state_tensors(self.optimizer, self.names)

    @torch.no_grad()
    def load_weight_tensors(
        self, tensors: Mapping[str, torch.Tensor], file: str, center_tensor: str = CENTER_TENSOR
    ) -> None:
        """Overwrites student, teacher and centre from a checkpoint of either engine; names the file and tensor."""
        targets = [
            (f"{role}.{n}", p)
            for role, net in (("student", self.student), ("teacher", self.teacher))
            for n, p in net.named_parameters()
        ]
        targets.append((center_tensor, self.center))
        for key, target in targets:
            value = tensors.get(key)
            if value is None or tuple(value.shape) != tuple(target.shape):
                got = "missing" if value is None else f"shape {tuple(value.shape)}"
                raise ValueError(
                    f"{file}: tensor {key} is {got} instead of shape {tuple(target.shape)}; the checkpoint was made with "
                    "another model config — resume it with the config.json of its own run"
                )
            target.copy_(value.to(device=target.device, dtype=target.dtype))

    def load_optimizer_tensors(self, tensors: Mapping[str, torch.Tensor], file: str) -> None:
        load_adamw_state_tensors(self.optimizer, self.named_student(), tensors, file)


def create_dora_state(
    cfg: DoraModelConfig,
    device: torch.device | str = "cpu",
    seed: int | None = None,
    precision: Precision | None = None,
) -> DoraState:
    """A fresh state with the official initialisation (deterministic from ``seed``), zero centre, fresh AdamW."""
    device = torch.device(device)
    student, teacher = build_dora_networks(cfg, device, seed)
    return DoraState(
        cfg=cfg,
        student=student,
        teacher=teacher,
        center=torch.zeros(1, cfg.head.out_dim, device=device),
        optimizer=build_adamw(student, device),
        scaler=precision.make_grad_scaler() if precision is not None else None,
        names={p: n for n, p in student.named_parameters()},
    )
