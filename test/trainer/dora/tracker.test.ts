// The tracker's named steps (src/trainer/dora/tracker.ts) against float64 references of the paper's formulas, on a
// small batch: P = A_I·Q̃, P′ = M*ᵀZ̃, T_t = softmax(P′K̃_tᵀ/√D), and the binarisation with the batch-wide mean.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/trainer/backend';
import { OFFICIAL_SINKHORN } from '../../../src/trainer/dora/sinkhorn';
import { binariseMaps, objectPrototypes, refinePrototypes, runTracker, trackAcrossFrames } from '../../../src/trainer/dora/tracker';
import { assertClose, matmul, randomArray, rows, seeded, softmaxRow, transpose, type Mat } from '../reference';

// B clips, h heads, T = 1 + N tokens, dh per head, F frames.
const [B, H, N, DH, F] = [2, 3, 6, 2, 3];
const T = N + 1;
const D = H * DH;
const rand = seeded(21);
const attnData = Float32Array.from({ length: B * H * T * T }, () => Math.abs(rand()));
const queryData = randomArray(B * H * T * DH, rand);
const keyData = randomArray(F * B * H * T * DH, rand);
const heads = [2, 0];

/** [B, h, T, dh] (flat) → the patch tokens of clip b with the heads concatenated: [N, h·dh]. */
function patchTokens(data: Float32Array, b: number, offset = 0): Mat {
  return Array.from({ length: N }, (_, n) =>
    Array.from({ length: H }, (_, h) =>
      Array.from(data.subarray(offset + ((b * H + h) * T + n + 1) * DH, offset + ((b * H + h) * T + n + 2) * DH)),
    ).flat(),
  );
}

/** P = A_I · Q̃ of clip b: the [CLS]→patch attention rows of the chosen heads times the patch queries. [k, D] */
function referencePrototypes(b: number): Mat {
  const clsToPatch = heads.map((h) => Array.from(attnData.subarray(((b * H + h) * T + 0) * T + 1, ((b * H + h) * T + 0) * T + T)));
  return matmul(clsToPatch, patchTokens(queryData, b));
}

test('objectPrototypes: P = A_I · Q̃ with the [CLS]→patch rows of the chosen heads', async () => {
  await initBackend('cpu');
  const p = objectPrototypes(tf.tensor4d(attnData, [B, H, T, T]), tf.tensor4d(queryData, [B, H, T, DH]), heads);
  assertClose(
    await p.data(),
    [0, 1].flatMap((b) => referencePrototypes(b).flat()),
    'P',
  );
  assert.throws(() => objectPrototypes(tf.tensor4d(attnData, [B, H, T, T]), tf.tensor4d(queryData, [B, H, T, DH]), [3]), /head index 3/);
});

test('refinePrototypes: P′ = M*ᵀ · Z̃ (a sum over patches, not a mean)', async () => {
  await initBackend('cpu');
  const m = randomArray(B * N * 2, rand).map(Math.abs);
  const z = randomArray(B * N * D, rand);
  const refined = refinePrototypes(tf.tensor3d(m, [B, N, 2]), tf.tensor3d(z, [B, N, D]));
  const expected = [0, 1].flatMap((b) => matmul(transpose(rows(m, 2, b * N * 2, N)), rows(z, D, b * N * D, N)).flat());
  assertClose(await refined.data(), expected, 'P′');
});

test('trackAcrossFrames: T_t = softmax over patches of P′ K̃_tᵀ / √D, for every frame, object axis first', async () => {
  await initBackend('cpu');
  const refined = randomArray(B * 2 * D, rand);
  const maps = trackAcrossFrames(tf.tensor3d(refined, [B, 2, D]), tf.tensor(keyData, [F, B, H, T, DH]));
  assert.deepEqual(maps.shape, [2, B, F, N]);
  const got = (await maps.data()) as Float32Array;
  for (let f = 0; f < F; f++)
    for (let b = 0; b < B; b++) {
      const keys = patchTokens(keyData, b, f * B * H * T * DH);
      const logits = matmul(rows(refined, D, b * 2 * D, 2), transpose(keys));
      logits.forEach((row, o) => {
        const expected = softmaxRow(row.map((x) => x / Math.sqrt(D)));
        const at = ((o * B + b) * F + f) * N;
        assertClose(got.subarray(at, at + N), expected, `T object ${o} clip ${b} frame ${f}`);
      });
    }
});

test('binariseMaps: L2-normalised maps, a threshold per object and frame averaged over ALL clips and patches', async () => {
  await initBackend('cpu');
  const maps = Float32Array.from({ length: 2 * B * F * N }, () => Math.abs(rand()));
  const { l2, threshold, margin } = binariseMaps(tf.tensor4d(maps, [2, B, F, N]));
  const l2Data = (await l2.data()) as Float32Array;
  const expectedL2: number[] = [];
  for (let row = 0; row < 2 * B * F; row++) {
    const r = Array.from(maps.subarray(row * N, (row + 1) * N));
    const norm = Math.sqrt(r.reduce((s, x) => s + x * x, 0));
    expectedL2.push(...r.map((x) => x / norm));
  }
  assertClose(l2Data, expectedL2, 'T/‖T‖');
  const expectedThreshold: number[] = [];
  for (let o = 0; o < 2; o++)
    for (let f = 0; f < F; f++) {
      let sum = 0;
      for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) sum += expectedL2[((o * B + b) * F + f) * N + n];
      expectedThreshold.push(sum / (B * N));
    }
  assertClose(await threshold.data(), expectedThreshold, 'threshold [k, F]');
  const expectedMargin = expectedL2.map((v, i) => v - expectedThreshold[Math.floor(i / (B * F * N)) * F + (Math.floor(i / N) % F)]);
  assertClose(await margin.data(), expectedMargin, 'margin', 1e-5, 1e-6);
});

test('runTracker: Sinkhorn on Z̃Pᵀ, masks where the margin is positive, consistent shapes', async () => {
  await initBackend('cpu');
  const patches = randomArray(B * N * D, rand);
  const r = await runTracker({
    anchorAttn: tf.tensor4d(attnData, [B, H, T, T]),
    anchorQuery: tf.tensor4d(queryData, [B, H, T, DH]),
    keys: tf.tensor(keyData, [F, B, H, T, DH]),
    anchorPatches: tf.tensor3d(patches, [B, N, D]),
    heads,
    sinkhorn: OFFICIAL_SINKHORN,
  });
  assert.deepEqual([r.batch, r.frames, r.objects, r.patches, r.dim], [B, F, 2, N, D]);
  for (let i = 0; i < r.margin.length; i++) assert.equal(r.maskPatch[i], r.margin[i] > 0 ? 1 : 0);
  for (let b = 0; b < B; b++) {
    const z = rows(patches, D, b * N * D, N).map((row) => {
      const norm = Math.sqrt(row.reduce((s, x) => s + x * x, 0));
      return row.map((x) => x / norm);
    });
    const expected = matmul(z, transpose(referencePrototypes(b))).flat();
    assertClose(r.skLogits.subarray(b * N * 2, (b + 1) * N * 2), expected, `Z̃Pᵀ of clip ${b}`);
    for (let n = 0; n < N; n++) {
      const rowSum = r.assignment[(b * N + n) * 2] + r.assignment[(b * N + n) * 2 + 1];
      assert.ok(Math.abs(rowSum - 1) < 1e-4, `M* row ${n} of clip ${b} sums to ${rowSum}`);
    }
  }
});
