// What the active backend holds, what it may hold, and a clean error instead of a crash when it would hold more.
// - wasm: every heap allocation goes through BackendWasm's _malloc; wrapping it gives exact live bytes and a peak, and
//   refusing an allocation above the budget (or one Emscripten cannot serve) throws before TF.js writes to a null
//   pointer. Cap: the 4 GiB heap.
// - webgpu: tfjs' BufferManager keeps every released buffer in a per-size free list forever, so the pool grows to
//   the sum of each size's high-water mark (the teacher's batch-of-all-frames sizes, then each micro-batch's sizes).
//   The pool is capped (free buffers beyond the cap are destroyed) and trimmed when an allocation would cross the
//   budget; an allocation that still does not fit throws before Dawn hands out an invalid buffer (which is what
//   turned one out-of-memory into thousands of validation errors). WebGPU does not report device memory: the budget
//   is DORA_MEMORY_BUDGET_MB, else nvidia-smi's total (NVIDIA), else half the host memory (software adapters), else
//   8 GiB; a real device OOM still surfaces through the uncaptured-error guard and is handled the same way.
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { totalmem } from 'node:os';

export class BackendOutOfMemoryError extends Error {
  constructor(
    readonly backend: string,
    readonly requestedBytes: number,
    readonly liveBytes: number,
    readonly budgetBytes: number,
    detail: string,
  ) {
    super(
      `${backend} out of memory: ${detail} (asked for ${mib(requestedBytes)} with ${mib(liveBytes)} in use; budget ${mib(budgetBytes)})`,
    );
    this.name = 'BackendOutOfMemoryError';
  }
}

export function mib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

export interface MemoryState {
  backend: string;
  /** Bytes of live tensors (wasm: live heap allocations; webgpu: buffers in use). */
  liveBytes: number;
  /** Highest liveBytes since the last resetPeak(). */
  peakBytes: number;
  /** Bytes the backend holds from the system (wasm: heap size; webgpu: buffers in use + free pool). */
  reservedBytes: number;
  /** What planning may use. */
  budgetBytes: number;
  budgetSource: string;
}

interface Tracker {
  state(): MemoryState;
  resetPeak(): void;
  /** Releases cached but unused memory (webgpu: the free buffer pool). */
  trim(): void;
}

const trackers = new WeakMap<object, Tracker>();

/** DORA_MEMORY_BUDGET_MB, when set: the knob tests and users lower to force small micro-batches. */
export function budgetOverride(): number | undefined {
  const raw = process.env.DORA_MEMORY_BUDGET_MB;
  if (raw === undefined || raw === '') return undefined;
  const mb = Number(raw);
  if (!(mb > 0)) throw new Error(`DORA_MEMORY_BUDGET_MB must be a positive number of MiB (got "${raw}")`);
  return mb * 2 ** 20;
}

/** wasm32 heap: 4 GiB minus one page (tfjs-wasm's maximum); keep 10 % for fragmentation and XNNPACK workspaces. */
const WASM_HEAP_MAX = 4294901760;

interface WasmHeap {
  wasm: {
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    HEAPU8: Uint8Array;
    asm: { malloc(bytes: number): number; free(ptr: number): void };
  };
}

function wasmTracker(backend: WasmHeap): Tracker {
  const sizes = new Map<number, number>();
  let live = 0;
  let peak = 0;
  const override = budgetOverride();
  const budget = override ?? Math.floor(WASM_HEAP_MAX * 0.9);
  // The real exports: Emscripten's Module._malloc is a stub that replaces itself with asm.malloc on first use.
  const malloc = backend.wasm.asm.malloc;
  const free = backend.wasm.asm.free;
  backend.wasm._malloc = (bytes: number) => {
    if (live + bytes > budget) {
      throw new BackendOutOfMemoryError(
        'wasm',
        bytes,
        live,
        budget,
        override ? 'over DORA_MEMORY_BUDGET_MB' : 'over 90 % of the 4 GiB wasm heap',
      );
    }
    const ptr = malloc(bytes) >>> 0;
    if (ptr === 0 && bytes > 0) throw new BackendOutOfMemoryError('wasm', bytes, live, budget, 'the 4 GiB wasm heap is exhausted');
    sizes.set(ptr, bytes);
    live += bytes;
    peak = Math.max(peak, live);
    return ptr;
  };
  backend.wasm._free = (ptr: number) => {
    live -= sizes.get(ptr >>> 0) ?? 0;
    sizes.delete(ptr >>> 0);
    free(ptr);
  };
  return {
    state: () => ({
      backend: 'wasm',
      liveBytes: live,
      peakBytes: peak,
      reservedBytes: backend.wasm.HEAPU8.length,
      budgetBytes: budget,
      budgetSource: override ? 'DORA_MEMORY_BUDGET_MB' : '90 % of the 4 GiB wasm heap',
    }),
    resetPeak: () => {
      peak = live;
    },
    trim: () => undefined,
  };
}

interface BufferManagerLike {
  numBytesUsed: number;
  numBytesAllocated: number;
  numFreeBuffers: number;
  freeBuffers: Map<string, GPUBuffer[]>;
  acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): GPUBuffer;
  releaseBuffer(buffer: GPUBuffer, reuse?: boolean): void;
}

/** nvidia-smi's total memory of GPU 0 in bytes, or undefined (no NVIDIA GPU or tool). */
function nvidiaTotalBytes(): number | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=memory.total', '--format=csv,noheader,nounits'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    const mb = Number(out.split('\n')[0].trim());
    return mb > 0 ? mb * 2 ** 20 : undefined;
  } catch {
    return undefined;
  }
}

