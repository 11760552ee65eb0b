"""Training batches in DataLoader workers. Item `i` of `StepDataset` is the whole batch of global iteration `i` for
this rank, a pure function of (seed, iteration): the clip order (ClipSampler), the augmentation stream
`augment/seed=S/iteration=I` and the tracker heads `heads/seed=S/iteration=I` (batch.ts `stepRng`). So any worker can
build any step, prefetching changes nothing, and a resumed run rebuilds exactly the batches it would have seen.

Distributed: the augmentation parameters of the whole global batch are drawn in clip order on every rank (cheap), and
each rank renders only its shard, so W ranks see exactly the views a single process with batch b*W sees.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .augment import AugmentConfig, render_clip, sample_clip_params
from .clips import ClipSampler, shard
from .frame_cache import FrameSource
from .rng import step_rng

SNAPSHOT_CLIPS = 4


@dataclass(frozen=True)
class SnapshotSchedule:
    """train.ts: a snapshot at iteration 0 and whenever (iteration + 1) % every == 0, only with the tracker on."""

    every: int
    tracker: bool

    def __call__(self, iteration: int) -> bool:
        return self.tracker and (iteration == 0 or (iteration + 1) % self.every == 0)


def draw_heads(seed: int, iteration: int, objects: int, num_heads: int) -> list[int]:
    """The k teacher heads of a step (official `random.sample(range(heads), 3)`), shared by the whole batch."""
    return step_rng(seed, "heads", iteration).sample(objects, num_heads)


class StepDataset(Dataset):
    def __init__(
        self,
        source: FrameSource,
        sampler: ClipSampler,
        augment: AugmentConfig,
        seed: int,
        heads: tuple[int, int] | None,
        snapshot_due: SnapshotSchedule,
        rank: int = 0,
    ) -> None:
        self.source = source
        self.sampler = sampler
        self.augment = augment
        self.seed = seed
        self.heads = heads  # (objects, num_heads) when the tracker is on
        self.snapshot_due = snapshot_due
        self.rank = rank

    def __len__(self) -> int:
        return 2**62  # indexed by global iteration; the sampler says which

    def __getitem__(self, iteration: int) -> dict[str, Any]:
        t0 = time.perf_counter()
        clips = self.sampler.batch_at(iteration)
        rng = step_rng(self.seed, "augment", iteration)
        h, w = self.source.height, self.source.width
        f = self.sampler.frames_per_clip
        params = [sample_clip_params(rng, f, h, w, self.augment) for _ in clips]
        mine = shard(list(zip(clips, params)), self.rank, self.sampler.world_size)
        cfg = self.augment
        b = len(mine)
        global_crops = torch.empty((b, f, 3, cfg.global_size, cfg.global_size))
        local_crops = torch.empty((cfg.n_local, b, f, 3, cfg.local_size, cfg.local_size))
        keep_rgb = SNAPSHOT_CLIPS if self.snapshot_due(iteration) else 0
        rgb = []
        for i, (clip, p) in enumerate(mine):
            out = render_clip(self.source.read(clip.frame_indices), p, cfg)
            global_crops[i] = out.global_crops
            local_crops[:, i] = out.local_crops
            if i < keep_rgb:
                rgb.append(out.global_rgb)
        heads = draw_heads(self.seed, iteration, *self.heads) if self.heads else []
        return {
            "iteration": iteration,
            "clips": [c.to_json() for c, _ in mine],
            "global": global_crops,
            "local": local_crops,
            "global_rgb": torch.from_numpy(np.stack(rgb)) if rgb else None,
            "heads": heads,
            "load_seconds": time.perf_counter() - t0,
        }


def _worker_init(_: int) -> None:
    # Ctrl-C reaches the whole process group; the main process stops cleanly and ends the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def core_share(processes_on_node: int = 1) -> int:
    """The cores of one of `processes_on_node` processes: its CPU affinity when the launcher bound it to fewer cores
    than the machine has (Slurm's task/affinity, taskset), else the machine's cores divided among the processes."""
    cores = available_cores()
    if cores < (os.cpu_count() or cores):
        return cores
    return max(1, cores // max(1, processes_on_node))


def default_workers(processes_on_node: int = 1) -> int:
    """Loader processes per rank: its share of the cores but one, at most 8 (0 = build batches in the training
    process)."""
    return max(0, min(8, core_share(processes_on_node) - 1))


def make_loader(
    dataset: StepDataset, iterations: range, workers: int, prefetch: int = 2, pin_memory: bool = False
) -> DataLoader:
    """Batches of the given global iterations, in order, built `prefetch` steps ahead by `workers` processes."""
    extra = {"prefetch_factor": prefetch, "worker_init_fn": _worker_init} if workers > 0 else {}
    return DataLoader(
        dataset,
        batch_size=None,
        sampler=iterations,  # a range: millions of iterations cost nothing
        num_workers=workers,
        pin_memory=pin_memory,
        **extra,
    )
