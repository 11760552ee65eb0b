"""CUDA checks (collected only where torch sees a GPU; conftest.py says so otherwise). Also runnable without pytest:
``PYTHONPATH=python python3 python/tests/test_cuda_step.py`` (the GPU machine may lack pytest).

- every golden case computed on CUDA agrees with the same case on the CPU (the CPU outputs are checked against the
  official values by ``dora golden --engine pytorch``; the GPU run of that command is in scripts/device/);
- the step never synchronises with the host (torch.cuda.set_sync_debug_mode("error")) in fp32, bf16 and fp16;
- precisions agree with fp32 on a small model; microBatch "auto" reads free device memory; a real CUDA out-of-memory
  halves the micro-batch and, at one clip per pass, becomes a message with the fix.
"""

from __future__ import annotations

import glob
import json
import os
import sys

import torch

if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from dora_studio.dora import train_step as ts  # noqa: E402
from dora_studio.dora.memory import DoraOutOfMemoryError, choose_micro_batch  # noqa: E402
from dora_studio.dora.runtime import resolve_precision  # noqa: E402
from dora_studio.dora.state import create_dora_state  # noqa: E402
from dora_studio.dora.train_step import DoraBatch, DoraStepHyper, StepOptions, dora_train_step  # noqa: E402
from dora_studio.golden.cases import load_case, run_case  # noqa: E402
from dora_studio.io import safetensors as st  # noqa: E402
from dora_studio.model import DoraModelConfig, HeadConfig, VitConfig  # noqa: E402

CUDA = torch.device("cuda")
GOLDEN = os.environ.get("DORA_GOLDEN_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "golden"
)
CFG = DoraModelConfig(VitConfig(64, 3, 4, 8, 32, drop_path_rate=0.0), HeadConfig(64, 256, 64, 32))
HYPER = DoraStepHyper(epoch=1, lr=1e-3, weight_decay=0.05, momentum=0.99, teacher_temp=0.05)


def _batch(b: int = 4, f: int = 3, nl: int = 3) -> DoraBatch:
    g = torch.Generator().manual_seed(0)
    glob_ = torch.randn(b, f, 3, 32, 32, generator=g).to(CUDA)
    return DoraBatch(glob_, torch.randn(nl, b, f, 3, 16, 16, generator=g).to(CUDA), [0, 3, 1])


def test_golden_cases_on_cuda_agree_with_the_cpu() -> None:
    files = sorted(glob.glob(os.path.join(GOLDEN, "*.safetensors")))
    assert files, f"no golden cases in {GOLDEN} (set DORA_GOLDEN_DIR)"
    for file in files:
        case = load_case(file, torch.device("cpu"))
        cpu = run_case(case)
        gpu = run_case(load_case(file, CUDA))
        margin = cpu.get("margin")
        # Elements whose true gradient is exactly 0 move by rounding noise on a fresh AdamW step (golden README).
        excluded = json.loads(st.load(file).metadata.get("tolerance", "{}")).get("exclude_elements", {})
        for name, want in cpu.items():
            got = gpu[name].detach().cpu()
            rows = excluded.get(f"expected.{name}", {}).get("axis0_range")
            if rows:
                keep = torch.ones(want.shape[0], dtype=torch.bool)
                keep[rows[0] : rows[1]] = False
                got, want = got[keep], want[keep]
            if name == "mask_patch":
                decided = (margin.abs() > 1e-4).reshape(got.shape)
                assert torch.equal(got[decided], want[decided]), f"{file}: {name}"
                continue
            bound = 1e-3 * want.abs().max().item() + 1e-6
            assert (got.double() - want.double()).abs().max().item() <= bound, f"{file}: {name}"


def test_the_step_never_waits_for_the_device() -> None:
    for name in ("fp32", "bf16", "fp16"):
        precision = resolve_precision(name, CUDA)
        state = create_dora_state(CFG, CUDA, seed=0, precision=precision)
        batch = _batch()
        dora_train_step(state, batch, HYPER, StepOptions(2, precision))  # warm-up: lazy CUDA/cuBLAS initialisation
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            outcome = dora_train_step(state, batch, HYPER, StepOptions(2, precision))
        finally:
            torch.cuda.set_sync_debug_mode("default")
        outcome.check_finite()


def test_precisions_agree_with_fp32() -> None:
    losses = {}
    for name in ("fp32", "tf32", "bf16", "fp16"):
        precision = resolve_precision(name, CUDA)
        precision.apply_matmul_settings()
        state = create_dora_state(CFG, CUDA, seed=1, precision=precision)
        losses[name] = dora_train_step(state, _batch(), HYPER, StepOptions(None, precision)).loss.item()
    resolve_precision("fp32", CUDA).apply_matmul_settings()
    for name, value in losses.items():
        assert abs(value - losses["fp32"]) <= 0.02 * abs(losses["fp32"]), losses


def test_auto_micro_batch_reads_free_device_memory() -> None:
    precision = resolve_precision("bf16", CUDA)
    micro, reason = choose_micro_batch(CFG, 16, 8, 3, 32, 6, 16, CUDA, precision)
    assert 1 <= micro <= 16 and 16 % micro == 0 and "free device memory" in reason


def test_real_out_of_memory_backs_off_then_explains() -> None:
    real = ts.student_outputs

    def hungry(state, masked, local, precision):  # type: ignore[no-untyped-def]
        if masked.shape[2] > 1:
            torch.empty(1 << 45, device=CUDA)  # 128 TiB: a real CUDA out-of-memory error
        return real(state, masked, local, precision)

    ts.student_outputs = hungry
    try:
        state = create_dora_state(CFG, CUDA, seed=2)
        assert dora_train_step(state, _batch(), HYPER, StepOptions(4)).micro_batch == 1
        ts.student_outputs = lambda *a: torch.empty(1 << 45, device=CUDA)  # type: ignore[assignment]
        try:
            dora_train_step(state, _batch(), HYPER, StepOptions(4))
            raise AssertionError("no DoraOutOfMemoryError")
        except DoraOutOfMemoryError as e:
            assert "Fix:" in str(e) and "one clip per forward/backward pass" in str(e)
    finally:
        ts.student_outputs = real


if __name__ == "__main__":
    failed = 0
    for name, fn in sorted((n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)):
        try:
            fn()
            print(f"PASS {name}", flush=True)
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
    print(f"{failed} failed")
    sys.exit(1 if failed else 0)
