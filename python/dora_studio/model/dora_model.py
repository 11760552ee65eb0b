"""The DoRA student/teacher pair: backbone + head under the official MultiCropWrapper names (``backbone.*``,
``head.*``), built from a resolved run config (``config.json``) or from explicit dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch
from torch import nn

from .head import DinoHead, HeadConfig, head_param_shapes
from .vit import VisionTransformer, VitConfig, vit_param_shapes


class ConfigFieldError(ValueError):
    """A config.json value the engine cannot use; the message names the field and a fix."""


def _field(section: Mapping[str, Any], path: str, key: str, kind: type, positive: bool = True) -> Any:
    value = section.get(key)
    ok = isinstance(value, kind) and not isinstance(value, bool) if kind is not bool else isinstance(value, bool)
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or (positive and kind is not bool and value <= 0):
        want = "true or false" if kind is bool else f"a positive {'integer' if kind is int else 'number'}"
        raise ConfigFieldError(
            f"config.json: {path}.{key} must be {want} (got {value!r}); re-create the run from its *.dora.json with "
            f"the `dora` CLI, which writes a resolved config.json"
        )
    return value


@dataclass(frozen=True)
class DoraModelConfig:
    vit: VitConfig
    head: HeadConfig

    @classmethod
    def from_run_config(cls, config: Mapping[str, Any]) -> "DoraModelConfig":
        """From a resolved ``config.json`` (the TS resolver's output): ``model.*`` and ``data.globalSize``."""
        model = config.get("model")
        data = config.get("data")
        if not isinstance(model, Mapping) or not isinstance(data, Mapping):
            raise ConfigFieldError("config.json: needs the `model` and `data` sections of a resolved DoRA config")
        head = model.get("head")
        if not isinstance(head, Mapping):
            raise ConfigFieldError("config.json: model.head must be an object")
        vit = VitConfig(
            embed_dim=_field(model, "model", "embedDim", int),
            depth=_field(model, "model", "depth", int),
            num_heads=_field(model, "model", "numHeads", int),
            patch_size=_field(model, "model", "patchSize", int),
            img_size=_field(data, "data", "globalSize", int),
            mlp_ratio=float(_field(model, "model", "mlpRatio", float)),
            qkv_bias=_field(model, "model", "qkvBias", bool),
            drop_path_rate=float(_field(model, "model", "dropPathRate", float, positive=False)),
        )
        return cls(
            vit=vit,
            head=HeadConfig(
                in_dim=vit.embed_dim,
                out_dim=_field(head, "model.head", "outDim", int),
                hidden_dim=_field(head, "model.head", "hiddenDim", int),
                bottleneck_dim=_field(head, "model.head", "bottleneckDim", int),
                nlayers=_field(head, "model.head", "nlayers", int),
                norm_last_layer=_field(head, "model.head", "normLastLayer", bool),
            ),
        )


class DoraNetwork(nn.Module):
    """MultiCropWrapper: ``backbone`` (ViT) + ``head`` (DINOHead)."""

    def __init__(self, cfg: DoraModelConfig, drop_path_rate: float, norm_last_layer: bool) -> None:
        super().__init__()
        self.cfg = cfg
        self.backbone = VisionTransformer(cfg.vit, drop_path_rate=drop_path_rate)
        self.head = DinoHead(cfg.head, norm_last_layer=norm_last_layer)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images [V, 3, H, W] → head outputs [V, out_dim]."""
        return self.head(self.backbone(images, cls_only=True).cls)


class StudentPass(nn.Module):
    """The student's part of one step as ONE module call: masked views and local crops through the backbone (one pass
    per resolution), then all [CLS] tokens through the head. Wrapped in DistributedDataParallel for a multi-process run,
    which needs the whole forward of a backward to go through one call of its module."""

    def __init__(self, student: DoraNetwork) -> None:
        super().__init__()
        self.student = student

    def forward(self, masked: torch.Tensor, local: torch.Tensor) -> torch.Tensor:
        """masked [V, 3, H, W], local [v, 3, h, w] → head outputs [V + v, out_dim] (masked rows first)."""
        cls_masked = self.student.backbone(masked, cls_only=True).cls
        cls_local = self.student.backbone(local, cls_only=True).cls
        return self.student.head(torch.cat([cls_masked, cls_local]))


def build_dora_networks(
    cfg: DoraModelConfig, device: torch.device | str = "cpu", seed: int | None = None
) -> tuple[DoraNetwork, DoraNetwork]:
    """A fresh student (stochastic depth ``cfg.vit.drop_path_rate``, ``cfg.head.norm_last_layer``) and its teacher
    (no stochastic depth, g frozen as the official default head, weights copied from the student, no grads).
    With ``seed`` the initialisation is made on the CPU from that seed (the same weights on every device) without
    touching the global RNG."""
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        student = DoraNetwork(cfg, cfg.vit.drop_path_rate, cfg.head.norm_last_layer)
    teacher = DoraNetwork(cfg, 0.0, True)
    teacher.load_state_dict(student.state_dict())
    for p in teacher.parameters():
        p.requires_grad_(False)
    teacher.eval()
    student.train()
    return student.to(device), teacher.to(device)


def dora_param_shapes(cfg: DoraModelConfig) -> dict[str, tuple[int, ...]]:
    shapes = {f"backbone.{n}": s for n, s in vit_param_shapes(cfg.vit).items()}
    shapes.update({f"head.{n}": s for n, s in head_param_shapes(cfg.head).items()})
    return shapes


def dora_param_names(cfg: DoraModelConfig) -> list[str]:
    """Student/teacher names in PyTorch named_parameters() order (backbone first, then head)."""
    return list(dora_param_shapes(cfg))


def trainable_param_names(cfg: DoraModelConfig) -> list[str]:
    """Names the optimiser updates: all, except ``head.last_layer.weight_g`` when norm_last_layer freezes it."""
    return [n for n in dora_param_names(cfg) if not (cfg.head.norm_last_layer and n == "head.last_layer.weight_g")]
