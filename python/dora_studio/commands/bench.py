"""``python -m dora_studio bench --config-json FILE [options]``: times the DoRA step (teacher, tracker, student
forward/backward, AdamW, EMA, centre) of a RESOLVED config (the Node CLI resolves presets and files and passes the
result) on random inputs already on the device — no data loading, so ``secPerStepMedian`` is the loader-free step
time the data loader is compared with. Prints one JSON line per precision, the TF.js bench's shape plus the engine's
fields; with ``--official DIR`` (the exported official files) the OFFICIAL step is timed in the same run on the same
shapes (../shared/anchors) and the ratio is reported."""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
from typing import Any

import torch

from ..dora.memory import micro_batch_for_config
from ..dora.runtime import Precision, RuntimeSetupError, resolve_device, resolve_precision
from ..dora.state import create_dora_state
from ..dora.train_step import DoraBatch, DoraStepHyper, StepOptions, dora_train_step
from ..model.dora_model import ConfigFieldError, DoraModelConfig
from ._anchor import AnchorShapes, find_anchors, time_official

OFFICIAL_FILES = ("main.py", "utils.py", "vision_transformer.py", "sinkhorn_knopp.py")
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def hyper_of(config: dict[str, Any]) -> DoraStepHyper:
    """Past the default last-layer freeze (epoch 1): the full step, as the anchor times it."""
    return DoraStepHyper.from_run_config(config, 1, 1e-4, 0.04, 0.996, float(config["training"]["teacherTemp"]))


def time_ours(
    config: dict[str, Any], device: torch.device, precision: Precision, micro: str, warmup: int, steps: int, seed: int
) -> dict[str, Any]:
    cfg = DoraModelConfig.from_run_config(config)
    data, b = config["data"], int(config["training"]["batchClips"])
    f, g, l, nl = int(data["framesPerClip"]), int(data["globalSize"]), int(data["localSize"]), int(data["localCrops"])
    k = int(config["dora"]["objects"]) if config["dora"]["tracker"] else 1
    gen = torch.Generator().manual_seed(seed)
    batch_global = torch.randn(b, f, 3, g, g, generator=gen).to(device)
    batch_local = torch.randn(nl, b, f, 3, l, l, generator=gen).to(device)
    precision.apply_matmul_settings()
    state = create_dora_state(cfg, device, seed=seed, precision=precision)
    hyper, rng = hyper_of(config), random.Random(seed)
    mb, note = micro_batch_for_config(config, cfg, device, precision, None if micro == "config" else micro)
    times: list[float] = []
    for i in range(warmup + steps):
        if i == warmup and device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        heads = rng.sample(range(cfg.vit.num_heads), int(config["dora"]["objects"]))
        _sync(device)
        t0 = time.perf_counter()
        outcome = dora_train_step(state, DoraBatch(batch_global, batch_local, heads), hyper, StepOptions(mb, precision))
        _sync(device)
        t1 = time.perf_counter()
        outcome.check_finite()
        mb = outcome.micro_batch
        if i >= warmup:
            times.append(t1 - t0)
    result = {"times": times, "microBatch": mb, "microBatchNote": note, "images": b * f * (1 + k + nl), "k": k}
    if device.type == "cuda":
        result["peakDeviceMemMB"] = round(torch.cuda.max_memory_allocated(device) / 2**20)
    return result


def shapes_line(config: dict[str, Any], k: int) -> str:
    m, d, t = config["model"], config["data"], config["training"]
    return (
        f"{m['embedDim']}/{m['depth']}/{m['numHeads']} p{m['patchSize']}, B{t['batchClips']} F{d['framesPerClip']} k{k}, "
        f"global {d['globalSize']}, {d['localCrops']}×{d['localSize']}, out {m['head']['outDim']}"
    )


def anchor_shapes(config: dict[str, Any]) -> AnchorShapes:
    m, d = config["model"], config["data"]
    h = m["head"]
    return AnchorShapes(
        m["embedDim"], m["depth"], m["numHeads"], m["patchSize"], d["globalSize"], d["framesPerClip"],
        config["training"]["batchClips"], d["localCrops"], h["outDim"], h["hiddenDim"], h["bottleneckDim"],
    )  # fmt: skip


def _official_rounds(args: argparse.Namespace, config: dict[str, Any], gpu: bool) -> tuple[list[dict[str, Any]], str]:
    """One anchor run (all modes on the GPU); returns (results, note)."""
    if not args.official:
        return (
            [],
            "official step not timed: pass --official <dir> with the exported official files (../shared/anchors/README.md)",
        )
    anchors = find_anchors(args.anchors, PYTHON_DIR)
    if anchors is None:
        return [], "official step not timed: ../shared/anchors/time_official.py not found (pass --anchors <dir>)"
    shapes = anchor_shapes(config)
    if int(config["data"]["localSize"]) != shapes.img // 2:
        return (
            [],
            f"official step not timed: it uses local crops of globalSize/2 = {shapes.img // 2} px, this config {config['data']['localSize']}",
        )
    threads = args.threads or torch.get_num_threads()  # the anchor runs with as many threads as we do
    return time_official(anchors, args.official, shapes, gpu, threads, args.warmup, args.steps), ""


