"""The compact (JPEG) frame cache read by the PyTorch engine: a cache built by the TF.js engine's own code
(compactCache/build.ts via tsx) gives the same frame indices and the same pixels in both engines, through the one
`open_frame_source` factory; corruption is detected, reported to damaged.json, and named in the error."""

import base64
import json
import shutil
import subprocess

import numpy as np
import pytest
from pathlib import Path

from dora_studio.data.compact_cache import CompactFrameCache, chunk_name
from dora_studio.data.frame_cache import FrameCacheError, open_frame_source
from pyrun_support import REPO, PYTHON_DIR

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"


def build_with_node(tmp_path, indices, short_side=64):
    video = tmp_path / "clip.mp4"
    subprocess.run(
        [FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=3", "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )
    request = {"video": str(video), "cacheRoot": str(tmp_path / "frames"), "shortSide": short_side, "indices": indices}
    proc = subprocess.run(
        ["node", "--import", "tsx", str(PYTHON_DIR / "tests" / "node" / "compactReference.ts")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    indices = [0, 29, 7, 13, 29]
    return indices, build_with_node(tmp_path_factory.mktemp("compact"), indices)


def test_same_frames_and_pixels_as_the_node_reader(built):
    indices, ref = built
    node = np.frombuffer(base64.b64decode(ref["frames"]), np.uint8).reshape(
        len(indices), ref["height"], ref["width"], 3
    )
    source = open_frame_source(ref["dir"])
    assert isinstance(source, CompactFrameCache)
    assert (source.frame_count, source.size) == (30, (86, 64)) and source.complete
    for decoder in ("pillow", "torchvision"):
        frames = CompactFrameCache(ref["dir"], json.loads((source.dir / "index.json").read_text()), decoder).read(
            indices
        )
        assert np.abs(frames.astype(int) - node.astype(int)).max() == 0, decoder
    assert source.luminance().shape == (30,)
    with pytest.raises(IndexError, match="outside the cache"):
        source.read([30])
    source.close()


def test_a_corrupt_frame_is_named_and_reported_for_rebuild(built, tmp_path):
    _, ref = built
    copy = tmp_path / "copy"
    shutil.copytree(ref["dir"], copy)
    source = open_frame_source(copy)
    chunk, offset, length, _ = (int(v) for v in source.records[13])
    path = copy / chunk_name(chunk)
    data = bytearray(path.read_bytes())
    data[offset + length // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(
        FrameCacheError, match=r"Frame 13 of the frame cache .* is corrupt \(CRC mismatch; chunk chunk-"
    ):
        source.read([13])
    assert json.loads((copy / "damaged.json").read_text())["chunks"] == [chunk]
    assert source.read([0]).shape == (1, 64, 86, 3), "other chunks still read"
    path.unlink()
    fresh = open_frame_source(copy)
    with pytest.raises(FrameCacheError, match="chunk file cannot be opened"):
        fresh.read([13])


def test_a_short_index_and_an_unknown_version_name_the_file(built, tmp_path):
    _, ref = built
    copy = tmp_path / "copy"
    shutil.copytree(ref["dir"], copy)
    index = json.loads((copy / "index.json").read_text())
    (copy / "index.json").write_text(json.dumps({**index, "version": 9}))
    with pytest.raises(FrameCacheError, match="compact frame-cache version 9"):
        open_frame_source(copy)
    (copy / "index.json").write_text(json.dumps(index))
    (copy / "frames.idx").write_bytes((copy / "frames.idx").read_bytes()[:100])
    with pytest.raises(FrameCacheError, match="frames.idx: has 6 records, index.json says 30"):
        open_frame_source(copy)


def test_pickles_into_dataloader_workers(built):
    import pickle

    _, ref = built
    source = open_frame_source(ref["dir"])
    first = source.read([5])
    clone = pickle.loads(pickle.dumps(source))
    assert np.array_equal(clone.read([5]), first)


def test_dataloader_workers_build_the_same_batches_from_the_compact_cache(built):
    """The PyTorch engine's loader (DataLoader worker processes decode the JPEGs) over the compact cache."""
    import torch

    from dora_studio.data.augment import AugmentConfig
    from dora_studio.data.clips import ClipSampler
    from dora_studio.data.loader import SnapshotSchedule, StepDataset, make_loader

    _, ref = built
    source = open_frame_source(ref["dir"])
    sampler = ClipSampler(source.frame_count, 3, 5, 2, 4)
    cfg = AugmentConfig(precrop=40, global_size=32, local_size=16, n_local=2)
    dataset = StepDataset(source, sampler, cfg, 4, (2, 3), SnapshotSchedule(3, True))
    in_process = [dataset[i] for i in (0, 1, 2)]
    in_workers = list(make_loader(dataset, [0, 1, 2], workers=2, prefetch=2))
    for a, b in zip(in_process, in_workers):
        assert a["clips"] == b["clips"]
        assert torch.equal(a["global"], b["global"]) and torch.equal(a["local"], b["local"])


def test_a_4k_clip_trains_through_the_pytorch_engine_from_the_compact_cache(tmp_path):
    """3840x2160 video → compact cache built by the TF.js engine's code → `python -m dora_studio train` on a run folder
    made by the Node front door's code, with data.frameCache.format "jpeg" (the engine finds the cache itself)."""
    from pyrun_support import engine_env, read_jsonl, train_cmd, ts_reference

    video = tmp_path / "uhd.mp4"
    subprocess.run(
        [FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=3840x2160:r=30:d=2", "-c:v", "libx264", "-preset",
         "ultrafast", "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )  # fmt: skip
    cache_root = tmp_path / "frames"
    request = {"video": str(video), "cacheRoot": str(cache_root), "shortSide": 96, "indices": [0]}
    proc = subprocess.run(
        ["node", "--import", "tsx", str(PYTHON_DIR / "tests" / "node" / "compactReference.ts")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (json.loads(proc.stdout)["width"], json.loads(proc.stdout)["height"]) == (170, 96)
    file = {
        "name": "uhd",
        "preset": "demo",
        "data": {"video": str(video), "maxFrames": 44, "frameCache": {"dir": str(cache_root), "format": "jpeg"}},
        "runtime": {"runsDir": str(tmp_path / "runs"), "logEvery": 1, "checkpointEvery": 6, "snapshotEvery": 3},
    }
    run = Path(ts_reference("makeRun", dir=str(tmp_path), name="uhd", file=file)["runDir"])
    trained = subprocess.run(train_cmd(run, workers=1), env=engine_env(), capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stderr[-3000:]
    steps = [r["step"] for r in read_jsonl(run / "metrics.jsonl")]
    assert steps == [1, 2, 3, 4, 5, 6]
    assert json.loads((run / "run.json").read_text())["statusHint"] == "finished"
