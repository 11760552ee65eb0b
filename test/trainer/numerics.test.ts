// Checks of the DoRA numerics against independent reference formulas on shapes the golden cases do not cover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { sinkhornKnoppLogDomain, sinkhornKnoppOfficial } from '../../src/trainer/dora/sinkhorn';
import { bicubicWeights1d, posEmbedInterpolationMatrix } from '../../src/trainer/model/posEmbed';
import { cosineScheduler, linspace, teacherTempSchedule } from '../../src/trainer/optim/schedules';
import { doraLoss } from '../../src/trainer/dora/loss';
import { parseSafetensors, serializeSafetensors } from '../../src/trainer/io/safetensors';

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Straightforward float64 Sinkhorn-Knopp, written from the paper's description (uniform marginals). */
function referenceSinkhorn(logits: number[], n: number, k: number, iters: number, eps: number): number[] {
  const q = logits.map((x) => Math.exp(x / eps));
  for (let it = 0; it < iters; it++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += q[p * k + c];
      for (let p = 0; p < n; p++) q[p * k + c] /= s * k;
    }
    for (let p = 0; p < n; p++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += q[p * k + c];
      for (let c = 0; c < k; c++) q[p * k + c] /= s * n;
    }
  }
  return q.map((x) => x * n);
}

test('Sinkhorn (official and log-domain) matches a float64 reference on other shapes', () => {
  const rand = lcg(7);
  for (const [b, n, k] of [
    [1, 49, 3],
    [3, 16, 5],
    [2, 196, 3],
  ]) {
    const logits = Array.from({ length: b * n * k }, () => (rand() - 0.5) * 0.6);
    const official = sinkhornKnoppOfficial(logits, b, n, k, 30, 0.05);
    const logDomain = sinkhornKnoppLogDomain(logits, b, n, k, 30, 0.05);
    for (let s = 0; s < b; s++) {
      const ref = referenceSinkhorn(logits.slice(s * n * k, (s + 1) * n * k), n, k, 30, 0.05);
      for (let i = 0; i < n * k; i++) {
        assert.ok(
          Math.abs(official[s * n * k + i] - ref[i]) < 1e-4,
          `official ${[b, n, k]} @${i}: ${official[s * n * k + i]} vs ${ref[i]}`,
        );
        assert.ok(Math.abs(logDomain[s * n * k + i] - ref[i]) < 1e-5, `log-domain ${[b, n, k]} @${i}`);
      }
      for (let p = 0; p < n; p++) {
        // every patch's row sums to 1
        let row = 0;
        for (let c = 0; c < k; c++) row += logDomain[s * n * k + p * k + c];
        assert.ok(Math.abs(row - 1) < 1e-6);
      }
    }
  }
});

test('official Sinkhorn turns a whole sample NaN on float32 exp underflow; the log-domain variant stays finite', () => {
  const n = 8,
    k = 3;
  const logits = Array.from({ length: n * k }, (_, i) => ((i * 37) % 11) / 100);
  for (let c = 0; c < k; c++) logits[5 * k + c] = -6; // patch 5: every logit 6 below the max → exp(-120/…) underflows
  const official = sinkhornKnoppOfficial(logits, 1, n, k);
  assert.ok(
    official.every((x) => Number.isNaN(x)),
    'official must reproduce the NaN quirk',
  );
  const logDomain = sinkhornKnoppLogDomain(logits, 1, n, k);
  assert.ok(logDomain.every((x) => Number.isFinite(x)));
  let colSum = 0;
  for (let p = 0; p < n; p++) colSum += logDomain[p * k];
  assert.ok(Math.abs(colSum - n / k) < 1e-6, `prototype mass ${colSum}`);
});

/** Independent bicubic: 2-D resize of a grid by separable passes with PyTorch's source-coordinate rule. */
function referenceBicubic(grid: number[], g: number, rows: number, cols: number): number[] {
  const a = -0.75;
  const kernel = (x: number) => {
    x = Math.abs(x);
    return x <= 1 ? (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1 : x < 2 ? a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a : 0;
  };
  const sample1d = (values: (i: number) => number, outIndex: number, outSize: number) => {
    const src = (outIndex + 0.5) * (g / (outSize + 0.1)) - 0.5;
    const i0 = Math.floor(src);
    let acc = 0;
    for (let j = i0 - 1; j <= i0 + 2; j++) acc += kernel(src - j) * values(Math.min(g - 1, Math.max(0, j)));
    return acc;
  };
  const out: number[] = [];
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      out.push(sample1d((i) => sample1d((j) => grid[i * g + j], c, cols), r, rows));
    }
  return out;
}

