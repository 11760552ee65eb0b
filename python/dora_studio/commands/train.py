"""``python -m dora_studio train``: train a run folder that the Node front door created (its resolved config.json is
the only config read). Spawned by the host with ``DORA_MESSAGE_FD=3``, it speaks the message protocol (``ready``
first, then progress/metrics/…; ``stop`` on stdin); run by hand it prints a progress line. Ctrl-C, SIGTERM or SIGUSR1
finishes the current step, writes a checkpoint and exits (a second Ctrl-C exits at once; resume from the last checkpoint).

usage: python -m dora_studio train --run-dir DIR [--resume SIDECAR|latest] [--max-steps N] [--snapshot-every N]
           [--frame-cache DIR] [--cache-root DIR] [--workers N] [--device auto|cuda|cpu|mps]
           [--precision auto|fp32|tf32|bf16|fp16]
       python -m dora_studio train --wait-start     (engine mode: run the `start` message read from stdin)
exit status: 0 completed or stopped, 1 failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine.channel import Channel, HostReader, StopFlag
from ..engine.protocol import PROTOCOL_VERSION
from ..distributed.env import dist_info
from ..run.trainer import TrainOptions


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dora_studio train", description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", type=Path, help="the run folder (holds config.json)")
    p.add_argument("--resume", help="checkpoint sidecar (checkpoints/step-NNNNNN.json) or 'latest'")
    p.add_argument("--max-steps", type=int, help="stop (with a checkpoint) after this many steps in total")
    p.add_argument("--snapshot-every", type=int, help="override runtime.snapshotEvery")
    p.add_argument("--frame-cache", type=Path, help="folder of a built frame cache (default: found from the config)")
    p.add_argument("--cache-root", type=Path, help="frame-cache root when the config has no data.frameCache.dir")
    p.add_argument("--workers", type=int, help="DataLoader worker processes (default: cores - 1, at most 8)")
    p.add_argument("--device", choices=("auto", "cuda", "cpu", "mps"), help="override runtime.device")
    p.add_argument("--precision", choices=("auto", "fp32", "tf32", "bf16", "fp16"), help="override runtime.precision")
    p.add_argument("--wait-start", action="store_true", help="wait for a `start` message on stdin (engine mode)")
    return p


def versions(run_dir: Path | None, device: str | None, precision: str | None) -> dict[str, str]:
    """`ready.versions`: python, torch, engine, and the device/precision the run will use when they can be known."""
    import torch

    out = {"doraStudio": __version__, "python": platform.python_version(), "torch": torch.__version__}
    out["engine"] = "pytorch"
    if torch.version.cuda:
        out["cuda"] = str(torch.version.cuda)
    try:
        runtime: dict[str, Any] = {}
        if run_dir is not None:
            runtime = json.loads((run_dir / "config.json").read_text("utf-8")).get("runtime", {})
        from ..dora.runtime import resolve_device, resolve_precision

        dev = resolve_device(device or runtime.get("device") or "auto")
        out["device"] = dev.type
        out["precision"] = resolve_precision(precision or runtime.get("precision") or "auto", dev).name
    except Exception:  # noqa: BLE001 — the session reports a bad device/precision/config with its fix
        pass
    return out


def install_signal_handlers(stop: StopFlag) -> None:
    def handler(signum: int, _frame: Any) -> None:
        if signum == signal.SIGINT and stop:
            raise KeyboardInterrupt  # a second Ctrl-C: leave now; the last checkpoint stays
        stop.set(f"stop requested ({signal.Signals(signum).name})")

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    # SIGUSR1: the checkpoint request of a Slurm job (Stop = `scancel --signal=USR1`, `#SBATCH --signal=USR1@120`
    # before the time limit); one rank receiving it is enough, the ranks agree on the step to stop after.
    signal.signal(signal.SIGUSR1, handler)


def options_from_start(message: dict[str, Any], base: argparse.Namespace) -> argparse.Namespace:
    """A `start` message (src/core/messages.ts StartMessage) as command-line options."""
    return argparse.Namespace(
        **{
            **vars(base),
            "run_dir": Path(message["runDir"]),
            "resume": message.get("resumeCheckpoint"),
            "max_steps": message.get("maxSteps"),
            "snapshot_every": message.get("snapshotEvery") or None,
            "cache_root": Path(message["cacheRoot"]) if message.get("cacheRoot") else base.cache_root,
            "device": message.get("device") or base.device,
            "precision": message.get("precision") or base.precision,
        }
    )


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.run_dir is None and not args.wait_start:
        parser().print_usage(sys.stderr)
        print("train: --run-dir is required (or --wait-start in engine mode)", file=sys.stderr)
        return 2
    channel = Channel.from_env()
    stop = StopFlag()
    install_signal_handlers(stop)
    dist = dist_info()
    info = versions(args.run_dir, args.device, args.precision)
    if dist.is_main:
        channel.send({"type": "ready", "protocol": PROTOCOL_VERSION, "pid": os.getpid(), "versions": info})
    if channel.connected:
        reader = HostReader(stop, lambda m: channel.send({"type": "warning", "message": m})).start()
        if args.wait_start:
            start = reader.starts.get()
            if start is None:
                return 0  # the host left before asking for anything
            args = options_from_start(start, args)
    elif args.wait_start:
        print("train: --wait-start needs the host's message channel (DORA_MESSAGE_FD)", file=sys.stderr)
        return 2
    from ..run.session import run_session

    opts = TrainOptions(
        run_dir=args.run_dir,
        resume=args.resume,
        max_steps=args.max_steps,
        snapshot_every=args.snapshot_every,
        frame_cache=args.frame_cache,
        cache_root=args.cache_root,
        workers=args.workers,
        device=args.device,
        precision=args.precision,
    )
    result = run_session(opts, channel, stop, dist, info)
    return 1 if result.reason == "failed" else 0
