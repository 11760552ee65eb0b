"""Clip sampling exactly as the TF.js engine (`src/trainer/data/clips.ts`) and the official loader
(WTDataloader.py WT_dataset_1vid + DistributedSampler/DataLoader in main.py L152-166):

- every frame of the usable range is a clip start; a clip is F frames `stride` apart;
- epoch length = usable frames - F*stride (the official `__len__`);
- each epoch visits the starts in a permutation that depends only on (seed, epoch) (ported Rng), in global batches of
  `batch_clips` clips (incomplete batches dropped).

Distributed (world size W, `batch_clips` = per-process clips b): the global batch of step s is the same B = b*W clips
a single process with batch B draws at step s, and rank r takes every W-th of them (`shard`), as DistributedSampler
deals indices round-robin. So the order is a function of (seed, epoch) for any world size, and a W-process run sees the
same clips per step as a 1-process run with batch b*W. The one deviation from DistributedSampler: it pads the epoch to
a multiple of W by repeating its first indices; here the steps per epoch are floor(len / B), so nothing repeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from .rng import Rng, js_number


@dataclass(frozen=True)
class ClipRef:
    start: int
    frame_indices: tuple[int, ...]

    def to_json(self) -> dict:
        return {"start": self.start, "frameIndices": list(self.frame_indices)}


def clip_frame_indices(start: int, frames_per_clip: int, stride: int) -> tuple[int, ...]:
    """Frame indices of the clip that starts at `start` (WTDataloader.py L66-69)."""
    return tuple(start + i * stride for i in range(frames_per_clip))


def clip_epoch_length(usable_frames: int, frames_per_clip: int, stride: int) -> int:
    """Number of clip starts in a range of `usable_frames` frames: the official `__len__` (L85-86)."""
    return usable_frames - frames_per_clip * stride


def _require_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"ClipSampler: {name} must be an integer >= {minimum}, got {value!r}")


class ClipSampler:
    """Global clip batches per (epoch, step); `shard` gives one rank's part."""

    def __init__(
        self,
        total_frames: int,
        frames_per_clip: int,
        stride: int,
        batch_clips: int,
        seed: int,
        start_frame: int = 0,
        end_frame: int | None = None,
        world_size: int = 1,
    ) -> None:
        end_frame = total_frames if end_frame is None else end_frame
        for name, value, minimum in (
            ("totalFrames", total_frames, 0),
            ("framesPerClip", frames_per_clip, 1),
            ("stride", stride, 1),
            ("batchClips", batch_clips, 1),
            ("startFrame", start_frame, 0),
            ("endFrame", end_frame, 0),
            ("worldSize", world_size, 1),
        ):
            _require_int(name, value, minimum)
        if start_frame >= end_frame or end_frame > total_frames:
            raise ValueError(
                f"ClipSampler: the usable range [{start_frame}, {end_frame}) must satisfy "
                f"0 <= startFrame < endFrame <= totalFrames ({total_frames})"
            )
        usable = end_frame - start_frame
        epoch_length = clip_epoch_length(usable, frames_per_clip, stride)
        if epoch_length < 1:
            raise ValueError(
                f"Video too short for one clip: the usable range [{start_frame}, {end_frame}) has {usable} frames, "
                f"but {frames_per_clip} frames per clip at stride {stride} need more than {frames_per_clip * stride}. "
                "Lower stride or framesPerClip."
            )
        global_batch = batch_clips * world_size
        steps = epoch_length // global_batch
        if steps < 1:
            raise ValueError(
                f"Video too short for one step: the usable range [{start_frame}, {end_frame}) gives {epoch_length} "
                f"clip starts, fewer than the global batch {global_batch} ({batch_clips} clips x {world_size} "
                "processes; incomplete batches are dropped). Lower batchClips, stride or framesPerClip."
            )
        self.total_frames = total_frames
        self.frames_per_clip = frames_per_clip
        self.stride = stride
        self.batch_clips = batch_clips
        self.world_size = world_size
        self.global_batch = global_batch
        self.seed = seed
        self.start_frame = start_frame
        self.end_frame = end_frame
        self.epoch_length = epoch_length
        self.steps_per_epoch = steps
        self._cached: tuple[int, list[int]] | None = None

    def epoch_order(self, epoch: int) -> list[int]:
        """Clip starts of `epoch` in visiting order, seeded from (seed, epoch) only (clips.ts `epochOrder`)."""
        _require_int("epoch", epoch, 0)
        if self._cached is None or self._cached[0] != epoch:
            order = Rng(f"clips/seed={js_number(self.seed)}/epoch={epoch}").permutation(self.epoch_length)
            if self.start_frame:
                order = [i + self.start_frame for i in order]
            self._cached = (epoch, order)
        return self._cached[1]

    def batch(self, epoch: int, step: int) -> list[ClipRef]:
        """The global batch (`batch_clips * world_size` clips) of optimisation step `step` (0-based) of `epoch`."""
        _require_int("step", step, 0)
        if step >= self.steps_per_epoch:
            raise ValueError(f"ClipSampler: step {step} is past the end of the epoch ({self.steps_per_epoch} steps)")
        order = self.epoch_order(epoch)
        starts = order[step * self.global_batch : (step + 1) * self.global_batch]
        return [ClipRef(s, clip_frame_indices(s, self.frames_per_clip, self.stride)) for s in starts]

    def batch_at(self, iteration: int) -> list[ClipRef]:
        """The global batch of a global iteration (epoch = iteration // steps_per_epoch)."""
        return self.batch(iteration // self.steps_per_epoch, iteration % self.steps_per_epoch)

    def batches(self, epoch: int, from_step: int = 0) -> Iterator[tuple[int, list[ClipRef]]]:
        for step in range(from_step, self.steps_per_epoch):
            yield step, self.batch(epoch, step)


def shard(items: Sequence, rank: int, world_size: int) -> list:
    """Rank `rank`'s part of a global batch: every `world_size`-th item from position `rank` (DistributedSampler)."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is outside the world of {world_size} processes")
    return list(items[rank::world_size])