def _line(config, name, device, precision, rounds, officials, note, threads) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    times = [t for r in rounds for t in r["times"]]
    median = statistics.median(times)
    line: dict[str, Any] = {
        "bench": "dora-step",
        "engine": "pytorch",
        "backend": f"pytorch-{device.type}",
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else device.type,
        "precision": precision.name,
        "config": name,
        "steps": len(times),
        "secPerStepMedian": round(median, 4),
        "secPerStepMin": round(min(times), 4),
        "imgPerSec": round(rounds[0]["images"] / median, 2),
        "peakRssMB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "shapes": shapes_line(config, rounds[0]["k"]),
        "microBatch": rounds[-1]["microBatch"],
        "loaderFreeSecPerStep": round(median, 4),
        "threads": threads,
        "torch": torch.__version__,
        "roundsSecPerStep": [round(statistics.median(r["times"]), 4) for r in rounds],
    }
    if rounds[0].get("microBatchNote"):
        line["microBatchNote"] = rounds[0]["microBatchNote"]
    if "peakDeviceMemMB" in rounds[-1]:
        line["peakDeviceMemMB"] = rounds[-1]["peakDeviceMemMB"]
    if officials:
        by_mode: dict[str, list[float]] = {}
        for o in officials:
            by_mode.setdefault(o.get("mode", "fp32-cpu"), []).append(o["step_s_median"])
        line["official"] = {
            m: {"secPerStepMedian": round(statistics.median(v), 4), "rounds": v} for m, v in by_mode.items()
        }
        ratios = {m: round(median / statistics.median(v), 3) for m, v in by_mode.items()}
        line["ratioToOfficial"] = ratios if len(ratios) > 1 else next(iter(ratios.values()))
        peaks = {o["mode"]: o["peak_mem_GiB"] for o in officials if "peak_mem_GiB" in o}
        if peaks:
            line["officialPeakMemGiB"] = peaks
    else:
        line["official"], line["ratioToOfficial"], line["officialNote"] = None, None, note
    return line


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m dora_studio bench", description=__doc__)
    ap.add_argument("--config-json", required=True, help="a resolved config (what the Node CLI writes as config.json)")
    ap.add_argument("--config-name", default=None, help="the name shown in the result (preset or file)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--precision", default="auto", help="auto, fp32, tf32, bf16, fp16, or a comma list")
    ap.add_argument("--micro-batch", default="config", help="config (training.microBatch), auto, or a number")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="alternate ours/official this many times")
    ap.add_argument("--threads", type=int, default=None, help="torch threads here and in the anchor")
    ap.add_argument("--official", default=None, help="folder with the exported official files (times the anchor)")
    ap.add_argument("--anchors", default=None, help="folder with time_official*.py (default ../shared/anchors)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    with open(args.config_json) as f:
        config = json.load(f)
    try:
        device = resolve_device(args.device)
        precisions = [resolve_precision(p.strip(), device) for p in args.precision.split(",")]
    except (RuntimeSetupError, ConfigFieldError) as e:
        print(f"dora_studio bench: {e}", file=sys.stderr)
        return 2
    missing = [f for f in OFFICIAL_FILES if args.official and not os.path.isfile(os.path.join(args.official, f))]
    if missing:
        print(
            f"dora_studio bench: --official {args.official} lacks {', '.join(missing)}: export the official files at "
            "commit 0508b2c into it (../shared/anchors/README.md)",
            file=sys.stderr,
        )
        return 2
    ours: dict[str, list[dict[str, Any]]] = {p.name: [] for p in precisions}
    officials: list[dict[str, Any]] = []
    note = ""
    for _ in range(args.rounds):
        for p in precisions:
            ours[p.name].append(time_ours(config, device, p, args.micro_batch, args.warmup, args.steps, args.seed))
        try:
            results, note = _official_rounds(args, config, device.type == "cuda")
        except (RuntimeError, OSError) as e:
            print(f"dora_studio bench: {e}", file=sys.stderr)
            return 1
        officials += results
    name = args.config_name or os.path.basename(args.config_json)
    for p in precisions:
        print(
            json.dumps(_line(config, name, device, p, ours[p.name], officials, note, torch.get_num_threads())),
            flush=True,
        )
    return 0
