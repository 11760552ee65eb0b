"""The official augmentation: parameters drawn exactly as the TF.js engine draws them, rendered by the real
torch/torchvision/Pillow ops (and so equal to the TF.js engine's re-implementation of those ops), deterministic per
(seed, iteration)."""

import base64

import numpy as np
import pytest
import torch

from dora_studio.data.augment import AugmentConfig, params_to_json, render_clip, sample_clip_params
from dora_studio.data.clips import ClipSampler
from dora_studio.data.loader import SnapshotSchedule, StepDataset, draw_heads, make_loader
from dora_studio.data.frame_cache import open_frame_source
from dora_studio.data.rng import step_rng
from pyrun_support import moving_frames, ts_reference, write_raw_cache

SMALL = AugmentConfig(precrop=40, global_size=32, local_size=16, n_local=2)
TS_SMALL = {"precrop": 40, "globalSize": 32, "localSize": 16, "nLocal": 2}


def test_parameters_equal_typescript():
    ref = ts_reference(
        "augmentParams",
        config=TS_SMALL,
        seed=7,
        iteration=13,
        clips=3,
        frames=4,
        height=54,
        width=96,
        objects=3,
        numHeads=6,
    )
    rng = step_rng(7, "augment", 13)
    mine = [params_to_json(sample_clip_params(rng, 4, 54, 96, SMALL)) for _ in range(3)]
    assert mine == ref["params"]
    assert draw_heads(7, 13, 3, 6) == ref["heads"]


def _to_u8(normalised: np.ndarray) -> np.ndarray:
    std = np.array(SMALL.std).reshape(3, 1, 1)
    mean = np.array(SMALL.mean).reshape(3, 1, 1)
    return np.rint((normalised * std + mean) * 255)


def test_rendering_matches_the_typescript_pipeline(tmp_path):
    """imageOps.ts re-implements these ops (PIL side bit-exact; its bilinear can land one uint8 level off torch on a
    truncation boundary, which a later contrast/hue change may widen to a few levels on a handful of pixels)."""
    frames = moving_frames(4, 54, 96, seed=3)
    path = tmp_path / "frames.u8"
    path.write_bytes(frames.tobytes())
    for iteration in range(3):
        params = sample_clip_params(step_rng(1, "augment", iteration), 4, 54, 96, SMALL)
        ref = ts_reference(
            "augmentRender",
            config=TS_SMALL,
            framesFile=str(path),
            width=96,
            height=54,
            frames=4,
            params=params_to_json(params),
        )
        out = render_clip(frames, params, SMALL)
        rgb = np.frombuffer(base64.b64decode(ref["globalRgb"]), np.uint8).reshape(out.global_rgb.shape)
        diff = np.abs(rgb.astype(int) - out.global_rgb.astype(int))
        assert diff.max() <= 1 and (diff == 0).mean() > 0.99
        glob = np.frombuffer(base64.b64decode(ref["global"]), np.float32).reshape(out.global_crops.shape)
        assert np.abs(_to_u8(glob) - _to_u8(out.global_crops.numpy())).max() <= 1
        for i, b64 in enumerate(ref["locals"]):
            local = np.frombuffer(base64.b64decode(b64), np.float32).reshape(out.local_crops[i].shape)
            d = np.abs(_to_u8(local) - _to_u8(out.local_crops[i].numpy()))
            assert d.max() <= 8 and (d == 0).mean() > 0.98, (iteration, i, d.max(), (d == 0).mean())


def test_render_shapes_and_snapshot_pixels():
    frames = moving_frames(3, 50, 70)
    params = sample_clip_params(step_rng(0, "augment", 0), 3, 50, 70, SMALL)
    out = render_clip(frames, params, SMALL)
    assert out.global_crops.shape == (3, 3, 32, 32)
    assert out.local_crops.shape == (2, 3, 3, 16, 16)
    assert out.global_rgb.shape == (3, 32, 32, 3) and out.global_rgb.dtype == np.uint8
    mean = torch.tensor(SMALL.mean).view(3, 1, 1)
    std = torch.tensor(SMALL.std).view(3, 1, 1)
    back = out.global_crops[0] * std + mean
    assert torch.allclose(back, torch.from_numpy(out.global_rgb[0]).permute(2, 0, 1) / 255, atol=1e-5)
    with pytest.raises(ValueError, match="params were drawn for 3 frames"):
        render_clip(frames[:2], params, SMALL)


def _dataset(tmp_path, rank=0, world=1, batch=2):
    source = open_frame_source(write_raw_cache(tmp_path / "cache", moving_frames(80, 36, 48)))
    sampler = ClipSampler(source.frame_count, 3, 5, batch, 4, world_size=world)
    return StepDataset(source, sampler, SMALL, 4, (2, 3), SnapshotSchedule(3, True), rank=rank)


def test_batches_are_a_function_of_seed_and_iteration(tmp_path):
    ds = _dataset(tmp_path)
    a, b = ds[5], ds[5]
    assert torch.equal(a["global"], b["global"]) and torch.equal(a["local"], b["local"])
    assert a["heads"] == b["heads"] and a["clips"] == b["clips"]
    assert not torch.equal(ds[6]["global"], a["global"])
    assert a["global"].shape == (2, 3, 3, 32, 32) and a["local"].shape == (2, 2, 3, 3, 16, 16)
    assert a["global_rgb"] is not None and ds[4]["global_rgb"] is None  # snapshot steps 0, 2, 5, 8 …
    # Worker processes with prefetch build the same batches as the training process.
    loaded = list(make_loader(ds, range(5, 7), workers=2, prefetch=2))
    assert torch.equal(loaded[0]["global"], a["global"]) and loaded[1]["iteration"] == 6


def test_ranks_render_their_share_of_the_single_process_batch(tmp_path):
    whole = _dataset(tmp_path, batch=4)[3]
    parts = [_dataset(tmp_path, rank=r, world=2, batch=2)[3] for r in range(2)]
    assert torch.equal(parts[0]["global"], whole["global"][0::2])
    assert torch.equal(parts[1]["local"], whole["local"][:, 1::2])


def test_batched_normalise_is_torchvisions_per_image_normalise():
    import torchvision.transforms.functional as VF
    from PIL import Image

    from dora_studio.data.augment import _normalise

    images = moving_frames(3, 20, 28, seed=9)
    ours = _normalise(images, SMALL)
    for i in range(3):
        ref = VF.normalize(VF.to_tensor(Image.fromarray(images[i])), SMALL.mean, SMALL.std)
        assert torch.equal(ours[i], ref)
