"""Where a checkpoint continues when the run is resumed, possibly with another number of processes.

One optimisation step consumes one GLOBAL batch of B = batchClips × processes clips, and an epoch has
floor(clip starts / B) steps, so the same point of training has another step number when B changes. A checkpoint
records `schedule.iteration`, `itersPerEpoch` and (this engine) `globalBatch` / `worldSize`. Resuming with another
global batch B′ keeps the epoch and the clips already seen in it: the run continues at step
ceil(steps done in the epoch × B / B′) of the same epoch (the epoch's clip order is a function of the seed and the
epoch only, so no clip of the epoch is repeated; up to B′ − 1 clips of it are skipped). From there every schedule is
the new run's: lr (peak scaled by the new global batch, the official linear rule), weight decay and teacher momentum
are indexed by the new step, the teacher temperature and the last-layer freeze by the (unchanged) epoch.
Step numbers in metrics.jsonl jump (or fall back) at that point; `epoch` stays continuous."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..data.clips import ClipSampler


class ResumeMismatch(ValueError):
    """The checkpoint was made on another video (or frame range): its steps per epoch do not fit this one."""


@dataclass(frozen=True)
class ResumePosition:
    iteration: int
    #: A line for the log (and a warning) when the global batch changed, else None.
    note: str | None = None


def resume_position(schedule: dict[str, Any], sampler: ClipSampler) -> ResumePosition:
    """The iteration of this run that continues the checkpoint's `schedule` (see the module docstring)."""
    it_old, itpe_old = int(schedule["iteration"]), int(schedule["itersPerEpoch"])
    per_process = sampler.batch_clips
    b_old = int(schedule.get("globalBatch") or per_process)  # checkpoints without it were made by one process
    w_old = int(schedule.get("worldSize") or 1)
    b_new, itpe_new = sampler.global_batch, sampler.steps_per_epoch
    if sampler.epoch_length // b_old != itpe_old:
        raise ResumeMismatch(
            f"the run had {itpe_old} steps per epoch of {b_old} clips, but this video gives "
            f"{sampler.epoch_length // b_old} such steps ({sampler.epoch_length} clip starts)"
        )
    if b_old == b_new:
        return ResumePosition(it_old)
    epoch, step = divmod(it_old, itpe_old)
    clips_done = step * b_old
    new_step = min(-(-clips_done // b_new), itpe_new)
    iteration = epoch * itpe_new + new_step
    note = (
        f"resuming with another global batch: the checkpoint was written by {w_old} process(es) with {b_old} clips per "
        f"step at step {it_old} (epoch {epoch}, {clips_done} clips of it done); this run has {sampler.world_size} "
        f"process(es) x {per_process} clips = {b_new} clips per step and {itpe_new} steps per epoch, so it continues "
        f"at step {iteration} (epoch {epoch}, step {new_step} of it); lr is scaled to the new global batch"
    )
    return ResumePosition(iteration, note)
