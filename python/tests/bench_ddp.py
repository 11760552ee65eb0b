"""Benchmark, not a test: what DDP costs on this machine, all measured in the same run (results in docs/scaling.md).
pytest does not collect it (its name does not start with `test_`); run it by hand:

    PYTHONPATH=python /usr/bin/python3 python/tests/bench_ddp.py [--preset cpu-small] [--steps 6] [--batch 2]

Three runs of the same preset on the same frame cache, each `--workers 0` (every process builds its own batches):
  A  1 process  × b clips           (the anchor)
  B  2 processes × b clips (gloo)   global batch 2b: what a second process adds
  C  1 process  × 2b clips          the same global batch as B in one process
and the time of one gloo all-reduce of the model's gradients (the student's parameter count) between 2 processes.
Step time = median `secPerStep` of steps 2..N from metrics.jsonl (it includes the loader wait). The ranks of B are
started with torchrun's variables (RANK/WORLD_SIZE/…) — the engine cannot tell them from torchrun's. Prints one JSON
line; on a shared machine only the ratios mean much."""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from pyrun_support import engine_env, python_cmd, read_jsonl, ts_reference  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_workspace(root: Path, preset: str, short_side: int) -> tuple[Path, Path]:
    video = root / "walk.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=256x160:r=15:d=24", "-pix_fmt", "yuv420p",
                    str(video)], check=True)  # fmt: skip
    cache = root / "frames"
    ts_reference("buildCache", video=str(video), cacheRoot=str(cache), shortSide=short_side, indices=[0])
    return video, cache


def make_run(root: Path, preset: str, video: Path, cache: Path, batch: int, name: str) -> Path:
    file = {
        "name": name,
        "preset": preset,
        "data": {"video": str(video), "frameCache": {"dir": str(cache)}},
        "training": {"batchClips": batch},
        "runtime": {"runsDir": str(root / "runs"), "logEvery": 1, "snapshotEvery": 100000, "checkpointEvery": 100000},
    }
    return Path(ts_reference("makeRun", dir=str(root), name=name, file=file)["runDir"])


def train(run: Path, steps: int, world: int) -> dict:
    args = python_cmd("train", "--run-dir", str(run), "--workers", "0", "--max-steps", str(steps))
    port = str(free_port())
    procs = []
    for rank in range(world):
        extra = {}
        if world > 1:
            extra = {"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
                     "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port}  # fmt: skip
        procs.append(subprocess.Popen(args, env=engine_env(**extra), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for p in procs:
        _, err = p.communicate(timeout=1800)
        if p.returncode != 0:
            raise SystemExit(f"training failed: {err.decode()[-2000:]}")
    records = read_jsonl(run / "metrics.jsonl")[1:]  # step 1 warms up
    return {
        "secPerStep": statistics.median(r["secPerStep"] for r in records),
        "loaderWaitSec": statistics.median(r["loaderWaitSec"] for r in records),
        "steps": len(records),
    }


ALL_REDUCE = """
import os, statistics, sys, time, torch, torch.distributed as dist
dist.init_process_group("gloo", rank=int(os.environ["RANK"]), world_size=2)
torch.set_num_threads(1)
x = torch.ones(int(sys.argv[1]))
times = []
for _ in range(7):
    dist.barrier(); t0 = time.perf_counter(); dist.all_reduce(x); times.append(time.perf_counter() - t0)
if dist.get_rank() == 0:
    print(statistics.median(times[2:]))
"""


def all_reduce_seconds(numel: int) -> float:
    port = str(free_port())
    env = lambda r: {**os.environ, "RANK": str(r), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port}  # noqa: E731
    procs = [subprocess.Popen([sys.executable, "-c", ALL_REDUCE, str(numel)], env=env(r), stdout=subprocess.PIPE)
             for r in range(2)]  # fmt: skip
    out = [p.communicate(timeout=600)[0] for p in procs]
    return float(out[0].decode().strip())


def student_parameters(run: Path) -> int:
    from dora_studio.model.dora_model import DoraModelConfig, build_dora_networks

    config = json.loads((run / "config.json").read_text())
    student, _ = build_dora_networks(DoraModelConfig.from_run_config(config), "cpu", 0)
    return sum(p.numel() for p in student.parameters() if p.requires_grad)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="cpu-small")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--batch", type=int, default=2, help="clips per process (b)")
    args = p.parse_args()
    short_side = {"demo": 96, "cpu-small": 128}.get(args.preset, 128)
    with tempfile.TemporaryDirectory(prefix="bench-ddp-") as tmp:
        root = Path(tmp)
        video, cache = make_workspace(root, args.preset, short_side)
        b = args.batch
        runs = {
            "A_1proc_b": (make_run(root, args.preset, video, cache, b, "a"), 1),
            "B_2proc_b": (make_run(root, args.preset, video, cache, b, "b"), 2),
            "C_1proc_2b": (make_run(root, args.preset, video, cache, 2 * b, "c"), 1),
        }
        t0 = time.monotonic()
        result = {name: train(run, args.steps, world) for name, (run, world) in runs.items()}
        numel = student_parameters(runs["A_1proc_b"][0])
        reduce_s = all_reduce_seconds(numel)
    a, bb, c = (result[k]["secPerStep"] for k in ("A_1proc_b", "B_2proc_b", "C_1proc_2b"))
    line = {
        "bench": "ddp",
        "preset": args.preset,
        "clipsPerProcess": b,
        "cores": os.cpu_count(),
        **result,
        "studentParameters": numel,
        "allReduceSec": reduce_s,
        "ratio_B_over_A": bb / a,
        "ratio_B_over_C": bb / c,
        "allReduceShareOfB": reduce_s / bb,
        "benchSeconds": time.monotonic() - t0,
        "machine": "shared" if os.getloadavg()[0] > (os.cpu_count() or 1) else "quiet",
        "loadavg1": os.getloadavg()[0],
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
