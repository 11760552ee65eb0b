"""Checkpoints in the TF.js engine's layout (`src/trainer/run/checkpoint.ts`, BRIEF contract 4), so either engine
resumes, evaluates and inspects the other's:

    checkpoints/step-NNNNNN.safetensors        `student.<name>`, `teacher.<name>` (official MultiCropWrapper names:
                                               `student.backbone.*` is a DINO/DoRA ViT state_dict), `loss.center`
    checkpoints/step-NNNNNN.optim.safetensors  `exp_avg.<name>`, `exp_avg_sq.<name>`, `step.<name>` (I64 scalar)
    checkpoints/step-NNNNNN.json               the sidecar, written LAST: both sha256s, rng, schedule, configSha256

Every file is written atomically; a failed data write removes both data files (no sidecar means incomplete). Names
read from a sidecar are untrusted (contract 6): they must be plain names that resolve inside `checkpoints/`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch

from ..io import safetensors
from .atomic import write_file_atomic, write_json_atomic
from .lock import iso_now
from .paths import UnsafePathError, checkpoint_paths, parse_sidecar_name, run_paths, safe_child
from .records import RUN_DIR_FORMAT_VERSION

CENTER_TENSOR = "loss.center"
RNG_ALGORITHM = "dora-studio per-iteration streams (seed, iteration)"


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message names the file, the cause and the fix."""


@dataclass
class Checkpoint:
    sidecar_path: Path
    sidecar: dict[str, Any]
    weights: dict[str, torch.Tensor]
    optimizer: dict[str, torch.Tensor]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_checkpoint(
    run_dir: str | os.PathLike,
    step: int,
    weights: Mapping[str, torch.Tensor],
    optimizer: Mapping[str, torch.Tensor],
    meta: dict[str, Any],
) -> Path:
    """Writes weights and optimiser files, then the sidecar; returns the sidecar path.
    `meta`: epoch, rng, schedule, configSha256, and optional `extra` sidecar fields."""
    weights_path, optim_path, sidecar_path = checkpoint_paths(run_dir, step)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    w_bytes = safetensors.serialize(
        weights,
        {
            "format": "dora-studio checkpoint",
            "student": "student.<state_dict name>",
            "teacher": "teacher.<state_dict name>",
        },
    )
    o_bytes = safetensors.serialize(
        optimizer, {"format": "dora-studio AdamW state (torch 1.13 names: exp_avg, exp_avg_sq, step)"}
    )
    try:
        write_file_atomic(weights_path, w_bytes)
        write_file_atomic(optim_path, o_bytes)
    except BaseException:
        weights_path.unlink(missing_ok=True)
        optim_path.unlink(missing_ok=True)
        raise
    sidecar = {
        "formatVersion": RUN_DIR_FORMAT_VERSION,
        "step": step,
        "epoch": meta["epoch"],
        "time": iso_now(),
        "weightsFile": weights_path.name,
        "weightsSha256": sha256(w_bytes),
        "optimizerFile": optim_path.name,
        "optimizerSha256": sha256(o_bytes),
        "centerTensor": CENTER_TENSOR,
        "rng": meta["rng"],
        "schedule": meta["schedule"],
        "configSha256": meta["configSha256"],
        **meta.get("extra", {}),
    }
    write_json_atomic(sidecar_path, sidecar)
    return sidecar_path


_SIDECAR_FIELDS = {
    "formatVersion": (int, float),
    "step": int,
    "epoch": (int, float),
    "time": str,
    "weightsFile": str,
    "weightsSha256": str,
    "optimizerFile": str,
    "optimizerSha256": str,
    "centerTensor": str,
    "rng": dict,
    "schedule": dict,
    "configSha256": str,
}


def is_sidecar(value: Any) -> bool:
    """`isCheckpointSidecar` of runRecords.ts."""
    return (
        isinstance(value, dict)
        and all(isinstance(value.get(k), t) and not isinstance(value.get(k), bool) for k, t in _SIDECAR_FIELDS.items())
        and value["step"] >= 0
    )


