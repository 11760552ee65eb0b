"""``python -m dora_studio bench_loader``: is the data loader fast enough for the step? Prints one JSON line.

Measures, on a run folder's config and frame cache: the time to build one batch in one process, the batches per
second that W DataLoader workers deliver, and (unless --no-step) the DoRA step time on this machine, then
`headroom` = loader batches/s × step seconds (> 1: the workers keep ahead of the step, so the loader is not the
bottleneck). Timings on a shared machine are noisy: compare the ratio, measured in the same run.

usage: python -m dora_studio bench_loader --run-dir DIR [--frame-cache DIR] [--workers N] [--batches N]
           [--steps N] [--no-step] [--device D] [--precision P]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from ..data.augment import AugmentConfig
from ..data.clips import ClipSampler
from ..data.loader import SnapshotSchedule, StepDataset, default_workers, make_loader
from ..data.usable_range import usable_range
from ..run.config import load_run_config
from ..run.train_setup import build_schedules, open_frames
from ..run.trainer import TrainOptions


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dora_studio bench_loader", description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", type=Path, required=True)
    p.add_argument("--frame-cache", type=Path)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--batches", type=int, default=8, help="batches timed through the workers")
    p.add_argument("--steps", type=int, default=3, help="DoRA steps timed (after one warm-up step)")
    p.add_argument("--no-step", action="store_true", help="time the loader only")
    p.add_argument("--device")
    p.add_argument("--precision")
    return p


def _dataset(config: dict, opts: TrainOptions) -> tuple[StepDataset, int]:
    source = open_frames(config, opts.frame_cache, opts.cache_root)
    data, t = config["data"], config["training"]
    start, end, _ = usable_range(source, data)
    sampler = ClipSampler(source.frame_count, data["framesPerClip"], data["stride"], t["batchClips"], t["seed"],
                          start, end)  # fmt: skip
    d = config["dora"]
    heads = (d["objects"], config["model"]["numHeads"]) if d["tracker"] else None
    never = SnapshotSchedule(1, False)
    return (
        StepDataset(source, sampler, AugmentConfig.from_data_config(data), t["seed"], heads, never),
        sampler.steps_per_epoch,
    )


def _step_seconds(config: dict, ds: StepDataset, itpe: int, args: argparse.Namespace) -> tuple[float, str]:
    from ..run.step_bridge import StepEngine

    engine = StepEngine(config, args.device, args.precision)
    engine.choose_micro_batch()
    s = build_schedules(config, itpe, 1)
    times = []
    for i in range(args.steps + 1):
        batch = ds[i]
        hyper = {"epoch": 0, "lr": float(s["lr"][i]), "wd": float(s["wd"][i]), "momentum": float(s["momentum"][i]),
                 "teacherTemp": float(s["teacherTemp"][0])}  # fmt: skip
        t0 = time.perf_counter()
        engine.step(batch, i, hyper, snapshot=False)
        if engine.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return sorted(times[1:])[len(times[1:]) // 2], f"{engine.device.type}/{engine.precision.name}"


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    config = load_run_config(args.run_dir)
    ds, itpe = _dataset(config, TrainOptions(run_dir=args.run_dir, frame_cache=args.frame_cache))
    workers = default_workers() if args.workers is None else args.workers
    t0 = time.perf_counter()
    ds[0]
    one = time.perf_counter() - t0
    loader = make_loader(ds, range(1, 1 + args.batches + max(workers, 1)), workers)
    it = iter(loader)
    next(it)  # workers started and the pipeline primed
    t0 = time.perf_counter()
    for _ in range(args.batches):
        next(it)
    rate = args.batches / (time.perf_counter() - t0)
    del it, loader
    line = {"bench": "loader", "config": config.get("name"), "batchClips": config["training"]["batchClips"],
            "framesPerClip": config["data"]["framesPerClip"], "globalSize": config["data"]["globalSize"],
            "localCrops": config["data"]["localCrops"], "secPerBatchOneProcess": round(one, 4), "workers": workers,
            "loaderBatchesPerSec": round(rate, 3), "cpus": os.cpu_count(), "torch": torch.__version__,
            "python": platform.python_version()}  # fmt: skip
    if not args.no_step:
        step, where = _step_seconds(config, ds, itpe, args)
        line.update(stepSec=round(step, 4), stepOn=where, headroom=round(rate * step, 2))
    print(json.dumps(line))
    return 0
