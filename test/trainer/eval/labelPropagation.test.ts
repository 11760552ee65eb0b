// DINO-style label propagation on a video whose patch features are built by hand: a 2×2-patch square moving one
// patch to the right per frame over a constant background. Background patches share one feature and square patches
// another, so the affinity is exact (cos 1 within a class, 0 across) and the propagated masks must equal the truth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oneHotLabels, patchLabelsFromPixels, propagateLabels, upsampleToPixelLabels } from '../../../src/trainer/eval/labelPropagation';
import { boundaryFMeasure, regionIoU } from '../../../src/trainer/eval/segmentationMetrics';

const GRID = 6;
const PATCH = 4;
const FRAMES = 5;

/** Patch labels of frame t: 1 under the square (rows 2–3, columns t..t+1), else 0. */
function patchTruth(t: number): Uint8Array {
  const labels = new Uint8Array(GRID * GRID);
  for (let r = 2; r <= 3; r++) for (let c = t; c <= t + 1; c++) labels[r * GRID + c] = 1;
  return labels;
}

/** Pixel labels: every patch filled with its label. */
function pixelTruth(t: number): Uint8Array {
  const size = GRID * PATCH;
  const patches = patchTruth(t);
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) out[y * size + x] = patches[Math.floor(y / PATCH) * GRID + Math.floor(x / PATCH)];
  return out;
}

/** Feature (1, 0) for background patches, (0, 1) for square patches (any scale: rows are L2-normalised). */
function features(t: number): Float32Array {
  return Float32Array.from(Array.from(patchTruth(t)).flatMap((label) => (label ? [0, 3] : [2, 0])));
}

test('first-frame labels are sampled per patch like PIL NEAREST and one-hot encoded', () => {
  assert.deepEqual(patchLabelsFromPixels(pixelTruth(0), GRID * PATCH, GRID * PATCH, PATCH), patchTruth(0));
  assert.deepEqual(Array.from(oneHotLabels([0, 1, 1], 2)), [1, 0, 0, 0, 1, 1]);
});

test('propagated masks equal the ground truth of a square translating one patch per frame', () => {
  // Temperature 0.05: an exact match weighs e^20 ≈ 5·10⁸ against 1 for the zero-similarity sources that tie with the
  // k-th value when a square patch has fewer than k = 5 exact matches in the context (frame 1 has only 4).
  const video = Array.from({ length: FRAMES }, (_, t) => features(t));
  const soft = propagateLabels(video, 2, patchTruth(0), 2, { topK: 5, temperature: 0.05, contextFrames: 7 });
  assert.equal(soft.length, FRAMES);
  for (let t = 0; t < FRAMES; t++) {
    const n = GRID * GRID;
    const hard = Uint8Array.from({ length: n }, (_, i) => (soft[t][n + i] > soft[t][i] ? 1 : 0));
    assert.deepEqual(hard, patchTruth(t), `frame ${t}: patch labels`);
    // Bilinear upsampling (DINO's F.interpolate) rounds the square's outer corners: a corner pixel sits at 0.625 × 0.625
    // = 0.39 of the square's patch. Exactly those pixels may differ, except corners on the image border (clamped).
    const pixels = upsampleToPixelLabels(soft[t], 2, GRID, GRID, PATCH);
    const truth = pixelTruth(t);
    const size = GRID * PATCH;
    const left = t * PATCH;
    const right = (t + 2) * PATCH - 1;
    const corners = [
      [2 * PATCH, left],
      [2 * PATCH, right],
      [4 * PATCH - 1, left],
      [4 * PATCH - 1, right],
    ]
      .filter(([, x]) => x > 0 && x < size - 1)
      .map(([y, x]) => y * size + x);
    const differing = Array.from(pixels.keys()).filter((i) => pixels[i] !== truth[i]);
    assert.deepEqual(differing, corners, `frame ${t}: only the rounded corners differ`);
    assert.equal(regionIoU(pixels, truth), (64 - corners.length) / 64);
    assert.equal(boundaryFMeasure(pixels, truth, size, size).f, 1, "within DAVIS's 1-pixel tolerance at 24×24");
  }
});

test('the context holds the first frame and at most the n previous predictions', () => {
  // With contextFrames 0 only the first frame is a source: still exact here, since the square keeps its feature.
  const video = Array.from({ length: FRAMES }, (_, t) => features(t));
  const soft = propagateLabels(video, 2, patchTruth(0), 2, { temperature: 0.05, contextFrames: 0 });
  assert.ok(soft[FRAMES - 1][GRID * GRID + 2 * GRID + 4] > 0.99);
});
