// The wasm backend (XNNPACK, SIMD, 1 thread in Node) and the kernel re-registrations that make it fast and lean.
// See docs/notes tfjs-backends.md §3a and §4 for the measurements behind each patch.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { dirname, sep } from 'node:path';
import { patchKernel, patchedKernels, unpatchKernel } from './kernelPatch';
import { runtimeRequire } from './optionalModule';
import { setBackendOrThrow } from './setBackend';
import { trackBackendMemory } from './memory';
import { registerWasmFusedKernels, simdFor, simdMatMul } from './wasmFused';

/** The slice of tfjs-backend-wasm's BackendWasm that the patches rely on (see dist/backend_wasm.d.ts). */
interface WasmBackendRefCounting {
  incRef(dataId: tf.DataId): void;
  disposeData(dataId: tf.DataId): boolean;
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

export const WASM_PATCHED_KERNELS = ['BatchMatMul', '_FusedMatMul', 'Identity'] as const;

let wasmPathsSet = false;

/** Points the loader at the .wasm files in node_modules (a file path: in Node, Emscripten reads it with fs). */
export function configureWasmPaths(): string {
  const distDir = dirname(runtimeRequire.resolve('@tensorflow/tfjs-backend-wasm')) + sep;
  if (!wasmPathsSet) {
    setWasmPaths(distDir);
    wasmPathsSet = true;
  }
  return distDir;
}

function swapLastTwo<T>(items: readonly T[]): T[] {
  const out = items.slice();
  const n = out.length;
  [out[n - 2], out[n - 1]] = [out[n - 1], out[n - 2]];
  return out;
}

/**
 * Materialises the transpose of the last two axes as a new backend buffer (caller disposes it). When one of those
 * axes has size 1 the memory layout is unchanged, so the result shares the buffer like Reshape does.
 */
function transposeLastTwoAxes(x: tf.TensorInfo, backend: WasmBackendRefCounting, transposeKernel: tf.KernelFunc): tf.TensorInfo {
  const rank = x.shape.length;
  const outShape = swapLastTwo(x.shape);
  if (x.shape[rank - 1] === 1 || x.shape[rank - 2] === 1) {
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: outShape, dtype: x.dtype };
  }
  const perm = swapLastTwo([...Array(rank).keys()]);
  return transposeKernel({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/** A second view of x's buffer with another shape (same element order), ref-counted like Reshape. */
function viewAs(x: tf.TensorInfo, shape: number[], backend: WasmBackendRefCounting): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

function runWasmKernel(
  kernelName: string,
  inputs: tf.NamedTensorInfoMap,
  backend: WasmBackendRefCounting,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  return tf.getKernel(kernelName, 'wasm')!.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
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

interface MatMulAttrs {
  transposeA?: boolean;
  transposeB?: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

/**
 * Wraps BatchMatMul or _FusedMatMul (same a/b/transposeA/transposeB interface) so that XNNPACK does the work and the
 * result is right:
 * - XNNPACK runs only with no transpose flag and batch 1; otherwise tfjs-wasm uses a scalar loop (≈1 GFLOP/s vs
 *   15–25). So transposes are done first by the Transpose kernel (every backward matMul sets a flag), and a batched
 *   `a` times an unbatched `b` (a dense layer on [batch, tokens, dim]) is folded into one [batch·tokens, dim] matrix.
 * - Stock _FusedMatMul adds the bias wrongly when the batch is > 1 (relative error ≈0.3, found by our tests). Folding
 *   avoids that case; where both operands are batched, the bias and activation are applied by separate kernels.
 * - Products where both operands are batched (attention) stay on the scalar loop: one XNNPACK call per batch entry was
 *   measured 5–25× slower for attention-sized matrices (≈2 ms of setup per call; test/backend/matmulBench.ts).
 */
function xnnpackFriendlyMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasmBackend = backend as WasmBackendRefCounting;
    const { transposeA, transposeB, activation = 'linear', leakyreluAlpha } = (attrs ?? {}) as MatMulAttrs;
    const bias = inputs.bias as tf.TensorInfo | undefined;
    const preluWeights = inputs.preluActivationWeights as tf.TensorInfo | undefined;
    const plainAttrs = { ...attrs, transposeA: false, transposeB: false };
    const temporaries: tf.TensorInfo[] = [];
    const temporary = (t: tf.TensorInfo) => {
      temporaries.push(t);
      return t;
    };
    try {
      const transposeKernel = tf.getKernel('Transpose', 'wasm')!.kernelFunc;
      const a0 = inputs.a as tf.TensorInfo;
      const b0 = inputs.b as tf.TensorInfo;
      const a = transposeA ? temporary(transposeLastTwoAxes(a0, wasmBackend, transposeKernel)) : a0;
      const b = transposeB ? temporary(transposeLastTwoAxes(b0, wasmBackend, transposeKernel)) : b0;
      const outerA = a.shape.slice(0, -2);
      const outerB = b.shape.slice(0, -2);
      const batchA = tf.util.sizeFromShape(outerA);
      const batchB = tf.util.sizeFromShape(outerB);
      const [m, k] = a.shape.slice(-2);
      const n = b.shape[b.shape.length - 1];
      const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB), m, n];

      if (batchA > 1 && batchB === 1 && (preluWeights === undefined || preluWeights.shape.length <= 1)) {
        const rows = temporary(viewAs(a, [1, batchA * m, k], wasmBackend));
        const matrix = temporary(viewAs(b, [1, k, n], wasmBackend));
        const out = original({ inputs: { ...inputs, a: rows, b: matrix }, backend, attrs: plainAttrs }) as tf.TensorInfo;
        return { ...out, shape: outShape };
      }
      if (bias !== undefined && Math.max(batchA, batchB) > 1) {
        const product = temporary(original({ inputs: { a, b }, backend, attrs: { ...plainAttrs, activation: 'linear' } }) as tf.TensorInfo);
        const biased = runWasmKernel('Add', { a: product, b: bias }, wasmBackend);
        const activationKernel = ACTIVATION_KERNELS[activation];
        if (activationKernel === undefined) return biased;
        temporary(biased);
        if (activationKernel === 'Prelu') return runWasmKernel('Prelu', { x: biased, alpha: preluWeights! }, wasmBackend);
        if (activationKernel === 'LeakyRelu')
          return runWasmKernel('LeakyRelu', { x: biased }, wasmBackend, { alpha: leakyreluAlpha ?? 0.2 });
        return runWasmKernel(activationKernel, { x: biased }, wasmBackend);
      }
      if (a === a0 && b === b0) return original({ inputs, backend, attrs });
      return original({ inputs: { ...inputs, a, b }, backend, attrs: plainAttrs });
    } finally {
      for (const t of temporaries) wasmBackend.disposeData(t.dataId);
    }
  };
}

/**
 * Identity that shares the input's buffer (ref-counted, as Reshape and the cpu backend do) instead of copying it.
 * tfjs-core clones every tensor it saves for backprop through Identity, so the stock copy doubles the tape's memory.
 * Sharing is safe because tensors are immutable and Variable.assign swaps dataIds rather than writing in place.
 */
function sharingIdentity(original: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x as tf.TensorInfo;
    // String tensors keep their bytes on the JS side; leave them to the stock path.
    if (x.dtype === 'string') return original({ inputs, backend, attrs });
    (backend as WasmBackendRefCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}

/**
 * Kernels tfjs-wasm 4.22 lacks although the gradients of common ops need them: conv2d's filter gradient, depthwise
 * conv2d's gradients, gather's gradient (UnsortedSegmentSum), and einsum's forward pass. Without them a backward
 * pass throws "Kernel 'X' not registered for backend 'wasm'".
 */
export const WASM_CPU_FALLBACK_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  'Einsum',
] as const;

const installedFallbacks = new Set<string>();

/**
 * Runs the cpu backend's kernel on copies of the inputs and copies the outputs back into the wasm heap. Correct but
 * slow (pure JS plus two copies); the model should still prefer ops wasm implements natively (notes §2).
 */
function cpuFallbackKernel(kernelName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const wasmBackend = backend as WasmBackendRefCounting;
    const cpuBackend = tf.findBackend('cpu');
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    if (cpuBackend == null || cpuKernel === undefined) throw new Error(`no cpu kernel '${kernelName}' to fall back to`);
    const cpuInputs: tf.NamedTensorInfoMap = {};
    // Array-valued inputs (Einsum's operand list) arrive as an array; keep the shape of the container.
    const container = (Array.isArray(inputs) ? [] : cpuInputs) as tf.NamedTensorInfoMap;
    for (const [name, info] of Object.entries(inputs)) {
      const t = info as tf.TensorInfo;
      container[name] = { dataId: cpuBackend.write(wasmBackend.readSync(t.dataId), t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
    }
    try {
      const result = cpuKernel.kernelFunc({ inputs: container, backend: cpuBackend, attrs });
      const outputs = Array.isArray(result) ? result : [result];
      const copied = outputs.map((out) => {
        const values = cpuBackend.readSync(out.dataId);
        cpuBackend.disposeData(out.dataId);
        return wasmBackend.makeOutput(out.shape, out.dtype, undefined, values);
      });
      return Array.isArray(result) ? copied : copied[0];
    } finally {
      for (const info of Object.values(container)) cpuBackend.disposeData((info as tf.TensorInfo).dataId);
    }
  };
}

/** The project's SIMD GEMM (wasmFused.ts), or the XNNPACK route when DORA_SIMD_KERNELS=0 or the module is missing. */
function fastMatMul(original: tf.KernelFunc): tf.KernelFunc {
  const xnnpack = xnnpackFriendlyMatMul(original);
  return process.env.DORA_SIMD_KERNELS === '0' ? xnnpack : simdMatMul(original, xnnpack);
}

export function installWasmKernelPatches(): void {
  patchKernel('BatchMatMul', 'wasm', fastMatMul);
  patchKernel('_FusedMatMul', 'wasm', fastMatMul);
  registerWasmFusedKernels();
  patchKernel('Identity', 'wasm', sharingIdentity);
  for (const kernelName of WASM_CPU_FALLBACK_KERNELS) {
    if (installedFallbacks.has(kernelName) || tf.getKernel(kernelName, 'wasm') !== undefined) continue;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: cpuFallbackKernel(kernelName) });
    installedFallbacks.add(kernelName);
  }
}

