"""The PyTorch engine's training loop, the counterpart of `src/trainer/run/train.ts`:
config.json → run lock → frame cache → clip order → official schedules → DoRA steps, writing the run folder
(docs/run-directory.md) and reporting through the message channel. A stop request (host `stop`, Ctrl-C, SIGTERM)
finishes the current step, checkpoints and exits `stopped`; a killed run resumes from its last checkpoint and follows
exactly the trajectory it would have followed (every random draw is a function of seed and iteration)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data.augment import AugmentConfig
from ..data.clips import ClipSampler
from ..data.loader import SnapshotSchedule, StepDataset, default_workers, make_loader
from ..data.usable_range import usable_range
from ..distributed.env import DistInfo
from ..distributed.group import SingleProcess
from ..engine.channel import Channel, StopFlag
from .checkpoint import (
    RNG_ALGORITHM,
    checkpoints_to_prune,
    config_sha256,
    delete_checkpoint,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)
from .config import load_run_config
from .lock import iso_now
from .paths import run_paths
from .records import RunRecorder
from .resume_position import ResumeMismatch, resume_position
from .snapshot import SnapshotInput, write_snapshot
from .step_bridge import StepEngine
from .train_setup import TrainingError, build_schedules, open_frames, resolve_resume

__all__ = ["Trainer", "TrainingError", "TrainOptions", "TrainResult", "build_schedules", "resolve_resume"]


@dataclass
class TrainOptions:
    run_dir: Path
    resume: str | None = None  # a sidecar path, or "latest"
    max_steps: int | None = None
    snapshot_every: int | None = None
    frame_cache: Path | None = None
    cache_root: Path | None = None
    workers: int | None = None
    device: str | None = None
    precision: str | None = None


@dataclass
class TrainResult:
    reason: str  # completed | stopped | failed
    step: int
    message: str | None = None


class Trainer:
    def __init__(
        self,
        opts: TrainOptions,
        channel: Channel,
        stop: StopFlag,
        dist: DistInfo,
        collective: SingleProcess | None = None,
        device: Any = None,
    ) -> None:
        self.opts = opts
        self.channel = channel
        self.stop = stop
        self.dist = dist
        self.collective = collective or SingleProcess()
        self.device = device  # this rank's torch device (None: resolved from the config)
        self.run_dir = opts.run_dir.resolve()
        self.paths = run_paths(self.run_dir)
        self.rec = RunRecorder(self.run_dir, dist.rank, dist.world_size)
        self.config: dict[str, Any] = {}
        self.iteration = 0
        self.last_checkpoint = -1

    # ---- set-up ------------------------------------------------------------------------------------
    def setup(self, versions: dict[str, str]) -> None:
        """Everything this process does alone (no collective: a rank that fails here is reported by all of them)."""
        self.config = load_run_config(self.run_dir)
        self.resume = resolve_resume(self.run_dir, self.opts.resume)
        self.paths.checkpoints.mkdir(exist_ok=True)
        self.paths.snapshots.mkdir(exist_ok=True)
        if self.resume:
            self.rec.repair_tails()
        self.config_sha = config_sha256(self.run_dir)
        world = {"worldSize": self.dist.world_size, "launcher": self.dist.launcher}
        self.rec.start_info(self.config, versions, {"engine": "pytorch", **world})
        self.rec.start_heartbeat()
        self.setup_data()
        self.progress("model-init", 0, None)
        self.engine = StepEngine(self.config, self.opts.device, self.opts.precision, self.device, self.collective)
        d = self.engine.describe()
        self.rec.write_info(backend=f"pytorch-{d['device']}", device=d["device"], precision=d["precision"])
        self.rec.log(f"engine pytorch on {d['deviceName']} ({d['device']}), precision {d['precision']}")
        self.log_world()
        self.setup_model()

    def log_world(self) -> None:
        w, b = self.dist.world_size, self.config["training"]["batchClips"]
        if w == 1:
            return
        lr = self.schedules["lr"]
        self.rec.log(
            f"process {self.dist.rank} of {w} (pid {os.getpid()}, {self.dist.launcher}, local rank {self.dist.local_rank} of "
            f"{self.dist.local_world_size}), {self.collective.backend} process group; global batch {b} clips x {w} processes = {b * w} clips; peak lr {max(lr):.3e}"
        )

    def connect(self) -> None:
        """After every process is set up: the student under DDP (parameters broadcast from rank 0)."""
        self.engine.connect()

    def setup_data(self) -> None:
        self.progress("frame-cache", 0, None, f"Opening the frame cache of {self.config['data']['video']}")
        self.source = open_frames(self.config, self.opts.frame_cache, self.opts.cache_root)
        data, training = self.config["data"], self.config["training"]
        start, end, warning = usable_range(self.source, data)
        if warning:
            self.warn(warning)
        try:
            self.sampler = ClipSampler(
                self.source.frame_count, data["framesPerClip"], data["stride"], training["batchClips"],
                training["seed"], start, end, self.dist.world_size,
            )  # fmt: skip
        except ValueError as e:
            raise TrainingError(
                f"{data['video']}: {e}",
                "use a longer video, or lower data.stride / framesPerClip / training.batchClips",
            ) from e
        self.itpe = self.sampler.steps_per_epoch
        self.total = self.itpe * training["epochs"]
        self.schedules = build_schedules(self.config, self.itpe, self.dist.world_size)
        self.rec.write_info(totalSteps=self.total, stepsPerEpoch=self.itpe, statusHint="running")
        self.rec.log(f"frames [{start}, {end}) of {self.source.frame_count} in {self.source.source_path}")

    def setup_model(self) -> None:
        if self.resume is None:
            self.rec.event("started", pid=self._pid())
            self.rec.log(f"started {self.config['name']}: {self.total} steps ({self.itpe} per epoch)")
            return
        ckpt = load_checkpoint(self.resume)
        schedule, imported = ckpt.sidecar["schedule"], ckpt.sidecar.get("imported")
        if isinstance(imported, dict):
            # Imported weights (import_pth): the official restart semantics, at the start of the saved epoch.
            start = min(int(imported.get("epoch") or 0) * self.itpe, self.total)
        else:
            try:
                position = resume_position(schedule, self.sampler)
            except ResumeMismatch as e:
                raise TrainingError(
                    f"{self.resume}: {e}", "the video or its frame cache changed since this checkpoint; start a new run"
                ) from e
            start = position.iteration
            if position.note:
                self.warn(position.note)
        if ckpt.sidecar["configSha256"] != self.config_sha:
            self.warn(f"{self.paths.config} changed since {self.resume} was written; resuming with the current file")
        self.engine.load(ckpt)
        self.iteration = self.rec.last_step = start
        self.last_checkpoint = start if ckpt.sidecar["step"] == start else -1
        self.rec.drop_metrics_after(int(ckpt.sidecar["step"]))
        world = {"worldSize": self.dist.world_size, "checkpointWorldSize": int(schedule.get("worldSize") or 1)}
        self.rec.event("resumed", pid=self._pid(), checkpoint=str(self.resume), **world)
        self.rec.log(f"resumed from {self.resume} at step {self.iteration}")

    @staticmethod
    def _pid() -> int:
        return os.getpid()

    # ---- messages ----------------------------------------------------------------------------------
    def progress(self, phase: str, done: int, total: int | None, message: str | None = None, **extra: float) -> None:
        if self.dist.is_main:
            msg = {"type": "progress", "phase": phase, "done": done, "total": total, **extra}
            self.channel.send({**msg, "message": message} if message else msg)

    def warn(self, message: str) -> None:
        self.rec.log(f"warning: {message}")
        self.rec.event("warning", message=message)
        if self.dist.is_main:
            self.channel.send({"type": "warning", "message": message})

    # ---- the loop ----------------------------------------------------------------------------------
    def train(self) -> TrainResult:
        cfg, t = self.config, self.config["training"]
        tracker = cfg["dora"]["tracker"]
        stop_at = min(self.total, self.opts.max_steps if self.opts.max_steps is not None else self.total)
        schedule = SnapshotSchedule(self.opts.snapshot_every or cfg["runtime"]["snapshotEvery"], tracker)
        heads = (cfg["dora"]["objects"], cfg["model"]["numHeads"]) if tracker else None
        augment = AugmentConfig.from_data_config(cfg["data"])
        dataset = StepDataset(self.source, self.sampler, augment, t["seed"], heads, schedule, self.dist.rank)
        workers = default_workers(self.dist.local_world_size) if self.opts.workers is None else self.opts.workers
        cuda = self.engine.device.type == "cuda"
        loader = make_loader(dataset, range(self.iteration, stop_at), workers, pin_memory=cuda)
        self.rec.log(self.engine.choose_micro_batch())
        k = cfg["dora"]["objects"] if tracker else 1
        images = (
            t["batchClips"] * self.dist.world_size * cfg["data"]["framesPerClip"] * (1 + k + cfg["data"]["localCrops"])
        )
        self.rec.log(f"loader: {workers} worker process(es), 2 batches prefetched each")
        first, started, waited = self.iteration, time.monotonic(), 0.0
        fetch = time.perf_counter()
        for batch in loader:
            if self.agreed_stop():
                break  # asked to stop while the batch was being built: do not start another step
            wait = time.perf_counter() - fetch
            waited += wait
            self.one_step(batch, schedule(self.iteration), images, wait, stop_at)
            rate = (self.iteration - first) / max(1e-3, time.monotonic() - started)
            eta = (stop_at - self.iteration) / max(rate, 1e-9)
            self.progress("training", self.iteration, self.total, rate=rate, eta=eta)
            if self.iteration % cfg["runtime"]["checkpointEvery"] == 0:
                self.checkpoint()
            self.rec.write_info()
            if self.agreed_stop():
                break
            fetch = time.perf_counter()
        steps = self.iteration - first
        if steps:
            wall = time.monotonic() - started
            self.rec.log(f"loader wait {waited:.2f} s of {wall:.2f} s over {steps} steps ({100 * waited / wall:.1f}%)")
        if self.stop and not self.stop.checkpoint:
            return self.finish("stopped", f"{self.stop.reason} (without a checkpoint)")
        self.checkpoint()
        if self.iteration >= self.total:
            return self.finish("completed")
        return self.finish(
            "stopped", self.stop.reason if self.stop else f"stopped after {self.iteration} steps (--max-steps)"
        )

    def agreed_stop(self) -> bool:
        """Stop when any process was asked to (signals reach one rank, or all of them at different moments): every
        rank leaves the loop after the same step, and rank 0 writes the checkpoint."""
        stop, checkpoint = self.collective.agree_stop(bool(self.stop), self.stop.checkpoint if self.stop else True)
        if stop and not self.stop:
            self.stop.set("stop requested on another process of the run", checkpoint)
        elif stop:
            self.stop.checkpoint = checkpoint
        return stop

    def one_step(self, batch: dict[str, Any], snapshot: bool, images: int, wait: float, stop_at: int) -> None:
        it = self.iteration
        epoch = it // self.itpe
        s = self.schedules
        hyper = {
            "epoch": epoch,
            "lr": float(s["lr"][it]),
            "wd": float(s["wd"][it]),
            "momentum": float(s["momentum"][it]),
            "teacherTemp": float(s["teacherTemp"][epoch]),
        }
        t0 = time.perf_counter()
        result = self.engine.step(batch, it, hyper, snapshot)
        sec = time.perf_counter() - t0 + wait
        self.iteration = self.rec.last_step = it + 1
        record = {
            "step": self.iteration,
            "epoch": epoch,
            "time": iso_now(),
            "loss": result.scalars["loss"],
            **{k: hyper[k] for k in ("lr", "wd", "momentum", "teacherTemp")},
            "imgPerSec": images / sec,
            "secPerStep": sec,
            "gradNorm": result.grad_norm,
            **{k: v for k, v in result.scalars.items() if k != "loss"},
            "loaderWaitSec": wait,
            "microBatch": result.micro_batch,
        }
        log_every = self.config["runtime"]["logEvery"]
        if self.iteration % log_every == 0 or self.iteration == stop_at or self.iteration == 1:
            self.rec.metrics(record)
            if self.dist.is_main:
                self.channel.send({"type": "metrics", "record": record})
        if snapshot and result.tracker is not None and self.dist.is_main:
            self.snapshot(batch, result.tracker, epoch)

    def snapshot(self, batch: dict[str, Any], tracker: dict[str, Any], epoch: int) -> None:
        snap = SnapshotInput(
            step=self.iteration,
            epoch=epoch,
            global_rgb=batch["global_rgb"].numpy(),
            clips=batch["clips"],
            heads=batch["heads"],
            patch_size=self.config["model"]["patchSize"],
            **tracker,
        )
        folder = write_snapshot(self.run_dir, snap)
        self.rec.event("snapshot", dir=str(folder))
        self.channel.send({"type": "snapshot-ready", "step": self.iteration, "path": str(folder)})

    def checkpoint(self) -> None:
        if not self.dist.is_main or self.last_checkpoint == self.iteration:
            return
        it = self.iteration
        self.progress("checkpoint", it, self.total)
        meta = {
            "epoch": max(0, it - 1) // self.itpe,
            "rng": {"algorithm": RNG_ALGORITHM, "state": {"seed": self.config["training"]["seed"], "iteration": it}},
            "schedule": {
                "iteration": it,
                "itersPerEpoch": self.itpe,
                "totalIters": self.total,
                "globalBatch": self.sampler.global_batch,
                "worldSize": self.dist.world_size,
            },
            "configSha256": self.config_sha,
        }
        try:
            sidecar = save_checkpoint(self.run_dir, it, self.engine.weights(), self.engine.optimizer(), meta)
        except OSError as e:
            last = f"step {self.last_checkpoint}" if self.last_checkpoint > 0 else "none yet"
            cause = "the disk is full" if e.errno == 28 else str(e)
            raise TrainingError(
                f"could not write the checkpoint of step {it} in {self.paths.checkpoints}: {cause}; nothing partial "
                f"was left behind (last complete checkpoint: {last})",
                "free disk space (or lower runtime.keepCheckpoints), then resume with --resume latest",
            ) from e
        self.last_checkpoint = it
        self.rec.event("checkpoint", file=str(sidecar))
        self.channel.send({"type": "checkpoint-saved", "step": it, "path": str(sidecar)})
        keep = self.config["runtime"]["keepCheckpoints"]
        for _, path, old in checkpoints_to_prune(list_checkpoints(self.run_dir), keep):
            for problem in delete_checkpoint(path, old):
                self.warn(f"pruning {path.name}: {problem}; left in place")

    def finish(self, reason: str, why: str | None = None) -> TrainResult:
        if reason == "completed":
            self.rec.event("finished")
        else:
            self.rec.event("stopped", reason=why or "stopped")
        self.rec.write_info(statusHint="finished" if reason == "completed" else "stopped")
        step = self.iteration
        self.rec.log(f"finished at step {step}" if reason == "completed" else f"stopped at step {step}: {why}")
        if self.dist.is_main:
            msg = {"type": "finished", "reason": reason, "step": step}
            self.channel.send({**msg, "message": why} if why else msg)
        return TrainResult(reason, step, why)
