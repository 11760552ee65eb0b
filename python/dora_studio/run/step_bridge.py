"""The one place where the run loop meets the DoRA step (`dora_studio.dora`, `dora_studio.model`, `dora_studio.optim`):
device and precision, the model state, checkpoint tensors, and one optimisation step turned into plain numbers and
the arrays a snapshot needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..data.rng import step_rng
from ..dora.memory import micro_batch_for_config
from ..dora.runtime import resolve_device, resolve_precision, to_device_async
from ..dora.state import create_dora_state
from ..dora.train_step import DoraBatch, DoraStepHyper, StepOptions, dora_train_step
from ..model.dora_model import DoraModelConfig
from .checkpoint import Checkpoint


@dataclass
class StepResult:
    scalars: dict[str, float]  # loss, lossMasked, lossLocal, teacherEntropy, teacherBatchEntropy
    grad_norm: float
    micro_batch: int
    #: numpy copies for a snapshot: assignment [B, N, k], attention [k, B, F, N], masks uint8 [k, B, F, N]
    tracker: dict[str, np.ndarray] | None


def step_seed(seed: int, iteration: int, rank: int = 0) -> int:
    """torch's RNG (stochastic depth) is reseeded every step from (seed, iteration): a resumed run redraws the same.
    Every process of a multi-process run has its own stream (rank 0's is the single-process one), so the processes
    do not drop the same residual branches of their different clips."""
    return step_rng(seed, "torch" if rank == 0 else f"torch-rank{rank}", iteration).next_uint32()


class StepEngine:
    def __init__(
        self,
        config: dict[str, Any],
        device: str | None = None,
        precision: str | None = None,
        torch_device: torch.device | None = None,
        collective: Any = None,
    ) -> None:
        """``torch_device``: this process's device when already chosen (a rank's GPU); ``collective``: the other
        processes of a multi-process run (dist.group), None for one process."""
        runtime = config.get("runtime", {})
        self.device = torch_device or resolve_device(device or runtime.get("device") or "auto")
        self.collective = collective if collective is not None and collective.world_size > 1 else None
        self.rank = collective.rank if self.collective is not None else 0
        self.precision = resolve_precision(precision or runtime.get("precision") or "auto", self.device)
        self.precision.apply_matmul_settings()
        self.model_cfg = DoraModelConfig.from_run_config(config)
        self.seed = config["training"]["seed"]
        self.state = create_dora_state(self.model_cfg, self.device, self.seed, self.precision)
        self.config = config
        self.micro_batch: int | None = None

    def connect(self) -> None:
        """A multi-process run: the student's forward under DDP (after any checkpoint was loaded)."""
        if self.collective is not None:
            from ..distributed.ddp import wrap_student

            wrap_student(self.state, self.device)

    def disconnect(self) -> None:
        """Before the process group is destroyed: the student without its DDP wrapper (distributed/ddp.py)."""
        if self.collective is not None:
            from ..distributed.ddp import unwrap_student

            unwrap_student(self.state)

    def choose_micro_batch(self) -> str:
        """training.microBatch: a number as it is, "auto" from free device memory; returns the line for the log."""
        self.micro_batch, reason = micro_batch_for_config(self.config, self.model_cfg, self.device, self.precision)
        return reason

    def describe(self) -> dict[str, str]:
        name = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else self.device.type
        return {"device": self.device.type, "deviceName": name, "precision": self.precision.name}

    def load(self, ckpt: Checkpoint) -> None:
        self.state.load_weight_tensors(ckpt.weights, str(ckpt.sidecar_path), ckpt.sidecar["centerTensor"])
        self.state.load_optimizer_tensors(ckpt.optimizer, str(ckpt.sidecar_path))

    def weights(self) -> dict[str, torch.Tensor]:
        return self.state.weight_tensors()

    def optimizer(self) -> dict[str, torch.Tensor]:
        return self.state.optimizer_tensors()

    def step(self, batch: dict[str, Any], iteration: int, hyper: dict[str, float], snapshot: bool) -> StepResult:
        torch.manual_seed(step_seed(self.seed, iteration, self.rank))
        dora_batch = DoraBatch(
            global_crops=to_device_async(batch["global"], self.device),
            local_crops=to_device_async(batch["local"], self.device),
            heads=batch["heads"],
        )
        h = DoraStepHyper.from_run_config(
            self.config, int(hyper["epoch"]), hyper["lr"], hyper["wd"], hyper["momentum"], hyper["teacherTemp"]
        )
        options = StepOptions(self.micro_batch, self.precision, collective=self.collective)
        outcome = dora_train_step(self.state, dora_batch, h, options)
        outcome.check_finite()
        tracker = None
        if snapshot and outcome.tracker is not None:
            tr = outcome.tracker
            tracker = {
                "assignment": tr.assignment.float().cpu().numpy(),
                "attention": tr.attn_maps.float().cpu().numpy(),
                "masks": tr.mask.to(torch.uint8).cpu().numpy(),
            }
        return StepResult(
            scalars=outcome.scalars(),
            grad_norm=float(outcome.grad_norms.float().square().sum().sqrt()),
            micro_batch=outcome.micro_batch,
            tracker=tracker,
        )
