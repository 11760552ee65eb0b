"""DINOHead (official vision_transformer.DINOHead semantics, own code): an MLP with exact GELU and no BN, then L2
normalisation, then a weight-normed linear layer W = g · v / ‖v‖_row (torch weight_norm, dim 0) without bias.

Names: ``mlp.0/2/4.{weight,bias}`` (or ``mlp.{weight,bias}`` with one layer), ``last_layer.weight_g`` [out, 1] and
``last_layer.weight_v`` [out, bottleneck] — the layout of official checkpoints. ``norm_last_layer`` only freezes g.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class HeadConfig:
    in_dim: int
    out_dim: int
    hidden_dim: int = 2048
    bottleneck_dim: int = 256
    nlayers: int = 3
    norm_last_layer: bool = False


class WeightNormLinear(nn.Module):
    """Linear without bias, weight = g · v / ‖v‖ per output row; parameters ``weight_g`` then ``weight_v``."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        v = torch.empty(out_dim, in_dim)
        nn.init.kaiming_uniform_(v, a=math.sqrt(5))  # nn.Linear's default init, kept by the official head
        self.weight_g = nn.Parameter(torch.ones(out_dim, 1))
        self.weight_v = nn.Parameter(v)

    def weight(self) -> torch.Tensor:
        return self.weight_v * (self.weight_g / self.weight_v.norm(dim=1, keepdim=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight())


class DinoHead(nn.Module):
    def __init__(self, cfg: HeadConfig, norm_last_layer: bool | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        n = max(cfg.nlayers, 1)
        if n == 1:
            self.mlp: nn.Module = nn.Linear(cfg.in_dim, cfg.bottleneck_dim)
        else:
            layers: list[nn.Module] = [nn.Linear(cfg.in_dim, cfg.hidden_dim), nn.GELU()]
            for _ in range(n - 2):
                layers += [nn.Linear(cfg.hidden_dim, cfg.hidden_dim), nn.GELU()]
            layers.append(nn.Linear(cfg.hidden_dim, cfg.bottleneck_dim))
            self.mlp = nn.Sequential(*layers)
        for m in self.mlp.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        self.last_layer = WeightNormLinear(cfg.bottleneck_dim, cfg.out_dim)
        frozen = cfg.norm_last_layer if norm_last_layer is None else norm_last_layer
        self.last_layer.weight_g.requires_grad_(not frozen)

    def bottleneck(self, x: torch.Tensor) -> torch.Tensor:
        """The L2-normalised bottleneck features [B, bottleneck]."""
        return F.normalize(self.mlp(x), dim=-1, p=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last_layer(self.bottleneck(x))


def head_param_shapes(cfg: HeadConfig) -> dict[str, tuple[int, ...]]:
    """Official names → shapes in named_parameters() order (no module is built)."""
    shapes: dict[str, tuple[int, ...]] = {}
    n = max(cfg.nlayers, 1)
    if n == 1:
        shapes["mlp.weight"], shapes["mlp.bias"] = (cfg.bottleneck_dim, cfg.in_dim), (cfg.bottleneck_dim,)
    else:
        dims = [cfg.in_dim] + [cfg.hidden_dim] * (n - 1) + [cfg.bottleneck_dim]
        for i in range(n):
            shapes[f"mlp.{2 * i}.weight"] = (dims[i + 1], dims[i])
            shapes[f"mlp.{2 * i}.bias"] = (dims[i + 1],)
    shapes["last_layer.weight_g"] = (cfg.out_dim, 1)
    shapes["last_layer.weight_v"] = (cfg.out_dim, cfg.bottleneck_dim)
    return shapes
