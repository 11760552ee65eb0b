"""Helpers shared by the run/data/engine tests: the TypeScript reference (python/tests/node/reference.ts, run with tsx),
a tiny frame cache and a tiny resolved config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
PYTHON_DIR = REPO / "python"


def ts_reference(op: str, **request: Any) -> Any:
    """Answer of the TF.js engine's own code for one request (see reference.ts)."""
    proc = subprocess.run(
        ["node", "--import", "tsx", str(PYTHON_DIR / "tests" / "node" / "reference.ts")],
        input=json.dumps({"op": op, **request}),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    if proc.returncode != 0:
        raise AssertionError(f"reference.ts {op} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def engine_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DORA_MESSAGE_FD"}
    env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def python_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "dora_studio", *args]


def write_raw_cache(
    cache_dir: Path, frames: np.ndarray, frames_per_chunk: int = 7, fps: float = 30.0, source: str = "/v.mp4"
) -> Path:
    """A version-1 RGB24 frame cache laid out exactly as frameCache.ts writes it (chunks, luma.f32, index.json)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    n, h, w, _ = frames.shape
    for c in range(0, n, frames_per_chunk):
        (cache_dir / f"frames-{c // frames_per_chunk:05d}.rgb").write_bytes(frames[c : c + frames_per_chunk].tobytes())
    luma = 77 * frames[:, ::2, ::2, 0].astype(np.float64) + 150 * frames[:, ::2, ::2, 1] + 29 * frames[:, ::2, ::2, 2]
    (cache_dir / "luma.f32").write_bytes((luma.mean(axis=(1, 2)) / 256).astype("<f4").tobytes())
    index = {
        "version": 1,
        "format": "rgb24",
        "source": {"path": source, "size": 1, "mtimeMs": 0},
        "settings": {"shortSide": min(h, w), "scaleFilter": ""},
        "width": w,
        "height": h,
        "frameBytes": w * h * 3,
        "framesPerChunk": frames_per_chunk,
        "fps": fps,
        "expectedFrames": n,
        "completedFrames": n,
        "complete": True,
        "probe": {},
        "createdAt": "",
        "updatedAt": "",
    }
    (cache_dir / "index.json").write_text(json.dumps(index))
    return cache_dir


def moving_frames(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """Textured frames with a bright square moving across them (something to track)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 200, size=(h, w, 3), dtype=np.uint8)
    frames = np.repeat(base[None], n, axis=0)
    for t in range(n):
        x = (t * 3) % max(1, w - 12)
        frames[t, h // 3 : h // 3 + 12, x : x + 12] = (250, 30, 30)
    return frames


class Workspace:
    """A tiny video (ffmpeg), its frame cache built by the TF.js engine's code, and a `demo`-preset config file
    template; `make_run` creates run folders exactly as the Node front door does."""

    def __init__(self, root: Path) -> None:
        import shutil

        self.root = root
        self.video = root / "walk.mp4"
        self.cache_root = root / "frames"
        ffmpeg = shutil.which("ffmpeg") or "ffmpeg"  # a system dependency (scripts/install-system-deps.sh)
        subprocess.run(
            [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=96x64:r=10:d=8", "-pix_fmt", "yuv420p",
             str(self.video)],
            check=True,
        )  # fmt: skip
        ts_reference("buildCache", video=str(self.video), cacheRoot=str(self.cache_root), shortSide=96, indices=[0])
        self.count = 0

    def config_file(self, max_frames: int, **runtime: Any) -> dict[str, Any]:
        return {
            "name": "pyrun",
            "preset": "demo",
            "data": {"video": str(self.video), "maxFrames": max_frames, "frameCache": {"dir": str(self.cache_root)}},
            "runtime": {"runsDir": str(self.root / "runs"), "logEvery": 1, "checkpointEvery": 4, "snapshotEvery": 3,
                        "keepCheckpoints": 2, **runtime},
        }  # fmt: skip

    def make_run(self, max_frames: int = 44, **runtime: Any) -> Path:
        """A run folder with its resolved config.json. max_frames 44 → 12 clip starts → 6 steps (batch 2)."""
        self.count += 1
        file = self.config_file(max_frames, **runtime)
        return Path(ts_reference("makeRun", dir=str(self.root), name=f"pyrun{self.count}", file=file)["runDir"])


def train_cmd(run_dir: Path, *extra: str, workers: int = 0) -> list[str]:
    """The engine on a run folder; batches built in the training process unless `workers` loader processes."""
    return python_cmd("train", "--run-dir", str(run_dir), "--workers", str(workers), *extra)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
