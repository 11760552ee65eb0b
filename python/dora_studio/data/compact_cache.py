"""Read access to the compact (JPEG) frame cache the TF.js engine builds (`src/trainer/data/compactCache/`,
layout in `docs/frame-cache.md`):

    <cacheRoot>/<video-name>-j<key>/index.json         metadata ("format": "jpeg", "version": 1) + completedFrames
    <cacheRoot>/<video-name>-j<key>/frames.idx         16 bytes per frame, uint32 LE: chunk, offset, length, crc32
    <cacheRoot>/<video-name>-j<key>/chunk-00000.mjpeg  JPEG files back to back
    <cacheRoot>/<video-name>-j<key>/luma.f32           mean luminance per frame (float32 LE)

`frame_cache.open_frame_source` dispatches here on the index's `format`. Any frame is one `os.pread` of its JPEG and
one decode, independent of every other frame. The decoders are libjpeg-turbo's (Pillow, or torchvision's
`decode_jpeg`), and the Node reader's @jsquash/jpeg is libjpeg-turbo's decoder too: the measured difference between
the engines is 0 (max abs pixel difference, docs/frame-cache.md). `decoder="nvjpeg"` decodes on the GPU (torchvision's
`decode_jpeg(device="cuda")`); its pixels may differ slightly and are measured there, not assumed.
Every JPEG is CRC-checked; a mismatch is recorded in damaged.json (the next build re-builds the chunk) and raised.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zlib
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .frame_cache import FrameCacheError, _js_json_number, default_cache_root, locate_frame_cache, node_mtime_ms

FORMAT = "jpeg"
KIND = "dora-compact-frames"
VERSION = 1
RECORD_BYTES = 16
RECORDS_FILE = "frames.idx"
LUMA_FILE = "luma.f32"
DAMAGED_FILE = "damaged.json"
DECODERS = ("auto", "pillow", "torchvision", "nvjpeg")
FIX = 'run "DoRA: Build Frame Cache" (CLI: dora cache <config>) or start the run again: the chunk is re-built'


def chunk_name(chunk: int) -> str:
    return f"chunk-{chunk:05d}.mjpeg"


def _decode_pillow(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def _torchvision_decoder(device: str) -> Callable[[bytes], np.ndarray]:
    import torch
    from torchvision.io import decode_jpeg

    def decode(data: bytes) -> np.ndarray:
        tensor = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        image = decode_jpeg(tensor, device=device) if device != "cpu" else decode_jpeg(tensor)
        return image.permute(1, 2, 0).cpu().numpy()

    return decode


def make_decoder(name: str) -> Callable[[bytes], np.ndarray]:
    """JPEG bytes → uint8 [H, W, 3]. 'auto': torchvision's decode_jpeg when importable (faster), else Pillow."""
    if name not in DECODERS:
        raise ValueError(f"decoder must be one of {', '.join(DECODERS)}, got {name!r}")
    if name == "pillow":
        return _decode_pillow
    if name == "nvjpeg":
        return _torchvision_decoder("cuda")
    try:
        return _torchvision_decoder("cpu")
    except ImportError:
        if name == "torchvision":
            raise
        return _decode_pillow


def _records(cache_dir: Path, frames: int) -> np.ndarray:
    path = cache_dir / RECORDS_FILE
    try:
        data = np.fromfile(path, dtype="<u4", count=frames * 4)
    except OSError as e:
        raise FrameCacheError(f"{path}: cannot read the frame index ({e.strerror}); fix: {FIX}") from e
    if data.size != frames * 4:
        raise FrameCacheError(f"{path}: has {data.size // 4} records, index.json says {frames}; fix: {FIX}")
    return data.reshape(frames, 4)