test('positional-embedding interpolation equals PyTorch bicubic with the +0.1 source positions', () => {
  const rand = lcg(3);
  for (const [g, rows, cols] of [
    [14, 7, 7],
    [4, 2, 3],
    [14, 6, 6],
    [3, 5, 5],
  ]) {
    const grid = Array.from({ length: g * g }, () => rand() * 2 - 1);
    const m = posEmbedInterpolationMatrix(g, rows, cols);
    const ref = referenceBicubic(grid, g, rows, cols);
    for (let o = 0; o < rows * cols; o++) {
      let v = 0;
      for (let i = 0; i < g * g; i++) v += m[o * g * g + i] * grid[i];
      assert.ok(Math.abs(v - ref[o]) < 1e-5, `${[g, rows, cols]} @${o}: ${v} vs ${ref[o]}`);
    }
  }
  // Each output's weights sum to 1 (interpolation of a constant is that constant).
  const w = bicubicWeights1d(14, 7, 7.1 / 14);
  for (let r = 0; r < 7; r++) assert.ok(Math.abs(w.slice(r * 14, r * 14 + 14).reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

test('schedules keep the official quirks: base repeated after warm-up, final never reached', () => {
  assert.deepEqual(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
  const lr = cosineScheduler(1, 0.1, 3, 4, 1);
  assert.equal(lr.length, 12);
  assert.equal(lr[3], 1);
  assert.equal(lr[4], 1); // the cosine part restarts at base
  assert.ok(lr[11] > 0.1);
  assert.ok(Math.abs(lr[11] - (0.1 + 0.45 * (1 + Math.cos((Math.PI * 7) / 8)))) < 1e-15);
  assert.deepEqual(
    [...teacherTempSchedule(0.04, 0.07, 3, 5)].map((x) => +x.toFixed(6)),
    [0.04, 0.055, 0.07, 0.07, 0.07],
  );
});

test('official loss = the quirk formula over its own CE diagnostics; clean loss = the paper formula', async () => {
  await tf.setBackend('cpu');
  const rand = lcg(11);
  const f = 4,
    b = 2,
    d = 16,
    k = 3,
    nl = 3;
  const t = (shape: number[]) =>
    tf.tensor(
      Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rand() * 4 - 2),
      shape,
    );
  const inputs = {
    teacherOut: t([f, b, d]) as tf.Tensor3D,
    studentMasked: t([k, f, b, d]) as tf.Tensor4D,
    studentLocal: t([f, nl * b, d]) as tf.Tensor3D,
    center: t([1, d]) as tf.Tensor2D,
    teacherTemp: 0.05,
    studentTemp: 0.1,
  };
  const official = doraLoss({ ...inputs, variant: 'official' });
  const clean = doraLoss({ ...inputs, variant: 'clean' });
  const ceM = official.ceMasked.arraySync() as number[][];
  const ceL = official.ceLocal.arraySync() as number[][];
  let frameLoss = 0,
    total = 0;
  for (let j = 0; j < k; j++) {
    for (let tt = 0; tt < f; tt++) frameLoss += 0.5 * (ceM[j][tt] + (ceL[tt][1] + ceL[tt][2]) / 2);
    frameLoss /= f;
    total += frameLoss;
  }
  assert.ok(Math.abs((official.loss.arraySync() as number) - total / k) < 1e-5);
  let cleanRef = 0;
  for (let tt = 0; tt < f; tt++)
    cleanRef += 0.5 * ((ceM[0][tt] + ceM[1][tt] + ceM[2][tt]) / 3 + (ceL[tt][0] + ceL[tt][1] + ceL[tt][2]) / 3);
  assert.ok(Math.abs((clean.loss.arraySync() as number) - cleanRef / f) < 1e-5);
  assert.throws(() => doraLoss({ ...inputs, studentLocal: t([f, b, d]) as tf.Tensor3D, variant: 'official' }), /at least 2 local crops/);
});

test('safetensors round-trips names, shapes, dtypes and metadata, and rejects truncated files', () => {
  const bytes = serializeSafetensors(
    { a: { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }, step: { shape: [], data: Int32Array.from([9]), dtype: 'I64' } },
    { kind: 'test' },
  );
  assert.equal((bytes.readUInt32LE(0) + 8) % 8, 0);
  const back = parseSafetensors(bytes);
  assert.deepEqual(back.metadata, { kind: 'test' });
  assert.deepEqual([...back.tensors.get('a')!.data], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(back.tensors.get('step')!.shape, []);
  assert.equal(back.tensors.get('step')!.data[0], 9);
  assert.throws(
    () => parseSafetensors(bytes.subarray(0, bytes.length - 4), 'x.safetensors'),
    /x\.safetensors: not a valid safetensors file: tensor step: .*truncated file/,
  );
});
