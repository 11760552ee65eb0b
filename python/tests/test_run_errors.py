"""Bad input to the training command: each failure is reported like the TF.js engine reports it (an `error` and a
`finished: failed` message, a `failed` event with its fix), names the file or field, and writes nothing into a folder
that is not a run or that another trainer holds."""

import json
import os

import pytest

from dora_studio.engine.channel import Channel, StopFlag
from dora_studio.distributed.env import DistInfo
from dora_studio.run.session import run_session
from dora_studio.run.trainer import TrainOptions
from pyrun_support import read_jsonl


@pytest.fixture
def run(tmp_path):
    """A run folder with a valid demo config.json whose video has no frame cache."""
    from dora_studio.run.config_defaults import official_defaults

    config = official_defaults()
    config.update(name="bad", configFile=str(tmp_path / "x.dora.json"))
    config["data"]["video"] = str(tmp_path / "missing.mp4")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def session(folder, **kw):
    r, w = os.pipe()
    dist = kw.pop("dist", DistInfo())
    result = run_session(TrainOptions(run_dir=folder, **kw), Channel(fd=w), StopFlag(), dist, {"engine": "pytorch"})
    os.close(w)
    with os.fdopen(r) as f:
        messages = [json.loads(line) for line in f]
    return result, messages


def test_a_bad_config_field_is_named(run):
    config = json.loads((run / "config.json").read_text())
    config["training"]["batchClips"] = 0
    (run / "config.json").write_text(json.dumps(config))
    result, messages = session(run)
    assert result.reason == "failed" and "$.training.batchClips: expected an integer >= 1, got 0" in result.message
    assert [m["type"] for m in messages] == ["error", "finished"] and messages[0]["fatal"] is True
    event = read_jsonl(run / "events.jsonl")[-1]
    assert event["type"] == "failed" and "batchClips" in event["reason"]
    assert not (run / "run.lock").exists()


def test_a_missing_frame_cache_says_how_to_build_it(run, tmp_path):
    (tmp_path / "missing.mp4").write_bytes(b"not really a video")
    result, messages = session(run, cache_root=tmp_path / "frames")
    assert "no usable frame cache" in result.message and "--frame-cache" in result.message
    failed = read_jsonl(run / "events.jsonl")[-1]
    assert failed["type"] == "failed" and "node dist/cli.js train" in failed["fix"]
    assert messages[-1] == {"type": "finished", "reason": "failed", "step": 0, "message": failed["reason"]}


def test_resume_checkpoints_must_belong_to_the_run(run, tmp_path):
    outside = tmp_path / "step-000010.json"
    outside.write_text("{}")
    result, _ = session(run, resume=str(outside))
    assert result.reason == "failed" and "outside" in result.message


def test_not_a_run_folder_writes_nothing(tmp_path):
    result, messages = session(tmp_path / "nothing")
    assert "not a run folder (no config.json)" in result.message and not (tmp_path / "nothing").exists()
    assert messages[-1]["reason"] == "failed"
