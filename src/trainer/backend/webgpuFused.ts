// The webgpu backend's fused kernels (names and contracts: fusedNames.ts). Matrix products stay on tfjs' own matMul
// programs (tiled, transposes handled in the shader); LayerNorm, GELU, attention and the optimiser are WGSL
// (wgsl.ts, wgslAttention.ts) dispatched with several outputs or in place (webgpuDispatch.ts).
import * as tf from '@tensorflow/tfjs';
import {
  DORA_ACCUMULATE,
  DORA_ADAMW_EMA,
  DORA_ATTENTION,
  DORA_ATTENTION_GRAD,
  DORA_EMA,
  DORA_GELU,
  DORA_LAYER_NORM,
  DORA_LAYER_NORM_GRAD,
  DORA_LINEAR,
  DORA_LINEAR_GRAD,
  DORA_SUM_SQUARES,
  attentionSegments,
} from './fusedNames';
import { backendInternals, dispatch, grid, newOutput, uniforms, type WebGpuBackendInternals } from './webgpuDispatch';
import { GELU_BACKWARD, GELU_FORWARD, LAYER_NORM_BACKWARD, LAYER_NORM_FORWARD, LAYER_NORM_REDUCE, LN_CHUNK, LN_COLS } from './wgsl';
import {
  ACCUMULATE_WGSL,
  adamwWgsl,
  attentionBackwardKeysWgsl,
  attentionBackwardRowsWgsl,
  attentionForwardWgsl,
  EMA_WGSL,
  queryBlock,
  SUM_SQUARES_WGSL,
} from './wgslAttention';

const size = (t: tf.TensorInfo) => tf.util.sizeFromShape(t.shape);

function tfjsKernel(name: string, inputs: tf.NamedTensorInfoMap, backend: unknown, attrs: object = {}): tf.TensorInfo {
  return tf
    .getKernel(name, 'webgpu')!
    .kernelFunc({ inputs, backend: backend as tf.KernelBackend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

/** The same buffer seen as a matrix [rows, last axis] (no kernel: tfjs kernels read the shape from the info). */
function asMatrix(t: tf.TensorInfo): tf.TensorInfo {
  const n = t.shape[t.shape.length - 1];
  return { dataId: t.dataId, shape: [size(t) / n, n], dtype: t.dtype };
}

function withShape(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

function elementwise(b: WebGpuBackendInternals, key: string, wgsl: string, buffers: tf.TensorInfo[], count: number): void {
  dispatch(b, { key, wgsl: () => wgsl, buffers, uniforms: uniforms([['u', count]]), workgroups: grid(Math.ceil(count / 256)) });
}

const linearKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backendInternals(backend);
  const x = inputs.x as tf.TensorInfo;
  const w = inputs.w as tf.TensorInfo;
  const bias = inputs.bias as tf.TensorInfo | undefined;
  const residual = inputs.residual as tf.TensorInfo | undefined;
  const outShape = [...x.shape.slice(0, -1), w.shape[0]];
  const mmInputs: tf.NamedTensorInfoMap = { a: asMatrix(x), b: w };
  if (bias) mmInputs.bias = bias;
  const product = tfjsKernel('_FusedMatMul', mmInputs, backend, { transposeA: false, transposeB: true, activation: 'linear' });
  let u = withShape(product, outShape);
  if (residual) {
    u = tfjsKernel('Add', { a: residual, b: u }, backend);
    b.disposeData(product.dataId);
  }
  if (!(attrs as { gelu?: boolean }).gelu) return [u];
  const g = newOutput(b, u.shape);
  elementwise(b, 'dora-gelu', GELU_FORWARD, [u, g], size(u));
  return [u, g];
};

const linearGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backendInternals(backend);
  const { gelu, bias } = attrs as { gelu?: boolean; bias?: boolean };
  const dy = inputs.dy as tf.TensorInfo;
  let du = dy;
  if (gelu) {
    du = newOutput(b, dy.shape);
    elementwise(b, 'dora-gelu-grad', GELU_BACKWARD, [inputs.u as tf.TensorInfo, dy, du], size(dy));
  }
  const x = inputs.x as tf.TensorInfo;
  const du2 = asMatrix(du);
  const dx = tfjsKernel('BatchMatMul', { a: du2, b: inputs.w as tf.TensorInfo }, backend, { transposeA: false, transposeB: false });
  const dw = tfjsKernel('BatchMatMul', { a: du2, b: asMatrix(x) }, backend, { transposeA: true, transposeB: false });
  const outputs = [withShape(dx, x.shape), dw];
  if (bias) outputs.push(tfjsKernel('Sum', { x: du2 }, backend, { axis: [0], keepDims: false }));
  if (du !== dy) b.disposeData(du.dataId);
  return outputs;
};

const geluKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const b = backendInternals(backend);
  const x = inputs.x as tf.TensorInfo;
  const g = newOutput(b, x.shape);
  elementwise(b, 'dora-gelu', GELU_FORWARD, [x, g], size(x));
  return [g];
};

const layerNormKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backendInternals(backend);
  const x = inputs.x as tf.TensorInfo;
  const n = x.shape[x.shape.length - 1];
  const rows = size(x) / n;
  const y = newOutput(b, x.shape);
  const mean = newOutput(b, [rows]);
  const rstd = newOutput(b, [rows]);
  dispatch(b, {
    key: 'dora-ln',
    wgsl: () => LAYER_NORM_FORWARD,
    buffers: [x, inputs.w as tf.TensorInfo, inputs.b as tf.TensorInfo, y, mean, rstd],
    uniforms: uniforms([
      ['u', rows],
      ['u', n],
      ['f', (attrs as { eps: number }).eps],
    ]),
    workgroups: grid(rows),
  });
  return [y, mean, rstd];
};

const layerNormGradKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const b = backendInternals(backend);
  const x = inputs.x as tf.TensorInfo;
  const n = x.shape[x.shape.length - 1];
  const rows = size(x) / n;
  if (n > 64 * LN_COLS) throw new Error(`${DORA_LAYER_NORM_GRAD} on webgpu supports widths up to ${64 * LN_COLS}, got ${n}`);
  const chunks = Math.ceil(rows / LN_CHUNK);
  const dx = newOutput(b, x.shape);
  const partial = newOutput(b, [chunks, 2, n]);
  const t = (name: string) => inputs[name] as tf.TensorInfo;
  dispatch(b, {
    key: 'dora-ln-grad',
    wgsl: () => LAYER_NORM_BACKWARD,
    buffers: [t('dy'), x, t('w'), t('mean'), t('rstd'), dx, partial],
    uniforms: uniforms([
      ['u', rows],
      ['u', n],
      ['u', chunks],
    ]),
    workgroups: grid(chunks),
  });
  const dw = newOutput(b, [n]);
  const db = newOutput(b, [n]);
  dispatch(b, {
    key: 'dora-ln-reduce',
    wgsl: () => LAYER_NORM_REDUCE,
    buffers: [partial, dw, db],
    uniforms: uniforms([
      ['u', n],
      ['u', chunks],
    ]),
    workgroups: [Math.ceil(n / 64), 1, 1],
  });
  b.disposeData(partial.dataId);
  return [dx, dw, db];
};

interface AttentionShape {
  batch: number;
  t: number;
  d: number;
  heads: number;
  dh: number;
  scale: number;
  /** First row of this segment. */
  base: number;
}

/** One AttentionShape per segment (see wasmFused attentionSegments). */
function attentionShapes(qkv: tf.TensorInfo, attrs: unknown): AttentionShape[] {
  const { heads, scale } = attrs as { heads: number; scale: number };
  const d = qkv.shape[qkv.shape.length - 1] / 3;
  let base = 0;
  return attentionSegments(qkv, attrs).map(([batch, t]) => {
    const s = { batch, t, d, heads, dh: d / heads, scale, base };
    base += batch * t;
    return s;
  });
}

function attentionUniforms(s: AttentionShape, blocks: number): ArrayBuffer {
  return uniforms([
    ['u', s.batch * s.heads],
    ['u', s.heads],
    ['u', s.d],
    ['u', blocks],
    ['f', s.scale],
    ['u', s.base],
  ]);
}

const attentionKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backendInternals(backend);
  const qkv = inputs.qkv as tf.TensorInfo;
  const shapes = attentionShapes(qkv, attrs);
  const out = newOutput(b, [...qkv.shape.slice(0, -1), shapes[0].d]);
  for (const s of shapes) {
    const bq = queryBlock(s.t, s.dh, 1);
    const blocks = Math.ceil(s.t / bq);
    dispatch(b, {
      key: `dora-attn-${s.t}-${s.dh}-${bq}`,
      wgsl: () => attentionForwardWgsl(s.t, s.dh, bq),
      buffers: [qkv, out],
      uniforms: attentionUniforms(s, blocks),
      workgroups: grid(s.batch * s.heads * blocks),
    });
  }
  return [out];
};

const attentionGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backendInternals(backend);
  const qkv = inputs.qkv as tf.TensorInfo;
  const dout = inputs.dout as tf.TensorInfo;
  const dqkv = newOutput(b, qkv.shape);
  for (const s of attentionShapes(qkv, attrs)) {
    const bq = queryBlock(s.t, s.dh, 2);
    const blocks = Math.ceil(s.t / bq);
    const pds = newOutput(b, [2, s.batch * s.heads, s.t, s.t]);
    dispatch(b, {
      key: `dora-attn-grad-rows-${s.t}-${s.dh}-${bq}`,
      wgsl: () => attentionBackwardRowsWgsl(s.t, s.dh, bq),
      buffers: [qkv, dout, pds, dqkv],
      uniforms: attentionUniforms(s, blocks),
      workgroups: grid(s.batch * s.heads * blocks),
    });
    const keyBlocks = Math.ceil(s.t / 4);
    dispatch(b, {
      key: `dora-attn-grad-keys-${s.t}-${s.dh}`,
      wgsl: () => attentionBackwardKeysWgsl(s.t, s.dh),
      buffers: [qkv, dout, pds, dqkv],
      uniforms: attentionUniforms(s, keyBlocks),
      workgroups: grid(s.batch * s.heads * keyBlocks),
    });
    b.disposeData(pds.dataId);
  }
  return [dqkv];
};

