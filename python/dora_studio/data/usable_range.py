"""The usable frame range of a video, decided exactly as the TF.js trainer does (train.ts): the blank tail is trimmed
(`detectBlankTail` of frameCache.ts, from the cache's luma.f32), then `data.startFrame` and `data.maxFrames` apply."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .frame_cache import FrameSource


@dataclass(frozen=True)
class BlankTail:
    first_blank_frame: int
    blank_frames: int
    total_frames: int
    blank_seconds: float
    message: str


def _clock(seconds: float) -> str:
    s = math.floor(seconds)
    return f"{s // 3600}:{(s % 3600) // 60:02d}:{s % 60:02d}"


def detect_blank_tail(source: FrameSource, max_luminance: float = 12, min_seconds: float = 1) -> BlankTail | None:
    """A trailing run of near-black frames at least `min_seconds` long (the Venice video ends with ~2 h of black)."""
    luma = source.luminance()
    if luma is None:
        return None
    min_frames = max(1, math.floor(min_seconds * source.fps + 0.5))  # Math.round
    first = len(luma)
    while first > 0 and luma[first - 1] <= max_luminance:
        first -= 1
    blank = len(luma) - first
    if blank < min_frames:
        return None
    seconds = blank / source.fps
    if first == 0:
        message = (
            f'"{source.source_path}" is entirely near-black (mean luminance ≤ {max_luminance}/255 in all '
            f"{len(luma)} frames). Fix: check the video."
        )
    else:
        message = (
            f'"{source.source_path}" ends with {_clock(seconds)} of near-black frames (frames {first}–{len(luma) - 1}, '
            f"from {_clock(first / source.fps)}); training uses frames 0–{first - 1} only."
        )
    return BlankTail(first, blank, len(luma), seconds, message)


def usable_range(source: FrameSource, data: dict[str, Any]) -> tuple[int, int, str | None]:
    """(startFrame, endFrame, warning) for a resolved `data` config section."""
    end = source.frame_count
    warning = None
    if data.get("trimBlankTail", True):
        tail = detect_blank_tail(source)
        if tail is not None:
            end = tail.first_blank_frame
            warning = tail.message
    start = min(int(data.get("startFrame", 0)), end)
    if data.get("maxFrames") is not None:
        end = min(end, start + int(data["maxFrames"]))
    return start, end, warning
