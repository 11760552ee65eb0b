"""`import_pth`: official DoRA checkpoints (built here in the official module layout: DDP `module.` student, a torch
AdamW state_dict over utils.get_params_groups, `dino_loss`, `epoch`, argparse `args`) and plain ViT backbones become
run folders that both engines open; mismatched or unsafe files are refused with the keys named."""

import argparse
import json
import os
import subprocess

import numpy as np
import pytest
import torch

from dora_studio.dora.state import create_dora_state
from dora_studio.model.dora_model import DoraModelConfig
from dora_studio.run.checkpoint import list_checkpoints, load_checkpoint
from dora_studio.run.config_defaults import ARCH_DIMS, OFFICIAL_DEFAULTS
from dora_studio.run.import_run import import_pth
from dora_studio.run.importer import ImportMismatchError
from dora_studio.run.torch_pickle import UnsafePickleError, load_pth
from pyrun_support import REPO, Workspace, engine_env, python_cmd, read_jsonl, train_cmd, ts_reference

ARGS = dict(
    arch="vit_custom", patch_size=8, out_dim=64, norm_last_layer=True, momentum_teacher=0.996, use_bn_in_head=False,
    warmup_teacher_temp=0.04, teacher_temp=0.04, warmup_teacher_temp_epochs=0, use_fp16=False, weight_decay=0.04,
    weight_decay_end=0.4, clip_grad=3.0, batch_size_per_gpu=2, epochs=5, freeze_last_layer=0, lr=0.0005,
    warmup_epochs=0, min_lr=1e-6, optimizer="adamw", drop_path_rate=0.0, global_crops_scale=(0.4, 1.0),
    local_crops_number=2, local_crops_scale=(0.05, 0.4), data_path="/scratch/WT_videos/venice.mp4",
    output_dir="/scratch/out", saveckp_freq=20, seed=0, num_workers=10, frame_per_clip=3, step_between_clips=4,
)  # fmt: skip
RESOLVED = {"model": {"embedDim": 192, "depth": 2, "numHeads": 3, "patchSize": 8, "mlpRatio": 4, "qkvBias": True,
                      "dropPathRate": 0.0, "head": {"outDim": 64, "hiddenDim": 96, "bottleneckDim": 32, "nlayers": 3,
                                                    "normLastLayer": True}},
            "data": {"globalSize": 32}}  # fmt: skip


def official_checkpoint(path):
    """What main.py's save_dict holds after a few steps, with the official names and module layout."""
    state = create_dora_state(DoraModelConfig.from_run_config(RESOLVED), "cpu", seed=3)
    student, teacher = state.student, state.teacher
    named = [(n, p) for n, p in student.named_parameters() if p.requires_grad]
    groups = [[p for n, p in named if not (n.endswith(".bias") or p.ndim == 1)],
              [p for n, p in named if n.endswith(".bias") or p.ndim == 1]]  # fmt: skip
    optimizer = torch.optim.AdamW([{"params": groups[0]}, {"params": groups[1], "weight_decay": 0.0}])
    for _ in range(2):
        for _, p in named:
            p.grad = torch.randn_like(p)
        optimizer.step()
    save = {
        "student": {f"module.{k}": v for k, v in student.state_dict().items()},  # DDP-wrapped
        "teacher": teacher.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": 2,
        "args": argparse.Namespace(**ARGS),
        "dino_loss": {"center": torch.randn(1, 64)},
    }
    torch.save(save, path)
    return save


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return Workspace(tmp_path_factory.mktemp("import"))


