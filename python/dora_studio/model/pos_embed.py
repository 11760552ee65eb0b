"""DINO's positional-embedding interpolation (vision_transformer.interpolate_pos_encoding).

At the model's own grid the stored embedding is used as it is. Otherwise the patch part is resized with PyTorch's
bicubic interpolation (A = −0.75, align_corners False) at scale factor (n + 0.1)/g per axis — the +0.1 moves the
sampling positions (src = (dst + 0.5)·g/(n + 0.1) − 0.5), it is not only a size fix — and [CLS]'s entry is kept.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def interpolate_pos_embed(pos_embed: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """pos_embed [1, 1+g², D] for an input of rows × cols patches → [1, 1+rows·cols, D]."""
    stored = pos_embed.shape[1] - 1
    if rows * cols == stored and rows == cols:
        return pos_embed
    grid = int(math.sqrt(stored))
    if grid * grid != stored:
        raise ValueError(f"pos_embed has {stored} patch entries, not a square grid")
    dim = pos_embed.shape[2]
    patch_pos = pos_embed[:, 1:].reshape(1, grid, grid, dim).permute(0, 3, 1, 2)
    resized = F.interpolate(
        patch_pos,
        scale_factor=((rows + 0.1) / grid, (cols + 0.1) / grid),
        mode="bicubic",
        align_corners=False,
        recompute_scale_factor=False,
    )
    if resized.shape[-2:] != (rows, cols):
        raise ValueError(f"pos_embed interpolation gave {tuple(resized.shape[-2:])} for a {rows}×{cols} grid")
    resized = resized.permute(0, 2, 3, 1).reshape(1, rows * cols, dim)
    return torch.cat([pos_embed[:, :1], resized], dim=1)
