// The official DoRA augmentation of one clip (main.py class DataAugmentationDINO, L481-568), on
// uint8 RGB frames, seeded and reproducible. Pipeline per clip of F frames:
//   1. init_aug (L493-496): ToTensorVideo + ONE RandomResizedCropVideo(precrop, scale (0.2, 1)),
//      bilinear without antialias, shared by all F frames -> the "pre-crop".
//   2. vid_crop (L498-501): ONE RandomResizedCropVideo(global, scale (0.4, 1)) + ONE
//      RandomHorizontalFlipVideo(0.5), shared by all frames.
//   3. global_transfo1 per frame (L511-517, L553-554): ToPILImage, ColorJitter(0.4, 0.4, 0.2, 0.1)
//      p=0.8, RandomGrayscale 0.2, GaussianBlur p=0.1, ToTensor + Normalize.
//   4. nLocal local crops (L529-535, L561-567), drawn per crop and per frame from the PRE-CROP:
//      ToPILImage, RandomResizedCrop(local, scale (0.05, 0.4), BICUBIC), ColorJitter p=0.8,
//      RandomGrayscale 0.2, GaussianBlur p=0.5, Normalize. No flip (commented out, L484).
// Parameters are drawn first (sampleAugmentParams, in the official call order) and then rendered
// (renderAugmentedClip), so a run can log, replay or inspect exactly what was applied.

import type { Rng } from '../../core/rng';
import { normalizationTable, normalizeToPlanar, IMAGENET_MEAN, IMAGENET_STD } from './image/normalize';
import { gaussianBlurPil } from './image/blur';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation, toGrayscale } from './image/enhance';
import { resizeBicubicPil } from './image/pilResample';
import { floatToPilU8, resizeBilinearF32, resizeBilinearFromU8 } from './image/torchBilinear';
import { type CropBox, sampleResizedCropBox } from './image/crop';

export { type CropBox } from './image/crop';