def run_import(*args):
    return subprocess.run(python_cmd("import_pth", *map(str, args)), env=engine_env(), capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def test_python_defaults_mirror_the_typescript_ones():
    ref = ts_reference("officialDefaults")
    assert ref["defaults"] == json.loads(json.dumps(OFFICIAL_DEFAULTS)) and ref["archDims"] == ARCH_DIMS


def test_official_checkpoint_imports_and_both_engines_use_it(ws, tmp_path):
    pth = tmp_path / "checkpoint.pth"
    saved = official_checkpoint(pth)
    out = ws.root / "imported"
    cache = ts_reference(
        "buildCache", video=str(ws.video), cacheRoot=str(ws.root / "frames43"), shortSide=43, indices=[0]
    )  # fmt: skip  (the imported config's cache: 43 px for a 32 px model)
    proc = run_import(pth, "--out-run-dir", out, "--video", ws.video, "--frame-cache", cache["dir"], "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["kind"] == "official checkpoint" and summary["imageSize"] == 32
    assert summary["model"] == {"arch": "custom", "embedDim": 192, "depth": 2, "numHeads": 3, "patchSize": 8}
    config = ts_reference("loadRunConfig", runDir=str(out))  # the TS resolver accepts the inferred config
    assert config["data"]["framesPerClip"] == 3 and config["training"]["epochs"] == 5
    assert config["model"]["head"] == RESOLVED["model"]["head"]
    ckpt = load_checkpoint(out / "checkpoints" / "step-000000.json")
    assert torch.equal(ckpt.weights["student.backbone.blocks.1.attn.qkv.weight"],
                       saved["student"]["module.backbone.blocks.1.attn.qkv.weight"])  # fmt: skip
    assert torch.equal(ckpt.weights["loss.center"], saved["dino_loss"]["center"])
    opt = saved["optimizer"]["state"][0]  # id 0 = the first decayed parameter: backbone.cls_token
    assert torch.equal(ckpt.optimizer["exp_avg.backbone.cls_token"], opt["exp_avg"])
    assert int(ckpt.optimizer["step.backbone.cls_token"]) == 2
    assert "exp_avg.head.last_layer.weight_g" not in ckpt.optimizer  # frozen by norm_last_layer
    check = ts_reference("validateRun", runDir=str(out))
    assert check["problems"] == [] and check["status"] == "stopped" and check["checkpoints"] == [0]
    assert check["snapshots"] == [0] and summary["snapshot"].endswith("step-000000")  # masks in the dashboard at once
    # The TF.js engine evaluates the imported teacher on the run's video (its frame cache goes to a temp root).
    env = {**os.environ, "XDG_CACHE_HOME": str(ws.root / "xdg")}
    ev = subprocess.run(["node", str(REPO / "dist" / "cli.js"), "eval", str(out / "checkpoints" / "step-000000.json"),
                         "--suite", "attention", "--backend", "cpu"], capture_output=True, text=True, timeout=300,
                        env=env)  # fmt: skip
    assert ev.returncode == 0, ev.stderr
    # …and its `inspect` of the same middle clip agrees with the snapshot the import wrote (same frames, crops, heads).
    ins = subprocess.run(["node", str(REPO / "dist" / "cli.js"), "inspect", "--out", str(ws.root / "inspect"),
                          str(out / "checkpoints" / "step-000000.json"), "--backend", "cpu"], capture_output=True,
                         text=True, timeout=300, env=env)  # fmt: skip
    assert ins.returncode == 0, ins.stderr
    ts_snap = next((ws.root / "inspect").glob("*-step-0"))
    ours, theirs = (json.loads((d / "snapshot.json").read_text()) for d in (out / "snapshots" / "step-000000", ts_snap))
    assert ours["clips"][0]["frameIndices"] == theirs["clips"][0]["frameIndices"] and ours["heads"] == theirs["heads"]
    a, b = (np.fromfile(d / "clip-00" / "attention.f32", "<f4") for d in (out / "snapshots" / "step-000000", ts_snap))
    assert np.abs(a - b).max() < 1e-3 * np.abs(b).max()
    # Continue training in the PyTorch engine: at the start of the saved epoch (official restart semantics).
    # 80 frames, 3 per clip 4 apart (args) → 68 clip starts → 34 steps per epoch; epoch 2 starts at step 68.
    trained = subprocess.run(train_cmd(out, "--resume", "latest", "--max-steps", "69", "--frame-cache", cache["dir"]),
                             env=engine_env(), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert json.loads((out / "run.json").read_text())["stepsPerEpoch"] == 34
    assert [r["step"] for r in read_jsonl(out / "metrics.jsonl")] == [69]
    assert [r[0] for r in list_checkpoints(out)] == [0, 69]


def test_plain_backbone_gets_a_fresh_head(tmp_path):
    state = create_dora_state(DoraModelConfig.from_run_config(RESOLVED), "cpu", seed=5)
    backbone = state.teacher.backbone.state_dict()  # DINO's released ViT-S/16 file is this kind of dict
    torch.save(backbone, tmp_path / "vit.pth")
    out = tmp_path / "run"
    import_pth(tmp_path / "vit.pth", out, video=str(tmp_path / "v.mp4"))
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["embedDim"] == 192 and config["model"]["head"]["outDim"] == 65536
    ckpt = load_checkpoint(out / "checkpoints" / "step-000000.json")
    assert torch.equal(ckpt.weights["teacher.backbone.pos_embed"], backbone["pos_embed"])
    assert torch.equal(ckpt.weights["student.head.mlp.0.weight"], ckpt.weights["teacher.head.mlp.0.weight"])
    assert ckpt.optimizer == {}


def test_mismatched_files_list_their_keys_and_leave_nothing(tmp_path):
    state = create_dora_state(DoraModelConfig.from_run_config(RESOLVED), "cpu", seed=5)
    sd = dict(state.teacher.backbone.state_dict())
    del sd["blocks.1.norm1.weight"]
    sd["head.weight"] = torch.zeros(1000, 192)  # a classifier: not a DINO/DoRA backbone
    torch.save({"state_dict": sd}, tmp_path / "odd.pth")
    proc = run_import(tmp_path / "odd.pth", "--out-run-dir", tmp_path / "run")
    assert proc.returncode == 1
    assert "missing (1): backbone.blocks.1.norm1.weight" in proc.stderr
    assert "unexpected (1): backbone.head.weight" in proc.stderr
    assert not (tmp_path / "run").exists()
    torch.save({"layers": [1, 2]}, tmp_path / "nothing.pth")
    with pytest.raises(ImportMismatchError, match="not a ViT state dict: missing cls_token"):
        import_pth(tmp_path / "nothing.pth", tmp_path / "run")
    assert not (tmp_path / "run").exists()


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_code_in_a_pth_is_never_run(tmp_path):
    torch.save({"student": {}, "teacher": {}, "args": Evil()}, tmp_path / "evil.pth")
    with pytest.raises(UnsafePickleError, match="refuses to unpickle posix.system"):
        load_pth(tmp_path / "evil.pth")
    with open(tmp_path / "legacy.pth", "wb") as f:
        torch.save({"x": Evil()}, f, _use_new_zipfile_serialization=False)
    with pytest.raises(UnsafePickleError):
        load_pth(tmp_path / "legacy.pth")
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(tmp_path / "program.pt"))
    with pytest.raises(UnsafePickleError, match="TorchScript archive"):
        load_pth(tmp_path / "program.pt")