function gpuBudget(isSoftware: boolean): { bytes: number; source: string } {
  const override = budgetOverride();
  if (override !== undefined) return { bytes: override, source: 'DORA_MEMORY_BUDGET_MB' };
  if (isSoftware) return { bytes: Math.floor(totalmem() / 2), source: 'half the host memory (software adapter)' };
  const nvidia = nvidiaTotalBytes();
  if (nvidia !== undefined) return { bytes: Math.floor(nvidia * 0.9), source: '90 % of nvidia-smi memory.total' };
  return { bytes: 8 * 2 ** 30, source: 'default 8 GiB (WebGPU does not report device memory; set DORA_MEMORY_BUDGET_MB)' };
}

/** Destroys every pooled free buffer. */
function trimPool(bm: BufferManagerLike): void {
  for (const list of bm.freeBuffers.values()) {
    for (const buffer of list.splice(0)) {
      bm.numBytesAllocated -= buffer.size;
      bm.numFreeBuffers--;
      buffer.destroy();
    }
  }
}

function webgpuTracker(backend: { bufferManager: BufferManagerLike; device: GPUDevice }, isSoftware: boolean): Tracker {
  const bm = backend.bufferManager;
  const budget = gpuBudget(isSoftware);
  // A storage buffer larger than this cannot be bound at all: treat it like running out (a smaller micro-batch helps).
  const largest = Math.min(backend.device.limits.maxBufferSize, backend.device.limits.maxStorageBufferBindingSize);
  const poolCap = Math.max(256 * 2 ** 20, Math.floor(budget.bytes * 0.1));
  let peak = bm.numBytesUsed;
  const acquire = bm.acquireBuffer.bind(bm);
  const release = bm.releaseBuffer.bind(bm);
  bm.acquireBuffer = (size, usage, mappedAtCreation, reuse) => {
    if (size > largest && usage & GPUBufferUsage.STORAGE) {
      throw new BackendOutOfMemoryError(
        'webgpu',
        size,
        bm.numBytesUsed,
        budget.bytes,
        `one tensor exceeds the adapter's largest storage buffer (${mib(largest)})`,
      );
    }
    const pooled = (bm.freeBuffers.get(`${size}_${usage}`)?.length ?? 0) > 0;
    if (!pooled && bm.numBytesAllocated + size > budget.bytes) {
      trimPool(bm);
      if (bm.numBytesUsed + size > budget.bytes) {
        throw new BackendOutOfMemoryError('webgpu', size, bm.numBytesUsed, budget.bytes, `over the GPU memory budget (${budget.source})`);
      }
    }
    const buffer = acquire(size, usage, mappedAtCreation, reuse);
    peak = Math.max(peak, bm.numBytesUsed);
    return buffer;
  };
  bm.releaseBuffer = (buffer, reuse = true) => {
    const pooledBytes = bm.numBytesAllocated - bm.numBytesUsed;
    release(buffer, reuse && pooledBytes + buffer.size <= poolCap);
  };
  return {
    state: () => ({
      backend: 'webgpu',
      liveBytes: bm.numBytesUsed,
      peakBytes: peak,
      reservedBytes: bm.numBytesAllocated,
      budgetBytes: budget.bytes,
      budgetSource: budget.source,
    }),
    resetPeak: () => {
      peak = bm.numBytesUsed;
    },
    trim: () => trimPool(bm),
  };
}

function genericTracker(name: string): Tracker {
  let peak = 0;
  const override = budgetOverride();
  const budget = override ?? Math.floor(totalmem() / 2);
  const live = () => tf.memory().numBytes;
  return {
    state: () => {
      peak = Math.max(peak, live());
      return {
        backend: name,
        liveBytes: live(),
        peakBytes: peak,
        reservedBytes: live(),
        budgetBytes: budget,
        budgetSource: override ? 'DORA_MEMORY_BUDGET_MB' : 'half the host memory',
      };
    },
    resetPeak: () => {
      peak = live();
    },
    trim: () => undefined,
  };
}

/** Installs the tracker on the active backend (once per backend instance; called by initBackend). */
export function trackBackendMemory(isSoftwareGpu = false): void {
  const backend = tf.backend() as unknown as object;
  if (trackers.has(backend)) return;
  const name = tf.getBackend();
  const tracker =
    name === 'wasm'
      ? wasmTracker(backend as WasmHeap)
      : name === 'webgpu'
        ? webgpuTracker(backend as { bufferManager: BufferManagerLike; device: GPUDevice }, isSoftwareGpu)
        : genericTracker(name);
  trackers.set(backend, tracker);
}

function tracker(): Tracker {
  trackBackendMemory();
  return trackers.get(tf.backend() as unknown as object)!;
}

export function memoryState(): MemoryState {
  return tracker().state();
}

export function resetPeakMemory(): void {
  tracker().resetPeak();
}

export function trimMemory(): void {
  tracker().trim();
}

/** A wasm trap from a full heap, the budget error, or a GPU out-of-memory error (message patterns of Dawn/Vulkan). */
export function isOutOfMemory(error: unknown): boolean {
  if (error instanceof BackendOutOfMemoryError) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /out of memory|OUT_OF_DEVICE_MEMORY|OUT_OF_HOST_MEMORY|memory access out of bounds|Aborted\(\)|Cannot enlarge memory/i.test(
    message,
  );
}
