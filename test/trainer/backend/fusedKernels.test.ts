// Every fused kernel (forward and backward) against the same math as separate TF.js ops, on wasm (the project's SIMD
// kernels) and, where an adapter exists, webgpu (WGSL); and against the cpu backend's separate ops.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, fusedKernelsUsable, initBackend, type ConcreteBackendName } from '../../../src/trainer/backend';
import { findWebGpuAdapter } from '../../../src/trainer/backend/webgpu';
import { fusedAttention, fusedLayerNorm, fusedLinear, fusedWeightNormLinear, setFusedOps } from '../../../src/trainer/model/fused';
import { transformerBlock, VIT_TINY } from '../../../src/trainer/model/vit';
import { adamwEmaUpdate, clipFactor, createAdamWState, gradientNorms } from '../../../src/trainer/optim/adamw';
import { assertClose, computeOn, seededTensor, type Computed } from './helpers';

const TOLERANCE = 2e-5;

/** Value and the gradients of Σ(out ⊙ R) w.r.t. every input, for a fixed random R. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: () => tf.Tensor[], seed: number): () => tf.Tensor[] {
  return () => {
    const xs = inputs();
    const out = f(...xs);
    const r = seededTensor(out.shape, seed);
    const grads = tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), r)))(xs);
    return [out, ...grads];
  };
}

interface Case {
  name: string;
  compute: () => tf.Tensor[];
}

const CASES: Case[] = [
  {
    name: 'LayerNorm forward/backward (odd width)',
    compute: valueAndGrads(
      (x, w, b) => fusedLayerNorm(x, w, b, 1e-6),
      () => [seededTensor([2, 7, 13], 1), tf.add(seededTensor([13], 2), 1), seededTensor([13], 3)],
      4,
    ),
  },
  {
    name: 'linear + bias',
    compute: valueAndGrads(
      (x, w, b) => fusedLinear(x, w, b),
      () => [seededTensor([3, 5, 19], 5), seededTensor([23, 19], 6), seededTensor([23], 7)],
      8,
    ),
  },
  {
    name: 'linear + bias + residual',
    compute: valueAndGrads(
      (x, w, b, r) => fusedLinear(x, w, b, { residual: r }),
      () => [seededTensor([2, 9, 16], 9), seededTensor([16, 16], 10), seededTensor([16], 11), seededTensor([2, 9, 16], 12)],
      13,
    ),
  },
  {
    name: 'linear + bias + GELU',
    compute: valueAndGrads(
      (x, w, b) => fusedLinear(x, w, b, { gelu: true }),
      () => [tf.mul(seededTensor([37, 21], 14), 3), seededTensor([45, 21], 15), seededTensor([45], 16)],
      17,
    ),
  },
  {
    name: 'linear without bias (weight-normed last layer)',
    compute: valueAndGrads(
      (x, w) => fusedLinear(x, w, undefined),
      () => [seededTensor([6, 12], 18), seededTensor([70, 12], 19)],
      20,
    ),
  },
  {
    name: 'weight-normed last layer without building W (g, v and x gradients)',
    compute: valueAndGrads(
      (x, g, v) => fusedWeightNormLinear(x as tf.Tensor2D, g, v),
      () => [seededTensor([5, 12], 25), tf.add(seededTensor([70, 1], 26), 1.5), seededTensor([70, 12], 27)],
      28,
    ),
  },
  {
    name: 'whole transformer block (one customGrad: saves 10·D per token, frees gradients as it goes)',
    compute: () => {
      const cfg = { ...VIT_TINY, embedDim: 24, numHeads: 3 };
      const names = ['norm1.weight', 'norm1.bias', 'attn.qkv.weight', 'attn.qkv.bias', 'attn.proj.weight', 'attn.proj.bias'];
      names.push('norm2.weight', 'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias');
      const shapes: Record<string, number[]> = { 'attn.qkv.weight': [72, 24], 'attn.qkv.bias': [72], 'attn.proj.weight': [24, 24] };
      Object.assign(shapes, { 'mlp.fc1.weight': [96, 24], 'mlp.fc1.bias': [96], 'mlp.fc2.weight': [24, 96] });
      const params = names.map((n, i) => tf.add(tf.mul(seededTensor(shapes[n] ?? [24], 30 + i), 0.3), n.endsWith('norm1.weight') ? 1 : 0));
      const f = (x: tf.Tensor, ...ps: tf.Tensor[]) => transformerBlock(x as tf.Tensor3D, (n) => ps[names.indexOf(n)], cfg).out;
      return valueAndGrads(f, () => [seededTensor([2, 9, 24], 29), ...params], 31)();
    },
  },
  {
    name: 'attention forward/backward (3 heads, T = 11)',
    compute: valueAndGrads(
      (qkv) => fusedAttention(qkv as tf.Tensor3D, 3),
      () => [tf.mul(seededTensor([2, 11, 45], 21), 2)],
      22,
    ),
  },
  {
    name: 'attention, T = 37 (ViT 96 px), head_dim 64',
    compute: valueAndGrads(
      (qkv) => fusedAttention(qkv as tf.Tensor3D, 2),
      () => [seededTensor([1, 37, 384], 23)],
      24,
    ),
  },
];

async function runBoth(backend: ConcreteBackendName, c: Case): Promise<{ fused: Computed[]; separate: Computed[] }> {
  await initBackend(backend);
  assert.ok(fusedKernelsUsable(), `fused kernels are not usable on ${backend}: ${JSON.stringify(describeBackend().wasm ?? {})}`);
  const fused = await computeOn(backend, c.compute);
  const previous = setFusedOps(false);
  try {
    return { fused, separate: await computeOn(backend, c.compute) };
  } finally {
    setFusedOps(previous);
  }
}

describe('fused kernels match the separate ops', () => {
  for (const c of CASES) {
    test(`wasm: ${c.name}`, async () => {
      const { fused, separate } = await runBoth('wasm', c);
      assertClose(fused, separate, TOLERANCE, c.name);
      assertClose(fused, await computeOn('cpu', c.compute), TOLERANCE, `${c.name} vs cpu`);
    });
  }

  test('webgpu (lavapipe or a GPU)', async (t) => {
    const lookup = await findWebGpuAdapter();
    if (lookup.adapter === null) {
      if (process.env.DORA_REQUIRE_WEBGPU) assert.fail(`DORA_REQUIRE_WEBGPU is set, but there is ${lookup.reason}`);
      t.skip(`skipped: ${lookup.reason}`);
      return;
    }
    for (const c of CASES) {
      await t.test(c.name, async () => {
        const { fused, separate } = await runBoth('webgpu', c);
        assertClose(fused, separate, TOLERANCE, c.name);
      });
    }
  });
});

describe('fused optimiser matches adamwStep + emaUpdateTeacher', () => {
  async function optimiserRun(backend: ConcreteBackendName, fused: boolean): Promise<Computed[]> {
    await initBackend(backend);
    const previous = setFusedOps(fused);
    try {
      const shapes: Record<string, number[]> = { 'a.weight': [7, 5], 'a.bias': [7], 'b.weight_g': [3, 1] };
      const student = new Map(
        Object.entries(shapes).map(([n, s], i) => [n, tf.variable(seededTensor(s, 40 + i), true, `s-${backend}-${fused}-${n}`)]),
      );
      const teacher = new Map(
        Object.entries(shapes).map(([n, s], i) => [n, tf.variable(seededTensor(s, 50 + i), false, `t-${backend}-${fused}-${n}`)]),
      );
      const state = createAdamWState();
      for (let step = 0; step < 2; step++) {
        // b.weight_g gets no gradient (frozen): only the EMA moves its teacher copy.
        const grads = new Map(['a.weight', 'a.bias'].map((n, i) => [n, tf.mul(seededTensor(shapes[n], 60 + i + step), 4)]));
        const norms = await gradientNorms(grads);
        const factors = new Map([...norms].map(([n, v]) => [n, clipFactor(v, 3)]));
        adamwEmaUpdate({ student, teacher, grads, factors, state, lr: 0.01, weightDecay: 0.04, momentum: 0.9 });
        tf.dispose([...grads.values()]);
      }
      const out = [...student.values(), ...teacher.values(), ...state.expAvg.values(), ...state.expAvgSq.values()];
      const computed = await Promise.all(out.map(async (t) => ({ shape: t.shape, values: (await t.data()) as Float32Array })));
      tf.dispose(out);
      return computed;
    } finally {
      setFusedOps(previous);
    }
  }

  for (const backend of ['wasm', 'webgpu'] as const) {
    test(backend, async (t) => {
      if (backend === 'webgpu' && (await findWebGpuAdapter()).adapter === null) {
        if (process.env.DORA_REQUIRE_WEBGPU) assert.fail('DORA_REQUIRE_WEBGPU is set, but there is no adapter');
        t.skip('no WebGPU adapter');
        return;
      }
      assertClose(await optimiserRun(backend, true), await optimiserRun(backend, false), 1e-6, `${backend} optimiser`);
    });
  }
});
