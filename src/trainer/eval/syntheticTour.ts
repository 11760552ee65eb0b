/**
 * The synthetic walking tour as evaluation data: frames come from the frame cache (decoded once, in the format training
 * uses), ground truth from `groundTruthMask` (exact: the same formulas ffmpeg drew with), and both are mapped through the
 * same crop boxes so pixels and labels line up.
 *  - `centreSquare…`: the largest centred square (the deterministic crop training's centreCrop uses), resized;
 *  - `objectCropDataset`: k-NN classes background + the four object classes (wheel, star, ladder, cross), crops centred
 *    on each object's ground-truth box, every crop tagged with its scene (the unit of the evaluation folds: a scene's
 *    instances, background and lighting never sit on both sides of a train/test split);
 *  - `sceneClipStarts`: tracking clips that stay inside one scene (a cut would change every object).
 */
import { Rng } from '../../core/rng';
import type { CropBox } from '../data/image/crop';
import { resizeBilinearFromU8 } from '../data/image/torchBilinear';
import { resolveFfmpeg } from '../data/ffmpeg/tools';
import type { FrameSource } from '../data/frameCache/reader';
import { prepareFrames, type FrameCacheSettings } from '../data/prepareFrames';
import { groundTruthMask, OBJECT_CLASSES, readSyntheticOptions, tourPlan, type SyntheticVideoOptions } from '../data/syntheticVideo';
import { objectPoses, sceneOfFrame, shapeAreaFraction } from '../data/syntheticScene';
import { normaliseUnitRgbToPlanar, stackImages, type KnnDataset } from './evalImages';

export const SYNTHETIC_CLASS_NAMES = ['background', ...OBJECT_CLASSES];

export type SyntheticOptions = Required<SyntheticVideoOptions>;

export { readSyntheticOptions };

export interface TourFrames {
  video: string;
  cache: FrameSource;
  /** Present for a synthetic tour: its ground truth can be computed. */
  synthetic?: SyntheticOptions;
  frameCount: number;
  close(): void;
}

/** The frames of a video from the cache the settings select (data.frameCache.format: compact JPEG or raw RGB24). */
export async function openTourFrames(video: string, options: FrameCacheSettings & { ffmpegPath?: string }): Promise<TourFrames> {
  const { ffmpegPath, ...settings } = options;
  const tools = resolveFfmpeg({ explicitPath: ffmpegPath });
  const { source: cache } = await prepareFrames(video, { ...settings, tools, workers: 0 });
  const synthetic = readSyntheticOptions(video);
  return { video, cache, synthetic, frameCount: cache.frameCount, close: () => cache.close() };
}

/** The largest centred square of a cache frame (as centreCropParams places it). */
export function centreSquareBox(tour: TourFrames): CropBox {
  const { width, height } = tour.cache;
  const side = Math.min(width, height);
  return { top: Math.floor((height - side) / 2), left: Math.floor((width - side) / 2), height: side, width: side };
}

/** A cache-frame box resized to size×size: float RGB in [0, 1], interleaved. */
export function cropUnitRgb(tour: TourFrames, frameIndex: number, box: CropBox, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  resizeBilinearFromU8(tour.cache.readFrame(frameIndex), tour.cache.width, box, size, size, out);
  return out;
}

/** The same crop, ImageNet-normalised planar [3, size, size]. */
export function cropNormalised(tour: TourFrames, frameIndex: number, box: CropBox, size: number): Float32Array {
  const planar = new Float32Array(3 * size * size);
  normaliseUnitRgbToPlanar(cropUnitRgb(tour, frameIndex, box, size), size * size, planar, 0);
  return planar;
}

/** Full-resolution ground truth (object ids, 0 = background) of a synthetic tour frame. */
export function fullGroundTruth(synthetic: SyntheticOptions, frameIndex: number): Uint8Array {
  return groundTruthMask(frameIndex, synthetic.width, synthetic.height, {
    fps: synthetic.fps,
    seed: synthetic.seed,
    durationSeconds: synthetic.durationSeconds,
  });
}

/** Ground-truth ids of a cache-frame box resized to size×size, sampling the source pixel under each output pixel centre. */
export function cropGroundTruth(tour: TourFrames, fullTruth: Uint8Array, box: CropBox, size: number): Uint8Array {
  const synthetic = tour.synthetic;
  if (!synthetic) throw new Error(`${tour.video}: no ground truth (not a synthetic walking tour with its .json)`);
  const sx = synthetic.width / tour.cache.width;
  const sy = synthetic.height / tour.cache.height;
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const oy = Math.min(synthetic.height - 1, Math.max(0, Math.floor((box.top + ((y + 0.5) * box.height) / size) * sy)));
    for (let x = 0; x < size; x++) {
      const ox = Math.min(synthetic.width - 1, Math.max(0, Math.floor((box.left + ((x + 0.5) * box.width) / size) * sx)));
      out[y * size + x] = fullTruth[oy * synthetic.width + ox];
    }
  }
  return out;
}

