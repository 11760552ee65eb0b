"""The ported Rng and ClipSampler against the TypeScript originals (answers computed by src/core/rng.ts and
src/trainer/data/clips.ts at test time, through python/tests/node/reference.ts)."""

import pytest

from dora_studio.data.clips import ClipSampler, shard
from dora_studio.data.rng import Rng, hash_string32, step_rng
from pyrun_support import ts_reference


def draws(seed, n):
    rng = Rng(seed)
    out = {
        "uint32": [rng.next_uint32() for _ in range(n)],
        "floats": [rng.next() for _ in range(n)],
        "uniforms": [rng.uniform(-3.5, 7.25) for _ in range(n)],
        "ints": [rng.int(3, 17) for _ in range(n)],
        "bigInts": [rng.int(0, 3000000019) for _ in range(n)],
        "sample": rng.sample(3, 6),
        "permutation": rng.permutation(n),
    }
    child = rng.fork("child")
    out["forked"] = [child.next_uint32() for _ in range(n)]
    out["state"] = rng.get_state()
    return out


@pytest.mark.parametrize("seed", [0, 1, 4294967297, -7, 2.5, "clips/seed=0/epoch=3", "ünï/cödé 🎥"])
def test_rng_streams_equal_typescript(seed):
    assert draws(seed, 40) == ts_reference("rng", seed=seed, n=40)


def test_rng_state_round_trip_and_validation():
    rng = Rng("x")
    rng.next_uint32()
    copy = Rng.from_state(rng.get_state())
    assert [copy.next_uint32() for _ in range(5)] == [rng.next_uint32() for _ in range(5)]
    with pytest.raises(ValueError, match="Invalid Rng state"):
        Rng.from_state({"algorithm": "sfc32", "words": [1, 2, 3]})
    assert hash_string32("") == hash_string32("")
    assert step_rng(0, "augment", 5).get_state() == Rng("augment/seed=0/iteration=5").get_state()


OPTIONS = {
    "totalFrames": 400,
    "framesPerClip": 4,
    "stride": 8,
    "batchClips": 3,
    "seed": 11,
    "startFrame": 5,
    "endFrame": 390,
}


def test_clip_order_equals_typescript():
    steps = [[0, 0], [0, 1], [0, 40], [1, 0], [3, 17], [12, 99]]
    ref = ts_reference("clips", options=OPTIONS, steps=steps)
    sampler = ClipSampler(400, 4, 8, 3, 11, start_frame=5, end_frame=390)
    assert sampler.steps_per_epoch == ref["stepsPerEpoch"]
    assert sampler.epoch_length == ref["epochLength"]
    for (epoch, step), expected in zip(steps, ref["batches"]):
        assert [c.to_json() for c in sampler.batch(epoch, step)] == expected


@pytest.mark.parametrize("world", [2, 3])
def test_distributed_shards_cover_the_single_process_batch(world):
    """W ranks with b clips each see, per step, exactly the clips one process with batch b*W sees."""
    single = ClipSampler(500, 4, 8, 2 * world, 3)
    multi = ClipSampler(500, 4, 8, 2, 3, world_size=world)
    assert multi.steps_per_epoch == single.steps_per_epoch
    for it in (0, 5, single.steps_per_epoch + 2):
        whole = single.batch_at(it)
        parts = [shard(multi.batch_at(it), r, world) for r in range(world)]
        assert sum(len(p) for p in parts) == len(whole)
        assert sorted(c.start for p in parts for c in p) == sorted(c.start for c in whole)
        assert parts[0] == whole[0::world]


def test_clip_sampler_errors_name_the_fix():
    with pytest.raises(ValueError, match="Lower stride or framesPerClip"):
        ClipSampler(30, 4, 8, 1, 0)
    with pytest.raises(ValueError, match="global batch 8"):
        ClipSampler(38, 4, 8, 4, 0, world_size=2)
