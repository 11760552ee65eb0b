"""``python -m dora_studio inspect``: each checkpoint's teacher and tracker on the same frames (one clip of centre
crops, the middle of the video unless --clip-start), written in the snapshot format — the PyTorch counterpart of
``dora inspect`` (src/trainer/run/inspect.ts), for checkpoints of either engine.

usage: python -m dora_studio inspect --out DIR --checkpoint SIDECAR --frame-cache DIR [--checkpoint … --frame-cache …]
           [--clip-start N] [--device auto|cuda|cpu|mps] [--json]
One --frame-cache per --checkpoint: the cache of the video to inspect at that checkpoint's data.frameCache.shortSide
(the Node front door builds it). Writes <out>/<run id>-step-<step>/ per checkpoint and <out>/inspect.json last.
exit status: 0 done; 1 a checkpoint or cache cannot be used (one line names it and the fix); 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dora_studio inspect", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder for the snapshot folders and inspect.json")
    p.add_argument("--checkpoint", action="append", required=True, help="a checkpoint sidecar (repeatable)")
    p.add_argument("--frame-cache", action="append", required=True, type=Path, help="frame cache, one per checkpoint")
    p.add_argument("--video", help="the video the caches were built from (recorded in inspect.json)")
    p.add_argument("--clip-start", type=int, help="first frame of the clip (default: the middle of the video)")
    p.add_argument("--device", choices=("auto", "cuda", "cpu", "mps"), default="cpu")
    p.add_argument("--json", action="store_true", help="print the results as one JSON line")
    return p


def inspect_one(sidecar: str, cache: Path, out: Path, device: str, clip_start: int | None) -> dict[str, Any]:
    from ..data.frame_cache import open_frame_source
    from ..dora.runtime import resolve_device
    from ..dora.state import create_dora_state
    from ..model.dora_model import DoraModelConfig
    from ..run.checkpoint import load_checkpoint
    from ..run.config import load_run_config
    from ..run.inspect import inspect_snapshot

    path = Path(sidecar).resolve()
    run_dir = path.parent.parent
    config = load_run_config(run_dir)
    ckpt = load_checkpoint(path)
    state = create_dora_state(DoraModelConfig.from_run_config(config), resolve_device(device), seed=0)
    state.load_weight_tensors(ckpt.weights, str(path), ckpt.sidecar["centerTensor"])
    step = int(ckpt.sidecar["step"])
    label = f"{run_dir.name}-step-{step}"
    source = open_frame_source(cache)
    try:
        folder = inspect_snapshot(
            state, config, source, run_dir, step, int(ckpt.sidecar["epoch"]), clip_start, out / label
        )
    finally:
        source.close()
    return {"checkpoint": str(path), "label": label, "step": step, "dir": str(folder)}


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if len(args.checkpoint) != len(args.frame_cache):
        print("inspect: give one --frame-cache per --checkpoint", file=sys.stderr)
        return 2
    from ..run.atomic import write_json_atomic

    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for sidecar, cache in zip(args.checkpoint, args.frame_cache):
        try:
            results.append(inspect_one(sidecar, cache, args.out, args.device, args.clip_start))
        except Exception as e:  # noqa: BLE001 — one clear line per unusable checkpoint or cache
            print(f"inspect: {sidecar}: {e}", file=sys.stderr)
            return 1
    write_json_atomic(args.out / "inspect.json", {"video": args.video, "engine": "pytorch", "results": results})
    if args.json:
        print(json.dumps(results))
    else:
        for r in results:
            print(f"{r['label']}: {r['dir']}")
    return 0
