"""Set-up pieces of a training session: the errors a user must fix, the checkpoint to resume from, the official
schedules (with the lr scaled by the global batch) and the frame cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..data.compact_cache import locate_run_frame_cache
from ..data.frame_cache import FrameCacheError, FrameSource, open_frame_source
from ..optim.schedules import cosine_scheduler, teacher_temp_schedule
from .checkpoint import latest_checkpoint
from .config import peak_lr
from .paths import inside, run_paths


class TrainingError(Exception):
    """A problem the user must fix; `fix` says how."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


def resolve_resume(run_dir: Path, resume: str | None) -> Path | None:
    """The sidecar to resume from: 'latest' of the run, or a given sidecar that must lie inside the run folder."""
    if resume is None:
        return None
    if resume == "latest":
        return latest_checkpoint(run_dir)
    return inside(run_paths(run_dir).checkpoints, resume, "--resume checkpoint")


def build_schedules(config: dict[str, Any], iters_per_epoch: int, world_size: int) -> dict[str, Any]:
    """train.ts `buildRunSchedules`: lr, wd, momentum per iteration; teacher temperature per epoch."""
    t = config["training"]
    epochs = t["epochs"]
    return {
        "lr": cosine_scheduler(peak_lr(config, world_size), t["minLr"], epochs, iters_per_epoch, t["warmupEpochs"]),
        "wd": cosine_scheduler(t["weightDecay"], t["weightDecayEnd"], epochs, iters_per_epoch),
        "momentum": cosine_scheduler(t["momentumTeacher"], 1, epochs, iters_per_epoch),
        "teacherTemp": teacher_temp_schedule(
            t["warmupTeacherTemp"], t["teacherTemp"], min(t["warmupTeacherTempEpochs"], epochs), epochs
        ),
    }


def open_frames(config: dict[str, Any], frame_cache: Path | None, cache_root: Path | None) -> FrameSource:
    data = config["data"]
    folder = frame_cache
    if folder is None:
        folder = locate_run_frame_cache(data, cache_root)  # raw RGB24 or compact JPEG (compact_cache.py)
    try:
        source = open_frame_source(folder)
    except FrameCacheError as e:
        raise TrainingError(
            f"{data['video']}: no usable frame cache ({e})",
            "build the frame cache first: `node dist/cli.js train <config> --engine pytorch` builds it before starting "
            "this engine (or pass --frame-cache <folder> of a built cache)",
        ) from e
    if not getattr(source, "complete", True):
        raise TrainingError(
            f"{folder}: the frame cache of {data['video']} is incomplete ({source.frame_count} frames so far)",
            "let `node dist/cli.js train` finish building it, then start again",
        )
    return source