/** Restores the stock kernels (the cpu fallbacks stay: stock has nothing there); for tests and benchmarks. */
export function removeWasmKernelPatches(): void {
  for (const name of WASM_PATCHED_KERNELS) unpatchKernel(name, 'wasm');
}

export function activeWasmPatches(): string[] {
  return [...patchedKernels('wasm'), ...[...installedFallbacks].map((name) => `${name} (cpu fallback)`)];
}

function flagValue(name: string): boolean {
  // Both wasm flags are async; after the backend initialised they are cached and readable synchronously.
  try {
    return Boolean(tf.env().get(name));
  } catch {
    return false;
  }
}

/** 'relaxed' / 'simd128' (the project's SIMD kernels are loaded), else why not. */
export function wasmKernelStatus(): string {
  if (process.env.DORA_SIMD_KERNELS === '0') return 'off (DORA_SIMD_KERNELS=0)';
  if (tf.getBackend() !== 'wasm') return 'not initialised';
  const m = simdFor(tf.backend());
  return m instanceof Error ? `unavailable: ${m.message}` : m.flavour;
}

export function describeWasm(): { simd: boolean; threads: boolean; threadsCount: number; binary: string; kernels: string } {
  const simd = flagValue('WASM_HAS_SIMD_SUPPORT');
  const threads = flagValue('WASM_HAS_MULTITHREAD_SUPPORT');
  const binary = simd && threads ? 'tfjs-backend-wasm-threaded-simd.wasm' : simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
  let threadsCount = 1;
  try {
    threadsCount = getThreadsCount();
  } catch {
    // Not initialised yet.
  }
  return { simd, threads, threadsCount, binary, kernels: wasmKernelStatus() };
}

