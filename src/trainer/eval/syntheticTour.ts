/**
 * The synthetic walking tour as evaluation data: frames come from the frame cache (decoded once, in the format training
 * uses),
 * ground truth from `groundTruthMask` (exact: the same formulas ffmpeg drew with), and both are mapped through the
 * same crop boxes so pixels and labels line up.
 *  - `centreSquare…`: the largest centred square (the deterministic crop training's centreCrop uses), resized;
 *  - `objectCropDataset`: k-NN classes background + A–D, crops centred on each object's ground-truth box, frames
 *    split into train and val by time.
 */
import { Rng } from '../../core/rng';
import type { CropBox } from '../data/image/crop';
import { resizeBilinearFromU8 } from '../data/image/torchBilinear';
import { resolveFfmpeg } from '../data/ffmpeg/tools';
import type { FrameSource } from '../data/frameCache/reader';
import { prepareFrames, type FrameCacheSettings } from '../data/prepareFrames';
import { groundTruthMask, readSyntheticOptions, syntheticObjects, type SyntheticVideoOptions } from '../data/syntheticVideo';
import { normaliseUnitRgbToPlanar, stackImages, type KnnDataset } from './evalImages';

export const SYNTHETIC_CLASS_NAMES = ['background', 'A', 'B', 'C', 'D'];

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
  trainFrames: [number, number];
  testFrames: [number, number];
  frameStep: number;
  seed: number;
  /** Crop side = context × the longer side of the object's box; default 1.5. */
  context?: number;
  /** An object is used in a frame only if at least this share of its full area is visible; default 0.6. */
  minVisible?: number;
}

/** Bounding boxes (full-resolution pixels) and pixel counts of ids 1..4. */
function objectBoxes(
  truth: Uint8Array,
  width: number,
  height: number,
): Map<number, { x0: number; y0: number; x1: number; y1: number; pixels: number }> {
  const boxes = new Map<number, { x0: number; y0: number; x1: number; y1: number; pixels: number }>();
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

/**
 * k-NN classes 0 = background, 1..4 = objects A..D. Per frame: one crop per sufficiently visible object (centred on
 * its ground-truth box, side = context × the box's longer side) and one background crop (a seeded random square of
 * the median object-crop side with < 5 % object pixels). Train and test frames are disjoint time ranges.
 */
export function objectCropDataset(tour: TourFrames, options: ObjectCropOptions): KnnDataset {
  const synthetic = tour.synthetic;
  if (!synthetic) throw new Error(`${tour.video}: object crops need a synthetic walking tour (its .json is missing)`);
  const context = options.context ?? 1.5;
  const minVisible = options.minVisible ?? 0.6;
  const objects = syntheticObjects(synthetic);
  const fullArea = new Map(objects.map((o) => [o.id, o.shape === 'disc' ? (Math.PI * o.width * o.width) / 4 : o.width * o.height]));
  const backgroundSide = [...objects.map((o) => context * Math.max(o.width, o.height))].sort((a, b) => a - b)[
    Math.floor(objects.length / 2)
  ];
  const split = (range: [number, number], purpose: string) => {
    const rng = new Rng(`synthetic-crops/${purpose}/seed=${options.seed}`);
    const items: { image: Float32Array; label: number }[] = [];
    for (let frame = range[0]; frame < Math.min(range[1], tour.frameCount); frame += options.frameStep) {
      const truth = fullGroundTruth(synthetic, frame);
      for (const [id, b] of objectBoxes(truth, synthetic.width, synthetic.height)) {
        if (b.pixels < minVisible * fullArea.get(id)!) continue;
        const side = context * Math.max(b.x1 - b.x0 + 1, b.y1 - b.y0 + 1);
        items.push({
          image: cropNormalised(
            tour,
            frame,
            squareInCache(tour, synthetic, (b.x0 + b.x1 + 1) / 2, (b.y0 + b.y1 + 1) / 2, side),
            options.size,
          ),
          label: id,
        });
      }
      for (let attempt = 0; attempt < 20; attempt++) {
        const cx = rng.uniform(backgroundSide / 2, synthetic.width - backgroundSide / 2);
        const cy = rng.uniform(backgroundSide / 2, synthetic.height - backgroundSide / 2);
        let objectPixels = 0;
        const x0 = Math.floor(cx - backgroundSide / 2);
        const y0 = Math.floor(cy - backgroundSide / 2);
        for (let y = y0; y < y0 + backgroundSide; y++)
          for (let x = x0; x < x0 + backgroundSide; x++) if (truth[y * synthetic.width + x] !== 0) objectPixels++;
        if (objectPixels > 0.05 * backgroundSide * backgroundSide) continue;
        items.push({ image: cropNormalised(tour, frame, squareInCache(tour, synthetic, cx, cy, backgroundSide), options.size), label: 0 });
        break;
      }
    }
    return stackImages(items, options.size);
  };
  return {
    name: 'synthetic',
    classNames: SYNTHETIC_CLASS_NAMES,
    train: split(options.trainFrames, 'train'),
    test: split(options.testFrames, 'test'),
  };
}
