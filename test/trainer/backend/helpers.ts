// Shared helpers for the backend tests: deterministic inputs and cross-backend comparison.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type ConcreteBackendName } from '../../../src/trainer/backend';

/** Deterministic values in [-1, 1) (mulberry32), so every backend sees identical inputs. */
export function seededValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export function seededTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    seededValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
}

export interface Computed {
  shape: number[];
  values: Float32Array;
}

/** Runs `compute` on `backend` and downloads every output; nothing stays allocated. */
export async function computeOn(backend: ConcreteBackendName, compute: () => tf.Tensor[]): Promise<Computed[]> {
  await initBackend(backend);
  const outputs = tf.tidy(compute);
  const computed = await Promise.all(outputs.map(async (t) => ({ shape: t.shape, values: (await t.data()) as Float32Array })));
  tf.dispose(outputs);
  return computed;
}

/** Largest |a − b| divided by the largest |expected|: a scale-free error for whole tensors. */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length, 'length mismatch');
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

export function assertClose(actual: Computed[], expected: Computed[], tolerance: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: output count`);
  for (let i = 0; i < expected.length; i++) {
    assert.deepEqual(actual[i].shape, expected[i].shape, `${label}[${i}]: shape`);
    assert.ok(
      expected[i].values.some((v) => v !== 0),
      `${label}[${i}]: reference is all zeros, comparison would be vacuous`,
    );
    const err = relativeError(actual[i].values, expected[i].values);
    assert.ok(err <= tolerance, `${label}[${i}]: relative error ${err.toExponential(2)} > ${tolerance}`);
  }
}