export async function activateWasm(): Promise<void> {
  configureWasmPaths();
  installWasmKernelPatches();
  const before = processListeners();
  try {
    await setBackendOrThrow('wasm');
  } finally {
    removeListenersAddedSince(before);
  }
  trackBackendMemory();
}

interface ProcessListenerSnapshot {
  uncaughtException: Set<NodeJS.UncaughtExceptionListener>;
  unhandledRejection: Set<NodeJS.UnhandledRejectionListener>;
}

function processListeners(): ProcessListenerSnapshot {
  return {
    uncaughtException: new Set(process.listeners('uncaughtException')),
    unhandledRejection: new Set(process.listeners('unhandledRejection')),
  };
}

/**
 * The Emscripten runtime adds process handlers that just rethrow. Node then prints the throwing line, a 300 KB
 * minified one, with every crash, and node:test loses its own attribution of uncaught errors. Node's default
 * handling is what we want, so drop them.
 */
function removeListenersAddedSince(before: ProcessListenerSnapshot): void {
  for (const listener of process.listeners('uncaughtException')) {
    if (!before.uncaughtException.has(listener)) process.removeListener('uncaughtException', listener);
  }
  for (const listener of process.listeners('unhandledRejection')) {
    if (!before.unhandledRejection.has(listener)) process.removeListener('unhandledRejection', listener);
  }
}
