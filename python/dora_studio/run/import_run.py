"""Writes the run folder of an imported `.pth` (see importer.py): config.json inferred from the shapes and `args`,
a safetensors checkpoint `step-000000` in the shared layout with its sidecar, run.json and the events of a stopped
run, so the dashboard lists it, both engines evaluate, inspect and compare it, and the PyTorch engine continues
training it (`train --run-dir <dir> --resume latest` starts at the checkpoint's epoch)."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..dora.state import create_dora_state
from ..model.dora_model import DoraModelConfig, dora_param_shapes, trainable_param_names
from .atomic import write_json_atomic
from .checkpoint import RNG_ALGORITHM, config_sha256, save_checkpoint
from .config import validate_run_config
from .config_defaults import official_defaults
from ..data.compact_cache import locate_run_frame_cache
from ..data.frame_cache import FrameCacheError, open_frame_source
from .inspect import inspect_snapshot
from .importer import Parsed, check_keys, infer_model, optimizer_tensors, parse_pth
from .records import RunRecorder
from .torch_pickle import load_pth

_ARGS_TO_TRAINING = {
    "epochs": "epochs",
    "batch_size_per_gpu": "batchClips",
    "lr": "lr",
    "min_lr": "minLr",
    "warmup_epochs": "warmupEpochs",
    "weight_decay": "weightDecay",
    "weight_decay_end": "weightDecayEnd",
    "momentum_teacher": "momentumTeacher",
    "warmup_teacher_temp": "warmupTeacherTemp",
    "teacher_temp": "teacherTemp",
    "warmup_teacher_temp_epochs": "warmupTeacherTempEpochs",
    "clip_grad": "clipGrad",
    "freeze_last_layer": "freezeLastLayer",
    "seed": "seed",
}


@dataclass
class ImportResult:
    run_dir: Path
    sidecar: Path
    kind: str
    config: dict[str, Any]
    #: The tracker's snapshot of the video (None when the video has no frame cache yet).
    snapshot: Path | None = None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def build_config(
    parsed: Parsed, model: dict[str, Any], image_size: int, name: str, video: str, run_dir: Path
) -> dict[str, Any]:
    """A complete resolved config (every section, absolute paths) for the imported model."""
    config = official_defaults()
    # No "preset" key: the TS resolver refuses `"preset": null` when it reloads a run's config.json.
    config.update(name=name, configFile=str(run_dir / "config.json"), model=model)
    data, training, args = config["data"], config["training"], parsed.args
    precrop = 300 if image_size == 224 else max(image_size, round(image_size * 300 / 224))
    data.update(video=video, globalSize=image_size, localSize=image_size // 2, precropSize=precrop)
    data["frameCache"]["shortSide"] = precrop
    for src, dst in (("frame_per_clip", "framesPerClip"), ("step_between_clips", "stride"),
                     ("local_crops_number", "localCrops")):  # fmt: skip
        if isinstance(args.get(src), int) and args[src] >= 0:
            data[dst] = args[src]
    scale = args.get("local_crops_scale")
    if isinstance(scale, (list, tuple)) and len(scale) == 2 and all(map(_number, scale)):
        data["localScale"] = [float(scale[0]), float(scale[1])]
    for src, dst in _ARGS_TO_TRAINING.items():
        value = args.get(src)
        if _number(value) and (isinstance(training[dst], float) or isinstance(value, int)):
            training[dst] = value
    config["dora"]["objects"] = min(config["dora"]["objects"], model["numHeads"])  # k distinct heads
    config["runtime"]["runsDir"] = str(run_dir.parent)
    config["runtime"]["engine"] = "pytorch"  # imported by this engine; it continues the run (resume at the epoch)
    return config


def _claim(run_dir: Path) -> Path:
    run_dir = run_dir.absolute()
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        run_dir.mkdir()
    except FileExistsError:
        if any(run_dir.iterdir()):
            raise FileExistsError(f"{run_dir}: exists and is not empty; fix: choose a new --out-run-dir") from None
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    (run_dir / "snapshots").mkdir(exist_ok=True)
    return run_dir


def _tensors(parsed: Parsed, cfg: DoraModelConfig, file: str) -> tuple[Any, dict[str, torch.Tensor]]:
    """A state holding the imported weights (a fresh official head where the file has none) and the optimizer."""
    shapes = dora_param_shapes(cfg)
    has_head = any(k.startswith("head.") for k in parsed.student)
    expected = shapes if has_head else {k: v for k, v in shapes.items() if k.startswith("backbone.")}
    check_keys(expected, parsed.student, file, "student" if parsed.kind == "official checkpoint" else "model")
    check_keys(expected, parsed.teacher, file, "teacher")
    state = create_dora_state(cfg, "cpu", seed=0)
    tensors = state.weight_tensors()
    for role, sd in (("student", parsed.student), ("teacher", parsed.teacher)):
        tensors.update({f"{role}.{k}": v for k, v in sd.items()})
    if not has_head:  # the teacher starts as a copy of the student, head included
        tensors.update({f"teacher.{k}": tensors[f"student.{k}"] for k in shapes if k.startswith("head.")})
    if parsed.center is not None:
        tensors["loss.center"] = parsed.center.detach().float().reshape(1, -1)
    state.load_weight_tensors(tensors, file)
    optim: dict[str, torch.Tensor] = {}
    if parsed.optimizer is not None and has_head:
        optim = optimizer_tensors(parsed.optimizer, trainable_param_names(cfg), shapes, file)
        state.load_optimizer_tensors(optim, file)
    return state, optim


def plan_import(file: str | os.PathLike, out_dir: str | os.PathLike, video: str | None = None, name: str | None = None
                ) -> tuple[Path, Parsed, dict[str, Any]]:  # fmt: skip
    """The file read and checked, and the config.json its run would get (nothing is written)."""
    path = Path(file).absolute()
    parsed = parse_pth(load_pth(path), str(path))
    model, image_size = infer_model(parsed.teacher, parsed.args, str(path))
    source_video = video or str(parsed.args.get("data_path") or "") or "(no video: import again with --video)"
    run_dir = Path(out_dir).absolute()
    config = build_config(parsed, model, image_size, name or path.stem, os.path.abspath(source_video), run_dir)
    validate_run_config(config, str(run_dir / "config.json"))
    return path, parsed, config


def import_pth(file: str | os.PathLike, out_dir: str | os.PathLike, video: str | None = None, name: str | None = None,
               frame_cache: str | os.PathLike | None = None, cache_root: str | os.PathLike | None = None
               ) -> ImportResult:  # fmt: skip
    """Imports `file` into the new run folder `out_dir`. With a frame cache of the video (given, or found by the
    TF.js engine's naming rule under `cache_root`), the run also gets a snapshot of the tracker on one clip."""
    path, parsed, config = plan_import(file, out_dir, video, name)
    run_dir = Path(out_dir).absolute()
    state, optim = _tensors(parsed, DoraModelConfig.from_run_config(config), str(path))
    run_dir = _claim(run_dir)
    try:
        sidecar = _write_run(run_dir, path, parsed, config, state, optim)
        snapshot = _snapshot(run_dir, config, state, parsed.epoch, frame_cache, cache_root)
        rec = RunRecorder(run_dir)
        reason = f"imported from {path} ({parsed.kind}, epoch {parsed.epoch})"
        rec.event("stopped", reason=reason)
        rec.log(reason)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)  # a failed import leaves no half-written run behind
        raise
    return ImportResult(run_dir, sidecar, parsed.kind, config, snapshot)


