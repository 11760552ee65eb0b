"""Run-folder writing rules (docs/run-directory.md): atomic writes, JSONL tails, safe names (contract 6),
checkpoint files with the TF.js names and sidecar, pruning, snapshots written whole."""

import json
import os

import numpy as np
import pytest
import torch

from dora_studio.run.atomic import append_json_line, repair_jsonl_tail, write_file_atomic, write_json_atomic
from dora_studio.run.checkpoint import (
    CheckpointError,
    checkpoints_to_prune,
    delete_checkpoint,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)
from dora_studio.run.paths import UnsafePathError, inside, safe_child, step_label
from dora_studio.run.snapshot import SnapshotInput, write_snapshot

META = {"epoch": 0, "rng": {"algorithm": "x", "state": {}}, "schedule": {"iteration": 3}, "configSha256": "ab"}


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "run.json"
    write_json_atomic(target, {"a": 1, "loss": float("nan")})
    assert json.loads(target.read_text()) == {"a": 1, "loss": None}  # JSON has no NaN
    assert target.read_text().endswith("\n")

    def broken_replace(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_file_atomic(target, b"new")
    assert json.loads(target.read_text())["a"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temp file left behind


def test_jsonl_append_and_torn_tail(tmp_path):
    f = tmp_path / "events.jsonl"
    append_json_line(f, {"type": "started", "step": 0})
    with open(f, "ab") as h:
        h.write(b'{"type": "chec')  # a crash in the middle of a line
    assert repair_jsonl_tail(f) == len(b'{"type": "chec')
    append_json_line(f, {"type": "resumed", "step": 0})
    assert [json.loads(line)["type"] for line in f.read_text().splitlines()] == ["started", "resumed"]
    assert repair_jsonl_tail(tmp_path / "missing.jsonl") == 0


def test_names_from_a_run_folder_must_stay_inside(tmp_path):
    (tmp_path / "ok.safetensors").write_bytes(b"")
    assert safe_child(tmp_path, "ok.safetensors").name == "ok.safetensors"
    for bad in ("../x", "/etc/passwd", "a/b", "..", "", None, 3):
        with pytest.raises(UnsafePathError):
            safe_child(tmp_path, bad)
    (tmp_path / "link").symlink_to("/etc/hostname")
    with pytest.raises(UnsafePathError, match="outside"):
        safe_child(tmp_path, "link")
    with pytest.raises(UnsafePathError):
        inside(tmp_path / "checkpoints", tmp_path / "other.json")
    assert step_label(120) == "step-000120" and step_label(1234567) == "step-1234567"


def _tensors():
    w = {"student.backbone.cls_token": torch.randn(1, 1, 4), "teacher.backbone.cls_token": torch.randn(1, 1, 4)}
    w["loss.center"] = torch.randn(1, 8)
    o = {"exp_avg.backbone.cls_token": torch.randn(1, 1, 4), "exp_avg_sq.backbone.cls_token": torch.rand(1, 1, 4)}
    o["step.backbone.cls_token"] = torch.tensor(3, dtype=torch.int64)
    return w, o


def test_checkpoint_round_trip_sidecar_and_checksums(tmp_path):
    w, o = _tensors()
    sidecar = save_checkpoint(tmp_path, 3, w, o, META)
    assert sidecar.name == "step-000003.json"
    side = json.loads(sidecar.read_text())
    assert side["weightsFile"] == "step-000003.safetensors" and side["centerTensor"] == "loss.center"
    assert side["optimizerFile"] == "step-000003.optim.safetensors" and len(side["weightsSha256"]) == 64
    ck = load_checkpoint(sidecar)
    assert torch.equal(ck.weights["loss.center"], w["loss.center"])
    assert ck.optimizer["step.backbone.cls_token"].dtype == torch.int64
    data = tmp_path / "checkpoints" / "step-000003.safetensors"
    data.write_bytes(data.read_bytes()[:-1] + b"\x01")
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_checkpoint(sidecar)


def test_pruning_deletes_oldest_and_never_outside(tmp_path):
    w, o = _tensors()
    for step in (2, 4, 6):
        save_checkpoint(tmp_path, step, w, o, META)
    ck = tmp_path / "checkpoints"
    (ck / "step-000002.eval.json").write_text("{}")
    (ck / "step-000002.attention").mkdir()
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    side = json.loads((ck / "step-000004.json").read_text())
    (ck / "step-000004.json").write_text(json.dumps({**side, "weightsFile": "../precious.txt"}))
    entries = list_checkpoints(tmp_path)
    assert [e[0] for e in entries] == [2, 4, 6]
    doomed = checkpoints_to_prune(entries, 1)
    problems = [p for _, path, side in doomed for p in delete_checkpoint(path, side)]
    assert victim.read_text() == "keep me" and any("not a plain file name" in p for p in problems)
    assert sorted(p.name for p in ck.iterdir() if p.name.startswith("step-000002")) == []
    assert [e[0] for e in list_checkpoints(tmp_path)] == [6]
    assert checkpoints_to_prune(list_checkpoints(tmp_path), 0) == []


def test_snapshot_is_renamed_into_place_whole(tmp_path):
    k, b, f, n = 3, 2, 4, 36
    snap = SnapshotInput(
        step=5, epoch=0, global_rgb=np.zeros((2, f, 48, 48, 3), np.uint8), clips=[{"frameIndices": [0, 8, 16, 24]}] * 2,
        assignment=np.full((b, n, k), 1 / 3, np.float32), attention=np.random.rand(k, b, f, n).astype(np.float32),
        masks=(np.random.rand(k, b, f, n) > 0.5).astype(np.uint8), heads=[2, 0, 1], patch_size=8,
    )  # fmt: skip
    (tmp_path / "snapshots").mkdir()
    folder = write_snapshot(tmp_path, snap)
    assert folder.name == "step-000005" and not (tmp_path / "snapshots" / ".step-000005.partial").exists()
    manifest = json.loads((folder / "snapshot.json").read_text())
    clip = manifest["clips"][1]
    assert (
        manifest["grid"] == 6 and clip["attention"]["shape"] == [3, 4, 6, 6] and clip["assignment"]["shape"] == [36, 3]
    )
    att = np.fromfile(folder / clip["attention"]["file"], "<f4").reshape(3, 4, 36)
    assert np.array_equal(att, snap.attention[:, 1])
    assert (folder / clip["frames"][3]).read_bytes()[1:4] == b"PNG"
