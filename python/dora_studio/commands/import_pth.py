"""``python -m dora_studio import_pth <file.pth> --out-run-dir <dir>``: turn released DoRA/DINO weights into a run
folder both engines open (dashboard, evaluation, comparison, continued training).

<file.pth> is the official DoRA/DINO training checkpoint (`student`, `teacher`, `optimizer`, `dino_loss`, `epoch`,
`args`; `module.` prefixes as DDP saves them) or a plain ViT state dict (DINO's and DoRA's released ViT-S/16
backbones). Nothing in the file is executed: only tensors and plain values are unpickled.

options:
  --out-run-dir DIR   the run folder to create (must not exist, or be empty)
  --video FILE        the video the run's config points at (dashboard snapshots, evaluation, continued training);
                      default: the checkpoint's args.data_path
  --name NAME         run name (default: the file name)
  --frame-cache DIR   a built frame cache of the video: the run gets a snapshot of the tracker on one clip (masks,
                      attention, assignments in the dashboard); default: the video's cache if the TF.js engine's
                      naming rule finds one under --cache-root (default ~/.cache/dora-studio/frames)
  --cache-root DIR    where to look for that cache
  --json              print the result as one JSON line (for the Node front door)
  --plan              print the config.json the run would get as one JSON line and write nothing (the Node front
                      door builds the video's frame cache at its data.frameCache.shortSide first)
exit status: 0 imported; 1 the file cannot be imported (the message lists missing/unexpected keys); 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dora_studio import_pth", description=__doc__.split("\n\n")[0])
    p.add_argument("file", type=Path, help="the .pth file")
    p.add_argument("--out-run-dir", type=Path, required=True, help="the run folder to create")
    p.add_argument("--video", help="video for the run's config (default: the checkpoint's args.data_path)")
    p.add_argument("--name", help="run name (default: the file name without .pth)")
    p.add_argument("--frame-cache", type=Path, help="a built frame cache of the video (for the first snapshot)")
    p.add_argument("--cache-root", type=Path, help="frame-cache root to look for the video's cache in")
    p.add_argument("--json", action="store_true", help="print the result as one JSON line")
    p.add_argument("--plan", action="store_true", help="print the config the run would get; write nothing")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from ..run.import_run import import_pth, plan_import

    try:
        if args.plan:
            print(json.dumps(plan_import(args.file, args.out_run_dir, args.video, args.name)[2]))
            return 0
        result = import_pth(args.file, args.out_run_dir, args.video, args.name, args.frame_cache, args.cache_root)
    except FileNotFoundError as e:
        print(f"import: {e.filename or e}: no such file; fix: check the path", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 — every failure is one clear line; nothing was written
        print(f"import: {args.file}: {e}", file=sys.stderr)
        return 1
    m = result.config["model"]
    summary = {
        "runDir": str(result.run_dir),
        "checkpoint": str(result.sidecar),
        "kind": result.kind,
        "model": {k: m[k] for k in ("arch", "embedDim", "depth", "numHeads", "patchSize")},
        "imageSize": result.config["data"]["globalSize"],
        "video": result.config["data"]["video"],
        "snapshot": str(result.snapshot) if result.snapshot else None,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"imported {args.file} ({result.kind}, {m['arch']} {m['embedDim']}/{m['depth']}/{m['numHeads']}, "
            f"patch {m['patchSize']}) into {result.run_dir}\n  checkpoint {result.sidecar}"
        )
        print(f"  snapshot {result.snapshot}" if result.snapshot else "  no snapshot: the video has no frame cache yet")
    return 0