export interface ObjectCropOptions {
  size: number;
  /** Frames [start, end) to take crops from; every `frameStep`-th frame. */
  frames: [number, number];
  frameStep: number;
  seed: number;
  /** Evaluation folds: the k-th scene of the range is in fold k mod folds (see foldsOfGroups). */
  folds: number;
  /** Crop side = context × the longer side of the object's visible box, context drawn from this range; default [1.3, 2]. */
  context?: [number, number];
  /** The crop centre is moved by up to ± shift × side in x and y (seeded), so pixels of different crops do not line up; default 0.2. */
  shift?: number;
  /** An object is used in a frame only if at least this share of its full area is visible; default 0.6. */
  minVisible?: number;
}

type Box = { x0: number; y0: number; x1: number; y1: number; pixels: number };

/** Bounding boxes (full-resolution pixels) and pixel counts of the slots present in a ground-truth mask. */
function objectBoxes(truth: Uint8Array, width: number, height: number): Map<number, Box> {
  const boxes = new Map<number, Box>();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const id = truth[y * width + x];
      if (id === 0) continue;
      const b = boxes.get(id);
      if (!b) boxes.set(id, { x0: x, y0: y, x1: x, y1: y, pixels: 1 });
      else {
        b.x0 = Math.min(b.x0, x);
        b.y0 = Math.min(b.y0, y);
        b.x1 = Math.max(b.x1, x);
        b.y1 = Math.max(b.y1, y);
        b.pixels++;
      }
    }
  }
  return boxes;
}

/** A square of side `side` (full-res px) centred at (cx, cy), shifted inside the frame, in cache-frame pixels. */
function squareInCache(tour: TourFrames, synthetic: SyntheticOptions, cx: number, cy: number, side: number): CropBox {
  const s = Math.min(side, synthetic.width, synthetic.height);
  const left = Math.min(Math.max(0, cx - s / 2), synthetic.width - s);
  const top = Math.min(Math.max(0, cy - s / 2), synthetic.height - s);
  const kx = tour.cache.width / synthetic.width;
  const ky = tour.cache.height / synthetic.height;
  const sideCache = Math.max(1, Math.floor(s * Math.min(kx, ky)));
  return {
    left: Math.min(Math.max(0, Math.round(left * kx)), tour.cache.width - sideCache),
    top: Math.min(Math.max(0, Math.round(top * ky)), tour.cache.height - sideCache),
    width: sideCache,
    height: sideCache,
  };
}

/** A seeded square of side `side` with < 5 % object pixels, or undefined after 20 tries. */
function backgroundSquare(rng: Rng, truth: Uint8Array, synthetic: SyntheticOptions, side: number): { cx: number; cy: number } | undefined {
  const s = Math.floor(Math.min(side, synthetic.width, synthetic.height));
  for (let attempt = 0; attempt < 20; attempt++) {
    const x0 = rng.int(0, synthetic.width - s + 1);
    const y0 = rng.int(0, synthetic.height - s + 1);
    let objectPixels = 0;
    for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) if (truth[y * synthetic.width + x] !== 0) objectPixels++;
    if (objectPixels <= 0.05 * s * s) return { cx: x0 + s / 2, cy: y0 + s / 2 };
  }
  return undefined;
}

/**
 * k-NN classes 0 = background, 1..4 = wheel, star, ladder, cross. Per frame: one crop per sufficiently visible object
 * (around its ground-truth box, side = context × the box's longer side, centre shifted at random) and one background crop (a seeded random
 * square of the frame's median object-crop side with < 5 % object pixels). Each crop's fold follows its scene;
 * the evaluation cross-validates over folds (train on the other folds' scenes, test on this fold's).
 */
