// Small float64 reference implementations (plain arrays, written from the formulas, not from the TF.js code) and
// fixtures for the direct unit tests of the model, the tracker and the optimiser.
import assert from 'node:assert/strict';

export type Mat = number[][];

/** A seeded LCG in [−scale, scale): reproducible fixtures without any library. */
export function seeded(seed: number, scale = 1): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 * scale - scale;
  };
}

export function randomArray(n: number, rand: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => rand());
}

export function matmul(a: Mat, b: Mat): Mat {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, x, k) => s + x * b[k][j], 0)));
}

export function transpose(a: Mat): Mat {
  return a[0].map((_, j) => a.map((row) => row[j]));
}

/** Rows of a flat row-major array. */
export function rows(data: ArrayLike<number>, cols: number, offset = 0, count = Math.floor((data.length - offset) / cols)): Mat {
  return Array.from({ length: count }, (_, r) => Array.from({ length: cols }, (_, c) => data[offset + r * cols + c]));
}

export function softmaxRow(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

export function layerNormRow(row: number[], weight: ArrayLike<number>, bias: ArrayLike<number>, eps: number): number[] {
  const mean = row.reduce((a, b) => a + b, 0) / row.length;
  const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
  return row.map((x, i) => ((x - mean) / Math.sqrt(variance + eps)) * weight[i] + bias[i]);
}

/** erf by its Maclaurin series (float64; plenty for |x| ≤ 5), 1 beyond. */
export function erf(x: number): number {
  if (Math.abs(x) > 5) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 120; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

export const geluExact = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** y = x Wᵀ + b, W stored [out, in] like nn.Linear. */
export function linearRows(x: Mat, weight: ArrayLike<number>, bias: ArrayLike<number> | undefined, outDim: number): Mat {
  const w = rows(weight, x[0].length, 0, outDim);
  return x.map((row) => w.map((wr, o) => wr.reduce((s, wv, i) => s + wv * row[i], bias ? bias[o] : 0)));
}

/** Every element within atol + rtol·|expected|, with the worst offender in the message. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-5, atol = 1e-6): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = excess;
    }
  }
  assert.ok(worst < 0, `${what}[${worst}]: ${actual[worst]} vs ${expected[worst]}`);
}