def _snapshot(run_dir: Path, config: dict[str, Any], state: Any, epoch: int, frame_cache: Any, cache_root: Any
              ) -> Path | None:  # fmt: skip
    data = config["data"]
    try:
        folder = frame_cache or locate_run_frame_cache(data, cache_root)  # raw RGB24 or compact JPEG
        source = open_frame_source(folder)
    except FrameCacheError:
        if frame_cache:
            raise
        return None  # no cache of the video yet: the dashboard shows masks after the first training snapshot
    try:
        snapshot = inspect_snapshot(state, config, source, run_dir, 0, epoch)
    finally:
        source.close()
    rec = RunRecorder(run_dir)
    rec.event("snapshot", dir=str(snapshot))
    return snapshot


def _write_run(run_dir: Path, path: Path, parsed: Parsed, config: dict[str, Any], state: Any,
               optim: dict[str, torch.Tensor]) -> Path:  # fmt: skip
    write_json_atomic(run_dir / "config.json", config)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    imported = {"file": str(path), "sha256": digest, "kind": parsed.kind, "epoch": parsed.epoch}
    rec = RunRecorder(run_dir)
    versions = {"doraStudio": __version__, "torch": torch.__version__, "engine": "pytorch"}
    rec.start_info(config, versions, {"engine": "pytorch", "imported": imported})
    rec.event("started", pid=os.getpid())
    meta = {
        "epoch": parsed.epoch,
        "rng": {"algorithm": RNG_ALGORITHM, "state": {"seed": config["training"]["seed"], "iteration": 0}},
        "schedule": {"iteration": 0, "itersPerEpoch": 0, "totalIters": 0},
        "configSha256": config_sha256(run_dir),
        "extra": {"imported": imported},
    }
    sidecar = save_checkpoint(run_dir, 0, state.weight_tensors(), optim, meta)
    rec.event("checkpoint", file=str(sidecar))
    rec.write_info(statusHint="stopped")
    return sidecar