export function objectCropDataset(tour: TourFrames, options: ObjectCropOptions): KnnDataset {
  const synthetic = tour.synthetic;
  if (!synthetic) throw new Error(`${tour.video}: object crops need a synthetic walking tour (its .json is missing)`);
  const context = options.context ?? [1.3, 2];
  const shift = options.shift ?? 0.2;
  const minVisible = options.minVisible ?? 0.6;
  const plan = tourPlan(synthetic);
  const rng = new Rng(`synthetic-crops/seed=${options.seed}`);
  const items: { image: Float32Array; label: number }[] = [];
  const groups: number[] = [];
  const crop = (frame: number, cx: number, cy: number, side: number, label: number, scene: number) => {
    items.push({ image: cropNormalised(tour, frame, squareInCache(tour, synthetic, cx, cy, side), options.size), label });
    groups.push(scene);
  };
  for (let frame = options.frames[0]; frame < Math.min(options.frames[1], tour.frameCount); frame += options.frameStep) {
    const truth = fullGroundTruth(synthetic, frame);
    const scene = sceneOfFrame(plan, frame).index;
    const poses = new Map(objectPoses(plan, frame).map((p) => [p.object.slot, p]));
    const sides: number[] = [];
    for (const [slot, b] of objectBoxes(truth, synthetic.width, synthetic.height)) {
      const pose = poses.get(slot)!;
      if (b.pixels < minVisible * shapeAreaFraction(pose.object.cls) * (2 * pose.radius) ** 2) continue;
      const side = rng.uniform(context[0], context[1]) * Math.max(b.x1 - b.x0 + 1, b.y1 - b.y0 + 1);
      const cx = (b.x0 + b.x1 + 1) / 2 + rng.uniform(-shift, shift) * side;
      const cy = (b.y0 + b.y1 + 1) / 2 + rng.uniform(-shift, shift) * side;
      sides.push(side);
      crop(frame, cx, cy, side, 1 + pose.object.cls, scene);
    }
    const median = sides.length ? sides.sort((a, c) => a - c)[Math.floor(sides.length / 2)] : 0.4 * synthetic.height;
    const square = backgroundSquare(rng, truth, synthetic, median);
    if (square) crop(frame, square.cx, square.cy, median, 0, scene);
  }
  const pool = stackImages(items, options.size);
  const folds = foldsOfGroups(groups, options.folds);
  return { name: 'synthetic', classNames: SYNTHETIC_CLASS_NAMES, train: pool, test: pool, folds: { ...folds, train: folds.test } };
}

/**
 * Cross-validation folds from scene groups: the k-th scene of the range goes to fold k mod F, F = min(folds, scenes).
 * A range inside ONE scene (a very short video) cannot be split by scene: its crops are then split into F contiguous
 * blocks in time (unit `time block`), which shares instances between folds and says so in the result.
 */
function foldsOfGroups(groups: number[], folds: number): { test: Int32Array; count: number; unit: string } {
  const scenes = [...new Set(groups)].sort((a, b) => a - b);
  if (scenes.length >= 2) {
    const count = Math.min(folds, scenes.length);
    const rank = new Map(scenes.map((scene, k) => [scene, k % count]));
    return { test: Int32Array.from(groups, (g) => rank.get(g)!), count, unit: 'scene' };
  }
  const count = Math.max(1, Math.min(folds, groups.length));
  return { test: Int32Array.from(groups, (_, i) => Math.floor((i * count) / groups.length)), count, unit: 'time block' };
}

/** The most frames of one scene inside the frame range (the longest clip span that never crosses a cut, + 1). */
export function longestSceneFrames(tour: TourFrames, range: [number, number]): number {
  if (!tour.synthetic) throw new Error(`${tour.video}: scenes need a synthetic walking tour`);
  let longest = 0;
  for (const scene of tourPlan(tour.synthetic).scenes)
    longest = Math.max(longest, Math.min(scene.endFrame, range[1], tour.frameCount) - Math.max(scene.startFrame, range[0]));
  return longest;
}

/**
 * Starts of up to `maxClips` clips spanning `span + 1` frames that each stay inside one scene of the frame range
 * (centred in the scene), spread evenly over the eligible scenes.
 */
export function sceneClipStarts(tour: TourFrames, range: [number, number], span: number, maxClips: number): number[] {
  if (!tour.synthetic) throw new Error(`${tour.video}: scene clips need a synthetic walking tour`);
  const starts: number[] = [];
  for (const scene of tourPlan(tour.synthetic).scenes) {
    const lo = Math.max(scene.startFrame, range[0]);
    const hi = Math.min(scene.endFrame, range[1], tour.frameCount);
    if (hi - lo > span) starts.push(lo + Math.floor((hi - lo - span - 1) / 2));
  }
  if (starts.length === 0)
    throw new Error(`tracking: no scene in frames [${range[0]}, ${range[1]}) is long enough for clips of ${span + 1} frames`);
  if (starts.length <= maxClips) return starts;
  return Array.from({ length: maxClips }, (_, i) => starts[Math.floor((i * starts.length) / maxClips)]);
}
