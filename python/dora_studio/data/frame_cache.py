"""Read access to the frame cache the TF.js engine builds (`src/trainer/data/frameCache.ts`, version 1, raw RGB24):

    <cacheRoot>/<video-name>-<key>/index.json         metadata + completedFrames
    <cacheRoot>/<video-name>-<key>/frames-00000.rgb   framesPerChunk frames of width*height*3 bytes each
    <cacheRoot>/<video-name>-<key>/luma.f32           mean luminance per frame (float32 LE)

`open_frame_source(cache_dir)` is the one entry point: it reads `index.json`, and returns an object with
`frame_count`, `width`, `height`, `size`, `fps`, `source_path`, `read(indices)` (uint8 [n, H, W, 3]), `luminance()`
and `close()` (the `FrameSource` protocol). Another on-disk format (a compact JPEG cache) plugs in as
`data/compact_cache.py` with `open_if_supported(cache_dir, index) -> FrameSource | None`, chosen by the `format` field
of its index.json; it must survive a fork (DataLoader workers) and may set `complete = False` for a partial cache.
Frames are read with `os.pread`, so one source can be shared by DataLoader workers after a fork (each opens its own
file descriptors lazily).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

FRAME_CACHE_VERSION = 1
INDEX_FILE = "index.json"
LUMA_FILE = "luma.f32"


class FrameCacheError(Exception):
    """A frame cache that is missing, damaged or of an unknown format; the message names the file and the fix."""


class FrameSource(Protocol):
    frame_count: int
    width: int
    height: int
    fps: float
    source_path: str

    @property
    def size(self) -> tuple[int, int]:
        ...

    def read(self, indices: Sequence[int]) -> np.ndarray:
        ...

    def luminance(self) -> np.ndarray | None:
        ...

    def close(self) -> None:
        ...


def _field(index: dict[str, Any], name: str, kind: type, file: Path, minimum: int | None = None) -> Any:
    value = index.get(name)
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and minimum is not None:
        ok = value >= minimum
    if not ok:
        raise FrameCacheError(
            f"{file}: field '{name}' is {value!r}, expected {kind.__name__}"
            + (f" >= {minimum}" if minimum is not None else "")
            + "; fix: delete the cache folder so that DoRA Studio rebuilds it"
        )
    return value


class RawFrameCache:
    """The version-1 RGB24 cache: frame i is at byte (i % framesPerChunk) * frameBytes of chunk i // framesPerChunk."""

    def __init__(self, cache_dir: str | os.PathLike, index: dict[str, Any]) -> None:
        self.dir = Path(cache_dir)
        file = self.dir / INDEX_FILE
        self.width = _field(index, "width", int, file, 1)
        self.height = _field(index, "height", int, file, 1)
        self.frame_bytes = _field(index, "frameBytes", int, file, 1)
        self.frames_per_chunk = _field(index, "framesPerChunk", int, file, 1)
        self.frame_count = _field(index, "completedFrames", int, file, 0)
        self.complete = bool(index.get("complete"))
        fps = index.get("fps")
        self.fps = float(fps) if isinstance(fps, (int, float)) and fps > 0 else 30.0
        source = index.get("source") if isinstance(index.get("source"), dict) else {}
        self.source_path = str(source.get("path", self.dir))
        if self.frame_bytes != self.width * self.height * 3:
            raise FrameCacheError(
                f"{file}: frameBytes {self.frame_bytes} != width*height*3 ({self.width}x{self.height}); "
                "fix: delete the cache folder so that DoRA Studio rebuilds it"
            )
        self._fds: dict[int, int] = {}
        self._pid = os.getpid()

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of every frame."""
        return (self.width, self.height)

    def _fd(self, chunk: int) -> int:
        if self._pid != os.getpid():  # forked into a DataLoader worker: open our own descriptors
            self._fds = {}
            self._pid = os.getpid()
        fd = self._fds.get(chunk)
        if fd is None:
            path = self.dir / f"frames-{chunk:05d}.rgb"
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError as e:
                raise FrameCacheError(
                    f"{path}: cannot open a chunk of the frame cache ({e.strerror}); "
                    "fix: delete the cache folder so that DoRA Studio rebuilds it"
                ) from e
            self._fds[chunk] = fd
        return fd

    def read_into(self, frame: int, out: np.ndarray) -> None:
        if not 0 <= frame < self.frame_count:
            raise IndexError(f"Frame {frame} is outside the cache of {self.source_path!r} (0..{self.frame_count - 1})")
        chunk, slot = divmod(frame, self.frames_per_chunk)
        view = memoryview(out.reshape(-1))
        done = 0
        while done < self.frame_bytes:
            n = os.preadv(self._fd(chunk), [view[done:]], slot * self.frame_bytes + done)
            if n == 0:
                raise FrameCacheError(
                    f"{self.dir}: the frame cache is truncated at frame {frame}; fix: delete the folder to rebuild it"
                )
            done += n

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

    def __getstate__(self) -> dict[str, Any]:  # pickled into spawned workers: descriptors do not travel
        state = self.__dict__.copy()
        state["_fds"] = {}
        return state


def read_index(cache_dir: str | os.PathLike) -> dict[str, Any]:
    file = Path(cache_dir) / INDEX_FILE
    try:
        index = json.loads(file.read_text("utf-8"))
    except FileNotFoundError as e:
        raise FrameCacheError(
            f"{file}: no frame cache here; fix: build it first (`node dist/cli.js train` builds it) "
            "or pass the folder of a built cache"
        ) from e
    except (OSError, ValueError) as e:
        raise FrameCacheError(
            f"{file}: unreadable frame-cache index ({e}); fix: delete the folder to rebuild it"
        ) from e
    if not isinstance(index, dict):
        raise FrameCacheError(f"{file}: not a frame-cache index; fix: delete the folder to rebuild it")
    return index


def open_frame_source(cache_dir: str | os.PathLike) -> FrameSource:
    """Opens a frame cache by the `format` in its index.json (`rgb24` today; other formats register here)."""
    index = read_index(cache_dir)
    fmt = index.get("format")
    if fmt == "rgb24":
        if index.get("version") != FRAME_CACHE_VERSION:
            raise FrameCacheError(
                f"{Path(cache_dir) / INDEX_FILE}: frame-cache version {index.get('version')!r}, this engine reads "
                f"version {FRAME_CACHE_VERSION}; fix: delete the folder to rebuild it"
            )
        return RawFrameCache(cache_dir, index)
    try:
        from . import compact_cache  # type: ignore[attr-defined]
    except ImportError:
        compact_cache = None
    if compact_cache is not None and hasattr(compact_cache, "open_if_supported"):
        source = compact_cache.open_if_supported(cache_dir, index)
        if source is not None:
            return source
    raise FrameCacheError(
        f"{Path(cache_dir) / INDEX_FILE}: unknown frame-cache format {fmt!r}; "
        "fix: update DoRA Studio, or delete the folder to rebuild the cache"
    )


# ---- locating the cache of a video exactly as frameCache.ts names it ----------------------------------------------


def default_cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "dora-studio" / "frames"


def _js_json_number(x: float | int) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e21:
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


def node_mtime_ms(stat: os.stat_result) -> float:
    """Node's `stats.mtimeMs`: sec * 1e3 + nsec / 1e6 in doubles."""
    sec, nsec = divmod(stat.st_mtime_ns, 1_000_000_000)
    return sec * 1e3 + nsec / 1e6


def frame_cache_key(path: str, size: int, mtime_ms: float, short_side: int) -> str:
    """`frameCacheKey` of frameCache.ts: readable video name + sha256 of (version, format, path, size, mtime, side)."""
    text = '{"v":%d,"format":"rgb24","path":%s,"size":%d,"mtimeMs":%s,"shortSide":%d}' % (
        FRAME_CACHE_VERSION,
        json.dumps(path, ensure_ascii=False),
        size,
        _js_json_number(mtime_ms),
        short_side,
    )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(path))[:60]
    return f"{name}-{digest}"


def locate_frame_cache(video: str, short_side: int, cache_root: str | os.PathLike | None = None) -> Path:
    """The folder the TF.js engine uses for this video and short side (it may not exist yet)."""
    real = os.path.realpath(video)
    try:
        st = os.stat(real)
    except OSError as e:
        raise FrameCacheError(
            f"{video}: cannot read the video ({e.strerror}); fix: check data.video in the config"
        ) from e
    root = Path(cache_root) if cache_root else default_cache_root()
    return root / frame_cache_key(real, st.st_size, node_mtime_ms(st), short_side)
