"""Times the OFFICIAL DoRA step in the same run as ours (../shared/anchors: time_official.py on CPU,
time_official_gpu.py on CUDA), as a subprocess on the same shapes. The official code itself is never imported here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AnchorShapes:
    embed_dim: int
    depth: int
    heads: int
    patch: int
    img: int
    frames: int
    batch: int
    local_crops: int
    out_dim: int
    hidden_dim: int
    bottleneck_dim: int

    def args(self, gpu: bool) -> list[str]:
        a = ["--embed-dim", self.embed_dim, "--depth", self.depth, "--heads", self.heads, "--patch", self.patch]
        a += ["--img", self.img, "--frames", self.frames, "--batch", self.batch, "--local-crops", self.local_crops]
        a += ["--out-dim", self.out_dim]
        if not gpu:  # the GPU script always uses the official head 2048/256
            a += ["--hidden-dim", self.hidden_dim, "--bottleneck-dim", self.bottleneck_dim]
        return [str(x) for x in a]


def find_anchors(explicit: str | None, repo_python_dir: str) -> str | None:
    candidates = [explicit] if explicit else []
    root = os.path.dirname(repo_python_dir)
    candidates += [os.path.join(root, "..", "shared", "anchors"), os.path.join(root, "shared", "anchors")]
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, "time_official.py")):
            return os.path.abspath(c)
    return None


def time_official(
    anchors: str, official: str, shapes: AnchorShapes, gpu: bool, threads: int | None, warmup: int, steps: int,
    modes: str = "fp16,fp32", timeout: float = 3600,
) -> list[dict[str, Any]]:  # fmt: skip
    """Runs the anchor with ``threads`` torch threads (CPU) in this process's environment; returns its JSON result(s)
    (one per mode on the GPU). Raises RuntimeError with the anchor's last lines."""
    script = os.path.join(anchors, "time_official_gpu.py" if gpu else "time_official.py")
    with tempfile.TemporaryDirectory(prefix="dora-anchor-") as tmp:
        out = os.path.join(tmp, "anchor.jsonl")
        cmd = [sys.executable, script, "--official", official, *shapes.args(gpu), "--warmup", str(warmup)]
        cmd += ["--steps", str(steps), "--json", out]
        cmd += ["--modes", modes] if gpu else ["--threads", str(threads or 0)]
        env = dict(os.environ)  # the same BLAS/OpenMP environment as ours (the Node side sets it for --threads)
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        if r.returncode != 0 or not os.path.exists(out):
            tail = "\n".join((r.stderr or r.stdout).strip().splitlines()[-5:])
            raise RuntimeError(f"the official anchor {os.path.basename(script)} failed (exit {r.returncode}): {tail}")
        with open(out) as f:
            return [json.loads(line) for line in f if line.strip()]
