"""DDP through a real launcher: a single-node Slurm cluster started for this module (slurm_cluster.py; ≈ 2 s), whose
`srun` starts the ranks as it would on a cluster (torchrun of Debian's torch 1.13 does not run on Python 3.11).

- With the tracker off and no stochastic depth, nothing depends on how a batch is split over processes: 2 processes
  of b clips follow 1 process of 2b clips (loss, centre, weights, AdamW moments) to float32 rounding.
- Their checkpoint continues in 1 process with another global batch, at the same point of the epoch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dora_studio.io import safetensors
from pyrun_support import Workspace, engine_env, python_cmd, read_jsonl, train_cmd, ts_reference

sys.path.insert(0, os.path.dirname(__file__))
import slurm_cluster  # noqa: E402

STEPS = 3
SCALARS = ("loss", "lossMasked", "lossLocal", "teacherEntropy", "teacherBatchEntropy", "gradNorm")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slurm")
    info = slurm_cluster.start(folder)
    try:
        yield {"SLURM_CONF": info["SLURM_CONF"]}
    finally:
        slurm_cluster.stop(folder)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return Workspace(tmp_path_factory.mktemp("ddp"))


def make_run(ws: Workspace, batch: int, tracker: bool = False) -> Path:
    """A demo-preset run of 60 frames (28 clip starts) with `batch` clips per process; tracker off by default."""
    file = ws.config_file(60, checkpointEvery=STEPS, keepCheckpoints=5)
    file["training"] = {"batchClips": batch}
    file["dora"] = {"tracker": tracker}
    ws.count += 1
    return Path(ts_reference("makeRun", dir=str(ws.root), name=f"ddp{ws.count}", file=file)["runDir"])


def srun(cluster, tasks: int, *args: str) -> subprocess.CompletedProcess:
    command = ["srun", f"--ntasks={tasks}", "--kill-on-bad-exit=1", *python_cmd(*args)]
    env = engine_env(**cluster)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def tensors(run: Path, step: int, kind: str = "") -> dict[str, torch.Tensor]:
    return safetensors.parse((run / "checkpoints" / f"step-{step:06d}{kind}.safetensors").read_bytes(), "t").tensors


@pytest.fixture(scope="module")
def pair(ws, cluster):
    """(1 process × 4 clips, 2 processes × 2 clips), STEPS steps each."""
    one, two = make_run(ws, 4), make_run(ws, 2)
    single = subprocess.run(train_cmd(one, "--max-steps", str(STEPS)), env=engine_env(), capture_output=True, text=True)
    assert single.returncode == 0, single.stderr
    double = srun(cluster, 2, "train", "--run-dir", str(two), "--workers", "0", "--max-steps", str(STEPS))
    assert double.returncode == 0, double.stdout + double.stderr
    return one, two


def test_two_processes_of_b_clips_follow_one_process_of_2b(pair):
    one, two = pair
    a, b = read_jsonl(one / "metrics.jsonl"), read_jsonl(two / "metrics.jsonl")
    assert [r["step"] for r in a] == [r["step"] for r in b] == list(range(1, STEPS + 1))
    for ra, rb in zip(a, b):
        for name in SCALARS:
            assert rb[name] == pytest.approx(ra[name], rel=2e-5, abs=1e-6), (ra["step"], name)
        assert rb["lr"] == ra["lr"]  # the same global batch, the same scaled lr
    wa, wb = tensors(one, STEPS), tensors(two, STEPS)
    oa, ob = tensors(one, STEPS, ".optim"), tensors(two, STEPS, ".optim")
    assert wa.keys() == wb.keys() and oa.keys() == ob.keys()
    for name, x in wa.items():
        if name.endswith(".attn.qkv.bias"):
            x, y = key_bias_apart(name, x, wb[name], oa, ob)
            close_at_scale(y, x, name)
        else:
            close_at_scale(wb[name], x, name)
    # Not trivially equal: the centre moved, and the student moved away from its EMA teacher.
    assert wa["loss.center"].abs().sum() > 0
    assert sum(float((wa[n] - wa["teacher." + n[8:]]).abs().sum()) for n in wa if n.startswith("student.")) > 0
    for name, x in oa.items():
        close_at_scale(ob[name], x, name)


def close_at_scale(got: torch.Tensor, want: torch.Tensor, name: str, rtol: float = 1e-4, atol: float = 1e-9) -> None:
    """float32 agreement at the tensor's scale: max |got − want| ≤ rtol·max |want| + atol. (Element-wise relative
    checks fail on entries that cancel to ~0; measured here: ≤ 1.3e-5 of the scale for weights, 1.1e-6 for moments.)"""
    diff = float((got.double() - want.double()).abs().max()) if want.numel() else 0.0
    scale = float(want.double().abs().max()) if want.numel() else 0.0
    assert diff <= rtol * scale + atol, f"{name}: max difference {diff:.3g} at scale {scale:.3g}"


def key_bias_apart(name, a, b, oa, ob):
    """The key part of a qkv bias gets a gradient that is zero in exact arithmetic (softmax over keys ignores a shift
    q·b_k shared by all keys), so AdamW turns its float32 noise (|m| ~ 1e-11) into lr-sized steps of either sign — in
    the official code too. Those entries are checked for being such noise; the query and value parts as any weight."""
    dim = a.shape[0] // 3
    if name.startswith("student."):
        m = "exp_avg." + name[len("student.") :]
        assert float(oa[m][dim : 2 * dim].abs().max()) < 1e-8 and float(ob[m][dim : 2 * dim].abs().max()) < 1e-8
    lr_steps = 5e-4 * STEPS
    assert float((a[dim : 2 * dim] - b[dim : 2 * dim]).abs().max()) <= lr_steps, name
    keep = torch.ones(a.shape[0], dtype=torch.bool)
    keep[dim : 2 * dim] = False
    return a[keep], b[keep]


def test_the_two_process_run_folder(pair):
    _, two = pair
    info = json.loads((two / "run.json").read_text())
    assert info["worldSize"] == 2 and info["launcher"] == "slurm" and info["statusHint"] == "stopped"
    sidecar = json.loads((two / "checkpoints" / f"step-{STEPS:06d}.json").read_text())
    assert sidecar["schedule"] == {"iteration": STEPS, "itersPerEpoch": 7, "totalIters": 7, "globalBatch": 4,
                                   "worldSize": 2}  # fmt: skip
    assert "global batch 2 clips x 2 processes = 4 clips" in (two / "logs" / "rank-1.log").read_text()
    assert "process 0 of 2" in (two / "trainer.log").read_text()
    check = ts_reference("validateRun", runDir=str(two))
    assert check["problems"] == [] and check["status"] == "stopped"


def test_one_process_continues_a_two_process_checkpoint(pair):
    """W=2 × 2 clips stopped at step 3 (12 clips of epoch 0 seen); 1 × 2 clips continues at step 6 of 14."""
    _, two = pair
    resumed = subprocess.run(train_cmd(two, "--resume", "latest", "--max-steps", "8"), env=engine_env(),
                             capture_output=True, text=True)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert [r["step"] for r in read_jsonl(two / "metrics.jsonl")] == [1, 2, 3, 7, 8]
    events = read_jsonl(two / "events.jsonl")
    back = [e for e in events if e["type"] == "resumed"][-1]
    assert back["worldSize"] == 1 and back["checkpointWorldSize"] == 2 and back["step"] == 6
    warning = [e["message"] for e in events if e["type"] == "warning"][-1]
    assert "written by 2 process(es) with 4 clips per step at step 3" in warning and "continues at step 6" in warning
    info = json.loads((two / "run.json").read_text())
    assert info["worldSize"] == 1 and info["totalSteps"] == 14
