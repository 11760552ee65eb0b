// The webgpu backend on Dawn (npm 'webgpu'), with the work-arounds for the two tfjs-webgpu 4.22 bugs that return
// silently wrong results (notes tfjs-backends.md §6) and a guard that turns GPU validation errors into failures.
import * as tf from '@tensorflow/tfjs';
import { patchKernel, patchedKernels, unpatchKernel } from './kernelPatch';
import { errorMessage } from './optionalModule';
import { setBackendOrThrow } from './setBackend';
import type { AdapterLookup, WebGpuAdapterSummary } from './types';
import { trackBackendMemory } from './memory';
import { backendInternals, countTfjsDispatches } from './webgpuDispatch';
import { registerWebGpuFusedKernels } from './webgpuFused';

interface DawnModule {
  create(options: string[]): GPU;
  globals: object;
}

const ADAPTER_TIMEOUT_MS = 30_000;

let dawnGpu: Promise<GPU> | undefined;
let lastAdapter: WebGpuAdapterSummary | undefined;

/** Loads Dawn once and installs what tfjs-backend-webgpu expects of a browser: navigator.gpu and the GPU* globals. */
function getDawnGpu(): Promise<GPU> {
  dawnGpu ??= (async () => {
    // 'webgpu' is ESM-only; a real dynamic import (esbuild leaves it alone for an external package on node20).
    const dawn = (await import('webgpu')) as unknown as DawnModule;
    const gpu = dawn.create([]);
    for (const [name, value] of Object.entries(dawn.globals)) {
      if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    }
    installNavigatorGpu(gpu);
    return gpu;
  })();
  return dawnGpu;
}

