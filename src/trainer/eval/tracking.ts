/**
 * Tracking against the synthetic tour's exact ground truth, on frames the model did not train on:
 *  (a) `labelPropagationScores`: DINO's video-segmentation protocol (labelPropagation.ts) on the teacher's final-norm
 *      patch tokens, scored like DAVIS: per object J and F averaged over the frames after the first (the DAVIS 2017
 *      scorer also drops the last frame; it is kept here), then over objects (and clips); J&F mean = (J + F) / 2. Only
 *      objects present in the first frame are tracked (DAVIS gives the first-frame masks of the objects to segment).
 *  (b) `doraTrackerScores`: DoRA's own tracker (runTracker on teacherPass outputs, batch of one clip, heads 0..k−1 as
 *      `dora inspect` uses) → k patch masks per frame; each tracker object is matched to at most one ground-truth
 *      object by the assignment that maximises the summed IoU on the anchor frame (exhaustive, k ≤ a few), then the
 *      matched pairs' IoU is averaged per frame offset from the anchor. `staticIoUByOffset` scores the anchor mask
 *      left in place, the "no tracking" reference.
 */
import * as tf from '@tensorflow/tfjs';
import type { PropagationScores, TrackerScores } from '../../core/evalResults';
import { OFFICIAL_SINKHORN } from '../dora/sinkhorn';
import { runTracker } from '../dora/tracker';
import { disposeTeacherPass, framesFirst, teacherPass } from '../dora/step/teacherPass';
import { encodeImages, type EvalEncoder, type EvalProgress } from './encoder';
import { patchLabelsFromPixels, propagateLabels, upsampleToPixelLabels } from './labelPropagation';
import { boundaryFMeasure, davisBoundaryTolerance, objectMask, regionIoU } from './segmentationMetrics';
import { centreSquareBox, cropGroundTruth, cropNormalised, fullGroundTruth, type TourFrames } from './syntheticTour';

const NUM_LABELS = 5; // background + A..D

export interface PropagationSettings {
  imageSize: number;
  clips: number;
  clipFrames: number;
  frameStep: number;
  topK: number;
  temperature: number;
  contextFrames: number;
  /** Evaluation frame range [start, end). */
  frames: [number, number];
}

export interface TrackerSettings {
  imageSize: number;
  clips: number;
  framesPerClip: number;
  stride: number;
  objects: number;
  frames: [number, number];
}

/** Clip starts spread evenly over [start, end − span). */
export function clipStarts(range: [number, number], clips: number, span: number): number[] {
  const usable = range[1] - range[0] - span;
  if (usable < 1) throw new Error(`tracking: frames [${range[0]}, ${range[1]}) are too few for clips spanning ${span + 1} frames`);
  return Array.from({ length: clips }, (_, i) => range[0] + Math.floor((i * usable) / Math.max(1, clips)));
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

export async function labelPropagationScores(
  encoder: EvalEncoder,
  tour: TourFrames,
  s: PropagationSettings,
  progress?: EvalProgress,
): Promise<PropagationScores> {
  if (!tour.synthetic) throw new Error(`${tour.video}: label propagation needs the ground truth of a synthetic walking tour`);
  const patch = encoder.state.cfg.vit.patchSize;
  const size = Math.floor(s.imageSize / patch) * patch;
  const grid = size / patch;
  const box = centreSquareBox(tour);
  const tolerance = davisBoundaryTolerance(size, size);
  const perObject = new Map<number, { j: number[]; f: number[] }>();
  const sequenceJ: number[] = [];
  const sequenceF: number[] = [];
  for (const start of clipStarts(s.frames, s.clips, (s.clipFrames - 1) * s.frameStep)) {
    const frames = Array.from({ length: s.clipFrames }, (_, j) => start + j * s.frameStep);
    const images = new Float32Array(frames.length * 3 * size * size);
    frames.forEach((f, j) => images.set(cropNormalised(tour, f, box, size), j * 3 * size * size));
    const truth = frames.map((f) => cropGroundTruth(tour, fullGroundTruth(tour.synthetic!, f), box, size));
    const encoded = await encodeImages(encoder, images, frames.length, size, { patches: true, progress });
    const n = encoded.patchesPerImage;
    const features = frames.map((_, j) => encoded.patches!.subarray(j * n * encoded.dim, (j + 1) * n * encoded.dim));
    const firstPatchLabels = patchLabelsFromPixels(truth[0], size, size, patch);
    const soft = propagateLabels(features, encoded.dim, firstPatchLabels, NUM_LABELS, {
      topK: s.topK,
      temperature: s.temperature,
      contextFrames: s.contextFrames,
    });
    const predicted = soft.map((p) => upsampleToPixelLabels(p, NUM_LABELS, grid, grid, patch));
    for (const id of new Set(Array.from(firstPatchLabels).filter((v) => v !== 0))) {
      const js: number[] = [];
      const fs: number[] = [];
      for (let j = 1; j < frames.length; j++) {
        const p = objectMask(predicted[j], id);
        const t = objectMask(truth[j], id);
        js.push(regionIoU(p, t));
        fs.push(boundaryFMeasure(p, t, size, size, tolerance).f);
      }
      sequenceJ.push(mean(js));
      sequenceF.push(mean(fs));
      const entry = perObject.get(id) ?? { j: [], f: [] };
      entry.j.push(mean(js));
      entry.f.push(mean(fs));
      perObject.set(id, entry);
    }
  }
  const jMean = mean(sequenceJ);
  const fMean = mean(sequenceF);
  const names = ['background', 'A', 'B', 'C', 'D'];
  return {
    jMean,
    fMean,
    jAndFMean: (jMean + fMean) / 2,
    sequences: sequenceJ.length,
    boundaryTolerancePx: tolerance,
    perObject: Object.fromEntries(
      [...perObject].sort((a, b) => a[0] - b[0]).map(([id, v]) => [names[id], { j: mean(v.j), f: mean(v.f), sequences: v.j.length }]),
    ),
  };
}

/** Majority ground-truth id under each patch of a size×size label map. */
export function patchMajorityLabels(labels: Uint8Array, size: number, patch: number): Uint8Array {
  const grid = Math.floor(size / patch);
  const out = new Uint8Array(grid * grid);
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const counts = new Array<number>(256).fill(0);
      for (let y = r * patch; y < (r + 1) * patch; y++) for (let x = c * patch; x < (c + 1) * patch; x++) counts[labels[y * size + x]]++;
      out[r * grid + c] = counts.indexOf(Math.max(...counts));
    }
  }
  return out;
}

