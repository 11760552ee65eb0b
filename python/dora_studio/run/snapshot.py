"""Snapshots for the dashboard (docs/run-directory.md, `src/trainer/run/snapshot.ts`): for up to 4 clips of a step,
the global crops the teacher saw (PNG), the Sinkhorn assignment M* [N, k], each object's attention map
[k, F, grid, grid] and binary mask, written under `.step-NNNNNN.partial/` and renamed into place when complete."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image

from .atomic import write_json_atomic
from .lock import iso_now
from .paths import snapshot_paths
from .records import RUN_DIR_FORMAT_VERSION


@dataclass
class SnapshotInput:
    step: int
    epoch: int
    global_rgb: np.ndarray  # uint8 [c, F, G, G, 3]: the first c clips of the batch
    clips: Sequence[dict[str, Any]]  # {"frameIndices": [...]} per clip of the batch
    assignment: np.ndarray  # float32 [B, N, k]
    attention: np.ndarray  # float32 [k, B, F, N] (softmax maps before binarisation)
    masks: np.ndarray  # uint8 0/1 [k, B, F, N]
    heads: Sequence[int]
    patch_size: int


def _write_raw(path: Path, array: np.ndarray, dtype: str) -> None:
    path.write_bytes(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes())


def write_snapshot(run_dir: str | os.PathLike, snap: SnapshotInput, out_dir: str | os.PathLike | None = None) -> Path:
    """Writes one snapshot folder and returns its final path."""
    if out_dir is None:
        final, temp = snapshot_paths(run_dir, snap.step)
    else:
        final = Path(out_dir)
        temp = final.with_name(final.name + ".partial")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    k, b, f, n = snap.masks.shape
    grid = round(n**0.5)
    size = snap.global_rgb.shape[2]
    clips = []
    for c in range(min(b, len(snap.global_rgb))):
        name = f"clip-{c:02d}"
        (temp / name).mkdir()
        frames = []
        for t in range(f):
            frame = f"{name}/frame-{t:02d}.png"
            Image.fromarray(snap.global_rgb[c, t], mode="RGB").save(temp / frame, format="PNG", compress_level=1)
            frames.append(frame)
        _write_raw(temp / name / "assignment.f32", snap.assignment[c], "float32")
        _write_raw(temp / name / "attention.f32", snap.attention[:, c], "float32")
        _write_raw(temp / name / "masks.u8", snap.masks[:, c], "uint8")
        clips.append(
            {
                "index": c,
                "frameIndices": list(snap.clips[c]["frameIndices"]),
                "frames": frames,
                "assignment": {"file": f"{name}/assignment.f32", "dtype": "float32", "shape": [n, k]},
                "attention": {"file": f"{name}/attention.f32", "dtype": "float32", "shape": [k, f, grid, grid]},
                "masks": {"file": f"{name}/masks.u8", "dtype": "uint8", "shape": [k, f, grid, grid]},
            }
        )
    manifest = {
        "formatVersion": RUN_DIR_FORMAT_VERSION,
        "step": snap.step,
        "epoch": snap.epoch,
        "time": iso_now(),
        "imageSize": size,
        "patchSize": snap.patch_size,
        "grid": grid,
        "framesPerClip": f,
        "heads": [int(h) for h in snap.heads],
        "clips": clips,
    }
    write_json_atomic(temp / "snapshot.json", manifest)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(temp, final)
    return final
