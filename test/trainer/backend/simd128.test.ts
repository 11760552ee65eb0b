// The plain SIMD128 build of the wasm kernels (used where relaxed SIMD is unavailable) against the cpu backend's
// separate ops. Own file: the build is chosen when the wasm backend starts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, initBackend } from '../../../src/trainer/backend';
import { fusedAttention, fusedLayerNorm, fusedLinear } from '../../../src/trainer/model/fused';
import { assertClose, computeOn, seededTensor } from './helpers';

process.env.DORA_WASM_RELAXED_SIMD = '0';

test('SIMD128 kernels (no fused multiply-add) match the cpu backend', async () => {
  await initBackend('wasm');
  assert.equal(describeBackend().wasm?.kernels, 'simd128');
  const compute = () => {
    const x = seededTensor([3, 11, 45], 1);
    const w = seededTensor([45, 45], 2);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      fusedAttention(
        fusedLinear(fusedLayerNorm(a, tf.onesLike(seededTensor([45], 3)), seededTensor([45], 4), 1e-6), b, undefined) as tf.Tensor3D,
        3,
      );
    const out = f(x, w);
    const r = seededTensor(out.shape, 5);
    return [
      out,
      tf.matMul(seededTensor([2, 19, 23], 6), seededTensor([2, 17, 23], 7), false, true),
      ...tf.grads((a, b) => tf.sum(tf.mul(f(a, b), r)))([x, w]),
    ];
  };
  assertClose(await computeOn('wasm', compute), await computeOn('cpu', compute), 2e-5, 'simd128');
});
