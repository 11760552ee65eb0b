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


def step_seed(seed: int, iteration: int) -> int:
    """torch's RNG (stochastic depth) is reseeded every step from (seed, iteration): a resumed run redraws the same."""
    return step_rng(seed, "torch", iteration).next_uint32()


class StepEngine:
    def __init__(self, config: dict[str, Any], device: str | None = None, precision: str | None = None) -> None:
        runtime = config.get("runtime", {})
        self.device = resolve_device(device or runtime.get("device") or "auto")
        self.precision = resolve_precision(precision or runtime.get("precision") or "auto", self.device)
        self.precision.apply_matmul_settings()
        self.model_cfg = DoraModelConfig.from_run_config(config)
        self.seed = config["training"]["seed"]
        self.state = create_dora_state(self.model_cfg, self.device, self.seed, self.precision)
        self.config = config
        self.micro_batch: int | None = None

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
        torch.manual_seed(step_seed(self.seed, iteration))
        dora_batch = DoraBatch(
            global_crops=to_device_async(batch["global"], self.device),
            local_crops=to_device_async(batch["local"], self.device),
            heads=batch["heads"],
        )
        h = DoraStepHyper.from_run_config(
            self.config, int(hyper["epoch"]), hyper["lr"], hyper["wd"], hyper["momentum"], hyper["teacherTemp"]
        )
        outcome = dora_train_step(self.state, dora_batch, h, StepOptions(self.micro_batch, self.precision))
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
