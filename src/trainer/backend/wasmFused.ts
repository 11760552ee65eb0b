// The wasm backend's fused kernels and matMul, on the project's SIMD module (simd.ts): one packed GEMM for every
// matMul (transposes folded into the packing, any batch), LayerNorm, GELU, attention, and the multi-tensor optimiser.
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
import type { SimdModule } from './simd';
import { accumulateKernel, adamwEmaKernel, emaKernel, sumSquaresKernel } from './wasmOptimKernels';
import { requireSimd, simdFor, size, type WasmBackendLike } from './wasmSimdHost';

export { simdFor } from './wasmSimdHost';

function ptrOf(backend: WasmBackendLike) {
  return (t: tf.TensorInfo | undefined) => (t === undefined ? 0 : backend.getMemoryOffset(t.dataId));
}

// ---- matMul --------------------------------------------------------------------------------------------------

export interface MatMulPlan {
  batch: number;
  m: number;
  n: number;
  k: number;
  aBatch: number;
  ars: number;
  acs: number;
  bBatch: number;
  brs: number;
  bcs: number;
  outShape: number[];
}

/** Strides for C = op(A)·op(B) over the broadcast batch; undefined for broadcasts the GEMM does not do (rare). */
export function planMatMul(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): MatMulPlan | undefined {
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = tf.util.sizeFromShape(outer);
  if (!((batchA === batch || batchA === 1) && (batchB === batch || batchB === 1))) return undefined;
  const [a0, a1] = aShape.slice(-2);
  const [b0, b1] = bShape.slice(-2);
  const m = transposeA ? a1 : a0;
  const k = transposeA ? a0 : a1;
  const n = transposeB ? b0 : b1;
  const plan: MatMulPlan = {
    batch,
    m,
    n,
    k,
    aBatch: batchA > 1 ? m * k : 0,
    ars: transposeA ? 1 : k,
    acs: transposeA ? m : 1,
    bBatch: batchB > 1 ? k * n : 0,
    brs: transposeB ? 1 : n,
    bcs: transposeB ? k : 1,
    outShape: [...outer, m, n],
  };
  // A batched A against one B: one tall product (rows of consecutive batch entries are contiguous).
  if (batch > 1 && batchB === 1 && !transposeA) Object.assign(plan, { batch: 1, m: batch * m, aBatch: 0 });
  return plan;
}

function runGemm(simd: SimdModule, plan: MatMulPlan, a: number, b: number, c: number, accumulate: boolean): void {
  const { batch, m, n, k } = plan;
  simd.exports.gemm(
    batch,
    m,
    n,
    k,
    a,
    plan.aBatch,
    plan.ars,
    plan.acs,
    b,
    plan.bBatch,
    plan.brs,
    plan.bcs,
    c,
    m * n,
    n,
    accumulate ? 1 : 0,
    simd.scratch(simd.exports.gemmScratchFloats()),
  );
}

