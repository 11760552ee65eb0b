// The wasm backend's optimiser kernels (contracts in fusedNames.ts): per-tensor Σx², AdamW + EMA and EMA alone in
// place, in-place gradient accumulation. One TF.js kernel call covers every tensor (one "launch" per step).
import * as tf from '@tensorflow/tfjs';
import { requireSimd, size, type WasmBackendLike } from './wasmSimdHost';

function listInputs(inputs: tf.NamedTensorInfoMap): tf.TensorInfo[] {
  return (Array.isArray(inputs) ? inputs : Object.values(inputs)) as tf.TensorInfo[];
}

export const sumSquaresKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const simd = requireSimd(backend);
  const wb = backend as unknown as WasmBackendLike;
  const list = listInputs(inputs);
  const sums = Float32Array.from(list.map((t) => simd.exports.sumSquares(size(t), wb.getMemoryOffset(t.dataId))));
  const out = wb.makeOutput([list.length], 'float32');
  new Float32Array(wb.wasm.asm.memory.buffer, wb.getMemoryOffset(out.dataId), list.length).set(sums);
  return [out];
};

/** In-place updates are only done on buffers nothing else shares (refCount 1); callers check with inPlaceSafe. */
function assertExclusive(wb: WasmBackendLike, t: tf.TensorInfo, what: string): void {
  if (wb.refCount(t.dataId) !== 1) throw new Error(`in-place update: the ${what} buffer is shared (refCount ${wb.refCount(t.dataId)})`);
}

interface AdamWAttrs {
  count: number;
  teacher: boolean[];
  gradScale: number[];
  decay: number[];
  stepSize: number[];
  bc2Sqrt: number[];
  beta1: number;
  beta2: number;
  eps: number;
  ema: number;
}

export const adamwEmaKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const simd = requireSimd(backend);
  const wb = backend as unknown as WasmBackendLike;
  const a = attrs as unknown as AdamWAttrs;
  const get = (name: string) => inputs[name] as tf.TensorInfo;
  for (let i = 0; i < a.count; i++) {
    const [p, g, m, v] = ['p', 'g', 'm', 'v'].map((k) => get(`${k}${i}`));
    const t = a.teacher[i] ? get(`t${i}`) : undefined;
    for (const [what, x] of [
      ['param', p],
      ['exp_avg', m],
      ['exp_avg_sq', v],
      ['teacher', t],
    ] as const)
      if (x) assertExclusive(wb, x, what);
    const at = (x: tf.TensorInfo | undefined) => (x === undefined ? 0 : wb.getMemoryOffset(x.dataId));
    simd.exports.adamwEma(
      size(p),
      at(p),
      at(g),
      at(m),
      at(v),
      at(t),
      a.gradScale[i],
      a.decay[i],
      a.beta1,
      1 - a.beta1,
      a.beta2,
      1 - a.beta2,
      a.stepSize[i],
      a.bc2Sqrt[i],
      a.eps,
      a.ema,
      1 - a.ema,
    );
  }
  return [];
};

export const emaKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const simd = requireSimd(backend);
  const wb = backend as unknown as WasmBackendLike;
  const { count, ema } = attrs as { count: number; ema: number };
  for (let i = 0; i < count; i++) {
    const t = inputs[`t${i}`] as tf.TensorInfo;
    const s = inputs[`s${i}`] as tf.TensorInfo;
    assertExclusive(wb, t, 'teacher');
    simd.exports.emaOnly(size(t), wb.getMemoryOffset(t.dataId), wb.getMemoryOffset(s.dataId), ema, 1 - ema);
  }
  return [];
};

export const accumulateKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const simd = requireSimd(backend);
  const wb = backend as unknown as WasmBackendLike;
  for (let i = 0; i < (attrs as { count: number }).count; i++) {
    const sum = inputs[`s${i}`] as tf.TensorInfo;
    const g = inputs[`g${i}`] as tf.TensorInfo;
    assertExclusive(wb, sum, 'gradient sum');
    simd.exports.accumulate(size(sum), wb.getMemoryOffset(sum.dataId), wb.getMemoryOffset(g.dataId));
  }
  return [];
};
