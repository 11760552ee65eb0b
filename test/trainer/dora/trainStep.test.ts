// Behaviour of the composed DoRA step beyond the golden cases: no tensor leaks, determinism, the DINO baseline path,
// the frozen last layer, and the tracker's masks feeding the student.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/trainer/backend';
import { createDoraState, disposeDoraState, type DoraModelConfig } from '../../../src/trainer/dora/model';
import { doraTrainStep, type DoraStepHyper } from '../../../src/trainer/dora/trainStep';
import { OFFICIAL_SINKHORN } from '../../../src/trainer/dora/sinkhorn';

const cfg: DoraModelConfig = {
  vit: { embedDim: 24, depth: 2, numHeads: 3, patchSize: 8, imgSize: 32, mlpRatio: 4, lnEps: 1e-6, qkvBias: true },
  head: { outDim: 64, hiddenDim: 32, bottleneckDim: 16, nlayers: 3, normLastLayer: false },
};
const hyper: DoraStepHyper = {
  epoch: 1,
  lr: 1e-3,
  weightDecay: 0.04,
  momentum: 0.99,
  teacherTemp: 0.04,
  freezeLastLayer: 1,
  clipGrad: 3,
  studentTemp: 0.1,
  centerMomentum: 0.9,
  lossVariant: 'official',
  sinkhorn: OFFICIAL_SINKHORN,
  tracker: true,
};

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function batch(seed: number) {
  const rand = seeded(seed);
  const make = (shape: number[]) =>
    tf.tensor(
      Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1),
      shape,
    );
  return { global: make([2, 3, 3, 32, 32]), local: make([3, 2, 3, 3, 16, 16]), heads: [2, 0, 1] };
}

test('repeated steps leak no tensors, change the student, and move the teacher towards it', async () => {
  await initBackend('wasm');
  const state = createDoraState(cfg, seeded(1));
  const b = batch(2);
  const before = tf.memory().numTensors;
  const w0 = state.student.get('backbone.blocks.0.attn.qkv.weight')!.dataSync().slice();
  const t0 = state.teacher.get('backbone.blocks.0.attn.qkv.weight')!.dataSync().slice();
  const losses: number[] = [];
  for (let i = 0; i < 3; i++) losses.push((await doraTrainStep(state, b, hyper)).loss);
  // The optimiser state (2 moments per trainable tensor) is created on the first step and then reused.
  const optimiserTensors = 2 * state.optimizer.expAvg.size;
  assert.equal(tf.memory().numTensors, before + optimiserTensors, 'tensors leaked by doraTrainStep');
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
  const w1 = state.student.get('backbone.blocks.0.attn.qkv.weight')!.dataSync();
  let moved = 0;
  for (let i = 0; i < w0.length; i++) if (w1[i] !== w0[i]) moved++;
  assert.ok(moved > w0.length * 0.9, `only ${moved}/${w0.length} weights moved`);
  // EMA: after one more step, teacher = m·teacher_before + (1 − m)·student_after.
  const tBefore = state.teacher.get('backbone.blocks.0.attn.qkv.weight')!.dataSync().slice();
  assert.notDeepEqual(tBefore, t0);
  await doraTrainStep(state, b, hyper);
  const sAfter = state.student.get('backbone.blocks.0.attn.qkv.weight')!.dataSync();
  const tAfter = state.teacher.get('backbone.blocks.0.attn.qkv.weight')!.dataSync();
  for (let i = 0; i < tAfter.length; i++) {
    assert.ok(Math.abs(tAfter[i] - (hyper.momentum * tBefore[i] + (1 - hyper.momentum) * sAfter[i])) < 1e-6, `EMA @${i}`);
  }
  disposeDoraState(state);
  tf.dispose([b.global, b.local]);
});

test('the same seed and batch give the same loss and parameters (determinism)', async () => {
  await initBackend('cpu');
  const run = async () => {
    const state = createDoraState(cfg, seeded(5));
    const b = batch(6);
    const outcome = await doraTrainStep(state, b, hyper, { collect: true });
    const w = state.student.get('head.mlp.0.weight')!.dataSync().slice();
    disposeDoraState(state);
    tf.dispose([b.global, b.local]);
    return { loss: outcome.loss, w, masks: outcome.tracker!.maskPatch };
  };
  const a = await run();
  const c = await run();
  assert.equal(a.loss, c.loss);
  assert.deepEqual(a.w, c.w);
  assert.deepEqual(a.masks, c.masks);
  assert.ok(a.masks.some((m) => m === 1) && a.masks.some((m) => m === 0), 'masks should keep some patches and drop others');
});

test('epoch < freeze_last_layer: the last layer gets no update, while its norm is still reported', async () => {
  await initBackend('cpu');
  const state = createDoraState(cfg, seeded(9));
  const b = batch(10);
  const v0 = state.student.get('head.last_layer.weight_v')!.dataSync().slice();
  const outcome = await doraTrainStep(state, b, { ...hyper, epoch: 0 }, { collect: true });
  assert.deepEqual(state.student.get('head.last_layer.weight_v')!.dataSync(), v0);
  assert.ok(outcome.gradNorms.get('head.last_layer.weight_v')! > 0);
  assert.ok(!outcome.diagnostics!.clippedGrads.has('head.last_layer.weight_v'));
  assert.ok(!state.optimizer.expAvg.has('head.last_layer.weight_v'), 'a frozen tensor must get no Adam state');
  disposeDoraState(state);
  tf.dispose([b.global, b.local]);
});

test('tracker off (the DINO baseline) runs one unmasked view and no tracker', async () => {
  await initBackend('cpu');
  const state = createDoraState(cfg, seeded(12));
  const b = batch(13);
  const outcome = await doraTrainStep(state, b, { ...hyper, tracker: false, lossVariant: 'clean' }, { collect: true });
  assert.equal(outcome.tracker, undefined);
  assert.equal(outcome.diagnostics!.studentMasked.length, 1 * 3 * 2 * 64);
  assert.ok(Number.isFinite(outcome.loss));
  disposeDoraState(state);
  tf.dispose([b.global, b.local]);
});