function installNavigatorGpu(gpu: GPU): void {
  const holder = globalThis as { navigator?: object };
  if (typeof holder.navigator === 'object' && holder.navigator !== null) {
    // Node ≥ 21 has a built-in navigator without `gpu`; extend it rather than replace it.
    Object.defineProperty(holder.navigator, 'gpu', { value: gpu, configurable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
}

// The features that matter for training speed; the full list is long and mostly about textures.
const REPORTED_FEATURES = new Set(['shader-f16', 'timestamp-query', 'subgroups']);

const SOFTWARE_ADAPTER_PATTERN = /llvmpipe|lavapipe|swiftshader|software/i;

export function summariseAdapter(adapter: GPUAdapter): WebGpuAdapterSummary {
  const info = adapter.info as Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean };
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = info.device ?? '';
  const description = info.description ?? '';
  const fallback = info.isFallbackAdapter === true || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return {
    vendor,
    architecture,
    device,
    description,
    isSoftware: fallback || SOFTWARE_ADAPTER_PATTERN.test(`${architecture} ${device} ${description}`),
    maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    features: [...adapter.features]
      .map(String)
      .filter((f) => REPORTED_FEATURES.has(f))
      .sort(),
  };
}

export function adapterLabel(adapter: WebGpuAdapterSummary): string {
  return adapter.description || [adapter.vendor, adapter.architecture, adapter.device].filter(Boolean).join(' ') || 'unnamed adapter';
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const NO_ADAPTER_REASON =
  'no GPU adapter (requestAdapter returned null): Dawn found no usable Vulkan device; its own warning is on stderr ' +
  "(Debian 12's stock lavapipe, Mesa 22, lacks shaderUniform*ArrayDynamicIndexing; Mesa >= 25 from bookworm-backports works)";

function lowPowerRequested(): boolean {
  // The flag exists only once tfjs-backend-webgpu has been imported.
  try {
    return tf.env().getBool('WEBGPU_USE_LOW_POWER_GPU');
  } catch {
    return false;
  }
}

/** Asks Dawn for the adapter tfjs will use (same power preference). Never throws. */
export async function findWebGpuAdapter(): Promise<AdapterLookup> {
  let gpu: GPU;
  try {
    gpu = await getDawnGpu();
  } catch (error) {
    return { adapter: null, reason: `could not load Dawn (npm 'webgpu'): ${errorMessage(error)}` };
  }
  try {
    const powerPreference = lowPowerRequested() ? 'low-power' : 'high-performance';
    const adapter = await withTimeout(gpu.requestAdapter({ powerPreference }), ADAPTER_TIMEOUT_MS, 'requestAdapter()');
    if (adapter === null) return { adapter: null, reason: NO_ADAPTER_REASON };
    lastAdapter = summariseAdapter(adapter);
    return { adapter: lastAdapter };
  } catch (error) {
    return { adapter: null, reason: `requestAdapter() failed: ${errorMessage(error)}` };
  }
}

// ---- AddN work-around -------------------------------------------------------------------------------------------

/** tfjs-webgpu requests the default limit of 8 storage buffers per stage; AddN needs one per input plus the output. */
function maxAddNInputs(backend: unknown): number {
  const limit = (backend as { device?: GPUDevice }).device?.limits.maxStorageBuffersPerShaderStage ?? 8;
  return Math.max(2, limit - 1);
}

/**
 * AddN with more inputs than the per-stage storage-buffer limit fails pipeline validation and returns a stale buffer
 * (8 tensors summed to 28 instead of 36). Reduce in chunks that fit: the running sum plus the next inputs.
 */
function chunkedAddN(original: tf.KernelFunc): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const tensors = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as tf.TensorInfo[];
    const maxInputs = maxAddNInputs(backend);
    if (tensors.length <= maxInputs) return original({ inputs, backend, attrs });
    const disposeData = (dataId: tf.DataId) => (backend as { disposeData(id: tf.DataId): boolean }).disposeData(dataId);
    let sum = original({ inputs: tensors.slice(0, maxInputs) as unknown as tf.NamedTensorInfoMap, backend, attrs }) as tf.TensorInfo;
    for (let next = maxInputs; next < tensors.length; next += maxInputs - 1) {
      const chunk = [sum, ...tensors.slice(next, next + maxInputs - 1)];
      const partial = original({ inputs: chunk as unknown as tf.NamedTensorInfoMap, backend, attrs }) as tf.TensorInfo;
      disposeData(sum.dataId);
      sum = partial;
    }
    return sum;
  };
}

export function installWebGpuKernelPatches(): void {
  patchKernel('AddN', 'webgpu', chunkedAddN);
}

/** Restores the stock kernels; for tests that show the stock bug and the guard. */
export function removeWebGpuKernelPatches(): void {
  unpatchKernel('AddN', 'webgpu');
}

export function activeWebGpuPatches(): string[] {
  return patchedKernels('webgpu');
}

// ---- Uncaptured-error guard ---------------------------------------------------------------------------------------

const recordedGpuErrors: string[] = [];
let guardedDevice: GPUDevice | undefined;

export class GpuValidationError extends Error {
  constructor(readonly gpuErrors: readonly string[]) {
    super(`WebGPU reported ${gpuErrors.length} uncaptured error(s); results computed since then are invalid. First: ${gpuErrors[0]}`);
    this.name = 'GpuValidationError';
  }
}

/** Throws if the GPU device reported any uncaptured (validation, out-of-memory, internal) error. */
export function assertNoGpuErrors(): void {
  if (recordedGpuErrors.length > 0) throw new GpuValidationError([...recordedGpuErrors]);
}

/** Returns and forgets the recorded errors; after handling a failure, this re-arms the guard. */
export function takeGpuErrors(): string[] {
  return recordedGpuErrors.splice(0, recordedGpuErrors.length);
}

export function gpuErrorCount(): number {
  return recordedGpuErrors.length;
}

/**
 * tfjs-webgpu ignores uncaptured errors, and a command buffer that failed validation just leaves stale data in its
 * outputs. Record every such error, log it at once, and make every later download (data(), dataSync()) throw.
 */
function installGpuErrorGuard(backend: tf.KernelBackend, log: (msg: string) => void): void {
  const device = (backend as unknown as { device?: GPUDevice }).device;
  if (device === undefined) throw new Error('webgpu backend has no GPU device to guard');
  if (guardedDevice === device) return;
  guardedDevice = device;
  device.addEventListener('uncapturederror', (event) => {
    const message = (event as GPUUncapturedErrorEvent).error.message;
    recordedGpuErrors.push(message);
    log(`[webgpu] GPU error, results are invalid: ${message}`);
  });
  const read = backend.read.bind(backend);
  const readSync = backend.readSync.bind(backend);
  backend.read = async (dataId) => {
    const values = await read(dataId);
    assertNoGpuErrors();
    return values;
  };
  backend.readSync = (dataId) => {
    const values = readSync(dataId);
    assertNoGpuErrors();
    return values;
  };
}

export function describeWebGpu(): (WebGpuAdapterSummary & { uncapturedErrors: number }) | undefined {
  if (lastAdapter === undefined) return undefined;
  return { ...lastAdapter, uncapturedErrors: recordedGpuErrors.length };
}

export async function activateWebGpu(log: (msg: string) => void): Promise<void> {
  // Records the adapter for describeBackend() even when a caller activates without probing first.
  if (lastAdapter === undefined) await findWebGpuAdapter();
  // The package registers the 'webgpu' backend at import time, and only if navigator.gpu already exists.
  await import('@tensorflow/tfjs-backend-webgpu');
  if (tf.findBackendFactory('webgpu') == null) {
    throw new Error('@tensorflow/tfjs-backend-webgpu did not register its backend (it was imported before navigator.gpu was set)');
  }
  // Keeps tfjs off MatMulSplitKProgram, whose transposeB path returns garbage for batch 1, K >= 2000, small M·N.
  tf.env().set('WEBGPU_THRESHOLD_TO_INCREASE_WORKGROUPS_FOR_MATMUL', 1);
  installWebGpuKernelPatches();
  registerWebGpuFusedKernels();
  await setBackendOrThrow('webgpu');
  installGpuErrorGuard(tf.backend(), log);
  countTfjsDispatches(backendInternals(tf.backend()));
  trackBackendMemory(lastAdapter?.isSoftware ?? false);
}
