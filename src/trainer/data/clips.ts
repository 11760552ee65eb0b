// Clip sampling exactly as the official DoRA loader (WTDataloader.py WT_dataset_1vid + the
// DistributedSampler / DataLoader setup in main.py L152-166):
//   - every frame index is a possible clip start (__getitem__(index): start = index, L65);
//   - a clip is F frames `stride` apart: arange(start, start + F*stride, stride) (L66-69);
//   - epoch length = frames - F*stride (__len__, L85-86);
//   - each epoch a fresh random permutation of the starts (DistributedSampler(shuffle=True),
//     which seeds its generator with seed + epoch), cut into batches with drop_last=True.
// Extension: a [startFrame, endFrame) usable range, e.g. to trim the blank tail of the figshare
// Venice file (official issue #4); the official code always uses [0, total frames).

import { Rng } from '../../core/rng';

export interface ClipSamplerOptions {
  /** Frames in the decoded video. */
  totalFrames: number;
  /** F: frames per clip (official 8). */
  framesPerClip: number;
  /** Distance between consecutive frames of a clip ("step_between_clips", official 60). */
  stride: number;
  /** Clips per optimisation step (batch_size_per_gpu × GPUs in the official code). */
  batchClips: number;
  /** Run seed; the order of epoch e depends only on (seed, e). */
  seed: number;
  /** First usable frame (inclusive). Default 0. */
  startFrame?: number;
  /** End of the usable range (exclusive). Default totalFrames. */
  endFrame?: number;
}

/** One clip of a batch: its start frame and the F frame indices it reads. */
export interface ClipRef {
  start: number;
  frameIndices: number[];
}

/** Frame indices of the clip starting at `start` (WTDataloader.py L66-69). */
export function clipFrameIndices(start: number, framesPerClip: number, stride: number): number[] {
  const indices = new Array<number>(framesPerClip);
  for (let i = 0; i < framesPerClip; i++) indices[i] = start + i * stride;
  return indices;
}

/** Number of clip starts in a range of `usableFrames` frames: the official __len__ (L85-86). */
export function clipEpochLength(usableFrames: number, framesPerClip: number, stride: number): number {
  return usableFrames - framesPerClip * stride;
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`ClipSampler: ${name} must be an integer >= ${min}, got ${value}`);
  }
}

export class ClipSampler {
  readonly totalFrames: number;
  readonly framesPerClip: number;
  readonly stride: number;
  readonly batchClips: number;
  readonly seed: number;
  readonly startFrame: number;
  readonly endFrame: number;
  /** Clip starts per epoch (= dataset __len__). */
  readonly epochLength: number;
  /** Optimisation steps per epoch: floor(epochLength / batchClips) (drop_last=True). */
  readonly stepsPerEpoch: number;

  private cachedEpoch = -1;
  private cachedOrder: Int32Array = new Int32Array(0);

  constructor(options: ClipSamplerOptions) {
    const { totalFrames, framesPerClip, stride, batchClips, seed } = options;
    const startFrame = options.startFrame ?? 0;
    const endFrame = options.endFrame ?? totalFrames;
    requireInteger('totalFrames', totalFrames, 0);
    requireInteger('framesPerClip', framesPerClip, 1);
    requireInteger('stride', stride, 1);
    requireInteger('batchClips', batchClips, 1);
    if (!Number.isFinite(seed)) throw new Error(`ClipSampler: seed must be a finite number, got ${seed}`);
    requireInteger('startFrame', startFrame, 0);
    requireInteger('endFrame', endFrame, 0);
    if (startFrame >= endFrame || endFrame > totalFrames) {
      throw new Error(
        `ClipSampler: the usable range [${startFrame}, ${endFrame}) must satisfy 0 <= startFrame < endFrame <= ` +
          `totalFrames (${totalFrames})`,
      );
    }
    const usable = endFrame - startFrame;
    const epochLength = clipEpochLength(usable, framesPerClip, stride);
    if (epochLength < 1) {
      throw new Error(
        `Video too short for one clip: the usable range [${startFrame}, ${endFrame}) has ${usable} frames, ` +
          `but ${framesPerClip} frames per clip at stride ${stride} need more than ${framesPerClip * stride}. ` +
          `Lower stride or framesPerClip.`,
      );
    }
    const stepsPerEpoch = Math.floor(epochLength / batchClips);
    if (stepsPerEpoch < 1) {
      throw new Error(
        `Video too short for one step: the usable range [${startFrame}, ${endFrame}) gives ${epochLength} clip starts, ` +
          `fewer than batchClips ${batchClips} (incomplete batches are dropped). Lower batchClips, stride or framesPerClip.`,
      );
    }
    this.totalFrames = totalFrames;
    this.framesPerClip = framesPerClip;
    this.stride = stride;
    this.batchClips = batchClips;
    this.seed = seed;
    this.startFrame = startFrame;
    this.endFrame = endFrame;
    this.epochLength = epochLength;
    this.stepsPerEpoch = stepsPerEpoch;
  }

  /**
   * Clip starts of `epoch` in visiting order: a permutation of startFrame .. startFrame+epochLength-1.
   * Seeded from (seed, epoch) only, like DistributedSampler's `g.manual_seed(seed + epoch)`, so a
   * resumed run rebuilds the order of its epoch without replaying earlier epochs. The array is
   * cached and shared: do not modify it.
   */
  epochOrder(epoch: number): Int32Array {
    requireInteger('epoch', epoch, 0);
    if (epoch !== this.cachedEpoch) {
      const rng = new Rng(`clips/seed=${this.seed}/epoch=${epoch}`);
      const order = rng.permutation(this.epochLength);
      if (this.startFrame !== 0) for (let i = 0; i < order.length; i++) order[i] += this.startFrame;
      this.cachedOrder = order;
      this.cachedEpoch = epoch;
    }
    return this.cachedOrder;
  }

  /** The `batchClips` clips of optimisation step `step` (0-based) of `epoch`. */
  batch(epoch: number, step: number): ClipRef[] {
    requireInteger('step', step, 0);
    if (step >= this.stepsPerEpoch) {
      throw new Error(`ClipSampler: step ${step} is past the end of the epoch (${this.stepsPerEpoch} steps)`);
    }
    const order = this.epochOrder(epoch);
    const clips: ClipRef[] = [];
    for (let i = step * this.batchClips; i < (step + 1) * this.batchClips; i++) {
      clips.push({ start: order[i], frameIndices: clipFrameIndices(order[i], this.framesPerClip, this.stride) });
    }
    return clips;
  }

  /** Batches of `epoch` from `fromStep` on (resume mid-epoch without replaying earlier steps). */
  *batches(epoch: number, fromStep = 0): Generator<{ step: number; clips: ClipRef[] }> {
    for (let step = fromStep; step < this.stepsPerEpoch; step++) yield { step, clips: this.batch(epoch, step) };
  }
}
