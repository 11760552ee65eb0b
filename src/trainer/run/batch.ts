/**
 * From clip references to training tensors: read the F frames of each clip from the frame cache, apply the official
 * augmentation (seeded per optimisation step, so a resumed run redraws exactly the same crops), and stack the clips
 * into the layouts the step expects: global [B, F, 3, G, G] and local [nl, B, F, 3, L, L] (train_one_epoch's images).
 */
import type { DataConfig } from '../../core/config';
import { Rng } from '../../core/rng';
import { ClipAugmenter, type AugmentConfig } from '../data/augment';
import type { ClipRef } from '../data/clips';
import type { FrameSource } from '../data/frameCache/reader';

export interface HostBatch {
  clips: ClipRef[];
  batch: number;
  frames: number;
  globalSize: number;
  localSize: number;
  localCrops: number;
  /** [B, F, 3, G, G] normalised. */
  global: Float32Array;
  /** [nl, B, F, 3, L, L] normalised. */
  local: Float32Array;
  /** Per clip: the un-normalised global crops [F, G, G, 3] (what the teacher saw), for snapshots. */
  globalRgb: Uint8Array[];
}

/** The official augmentation settings of a run config, in the augmenter's terms. */
export function augmentConfigFor(data: DataConfig): Partial<AugmentConfig> {
  const a = data.augment;
  return {
    precrop: data.precropSize,
    globalSize: data.globalSize,
    localSize: data.localSize,
    nLocal: data.localCrops,
    precropScale: data.precropScale,
    globalScale: data.globalScale,
    localScale: data.localScale,
    flipProbability: a.hflipProb,
    jitterProbability: a.colorJitterProb,
    brightness: a.brightness,
    contrast: a.contrast,
    saturation: a.saturation,
    hue: a.hue,
    grayscaleProbability: a.grayscaleProb,
    globalBlurProbability: a.globalBlurProb,
    localBlurProbability: a.localBlurProb,
    blurSigma: a.blurSigma,
  };
}

/** Deterministic random streams of one optimisation step (independent of how many steps ran before). */
export function stepRng(seed: number, purpose: 'augment' | 'heads', iteration: number): Rng {
  return new Rng(`${purpose}/seed=${seed}/iteration=${iteration}`);
}

export class BatchBuilder {
  private readonly augmenter: ClipAugmenter;

  constructor(
    private readonly cache: FrameSource,
    data: DataConfig,
    private readonly seed: number,
  ) {
    this.augmenter = new ClipAugmenter(augmentConfigFor(data));
  }

  build(clips: ClipRef[], iteration: number, options: { augment?: boolean } = {}): HostBatch {
    const { globalSize: G, localSize: L, nLocal } = this.augmenter.config;
    const rng = stepRng(this.seed, 'augment', iteration);
    const b = clips.length;
    const f = clips[0].frameIndices.length;
    const global = new Float32Array(b * f * 3 * G * G);
    const local = new Float32Array(nLocal * b * f * 3 * L * L);
    const globalRgb: Uint8Array[] = [];
    const frameSize = this.cache.width * this.cache.height * 3;
    clips.forEach((clip, ci) => {
      const stacked = this.cache.readFrames(clip.frameIndices);
      const frames = clip.frameIndices.map((_, i) => stacked.subarray(i * frameSize, (i + 1) * frameSize));
      const input = { frames, width: this.cache.width, height: this.cache.height };
      const out = options.augment === false ? this.augmenter.centreCrop(input) : this.augmenter.augment(input, rng);
      global.set(out.global, ci * f * 3 * G * G);
      const perLocal = f * 3 * L * L;
      out.locals.forEach((crop, v) => local.set(crop, (v * b + ci) * perLocal));
      globalRgb.push(out.globalRgb);
    });
    return { clips, batch: b, frames: f, globalSize: G, localSize: L, localCrops: nLocal, global, local, globalRgb };
  }
}
