"""DoRA's multi-object tracker (official utils.MOT semantics), batched over clips, frames and objects:

    anchor frame t = 0; A = its [CLS]→patch attention, Q̃ its patch queries (heads concatenated), Z̃ its
    L2-normalised final patch tokens;
    P  = A_I · Q̃               k prototypes from k random heads I                 object_prototypes
    M* = SinkhornKnopp(Z̃ Pᵀ)   distinct, balanced patch→object assignment          sinkhorn_knopp
    P′ = M*ᵀ · Z̃               refined prototypes (a sum, not a mean)               refine_prototypes
    T_t = softmax(P′ K̃_tᵀ / √D) over patches, for every frame t                    track_across_frames
    mask = T_t/‖T_t‖ > mean over the WHOLE batch [B, N] (official quirk)            binarise_maps
    X_t ⊙ nearest-upsampled mask                                                    masked_views / mask_images

Nothing here is differentiated (the teacher's outputs are constants for the student's loss); it runs in float32
whatever the autocast mode, and never synchronises with the host.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .sinkhorn import OFFICIAL_SINKHORN, SinkhornOptions, sinkhorn_knopp


def _patch_tokens_heads_concatenated(x: torch.Tensor) -> torch.Tensor:
    """[..., h, T, dh] → [..., T−1, h·dh] without [CLS] ('b h n d -> b n (h d)')."""
    *lead, h, t, dh = x.shape
    return x[..., 1:, :].transpose(-3, -2).reshape(*lead, t - 1, h * dh)


def object_prototypes(anchor_attn: torch.Tensor, anchor_query: torch.Tensor, heads: torch.Tensor) -> torch.Tensor:
    """P = A_I · Q̃. anchor_attn [B, h, T, T], anchor_query [B, h, T, dh], heads [k] (long, on the device) → [B, k, D]."""
    cls_to_patch = anchor_attn.index_select(1, heads)[:, :, 0, 1:]  # [B, k, N]
    return cls_to_patch @ _patch_tokens_heads_concatenated(anchor_query)


def refine_prototypes(assignment: torch.Tensor, normalised_patches: torch.Tensor) -> torch.Tensor:
    """P′ = M*ᵀ · Z̃: assignment [B, N, k], Z̃ [B, N, D] → [B, k, D]."""
    return assignment.transpose(-2, -1) @ normalised_patches


def track_across_frames(refined: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """T_t^o = softmax over patches of P′_o · K̃_tᵀ · D^−½ for every frame: refined [B, k, D],
    keys [F, B, h, T, dh] → maps [k, B, F, N]."""
    patch_keys = _patch_tokens_heads_concatenated(keys)  # [F, B, N, D]
    d = patch_keys.shape[-1]
    logits = (refined.unsqueeze(0) @ patch_keys.transpose(-2, -1)) * d**-0.5  # [F, B, k, N]
    return logits.softmax(dim=-1).permute(2, 1, 0, 3)


@dataclass
class Binarised:
    l2: torch.Tensor  # [k, B, F, N] T/‖T‖ (the thresholded value)
    threshold: torch.Tensor  # [k, F] mean over [B, N]
    margin: torch.Tensor  # [k, B, F, N] l2 − threshold
    mask: torch.Tensor  # [k, B, F, N] bool: margin > 0 (NaN → False, as the official code)


def binarise_maps(maps: torch.Tensor) -> Binarised:
    """The official batch-wide threshold: the mean of T/‖T‖ over all clips and patches, per object and frame."""
    l2 = maps / maps.norm(dim=-1, keepdim=True)
    threshold = l2.mean(dim=(1, 3))
    return Binarised(l2, threshold, l2 - threshold[:, None, :, None], l2 > threshold[:, None, :, None])


def _pixel_masks(mask: torch.Tensor, height: int, width: int, patch_size: int) -> torch.Tensor:
    """[..., N] patch masks (row-major grid of height//p × width//p) → [..., height, width] nearest-upsampled;
    pixels beyond the last whole patch stay 0."""
    rows, cols = height // patch_size, width // patch_size
    grid = mask.reshape(*mask.shape[:-1], rows, 1, cols, 1)
    pix = grid.expand(*mask.shape[:-1], rows, patch_size, cols, patch_size)
    pix = pix.reshape(*mask.shape[:-1], rows * patch_size, cols * patch_size)
    if rows * patch_size != height or cols * patch_size != width:
        pix = F.pad(pix, (0, width - cols * patch_size, 0, height - rows * patch_size))
    return pix


def masked_views(global_frames_first: torch.Tensor, mask: torch.Tensor, patch_size: int) -> torch.Tensor:
    """The student's masked views, frame-major: images [F, B, 3, H, W] × masks [k, B, F, N] → [k, F, B, 3, H, W].
    Pixels outside the object become 0 (the ImageNet mean: the crops are already normalised)."""
    _, _, _, h, w = global_frames_first.shape
    pix = _pixel_masks(mask.transpose(1, 2).to(global_frames_first.dtype), h, w, patch_size)  # [k, F, B, H, W]
    return global_frames_first.unsqueeze(0) * pix.unsqueeze(3)


def mask_images(images: torch.Tensor, mask: torch.Tensor, patch_size: int) -> torch.Tensor:
    """MOT's return value in the official layout: images [B, F, 3, H, W], masks [k, B, F, N] → [k, B, F, 3, H, W]."""
    _, _, _, h, w = images.shape
    pix = _pixel_masks(mask.to(images.dtype), h, w, patch_size)  # [k, B, F, H, W]
    return images.unsqueeze(0) * pix.unsqueeze(3)


@dataclass
class TrackerResult:
    prototypes: torch.Tensor  # [B, k, D]  P
    sk_logits: torch.Tensor  # [B, N, k]  Z̃ Pᵀ
    assignment: torch.Tensor  # [B, N, k]  M*
    refined_prototypes: torch.Tensor  # [B, k, D]  P′
    attn_maps: torch.Tensor  # [k, B, F, N]  T
    binarised: Binarised

    @property
    def mask(self) -> torch.Tensor:
        return self.binarised.mask


@torch.no_grad()
def run_tracker(
    anchor_attn: torch.Tensor,
    anchor_query: torch.Tensor,
    keys: torch.Tensor,
    anchor_patches: torch.Tensor,
    heads: torch.Tensor,
    sinkhorn: SinkhornOptions = OFFICIAL_SINKHORN,
) -> TrackerResult:
    """The whole tracker. anchor_attn [B, h, T, T], anchor_query [B, h, T, dh], keys [F, B, h, T, dh], anchor_patches
    [B, N, D] (final-norm patch tokens of frame 0), heads [k] long on the device."""
    anchor_attn, anchor_query, keys, anchor_patches = (
        x.float() for x in (anchor_attn, anchor_query, keys, anchor_patches)
    )
    prototypes = object_prototypes(anchor_attn, anchor_query, heads)
    z = anchor_patches / anchor_patches.norm(dim=-1, keepdim=True)  # official: no epsilon
    sk_logits = z @ prototypes.transpose(-2, -1)
    assignment = sinkhorn_knopp(sk_logits, sinkhorn)
    refined = refine_prototypes(assignment, z)
    maps = track_across_frames(refined, keys)
    return TrackerResult(prototypes, sk_logits, assignment, refined, maps, binarise_maps(maps))
