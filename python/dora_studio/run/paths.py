"""Paths of a run folder (`src/core/runDir.ts`: runPaths, stepLabel, checkpointPaths, snapshotPaths) and the one rule
for names read from a run folder (BRIEF contract 6): a run folder is untrusted input, so a name found in it must be a
plain file name, and the resolved path (symlinks too) must stay inside the folder it is looked up in."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


class UnsafePathError(ValueError):
    """A name from a run folder that is not a plain file name or that leads outside its folder."""


@dataclass(frozen=True)
class RunPaths:
    dir: Path
    info: Path
    config: Path
    metrics: Path
    events: Path
    log: Path
    lock: Path
    checkpoints: Path
    snapshots: Path
    logs: Path


def run_paths(run_dir: str | os.PathLike) -> RunPaths:
    d = Path(run_dir)
    return RunPaths(
        dir=d,
        info=d / "run.json",
        config=d / "config.json",
        metrics=d / "metrics.jsonl",
        events=d / "events.jsonl",
        log=d / "trainer.log",
        lock=d / "run.lock",
        checkpoints=d / "checkpoints",
        snapshots=d / "snapshots",
        logs=d / "logs",
    )


def step_label(step: int) -> str:
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step must be an integer >= 0, got {step!r}")
    return f"step-{step:06d}"


_SIDECAR = re.compile(r"^step-(\d{6,})\.json$")


def parse_sidecar_name(name: str) -> int | None:
    """The step of `step-000120.json`; None for any other name (eval sidecars, data files, temp files)."""
    m = _SIDECAR.match(name)
    return int(m.group(1)) if m else None


def checkpoint_paths(run_dir: str | os.PathLike, step: int) -> tuple[Path, Path, Path]:
    """(weights, optimizer, sidecar) of a step."""
    base = run_paths(run_dir).checkpoints / step_label(step)
    return Path(f"{base}.safetensors"), Path(f"{base}.optim.safetensors"), Path(f"{base}.json")


def snapshot_paths(run_dir: str | os.PathLike, step: int) -> tuple[Path, Path]:
    """(final folder, temp folder `.step-NNNNNN.partial`)."""
    snaps = run_paths(run_dir).snapshots
    return snaps / step_label(step), snaps / f".{step_label(step)}.partial"


def safe_child(folder: str | os.PathLike, name: object, what: str = "file name") -> Path:
    """`folder/name` for a plain `name` whose real path stays inside the real `folder`; else UnsafePathError."""
    if (
        not isinstance(name, str)
        or name in ("", ".", "..")
        or "/" in name
        or "\\" in name
        or "\0" in name
        or (os.altsep and os.altsep in name)
    ):
        raise UnsafePathError(f"{folder}: {what} {name!r} is not a plain file name")
    root = os.path.realpath(folder)
    resolved = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, resolved]) != root or resolved == root:
        raise UnsafePathError(f"{folder}: {what} {name!r} resolves to {resolved}, outside the folder")
    return Path(resolved)


def inside(folder: str | os.PathLike, path: str | os.PathLike, what: str = "path") -> Path:
    """The real path of `path`, required to be inside the real `folder` (e.g. a --resume sidecar in its run)."""
    root = os.path.realpath(folder)
    resolved = os.path.realpath(path)
    if os.path.commonpath([root, resolved]) != root or resolved == root:
        raise UnsafePathError(f"{what} {path} resolves to {resolved}, outside {folder}")
    return Path(resolved)
