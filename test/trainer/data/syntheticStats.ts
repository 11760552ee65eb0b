// Statistics of synthetic-tour object crops rendered without ffmpeg (TourPainter): colour histograms, raw pixels and
// silhouette descriptors, for the tests that check that class is shape and part structure, not colour.
import { TourPainter } from '../../../src/trainer/data/syntheticPaint';
import {
  objectPoses,
  sceneOfFrame,
  shapeAreaFraction,
  tourPlan,
  type SyntheticVideoOptions,
} from '../../../src/trainer/data/syntheticScene';
import { knnClassify, type KnnFolds } from '../../../src/trainer/eval/knn';
import { Rng } from '../../../src/core/rng';

export interface CropSample {
  cls: number;
  scene: number;
  /** Interleaved RGB bytes and slot mask of a square crop of side `side` around the object. */
  rgb: Uint8Array;
  mine: Uint8Array;
  side: number;
}

/**
 * One crop per sufficiently visible object every `frameStep` frames (side = context × the visible box's longer side,
 * centre shifted), as the k-NN evaluation crops.
 */
export function objectCrops(
  options: SyntheticVideoOptions,
  frameStep: number,
  jitter: { context: [number, number]; shift: number },
): CropSample[] {
  const rng = new Rng('crops');
  const plan = tourPlan(options);
  const { width: W, height: H } = plan.options;
  const painter = new TourPainter(plan);
  const out: CropSample[] = [];
  for (let frame = 0; frame < plan.frameCount; frame += frameStep) {
    const { rgb, mask } = painter.render(frame);
    const scene = sceneOfFrame(plan, frame).index;
    for (const pose of objectPoses(plan, frame)) {
      let [x0, y0, x1, y1, n] = [W, H, -1, -1, 0];
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          if (mask[y * W + x] === pose.object.slot) {
            [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
            n++;
          }
      if (n < 0.6 * shapeAreaFraction(pose.object.cls) * (2 * pose.radius) ** 2) continue;
      const side = Math.min(W, H, Math.ceil(rng.uniform(...jitter.context) * Math.max(x1 - x0 + 1, y1 - y0 + 1)));
      const jx = rng.uniform(-jitter.shift, jitter.shift) * side;
      const jy = rng.uniform(-jitter.shift, jitter.shift) * side;
      const left = Math.min(Math.max(0, Math.round((x0 + x1 + 1 - side) / 2 + jx)), W - side);
      const top = Math.min(Math.max(0, Math.round((y0 + y1 + 1 - side) / 2 + jy)), H - side);
      const cropRgb = new Uint8Array(side * side * 3);
      const mine = new Uint8Array(side * side);
      for (let y = 0; y < side; y++)
        for (let x = 0; x < side; x++) {
          const p = (top + y) * W + left + x;
          cropRgb.set(rgb.subarray(3 * p, 3 * p + 3), 3 * (y * side + x));
          mine[y * side + x] = mask[p] === pose.object.slot ? 1 : 0;
        }
      out.push({ cls: pose.object.cls, scene, rgb: cropRgb, mine, side });
    }
  }
  return out;
}

/** 4×4×4 RGB histogram of the whole crop (64 bins, sums to 1). */
export function colourHistogram(sample: CropSample): Float32Array {
  const h = new Float32Array(64);
  const n = sample.side * sample.side;
  for (let p = 0; p < n; p++) h[(sample.rgb[3 * p] >> 6) * 16 + (sample.rgb[3 * p + 1] >> 6) * 4 + (sample.rgb[3 * p + 2] >> 6)] += 1 / n;
  return h;
}

/** Nearest-neighbour resize of the crop to size × size, centred RGB in [-1, 1]. */
export function rawPixels(sample: CropSample, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const p = Math.floor(((y + 0.5) * sample.side) / size) * sample.side + Math.floor(((x + 0.5) * sample.side) / size);
      for (let c = 0; c < 3; c++) out[3 * (y * size + x) + c] = sample.rgb[3 * p + c] / 127.5 - 1;
    }
  return out;
}

/** Rotation-invariant silhouette descriptor: share of object pixels in 12 rings around the crop centre, + fill ratio. */
export function silhouette(sample: CropSample): Float32Array {
  const rings = new Float32Array(13);
  const counts = new Float32Array(12);
  const c = (sample.side - 1) / 2;
  let inside = 0;
  for (let y = 0; y < sample.side; y++)
    for (let x = 0; x < sample.side; x++) {
      const r = Math.min(11, Math.floor((12 * Math.hypot(x - c, y - c)) / (sample.side / 2)));
      counts[r]++;
      rings[r] += sample.mine[y * sample.side + x];
      inside += sample.mine[y * sample.side + x];
    }
  for (let r = 0; r < 12; r++) rings[r] = counts[r] ? rings[r] / counts[r] - 0.5 : 0;
  rings[12] = inside / (sample.side * sample.side);
  return rings;
}

/** k-NN top-1 (k = 20, %) with scene-grouped 5-fold cross-validation over the samples' classes. */
export function crossValidatedKnn(samples: CropSample[], feature: (s: CropSample) => Float32Array): number {
  const features = samples.map(feature);
  const dim = features[0].length;
  const set = {
    features: Float32Array.from(features.flatMap((f) => Array.from(f))),
    labels: Int32Array.from(samples, (s) => s.cls),
    count: samples.length,
    dim,
  };
  const folds: KnnFolds = { test: Int32Array.from(samples, (s) => s.scene % 5), count: 5, unit: 'scene' };
  folds.train = folds.test;
  return knnClassify(set, set, { ks: [20], numClasses: 4, folds })[0].top1;
}