export interface AugmentConfig {
  /** Side of the shared pre-crop (official 300, main.py L495). */
  precrop: number;
  /** Side of the global crop (official 224, L499). */
  globalSize: number;
  /** Side of each local crop (official 112 = 224 // 2, L531, L563). */
  localSize: number;
  /** Local crops per frame (official README 6; argparse default 8). */
  nLocal: number;
  precropScale: readonly [number, number];
  globalScale: readonly [number, number];
  localScale: readonly [number, number];
  /** Aspect-ratio range of every RandomResizedCrop (torchvision default 3/4 .. 4/3). */
  ratio: readonly [number, number];
  flipProbability: number;
  jitterProbability: number;
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
  grayscaleProbability: number;
  globalBlurProbability: number;
  localBlurProbability: number;
  blurSigma: readonly [number, number];
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** Official values (main.py L481-535, utils.py GaussianBlur) at the paper's sizes. */
export const OFFICIAL_AUGMENT: Readonly<AugmentConfig> = Object.freeze({
  precrop: 300,
  globalSize: 224,
  localSize: 112,
  nLocal: 6,
  precropScale: [0.2, 1],
  globalScale: [0.4, 1],
  localScale: [0.05, 0.4],
  ratio: [3 / 4, 4 / 3],
  flipProbability: 0.5,
  jitterProbability: 0.8,
  brightness: 0.4,
  contrast: 0.4,
  saturation: 0.2,
  hue: 0.1,
  grayscaleProbability: 0.2,
  globalBlurProbability: 0.1,
  localBlurProbability: 0.5,
  blurSigma: [0.1, 2.0],
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
} as const);

/** Sizes of the `cpu-small` preset; every probability and range stays official. */
export const CPU_SMALL_AUGMENT: Readonly<AugmentConfig> = Object.freeze({
  ...OFFICIAL_AUGMENT,
  precrop: 128,
  globalSize: 96,
  localSize: 48,
  nLocal: 6,
});

export function augmentConfig(overrides: Partial<AugmentConfig> = {}): AugmentConfig {
  const config: AugmentConfig = { ...OFFICIAL_AUGMENT, ...overrides };
  for (const key of ['precrop', 'globalSize', 'localSize'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1)
      throw new Error(`augment: ${key} must be a positive integer, got ${config[key]}`);
  }
  if (!Number.isInteger(config.nLocal) || config.nLocal < 0)
    throw new Error(`augment: nLocal must be an integer >= 0, got ${config.nLocal}`);
  return config;
}

/** Colour parameters of one image (one frame of the global crop, or one local crop of a frame). */
export interface ColourParams {
  /** ColorJitter factors and application order (null: RandomApply skipped it). */
  jitter: {
    /** Order of the four ops: 0 brightness, 1 contrast, 2 saturation, 3 hue (torch.randperm(4)). */
    order: number[];
    brightness: number;
    contrast: number;
    saturation: number;
    hue: number;
  } | null;
  grayscale: boolean;
  /** Gaussian blur radius (PIL's "radius" = sigma), or null when not blurred. */
  blurSigma: number | null;
}

export interface ClipAugmentParams {
  /** Input frame size the parameters were drawn for. */
  frameWidth: number;
  frameHeight: number;
  frames: number;
  /** init_aug crop, in input-frame pixels. */
  precropBox: CropBox;
  /** vid_crop crop, in pre-crop pixels. */
  globalBox: CropBox;
  flip: boolean;
  /** Per frame. */
  globalColour: ColourParams[];
  /** [local crop][frame], in pre-crop pixels. */
  localBoxes: CropBox[][];
  /** [local crop][frame]. */
  localColour: ColourParams[][];
}

export interface AugmentedClip {
  frames: number;
  globalSize: number;
  localSize: number;
  /** Normalised global crops, [F, 3, G, G] (NCHW per frame). */
  global: Float32Array;
  /** nLocal entries, each [F, 3, L, L]. */
  locals: Float32Array[];
  /** The global crops the model saw, before Normalize: uint8 [F, G, G, 3] for UI snapshots. */
  globalRgb: Uint8Array;
  params: ClipAugmentParams;
}

/** A clip of F same-size RGB24 frames (H×W×3, row-major). */
export interface ClipFrames {
  frames: readonly Uint8Array[];
  width: number;
  height: number;
}

function validateClip(clip: ClipFrames): void {
  const { frames, width, height } = clip;
  if (frames.length < 1) throw new Error('augment: a clip needs at least one frame');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`augment: invalid frame size ${width}×${height}`);
  }
  frames.forEach((frame, i) => {
    if (frame.length !== width * height * 3) {
      throw new Error(`augment: frame ${i} has ${frame.length} bytes, expected ${width}×${height}×3 = ${width * height * 3}`);
    }
  });
}

/**
 * torchvision ColorJitter + RandomApply + RandomGrayscale + DINO GaussianBlur parameter draws.
 * RandomApply keeps the op when rand <= p; RandomGrayscale fires when rand < p; utils.GaussianBlur
 * fires when random() <= p (utils.py L98) with radius ~ U(0.1, 2.0) (L104).
 */
function sampleColourParams(rng: Rng, config: AugmentConfig, blurProbability: number): ColourParams {
  let jitter: ColourParams['jitter'] = null;
  if (rng.next() <= config.jitterProbability) {
    const order = rng.shuffle([0, 1, 2, 3]);
    jitter = {
      order,
      brightness: rng.uniform(Math.max(0, 1 - config.brightness), 1 + config.brightness),
      contrast: rng.uniform(Math.max(0, 1 - config.contrast), 1 + config.contrast),
      saturation: rng.uniform(Math.max(0, 1 - config.saturation), 1 + config.saturation),
      hue: rng.uniform(-config.hue, config.hue),
    };
  }
  const grayscale = rng.next() < config.grayscaleProbability;
  const blurSigma = rng.next() <= blurProbability ? rng.uniform(config.blurSigma[0], config.blurSigma[1]) : null;
  return { jitter, grayscale, blurSigma };
}

