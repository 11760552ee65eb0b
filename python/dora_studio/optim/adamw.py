"""AdamW exactly as the official code uses it: ``torch.optim.AdamW`` (β 0.9/0.999, ε 1e-8) over DINO's two parameter
groups (utils.get_params_groups), lr and weight decay set every step from the schedules. Parameters whose gradient is
None (the last layer while frozen) are skipped entirely: no decay, no state, no step count.

Implementation choice: the fused kernel on CUDA with torch ≥ 2.0 (one launch for all tensors, and it can skip a step
on a device-side flag without a host sync), the multi-tensor (foreach) path elsewhere on CUDA, torch's default on the
CPU. The checkpoint layout is the TF.js engine's: ``exp_avg.<name>``, ``exp_avg_sq.<name>``, ``step.<name>`` (I64).
"""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

TORCH_2 = int(torch.__version__.split(".")[0]) >= 2


def param_group_of(name: str, param: torch.Tensor) -> int:
    """Group 0 (decayed): ndim > 1 and not a bias — includes cls_token, pos_embed and last_layer.weight_g.
    Group 1 (weight decay 0): biases and 1-D tensors (LayerNorm)."""
    return 1 if name.endswith(".bias") or param.ndim == 1 else 0


def build_adamw(student: nn.Module, device: torch.device | str | None = None) -> torch.optim.AdamW:
    """The official optimiser over the student's trainable parameters (named_parameters order inside each group)."""
    groups: list[list[nn.Parameter]] = [[], []]
    for name, p in student.named_parameters():
        if p.requires_grad:
            groups[param_group_of(name, p)].append(p)
    dev = torch.device(device) if device is not None else next(student.parameters()).device

    def param_groups() -> list[dict[str, object]]:  # fresh dicts: the optimiser writes its defaults into them
        return [{"params": groups[0]}, {"params": groups[1], "weight_decay": 0.0}]

    if dev.type == "cuda":
        if TORCH_2:
            try:
                return torch.optim.AdamW(param_groups(), fused=True)
            except (TypeError, RuntimeError):  # a torch without fused AdamW for these tensors
                pass
        return torch.optim.AdamW(param_groups(), foreach=True)
    return torch.optim.AdamW(param_groups())


def adamw_step(optimizer: torch.optim.AdamW, lr: float, weight_decay: float, scaler: object | None = None) -> None:
    """Sets this iteration's lr (both groups) and weight decay (group 0 only), then steps (through the GradScaler
    in fp16 mode)."""
    for i, group in enumerate(optimizer.param_groups):
        group["lr"] = lr
        if i == 0:
            group["weight_decay"] = weight_decay
    if scaler is not None:
        scaler.step(optimizer)  # type: ignore[attr-defined]
        scaler.update()  # type: ignore[attr-defined]
    else:
        optimizer.step()


def uses_fused(optimizer: torch.optim.Optimizer) -> bool:
    return bool(optimizer.param_groups and optimizer.param_groups[0].get("fused"))


def adamw_state_tensors(optimizer: torch.optim.AdamW, names: Mapping[nn.Parameter, str]) -> dict[str, torch.Tensor]:
    """The AdamW state under the checkpoint names (tensors on the CPU; reading them syncs with the device)."""
    out: dict[str, torch.Tensor] = {}
    for group in optimizer.param_groups:
        for p in group["params"]:
            state = optimizer.state.get(p)
            if not state:
                continue
            name = names[p]
            out[f"exp_avg.{name}"] = state["exp_avg"].detach().float().cpu()
            out[f"exp_avg_sq.{name}"] = state["exp_avg_sq"].detach().float().cpu()
            step = state["step"]
            out[f"step.{name}"] = torch.tensor(int(step.item() if isinstance(step, torch.Tensor) else step))
    return out


def load_adamw_state_tensors(
    optimizer: torch.optim.AdamW, params: Mapping[str, nn.Parameter], tensors: Mapping[str, torch.Tensor], file: str
) -> None:
    """Replaces the optimiser state with a checkpoint's (either engine's); the message names the file and tensor."""
    optimizer.state.clear()
    groups = {id(p): g for g in optimizer.param_groups for p in g["params"]}
    for key, value in tensors.items():
        if not key.startswith("exp_avg."):
            continue
        name = key[len("exp_avg.") :]
        p = params.get(name)
        sq, step = tensors.get(f"exp_avg_sq.{name}"), tensors.get(f"step.{name}")
        if p is None or id(p) not in groups:
            raise ValueError(f"{file}: optimiser state for {name}, which is not a trainable parameter of this model")
        if sq is None or step is None or value.shape != p.shape or sq.shape != p.shape or step.numel() != 1:
            raise ValueError(
                f"{file}: optimiser state of {name} is incomplete or has the wrong shape "
                f"(exp_avg {tuple(value.shape)}, parameter {tuple(p.shape)}); resume with the run's own config.json"
            )
        group = groups[id(p)]
        on_device = bool(group.get("fused") or group.get("capturable"))
        optimizer.state[p] = {
            "step": torch.tensor(float(step.item()), dtype=torch.float32, device=p.device if on_device else "cpu"),
            "exp_avg": value.to(device=p.device, dtype=p.dtype).clone(),
            "exp_avg_sq": sq.to(device=p.device, dtype=p.dtype).clone(),
        }
