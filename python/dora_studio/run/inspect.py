"""Inspect a checkpoint (no training), like the TF.js engine's `inspect` (src/trainer/run/inspect.ts): the teacher and
the tracker on one clip of deterministic centre crops (the middle of the video unless told), heads 0..k-1, written in
the snapshot format. `import_pth` uses it so an imported model's tracked masks, attention and Sinkhorn assignments
show in the dashboard at once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..data.augment import AugmentConfig, centre_crop_params, render_clip
from ..data.clips import clip_frame_indices
from ..data.frame_cache import FrameSource
from ..dora.runtime import Precision
from ..dora.sinkhorn import SinkhornOptions
from ..dora.state import DoraState
from ..dora.tracker import run_tracker
from ..dora.train_step import teacher_pass
from .snapshot import SnapshotInput, write_snapshot


def middle_clip(config: dict[str, Any], frame_count: int, clip_start: int | None = None) -> list[int]:
    data = config["data"]
    span = (data["framesPerClip"] - 1) * data["stride"]
    if span >= frame_count:
        raise ValueError(
            f"{data['video']}: too short for one clip of {data['framesPerClip']} frames {data['stride']} apart; "
            "fix: inspect on a longer video"
        )
    start = (frame_count - span) // 2 if clip_start is None else clip_start
    start = max(0, min(start, frame_count - 1 - span))
    return list(clip_frame_indices(start, data["framesPerClip"], data["stride"]))


@torch.no_grad()
def inspect_snapshot(
    state: DoraState, config: dict[str, Any], source: FrameSource, run_dir: str | os.PathLike, step: int, epoch: int,
    clip_start: int | None = None, out_dir: str | os.PathLike | None = None,
) -> Path:  # fmt: skip
    """Writes the tracker's view of one clip as the snapshot of `step` (or into `out_dir`); returns its folder."""
    indices = middle_clip(config, source.frame_count, clip_start)
    cfg = AugmentConfig.from_data_config(config["data"])
    params = centre_crop_params(len(indices), source.height, source.width, cfg)
    clip = render_clip(source.read(indices), params, cfg)
    global_ff = clip.global_crops.unsqueeze(1).to(state.device)  # [F, B=1, 3, G, G]
    precision = Precision("fp32", state.device.type)
    teacher = teacher_pass(state, global_ff, precision)
    d = config["dora"]
    heads = list(range(min(d["objects"], config["model"]["numHeads"])))
    sk = d["sinkhorn"]
    tracker = run_tracker(
        teacher.anchor_attn, teacher.anchor_query, teacher.keys, teacher.anchor_patches,
        torch.tensor(heads, device=state.device), SinkhornOptions(sk["iterations"], sk["epsilon"], sk["variant"]),
    )  # fmt: skip
    snap = SnapshotInput(
        step=step,
        epoch=epoch,
        global_rgb=clip.global_rgb[None],
        clips=[{"frameIndices": indices}],
        assignment=tracker.assignment.float().cpu().numpy(),
        attention=tracker.attn_maps.float().cpu().numpy(),
        masks=tracker.mask.to(torch.uint8).cpu().numpy(),
        heads=heads,
        patch_size=config["model"]["patchSize"],
    )
    return write_snapshot(run_dir, snap, out_dir)