/**
 * Draws every random parameter of one clip, in the order the official code consumes them:
 * pre-crop, global crop, flip, the F global colour draws, then for each local crop and each
 * frame its crop and colour draws (main.py L541-567).
 */
export function sampleAugmentParams(
  rng: Rng,
  frames: number,
  frameHeight: number,
  frameWidth: number,
  config: AugmentConfig,
): ClipAugmentParams {
  const precropBox = sampleResizedCropBox(rng, frameHeight, frameWidth, config.precropScale, config.ratio);
  const globalBox = sampleResizedCropBox(rng, config.precrop, config.precrop, config.globalScale, config.ratio);
  // RandomHorizontalFlipVideo: `random.random() < p` flips the whole clip.
  const flip = rng.next() < config.flipProbability;
  const globalColour: ColourParams[] = [];
  for (let t = 0; t < frames; t++) globalColour.push(sampleColourParams(rng, config, config.globalBlurProbability));
  const localBoxes: CropBox[][] = [];
  const localColour: ColourParams[][] = [];
  for (let i = 0; i < config.nLocal; i++) {
    const boxes: CropBox[] = [];
    const colours: ColourParams[] = [];
    for (let t = 0; t < frames; t++) {
      boxes.push(sampleResizedCropBox(rng, config.precrop, config.precrop, config.localScale, config.ratio));
      colours.push(sampleColourParams(rng, config, config.localBlurProbability));
    }
    localBoxes.push(boxes);
    localColour.push(colours);
  }
  return { frameWidth, frameHeight, frames, precropBox, globalBox, flip, globalColour, localBoxes, localColour };
}

const IDENTITY_COLOUR: ColourParams = Object.freeze({ jitter: null, grayscale: false, blurSigma: null }) as ColourParams;

/**
 * Deterministic parameters for evaluation and tests (no randomness): the pre-crop is the largest
 * centred square of the frame, the global crop and every local crop are the whole pre-crop, no
 * flip, no colour change. Not an official transform (the official eval uses Resize 256 +
 * CenterCrop 224 on images); it is the "identity" of this pipeline.
 */
export function centreCropParams(frames: number, frameHeight: number, frameWidth: number, config: AugmentConfig): ClipAugmentParams {
  const side = Math.min(frameHeight, frameWidth);
  const precropBox = { top: Math.floor((frameHeight - side) / 2), left: Math.floor((frameWidth - side) / 2), height: side, width: side };
  const whole = { top: 0, left: 0, height: config.precrop, width: config.precrop };
  const localBoxes: CropBox[][] = [];
  const localColour: ColourParams[][] = [];
  for (let i = 0; i < config.nLocal; i++) {
    localBoxes.push(Array.from({ length: frames }, () => ({ ...whole })));
    localColour.push(Array.from({ length: frames }, () => IDENTITY_COLOUR));
  }
  return {
    frameWidth,
    frameHeight,
    frames,
    precropBox,
    globalBox: { ...whole },
    flip: false,
    globalColour: Array.from({ length: frames }, () => IDENTITY_COLOUR),
    localBoxes,
    localColour,
  };
}

/**
 * Applies flip_and_color_jitter + GaussianBlur to a uint8 RGB image in place (PIL semantics:
 * uint8 after every op). ColorJitter runs its four ops in the drawn order (torchvision
 * ColorJitter.forward).
 */
export function applyColourParams(image: Uint8Array, width: number, height: number, params: ColourParams): void {
  const pixels = width * height;
  if (params.jitter) {
    const j = params.jitter;
    for (const op of j.order) {
      if (op === 0) adjustBrightness(image, pixels, j.brightness);
      else if (op === 1) adjustContrast(image, pixels, j.contrast);
      else if (op === 2) adjustSaturation(image, pixels, j.saturation);
      else adjustHue(image, pixels, j.hue);
    }
  }
  if (params.grayscale) toGrayscale(image, pixels);
  if (params.blurSigma !== null) gaussianBlurPil(image, width, height, params.blurSigma);
}

