"""``python -m dora_studio golden-run --out DIR [--device D] CASE.safetensors…``

Computes every golden case's outputs from its inputs (float32, on the given device) and writes them, one
safetensors file per case, plus ``DIR/manifest.json`` listing each case's output file or error. ``dora golden
--engine pytorch`` (src/trainer/pytorch/golden.ts) runs this and compares with the TF.js engine's tolerance code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

import torch

from ..dora.runtime import Precision, RuntimeSetupError, resolve_device
from ..golden.cases import load_case, run_case
from ..io import safetensors as st


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return f"{device.type} ({torch.get_num_threads()} threads)"


def _as_output(t: torch.Tensor) -> torch.Tensor:
    t = t.detach()
    if t.dtype in (torch.bool, torch.uint8):
        return t.to(torch.uint8).cpu()
    if t.dtype == torch.float64:
        return t.cpu()
    return t.float().cpu()


def run_one(file: str, out_dir: str, index: int, device: torch.device) -> dict[str, object]:
    started = time.perf_counter()
    entry: dict[str, object] = {"file": file, "outputs": None, "error": None}
    try:
        case = load_case(file, device)
        entry.update(kind=case.kind, name=case.name)
        outputs = run_case(case)
        target = os.path.join(out_dir, f"{index:03d}-{os.path.basename(file)}")
        st.save(target, {name: _as_output(t) for name, t in outputs.items()}, {"case": case.name})
        entry["outputs"] = target
    except Exception as e:  # noqa: BLE001 — reported per case, like the TF.js runner
        entry["error"] = f"{type(e).__name__}: {e}"
        entry["traceback"] = traceback.format_exc()
    entry["seconds"] = round(time.perf_counter() - started, 3)
    return entry


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m dora_studio golden-run", description=__doc__)
    ap.add_argument("--out", required=True, help="folder for the outputs and manifest.json")
    ap.add_argument("--device", default="cpu", help="auto | cpu | cuda | mps (default cpu)")
    ap.add_argument("files", nargs="+", help="golden case files (*.safetensors)")
    args = ap.parse_args(argv)
    try:
        device = resolve_device(args.device)
    except RuntimeSetupError as e:
        print(f"dora_studio golden-run: {e}", file=sys.stderr)
        return 2
    Precision("fp32", device.type).apply_matmul_settings()  # golden cases are float32: no TF32 matmuls
    os.makedirs(args.out, exist_ok=True)
    cases = [run_one(f, args.out, i, device) for i, f in enumerate(args.files)]
    manifest = {"device": describe_device(device), "torch": torch.__version__, "cases": cases}
    st.write_atomic(os.path.join(args.out, "manifest.json"), json.dumps(manifest, indent=1).encode())
    return 0