def read_sidecar(path: str | os.PathLike) -> dict[str, Any]:
    fix = "pass the .json sidecar of a complete checkpoint (checkpoints/step-NNNNNN.json)"
    try:
        value = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: cannot read the checkpoint sidecar ({e}); fix: {fix}") from e
    if not is_sidecar(value):
        raise CheckpointError(f"{path}: is not a checkpoint sidecar; fix: {fix}")
    return value


def load_checkpoint(sidecar_path: str | os.PathLike) -> Checkpoint:
    """Reads and verifies a checkpoint (checksums, safe names); tensors on the CPU."""
    path = Path(sidecar_path)
    sidecar = read_sidecar(path)
    folder = path.parent
    blobs = []
    for key, sha_key in (("weightsFile", "weightsSha256"), ("optimizerFile", "optimizerSha256")):
        try:
            file = safe_child(folder, sidecar[key], key)
            data = file.read_bytes()
        except (UnsafePathError, OSError) as e:
            raise CheckpointError(
                f"{path}: {key} {sidecar[key]!r} cannot be read ({e}); fix: use another checkpoint"
            ) from e
        if sha256(data) != sidecar[sha_key]:
            raise CheckpointError(
                f"{path}: checksum mismatch: {file.name} changed or is damaged; "
                "fix: resume from an earlier checkpoint of this run"
            )
        blobs.append(safetensors.parse(data, str(file)).tensors)
    return Checkpoint(path, sidecar, blobs[0], blobs[1])


def list_checkpoints(run_dir: str | os.PathLike) -> list[tuple[int, Path, dict[str, Any]]]:
    """Complete checkpoints (valid sidecar whose step matches its name), ascending by step."""
    folder = run_paths(run_dir).checkpoints
    out = []
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    for name in names:
        step = parse_sidecar_name(name)
        if step is None:
            continue
        try:
            sidecar = json.loads((folder / name).read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if is_sidecar(sidecar) and sidecar["step"] == step:
            out.append((step, folder / name, sidecar))
    return sorted(out, key=lambda e: e[0])


def checkpoints_to_prune(entries: list, keep: int) -> list:
    """The oldest entries beyond the newest `keep` (keep <= 0 keeps all)."""
    if keep <= 0:
        return []
    ordered = sorted(entries, key=lambda e: e[0])
    return ordered[: max(0, len(ordered) - keep)]


def delete_checkpoint(sidecar_path: Path, sidecar: dict[str, Any]) -> list[str]:
    """Sidecar first (it stops looking complete), then the data files, the eval sidecar and attention folder.
    Names that are not plain or that leave `checkpoints/` are not touched; they are returned as problems."""
    folder = sidecar_path.parent
    problems = []
    sidecar_path.unlink(missing_ok=True)
    for key in ("weightsFile", "optimizerFile"):
        try:
            safe_child(folder, sidecar.get(key), key).unlink(missing_ok=True)
        except UnsafePathError as e:
            problems.append(str(e))
    stem = sidecar_path.name[: -len(".json")]
    (folder / f"{stem}.eval.json").unlink(missing_ok=True)
    attention = folder / f"{stem}.attention"
    if attention.is_symlink():
        attention.unlink()
    elif attention.is_dir():
        shutil.rmtree(attention, ignore_errors=True)
    return problems


def latest_checkpoint(run_dir: str | os.PathLike) -> Path:
    entries = list_checkpoints(run_dir)
    if not entries:
        raise CheckpointError(
            f"{run_dir}: no complete checkpoint to resume from; "
            "fix: start a new run instead, or pass --resume with the sidecar of a checkpoint"
        )
    return entries[-1][1]


def config_sha256(run_dir: str | os.PathLike) -> str:
    return sha256(run_paths(run_dir).config.read_bytes())