/**
 * Renders one clip with the given parameters. Work buffers are reused across calls; the
 * returned arrays are fresh and owned by the caller.
 */
export class ClipAugmenter {
  readonly config: AugmentConfig;
  private readonly normTable: Float32Array;
  private readonly precropFloat: Float32Array;
  private readonly precropPil: Uint8Array;
  private readonly globalFloat: Float32Array;
  private readonly localImage: Uint8Array;

  constructor(config: Partial<AugmentConfig> = {}) {
    this.config = augmentConfig(config);
    const { precrop, globalSize, localSize, mean, std } = this.config;
    this.normTable = normalizationTable(mean, std);
    this.precropFloat = new Float32Array(precrop * precrop * 3);
    this.precropPil = new Uint8Array(precrop * precrop * 3);
    this.globalFloat = new Float32Array(globalSize * globalSize * 3);
    this.localImage = new Uint8Array(localSize * localSize * 3);
  }

  /** Random official augmentation; all randomness comes from `rng`. */
  augment(clip: ClipFrames, rng: Rng): AugmentedClip {
    validateClip(clip);
    return this.render(clip, sampleAugmentParams(rng, clip.frames.length, clip.height, clip.width, this.config));
  }

  /** Deterministic centre-crop path (see {@link centreCropParams}). */
  centreCrop(clip: ClipFrames): AugmentedClip {
    validateClip(clip);
    return this.render(clip, centreCropParams(clip.frames.length, clip.height, clip.width, this.config));
  }

  /** Renders `clip` with explicit parameters (replay of logged params, tests). */
  render(clip: ClipFrames, params: ClipAugmentParams): AugmentedClip {
    validateClip(clip);
    const { precrop, globalSize: G, localSize: L, nLocal } = this.config;
    const F = clip.frames.length;
    if (params.frames !== F || params.frameWidth !== clip.width || params.frameHeight !== clip.height) {
      throw new Error(
        `augment: params were drawn for ${params.frames} frames of ${params.frameWidth}×${params.frameHeight}, ` +
          `clip has ${F} frames of ${clip.width}×${clip.height}`,
      );
    }
    if (params.localBoxes.length !== nLocal)
      throw new Error(`augment: params have ${params.localBoxes.length} local crops, config wants ${nLocal}`);
    const globalPixels = G * G;
    const localPixels = L * L;
    const global = new Float32Array(F * 3 * globalPixels);
    const globalRgb = new Uint8Array(F * globalPixels * 3);
    const locals = Array.from({ length: nLocal }, () => new Float32Array(F * 3 * localPixels));

    for (let t = 0; t < F; t++) {
      // init_aug: shared pre-crop, float in [0,1] (kept unquantised as in torch).
      resizeBilinearFromU8(clip.frames[t], clip.width, params.precropBox, precrop, precrop, this.precropFloat);

      // vid_crop + flip, then ToPILImage (truncating) straight into the snapshot buffer.
      resizeBilinearF32(this.precropFloat, precrop, params.globalBox, G, G, this.globalFloat);
      const globalImage = globalRgb.subarray(t * globalPixels * 3, (t + 1) * globalPixels * 3);
      floatToPilU8(this.globalFloat, G, G, globalImage, params.flip);
      applyColourParams(globalImage, G, G, params.globalColour[t]);
      normalizeToPlanar(globalImage, globalPixels, this.normTable, global, t * 3 * globalPixels);

      // Local crops read the pre-crop frame after ToPILImage (main.py L561-565).
      if (nLocal > 0) floatToPilU8(this.precropFloat, precrop, precrop, this.precropPil);
      for (let i = 0; i < nLocal; i++) {
        resizeBicubicPil(this.precropPil, precrop, params.localBoxes[i][t], L, L, this.localImage);
        applyColourParams(this.localImage, L, L, params.localColour[i][t]);
        normalizeToPlanar(this.localImage, localPixels, this.normTable, locals[i], t * 3 * localPixels);
      }
    }
    return { frames: F, globalSize: G, localSize: L, global, locals, globalRgb, params };
  }
}