function listInputs(inputs: tf.NamedTensorInfoMap): tf.TensorInfo[] {
  return (Array.isArray(inputs) ? inputs : Object.values(inputs)) as tf.TensorInfo[];
}

const sumSquaresKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const b = backendInternals(backend);
  const list = listInputs(inputs);
  const out = newOutput(b, [list.length]);
  list.forEach((t, slot) => {
    dispatch(b, {
      key: 'dora-sumsq',
      wgsl: () => SUM_SQUARES_WGSL,
      buffers: [t, out],
      uniforms: uniforms([
        ['u', size(t)],
        ['u', slot],
      ]),
      workgroups: [1, 1, 1],
    });
  });
  return [out];
};

function assertExclusive(b: WebGpuBackendInternals, t: tf.TensorInfo, what: string): void {
  const refCount = b.tensorMap.get(t.dataId).refCount;
  if (refCount !== 1) throw new Error(`in-place update: the ${what} buffer is shared (refCount ${refCount})`);
}

const adamwEmaKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backendInternals(backend);
  const a = attrs as unknown as Record<string, number & number[] & boolean[]>;
  const get = (name: string) => inputs[name] as tf.TensorInfo;
  for (let i = 0; i < a.count; i++) {
    const [p, g, m, v] = ['p', 'g', 'm', 'v'].map((k) => get(`${k}${i}`));
    const teacher = a.teacher[i] ? get(`t${i}`) : undefined;
    for (const [what, x] of [
      ['param', p],
      ['exp_avg', m],
      ['exp_avg_sq', v],
      ['teacher', teacher],
    ] as const)
      if (x) assertExclusive(b, x, what);
    const n = size(p);
    dispatch(b, {
      key: `dora-adamw-${teacher ? 'ema' : 'only'}`,
      wgsl: () => adamwWgsl(teacher !== undefined),
      buffers: teacher ? [p, g, m, v, teacher] : [p, g, m, v],
      uniforms: uniforms([
        ['u', n],
        ['f', a.gradScale[i]],
        ['f', a.decay[i]],
        ['f', a.beta1],
        ['f', 1 - a.beta1],
        ['f', a.beta2],
        ['f', 1 - a.beta2],
        ['f', a.stepSize[i]],
        ['f', a.bc2Sqrt[i]],
        ['f', a.eps],
        ['f', a.ema],
        ['f', 1 - a.ema],
      ]),
      workgroups: grid(Math.ceil(n / 256)),
    });
  }
  return [];
};

const emaKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backendInternals(backend);
  const { count, ema } = attrs as { count: number; ema: number };
  for (let i = 0; i < count; i++) {
    const t = inputs[`t${i}`] as tf.TensorInfo;
    assertExclusive(b, t, 'teacher');
    dispatch(b, {
      key: 'dora-ema',
      wgsl: () => EMA_WGSL,
      buffers: [t, inputs[`s${i}`] as tf.TensorInfo],
      uniforms: uniforms([
        ['u', size(t)],
        ['f', ema],
        ['f', 1 - ema],
      ]),
      workgroups: grid(Math.ceil(size(t) / 256)),
    });
  }
  return [];
};

const accumulateKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backendInternals(backend);
  for (let i = 0; i < (attrs as { count: number }).count; i++) {
    const sum = inputs[`s${i}`] as tf.TensorInfo;
    assertExclusive(b, sum, 'gradient sum');
    elementwise(b, 'dora-accumulate', ACCUMULATE_WGSL, [sum, inputs[`g${i}`] as tf.TensorInfo], size(sum));
  }
  return [];
};

const FUSED: [string, tf.KernelFunc][] = [
  [DORA_ACCUMULATE, accumulateKernel],
  [DORA_LINEAR, linearKernel],
  [DORA_LINEAR_GRAD, linearGradKernel],
  [DORA_GELU, geluKernel],
  [DORA_LAYER_NORM, layerNormKernel],
  [DORA_LAYER_NORM_GRAD, layerNormGradKernel],
  [DORA_ATTENTION, attentionKernel],
  [DORA_ATTENTION_GRAD, attentionGradKernel],
  [DORA_SUM_SQUARES, sumSquaresKernel],
  [DORA_ADAMW_EMA, adamwEmaKernel],
  [DORA_EMA, emaKernel],
];

export function registerWebGpuFusedKernels(): void {
  for (const [kernelName, kernelFunc] of FUSED) {
    if (tf.getKernel(kernelName, 'webgpu') === undefined) tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc });
  }
}