class CompactFrameCache:
    """The version-1 compact cache, with the FrameSource interface of frame_cache.py."""

    def __init__(self, cache_dir: str | os.PathLike, index: dict[str, Any], decoder: str = "auto") -> None:
        self.dir = Path(cache_dir)
        file = self.dir / "index.json"
        try:
            self.width = int(index["width"])
            self.height = int(index["height"])
            self.frame_count = int(index["completedFrames"])
        except (KeyError, TypeError, ValueError) as e:
            raise FrameCacheError(
                f"{file}: field {e} is missing or not a number; fix: delete the folder to rebuild it"
            ) from e
        self.complete = bool(index.get("complete"))
        fps = index.get("fps")
        self.fps = float(fps) if isinstance(fps, (int, float)) and fps > 0 else 30.0
        source = index.get("source") if isinstance(index.get("source"), dict) else {}
        self.source_path = str(source.get("path", self.dir))
        self.records = _records(self.dir, self.frame_count)
        self.decoder_name = decoder
        self._decode = make_decoder(decoder)
        self._fds: dict[int, int] = {}
        self._pid = os.getpid()

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of every frame."""
        return (self.width, self.height)

    def _fd(self, chunk: int, frame: int) -> int:
        if self._pid != os.getpid():  # forked into a DataLoader worker: open our own descriptors
            self._fds = {}
            self._pid = os.getpid()
        fd = self._fds.get(chunk)
        if fd is None:
            try:
                fd = os.open(self.dir / chunk_name(chunk), os.O_RDONLY)
            except OSError as e:
                raise self._corrupt(frame, chunk, f"its chunk file cannot be opened ({e.strerror})") from e
            self._fds[chunk] = fd
        return fd

    def _corrupt(self, frame: int, chunk: int, cause: str) -> FrameCacheError:
        report_damaged_chunk(self.dir, chunk)
        return FrameCacheError(
            f"Frame {frame} of the frame cache in {str(self.dir)!r} is corrupt ({cause}; chunk {chunk_name(chunk)}). "
            f"Fix: {FIX}."
        )

    def read_jpeg(self, frame: int) -> bytes:
        """The stored JPEG of `frame`, CRC-checked."""
        if not 0 <= frame < self.frame_count:
            raise IndexError(f"Frame {frame} is outside the cache of {self.source_path!r} (0..{self.frame_count - 1})")
        chunk, offset, length, crc = (int(v) for v in self.records[frame])
        data = os.pread(self._fd(chunk, frame), length, offset)
        if len(data) != length:
            raise self._corrupt(frame, chunk, "the chunk file is truncated")
        if data[:2] != b"\xff\xd8" or data[-2:] != b"\xff\xd9" or zlib.crc32(data) != crc:
            raise self._corrupt(frame, chunk, "CRC mismatch")
        return data

    def read_into(self, frame: int, out: np.ndarray) -> None:
        data = self.read_jpeg(frame)
        try:
            image = self._decode(data)
        except Exception as e:  # a JPEG with a valid CRC that no decoder reads: a broken build, re-build it
            raise self._corrupt(frame, int(self.records[frame][0]), f"undecodable JPEG: {e}") from e
        if image.shape != (self.height, self.width, 3):
            raise self._corrupt(frame, int(self.records[frame][0]), f"decoded size {image.shape[1]}x{image.shape[0]}")
        out[...] = image

    def read(self, indices: Sequence[int]) -> np.ndarray:
        """Frames stacked as uint8 [len(indices), height, width, 3], in the order given."""
        out = np.empty((len(indices), self.height, self.width, 3), dtype=np.uint8)
        for k, frame in enumerate(indices):
            self.read_into(int(frame), out[k])
        return out

    def luminance(self) -> np.ndarray | None:
        """Mean luminance (0..255) per frame, or None when luma.f32 is missing or short."""
        try:
            data = np.fromfile(self.dir / LUMA_FILE, dtype="<f4")
        except OSError:
            return None
        return data[: self.frame_count] if len(data) >= self.frame_count else None

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}

    def __getstate__(self) -> dict[str, Any]:  # pickled into spawned workers: descriptors and decoders do not travel
        state = self.__dict__.copy()
        state["_fds"] = {}
        state["_decode"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._decode = make_decoder(self.decoder_name)


def report_damaged_chunk(cache_dir: Path, chunk: int) -> None:
    """Adds `chunk` to damaged.json for the next build (best effort: a read-only folder only loses the hint)."""
    path = cache_dir / DAMAGED_FILE
    try:
        chunks = json.loads(path.read_text("utf-8")).get("chunks", [])
    except (OSError, ValueError, AttributeError):
        chunks = []
    try:
        tmp = cache_dir / f".{DAMAGED_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"chunks": sorted({*[c for c in chunks if isinstance(c, int)], chunk})}))
        os.replace(tmp, path)
    except OSError:
        pass


def open_if_supported(cache_dir: str | os.PathLike, index: dict[str, Any]) -> CompactFrameCache | None:
    """The hook of frame_cache.open_frame_source: a compact cache of this layout, else None (not ours)."""
    if index.get("format") != FORMAT or index.get("kind") != KIND:
        return None
    if index.get("version") != VERSION:
        raise FrameCacheError(
            f"{Path(cache_dir) / 'index.json'}: compact frame-cache version {index.get('version')!r}, this engine reads "
            f"version {VERSION}; fix: update DoRA Studio, or delete the folder to rebuild it"
        )
    return CompactFrameCache(cache_dir, index, decoder=os.environ.get("DORA_JPEG_DECODER", "auto"))


def compact_cache_key(path: str, size: int, mtime_ms: float, short_side: int, quality: int) -> str:
    """`compactCacheKey` of compactCache/plan.ts: video name + sha256 of (layout, format, chroma, file, settings)."""
    text = '{"v":%d,"format":"jpeg","chroma":"420","path":%s,"size":%d,"mtimeMs":%s,"shortSide":%d,"quality":%d}' % (
        VERSION,
        json.dumps(path, ensure_ascii=False),
        size,
        _js_json_number(mtime_ms),
        short_side,
        quality,
    )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(path))[:60]
    return f"{name}-j{digest}"


def locate_compact_cache(
    video: str, short_side: int, quality: int = 3, cache_root: str | os.PathLike | None = None
) -> Path:
    """The folder the TF.js engine uses for the compact cache of this video and settings (it may not exist yet)."""
    real = os.path.realpath(video)
    try:
        st = os.stat(real)
    except OSError as e:
        raise FrameCacheError(
            f"{video}: cannot read the video ({e.strerror}); fix: check data.video in the config"
        ) from e
    root = Path(cache_root) if cache_root else default_cache_root()
    return root / compact_cache_key(real, st.st_size, node_mtime_ms(st), short_side, quality)


def locate_run_frame_cache(data: dict[str, Any], cache_root: str | os.PathLike | None = None) -> Path:
    """The cache a run's `data` section reads: the compact one for format "jpeg"; for "auto" the one that exists
    (the TF.js engine's prepareFrames chose it), RGB24 first; "rgb24" the raw one."""
    fc = data["frameCache"]
    root = fc.get("dir") or cache_root
    fmt = fc.get("format", "auto")
    raw = locate_frame_cache(data["video"], fc["shortSide"], root)
    if fmt == "rgb24" or (fmt == "auto" and (raw / "index.json").exists()):
        return raw
    return locate_compact_cache(data["video"], fc["shortSide"], int(fc.get("quality", 3)), root)
