"""The frame-cache reader on a cache built by the TF.js engine's own code (frameCache.ts via tsx, from a video made
with ffmpeg), the cache location rule, the blank-tail trim, and clear errors for damaged caches."""

import base64
import json
import shutil
import subprocess

import numpy as np
import pytest

from dora_studio.data.frame_cache import FrameCacheError, locate_frame_cache, open_frame_source
from dora_studio.data.usable_range import usable_range
from pyrun_support import moving_frames, ts_reference, write_raw_cache

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"  # a system dependency (scripts/install-system-deps.sh)


def test_reads_a_cache_built_by_the_typescript_engine(tmp_path):
    video = tmp_path / "clip.mp4"
    subprocess.run(
        [FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=96x64:r=10:d=2", "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )
    indices = [0, 7, 19, 3]
    ref = ts_reference(
        "buildCache", video=str(video), cacheRoot=str(tmp_path / "frames"), shortSide=48, indices=indices
    )
    assert str(locate_frame_cache(str(video), 48, tmp_path / "frames")) == ref["dir"]
    source = open_frame_source(ref["dir"])
    assert (source.frame_count, source.width, source.height) == (ref["frameCount"], ref["width"], ref["height"])
    assert source.size == (72, 48) and source.frame_count == 20
    expected = np.frombuffer(base64.b64decode(ref["frames"]), np.uint8).reshape(4, 48, 72, 3)
    assert np.array_equal(source.read(indices), expected)
    assert source.luminance().shape == (20,)
    source.close()


def test_chunks_luma_and_blank_tail(tmp_path):
    frames = moving_frames(50, 20, 30)
    frames[40:] = 2  # a near-black tail of 10 frames = 1 s at 10 fps
    source = open_frame_source(write_raw_cache(tmp_path / "c", frames, frames_per_chunk=6, fps=10))
    assert np.array_equal(source.read([0, 5, 6, 49]), frames[[0, 5, 6, 49]])
    start, end, warning = usable_range(source, {"trimBlankTail": True, "startFrame": 3, "maxFrames": 100})
    assert (start, end) == (3, 40) and "near-black" in warning and "frames 40–49" in warning
    assert usable_range(source, {"trimBlankTail": False, "startFrame": 0, "maxFrames": 20})[:2] == (0, 20)
    with pytest.raises(IndexError, match="outside the cache"):
        source.read([50])


def test_damaged_caches_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(FrameCacheError, match="no frame cache here"):
        open_frame_source(tmp_path / "missing")
    cache = write_raw_cache(tmp_path / "c", moving_frames(10, 8, 8), frames_per_chunk=4)
    index = json.loads((cache / "index.json").read_text())
    (cache / "index.json").write_text(json.dumps({**index, "format": "webm"}))
    with pytest.raises(FrameCacheError, match="unknown frame-cache format 'webm'"):
        open_frame_source(cache)
    (cache / "index.json").write_text(json.dumps({**index, "frameBytes": 5}))
    with pytest.raises(FrameCacheError, match="frameBytes 5"):
        open_frame_source(cache)
    (cache / "index.json").write_text(json.dumps(index))
    (cache / "frames-00002.rgb").write_bytes(b"\0" * 10)
    with pytest.raises(FrameCacheError, match="truncated at frame 9"):
        open_frame_source(cache).read([9])