interface MatMulAttrs {
  transposeA?: boolean;
  transposeB?: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

const ACTIVATION_KERNELS: Record<string, string | undefined> = {
  linear: undefined,
  relu: 'Relu',
  relu6: 'Relu6',
  sigmoid: 'Sigmoid',
  elu: 'Elu',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

function runKernel(name: string, inputs: tf.NamedTensorInfoMap, backend: unknown, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
  return tf.getKernel(name, 'wasm')!.kernelFunc({ inputs, backend: backend as tf.KernelBackend, attrs }) as tf.TensorInfo;
}

/** BatchMatMul / _FusedMatMul on the SIMD GEMM; `fallback` (XNNPACK route) when the module is missing. */
export function simdMatMul(original: tf.KernelFunc, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const simd = simdFor(backend);
    const a = inputs.a as tf.TensorInfo;
    const b = inputs.b as tf.TensorInfo;
    const { transposeA = false, transposeB = false, activation = 'linear', leakyreluAlpha } = (attrs ?? {}) as MatMulAttrs;
    const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
    const preluWeights = inputs.preluActivationWeights as tf.TensorInfo | undefined;
    if (simd instanceof Error || plan === undefined || a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    if (activation === 'prelu' && preluWeights === undefined) return original(args);
    const wb = backend as unknown as WasmBackendLike;
    const ptr = ptrOf(wb);
    const out = wb.makeOutput(plan.outShape, 'float32');
    const bias = inputs.bias as tf.TensorInfo | undefined;
    const biasPerColumn = bias !== undefined && size(bias) === plan.n;
    if (biasPerColumn) simd.exports.initRows(size(out) / plan.n, plan.n, ptr(out), ptr(bias), 0);
    runGemm(simd, plan, ptr(a), ptr(b), ptr(out), biasPerColumn);
    let result = out;
    if (bias !== undefined && !biasPerColumn) {
      result = runKernel('Add', { a: out, b: bias }, backend);
      wb.disposeData(out.dataId);
    }
    const activationKernel = ACTIVATION_KERNELS[activation];
    if (activationKernel === undefined) return result;
    const activated =
      activationKernel === 'Prelu'
        ? runKernel('Prelu', { x: result, alpha: preluWeights! }, backend)
        : activationKernel === 'LeakyRelu'
          ? runKernel('LeakyRelu', { x: result }, backend, { alpha: leakyreluAlpha ?? 0.2 })
          : runKernel(activationKernel, { x: result }, backend);
    wb.disposeData(result.dataId);
    return activated;
  };
}

// ---- fused layers --------------------------------------------------------------------------------------------

const linearKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const simd = requireSimd(backend);
  const wb = backend as unknown as WasmBackendLike;
  const ptr = ptrOf(wb);
  const x = inputs.x as tf.TensorInfo;
  const w = inputs.w as tf.TensorInfo;
  const bias = inputs.bias as tf.TensorInfo | undefined;
  const residual = inputs.residual as tf.TensorInfo | undefined;
  const inDim = w.shape[1];
  const rows = size(x) / inDim;
  const outDim = w.shape[0];
  const outShape = [...x.shape.slice(0, -1), outDim];
  const u = wb.makeOutput(outShape, 'float32');
  const init = bias !== undefined || residual !== undefined;
  if (init) simd.exports.initRows(rows, outDim, ptr(u), ptr(bias), ptr(residual));
  const plan: MatMulPlan = {
    batch: 1,
    m: rows,
    n: outDim,
    k: inDim,
    aBatch: 0,
    ars: inDim,
    acs: 1,
    bBatch: 0,
    brs: 1,
    bcs: inDim,
    outShape: [],
  };
  runGemm(simd, plan, ptr(x), ptr(w), ptr(u), init);
  if (!(attrs as { gelu?: boolean }).gelu) return [u];
  const g = wb.makeOutput(outShape, 'float32');
  simd.exports.geluForward(rows * outDim, ptr(u), ptr(g));
  return [u, g];
};

const linearGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const simd = requireSimd(backend);
  const wb = backend as unknown as WasmBackendLike;
  const ptr = ptrOf(wb);
  const { gelu, bias } = attrs as { gelu?: boolean; bias?: boolean };
  const dy = inputs.dy as tf.TensorInfo;
  const x = inputs.x as tf.TensorInfo;
  const w = inputs.w as tf.TensorInfo;
  const [outDim, inDim] = w.shape;
  const rows = size(x) / inDim;
  let du = dy;
  if (gelu) {
    du = wb.makeOutput(dy.shape, 'float32');
    simd.exports.geluBackward(rows * outDim, ptr(inputs.u as tf.TensorInfo), ptr(dy), ptr(du));
  }
  const dx = wb.makeOutput(x.shape, 'float32');
  const dw = wb.makeOutput([outDim, inDim], 'float32');
  const scratch = simd.scratch(simd.exports.gemmScratchFloats());
  // dx = du·w ; dw = duᵀ·x
  simd.exports.gemm(1, rows, inDim, outDim, ptr(du), 0, outDim, 1, ptr(w), 0, inDim, 1, ptr(dx), 0, inDim, 0, scratch);
  simd.exports.gemm(1, outDim, inDim, rows, ptr(du), 0, 1, outDim, ptr(x), 0, inDim, 1, ptr(dw), 0, inDim, 0, scratch);
  const outputs = [dx, dw];
  if (bias) {
    const db = wb.makeOutput([outDim], 'float32');
    simd.exports.columnSums(rows, outDim, ptr(du), ptr(db));
    outputs.push(db);
  }
  if (du !== dy) wb.disposeData(du.dataId);
  return outputs;
};

const geluKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const simd = requireSimd(backend);
  const wb = backend as unknown as WasmBackendLike;
  const x = inputs.x as tf.TensorInfo;
  const g = wb.makeOutput(x.shape, 'float32');
  simd.exports.geluForward(size(x), wb.getMemoryOffset(x.dataId), wb.getMemoryOffset(g.dataId));
  return [g];
};

const layerNormKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const simd = requireSimd(backend);
  const wb = backend as unknown as WasmBackendLike;
  const ptr = ptrOf(wb);
  const x = inputs.x as tf.TensorInfo;
  const n = x.shape[x.shape.length - 1];
  const rows = size(x) / n;
  const y = wb.makeOutput(x.shape, 'float32');
  const mean = wb.makeOutput([rows], 'float32');
  const rstd = wb.makeOutput([rows], 'float32');
  simd.exports.layerNormForward(
    rows,
    n,
    ptr(x),
    ptr(inputs.w as tf.TensorInfo),
    ptr(inputs.b as tf.TensorInfo),
    ptr(y),
    ptr(mean),
    ptr(rstd),
    (attrs as { eps: number }).eps,
  );
  return [y, mean, rstd];
};

const layerNormGradKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const simd = requireSimd(backend);
  const wb = backend as unknown as WasmBackendLike;
  const ptr = ptrOf(wb);
  const x = inputs.x as tf.TensorInfo;
  const n = x.shape[x.shape.length - 1];
  const rows = size(x) / n;
  const dx = wb.makeOutput(x.shape, 'float32');
  const dw = wb.makeOutput([n], 'float32');
  const db = wb.makeOutput([n], 'float32');
  const t = (name: string) => ptr(inputs[name] as tf.TensorInfo);
  simd.exports.layerNormBackward(rows, n, t('dy'), ptr(x), t('w'), t('mean'), t('rstd'), ptr(dx), ptr(dw), ptr(db));
  return [dx, dw, db];
};

const attentionKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const simd = requireSimd(backend);
  const wb = backend as unknown as WasmBackendLike;
  const qkv = inputs.qkv as tf.TensorInfo;
  const { heads, scale } = attrs as { heads: number; scale: number };
  const d = qkv.shape[qkv.shape.length - 1] / 3;
  const out = wb.makeOutput([...qkv.shape.slice(0, -1), d], 'float32');
  let row = 0;
  for (const [batch, t] of attentionSegments(qkv, attrs)) {
    const scratch = simd.scratch(simd.exports.attentionScratchFloats(t));
    const q = wb.getMemoryOffset(qkv.dataId) + row * 3 * d * 4;
    simd.exports.attentionForward(batch, t, heads, d / heads, q, wb.getMemoryOffset(out.dataId) + row * d * 4, 0, scale, scratch);
    row += batch * t;
  }
  return [out];
};

const attentionGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const simd = requireSimd(backend);
  const wb = backend as unknown as WasmBackendLike;
  const qkv = inputs.qkv as tf.TensorInfo;
  const dout = inputs.dout as tf.TensorInfo;
  const { heads, scale } = attrs as { heads: number; scale: number };
  const d = qkv.shape[qkv.shape.length - 1] / 3;
  const dqkv = wb.makeOutput(qkv.shape, 'float32');
  let row = 0;
  for (const [batch, t] of attentionSegments(qkv, attrs)) {
    const scratch = simd.scratch(simd.exports.attentionScratchFloats(t));
    const at = (x: tf.TensorInfo, width: number) => wb.getMemoryOffset(x.dataId) + row * width * 4;
    simd.exports.attentionBackward(batch, t, heads, d / heads, at(qkv, 3 * d), at(dout, d), at(dqkv, 3 * d), scale, scratch);
    row += batch * t;
  }
  return [dqkv];
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

/** Registers the fused kernels for 'wasm' (idempotent). They need the SIMD module; fusedOps checks simdStatus first. */
export function registerWasmFusedKernels(): void {
  for (const [kernelName, kernelFunc] of FUSED) {
    if (tf.getKernel(kernelName, 'wasm') === undefined) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}

export function unregisterWasmFusedKernels(): void {
  for (const [kernelName] of FUSED) if (tf.getKernel(kernelName, 'wasm') !== undefined) tf.unregisterKernel(kernelName, 'wasm');
}