/**
 * The assignment of rows (tracker objects) to distinct columns (ground-truth objects) with the largest summed score;
 * a row may stay unmatched. Exhaustive search, fine for the 3 × 4 problems here. Returns column per row or −1.
 */
export function bestAssignment(score: number[][]): number[] {
  const rows = score.length;
  const cols = rows ? score[0].length : 0;
  let best: number[] = new Array<number>(rows).fill(-1);
  let bestValue = -Infinity;
  const current = new Array<number>(rows).fill(-1);
  const used = new Array<boolean>(cols).fill(false);
  const search = (row: number, value: number) => {
    if (row === rows) {
      if (value > bestValue) {
        bestValue = value;
        best = current.slice();
      }
      return;
    }
    current[row] = -1;
    search(row + 1, value);
    for (let c = 0; c < cols; c++) {
      if (used[c]) continue;
      used[c] = true;
      current[row] = c;
      search(row + 1, value + score[row][c]);
      used[c] = false;
      current[row] = -1;
    }
  };
  search(0, 0);
  return best;
}

export async function doraTrackerScores(
  encoder: EvalEncoder,
  tour: TourFrames,
  s: TrackerSettings,
  progress?: EvalProgress,
): Promise<TrackerScores> {
  if (!tour.synthetic) throw new Error(`${tour.video}: tracker scoring needs the ground truth of a synthetic walking tour`);
  const cfg = encoder.state.cfg.vit;
  const patch = cfg.patchSize;
  const size = Math.floor(s.imageSize / patch) * patch;
  const box = centreSquareBox(tour);
  const f = s.framesPerClip;
  const heads = Array.from({ length: Math.min(s.objects, cfg.numHeads) }, (_, h) => h);
  const iou = Array.from({ length: f }, () => [] as number[]);
  const staticIoU = Array.from({ length: f }, () => [] as number[]);
  let matchedPairs = 0;
  for (const start of clipStarts(s.frames, s.clips, (f - 1) * s.stride)) {
    await progress?.throwIfCancelled();
    const frames = Array.from({ length: f }, (_, j) => start + j * s.stride);
    const images = new Float32Array(f * 3 * size * size);
    frames.forEach((frame, j) => images.set(cropNormalised(tour, frame, box, size), j * 3 * size * size));
    const truth = frames.map((frame) =>
      patchMajorityLabels(cropGroundTruth(tour, fullGroundTruth(tour.synthetic!, frame), box, size), size, patch),
    );
    const global = tf.tensor(images, [1, f, 3, size, size]);
    const globalFF = framesFirst(global);
    const teacher = teacherPass(encoder.state, globalFF);
    const tracked = await runTracker({ ...teacher, heads, sinkhorn: encoder.config.dora.sinkhorn ?? OFFICIAL_SINKHORN });
    tf.dispose([global, globalFF]);
    disposeTeacherPass(teacher);
    progress?.advance(f);
    const n = tracked.patches;
    const maskOf = (o: number, frame: number) => tracked.maskPatch.subarray((o * f + frame) * n, (o * f + frame + 1) * n); // [k, B=1, F, N]
    const present = [...new Set(Array.from(truth[0]).filter((v) => v !== 0))].sort();
    if (present.length === 0) continue;
    const anchorScore = heads.map((_, o) => present.map((id) => regionIoU(maskOf(o, 0), objectMask(truth[0], id))));
    const assignment = bestAssignment(anchorScore);
    assignment.forEach((col, o) => {
      if (col < 0) return;
      matchedPairs++;
      const id = present[col];
      for (let j = 0; j < f; j++) {
        const t = objectMask(truth[j], id);
        iou[j].push(regionIoU(maskOf(o, j), t));
        staticIoU[j].push(regionIoU(maskOf(o, 0), t));
      }
    });
  }
  const iouByOffset = iou.map(mean);
  return { iouByOffset, staticIoUByOffset: staticIoU.map(mean), meanIoU: mean(iouByOffset.slice(1)), matchedPairs };
}
