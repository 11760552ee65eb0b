// The optimiser pieces (src/trainer/optim/adamw.ts) against the formulas of torch 1.13's AdamW and DINO's utils,
// computed here in float64 on a few small tensors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/trainer/backend';
import {
  ADAM_BETA1,
  ADAM_BETA2,
  ADAM_EPS,
  adamwStep,
  cancelLastLayerGradients,
  clipGradientsPerTensor,
  createAdamWState,
  disposeAdamWState,
  emaUpdateTeacher,
  paramGroupOf,
} from '../../../src/trainer/optim/adamw';
import { assertClose, randomArray, seeded } from '../reference';

const rand = seeded(3);

test('parameter groups: biases and 1-D tensors get no weight decay, everything else does (utils.get_params_groups)', () => {
  assert.equal(paramGroupOf('blocks.0.attn.qkv.weight', [18, 6]), 0);
  assert.equal(paramGroupOf('blocks.0.attn.qkv.bias', [18]), 1);
  assert.equal(paramGroupOf('blocks.0.norm1.weight', [6]), 1);
  assert.equal(paramGroupOf('cls_token', [1, 1, 6]), 0);
  assert.equal(paramGroupOf('head.last_layer.weight_g', [64, 1]), 0);
});

/** torch 1.13 _single_tensor_adamw for one tensor, `steps` times with the given gradients, in float64. */
function referenceAdamw(p0: Float32Array, grads: Float32Array[], lr: number, wd: number): Float64Array {
  const p = Float64Array.from(p0);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  grads.forEach((g, i) => {
    const step = i + 1;
    const bc1 = 1 - ADAM_BETA1 ** step;
    const bc2 = 1 - ADAM_BETA2 ** step;
    for (let j = 0; j < p.length; j++) {
      p[j] *= 1 - lr * wd;
      m[j] = ADAM_BETA1 * m[j] + (1 - ADAM_BETA1) * g[j];
      v[j] = ADAM_BETA2 * v[j] + (1 - ADAM_BETA2) * g[j] * g[j];
      p[j] -= (lr / bc1) * (m[j] / (Math.sqrt(v[j]) / Math.sqrt(bc2) + ADAM_EPS));
    }
  });
  return p;
}

test('three AdamW steps: decoupled weight decay on the decayed group only, bias-corrected moments, per-tensor steps', async () => {
  await initBackend('cpu');
  const w0 = randomArray(12, rand);
  const b0 = randomArray(4, rand);
  const params = new Map<string, tf.Variable>([
    ['layer.weight', tf.variable(tf.tensor2d(w0, [4, 3]))],
    ['layer.bias', tf.variable(tf.tensor1d(b0))],
  ]);
  const state = createAdamWState();
  const [lr, wd] = [0.01, 0.04];
  const wGrads = [0, 1, 2].map(() => randomArray(12, rand));
  const bGrads = [0, 1].map(() => randomArray(4, rand));
  for (let step = 0; step < 3; step++) {
    const grads = new Map<string, tf.Tensor>([['layer.weight', tf.tensor2d(wGrads[step], [4, 3])]]);
    if (step < 2) grads.set('layer.bias', tf.tensor1d(bGrads[step])); // the bias has no gradient in step 3: skipped entirely
    adamwStep(params, grads, state, lr, wd);
    tf.dispose([...grads.values()]);
  }
  assertClose(await params.get('layer.weight')!.data(), referenceAdamw(w0, wGrads, lr, wd), 'weight after 3 steps', 1e-5, 1e-7);
  assertClose(await params.get('layer.bias')!.data(), referenceAdamw(b0, bGrads, lr, 0), 'bias after 2 steps (no decay)', 1e-5, 1e-7);
  assert.deepEqual(
    [...state.step],
    [
      ['layer.weight', 3],
      ['layer.bias', 2],
    ],
  );
  assert.throws(() => adamwStep(params, new Map([['other', tf.scalar(1)]]), state, lr, wd), /unknown parameter other/);
  disposeAdamWState(state);
  tf.dispose([...params.values()]);
});

test('clip_gradients: a tensor whose norm exceeds clip is scaled by clip/(‖g‖ + 1e-6); the raw norms are returned', async () => {
  await initBackend('cpu');
  const big = Float32Array.from([3, 4]); // ‖g‖ = 5
  const small = Float32Array.from([0.3, 0.4]); // ‖g‖ = 0.5
  const { clipped, norms } = await clipGradientsPerTensor(
    new Map([
      ['a', tf.tensor1d(big)],
      ['b', tf.tensor1d(small)],
    ]),
    2,
  );
  assert.deepEqual([...norms.keys()], ['a', 'b'], 'named_parameters order is kept');
  assertClose([...norms.values()], [5, 0.5], 'raw norms');
  const coef = 2 / (5 + 1e-6);
  assertClose(await clipped.get('a')!.data(), [3 * coef, 4 * coef], 'clipped a');
  assertClose(await clipped.get('b')!.data(), [0.3, 0.4], 'b is below the limit and kept');
  const off = await clipGradientsPerTensor(new Map([['a', tf.tensor1d(big)]]), 0);
  assertClose(await off.clipped.get('a')!.data(), [3, 4], 'clip 0 turns clipping off');
});

test('cancel_gradients_last_layer: during the first freezeLastLayer epochs the last layer has no gradient at all', () => {
  const grads = () =>
    new Map<string, tf.Tensor>([
      ['head.last_layer.weight_v', tf.ones([2, 2])],
      ['head.mlp.0.weight', tf.ones([2, 2])],
    ]);
  assert.deepEqual([...cancelLastLayerGradients(grads(), 0, 1).keys()], ['head.mlp.0.weight']);
  assert.deepEqual([...cancelLastLayerGradients(grads(), 1, 1).keys()], ['head.last_layer.weight_v', 'head.mlp.0.weight']);
});

test('EMA teacher: θ_t ← m·θ_t + (1 − m)·θ_s for every parameter', async () => {
  await initBackend('cpu');
  const t0 = randomArray(6, rand);
  const s0 = randomArray(6, rand);
  const teacher = new Map([['w', tf.variable(tf.tensor1d(t0))]]);
  const student = new Map([['w', tf.variable(tf.tensor1d(s0))]]);
  emaUpdateTeacher(teacher, student, 0.996);
  assertClose(
    await teacher.get('w')!.data(),
    Array.from(t0, (t, i) => 0.996 * t + 0.004 * s0[i]),
    'teacher',
  );
  assert.throws(() => emaUpdateTeacher(new Map([['x', tf.variable(tf.scalar(0))]]), student, 0.9), /student has no parameter x/);
});
