// Public types of the TF.js backend layer.

/** What the user can ask for (setting `dora.backend`, CLI `--backend`). */
export type BackendName = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** A backend that can actually run; `auto` resolves to one of these. */
export type ConcreteBackendName = Exclude<BackendName, 'auto'>;

export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export const DEFAULT_BACKEND: BackendName = 'wasm';

/** `auto` tries these in order of expected speed. */
export const AUTO_ORDER: readonly ConcreteBackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

export function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (BACKEND_NAMES as readonly string[]).includes(value);
}

/**
 * One candidate in a selection.
 * - `active`: initialised and now in use.
 * - `skipped`: not attempted because a precondition failed (package missing, no adapter, software adapter in auto).
 * - `failed`: attempted, but initialisation threw.
 */
export interface CandidateAttempt {
  backend: ConcreteBackendName;
  outcome: 'active' | 'skipped' | 'failed';
  /** Human-readable and exact: carries the underlying error message where there was one. */
  reason: string;
}

export interface WebGpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** llvmpipe / lavapipe / SwiftShader / a fallback adapter: correct but slower than wasm. */
  isSoftware: boolean;
  maxStorageBuffersPerShaderStage?: number;
  maxStorageBufferBindingSize?: number;
  features?: string[];
}

/** Result of asking Dawn for an adapter: either one, or the exact reason there is none. */
export type AdapterLookup = { adapter: WebGpuAdapterSummary } | { adapter: null; reason: string };

export interface BackendDescription {
  /** Our name for the active backend, or null when initBackend has not run. */
  name: ConcreteBackendName | null;
  /** `tf.getBackend()`: 'tensorflow' for both tfjs-node flavours. */
  tfBackend: string | null;
  tfjsVersion: string;
  prodMode: boolean;
  /** Kernels re-registered by this layer for the active backend (empty when none). */
  kernelPatches: string[];
  /** `kernels`: the project's SIMD kernels ('relaxed' = with fused multiply-add, 'simd128'), or why they are off. */
  wasm?: { simd: boolean; threads: boolean; threadsCount: number; binary: string; kernels: string };
  webgpu?: WebGpuAdapterSummary & { uncapturedErrors: number };
}

export interface BackendReport {
  requested: BackendName;
  active: ConcreteBackendName;
  /** Why `active` was chosen, e.g. "requested explicitly" or "auto: first candidate that initialised; …". */
  reason: string;
  /** Every candidate that was considered, in order, including the active one (last). */
  attempts: CandidateAttempt[];
  /** True when this call found the backend already initialised and only re-activated it. */
  reused: boolean;
  initMs: number;
  description: BackendDescription;
}

/**
 * The environment-facing steps of initialisation, injectable so the selection logic can be tested
 * deterministically (no Dawn, no optional packages).
 */
export interface BackendProbe {
  /** Loads an optional package such as '@tensorflow/tfjs-node'; throws the loader's error when it can't. */
  loadOptionalModule(moduleId: string): unknown;
  /** Asks Dawn for a GPU adapter. Never throws: a failure becomes `{ adapter: null, reason }`. */
  findWebGpuAdapter(): Promise<AdapterLookup>;
  /** Makes `name` the active TF.js backend (setBackend plus this layer's patches); throws on failure. */
  activate(name: ConcreteBackendName): Promise<void>;
}

export class BackendInitError extends Error {
  constructor(
    message: string,
    readonly attempts: CandidateAttempt[],
  ) {
    super(message);
    this.name = 'BackendInitError';
  }
}
