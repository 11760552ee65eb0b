// The TF.js backend layer: picks, initialises and describes the backend the trainer runs on.
//
//   const report = await initBackend(settings.backend, { log });   // 'auto' | 'tensorflow-gpu' | … | 'cpu'
//   log(report.reason); for (const a of report.attempts) log(`${a.backend}: ${a.outcome} (${a.reason})`);
//   … after each webgpu step: assertNoGpuErrors();
import * as tf from '@tensorflow/tfjs';
import { describeOptionalLoadFailure, errorMessage, loadOptionalModule } from './optionalModule';
import { setBackendOrThrow } from './setBackend';
import {
  AUTO_ORDER,
  BackendInitError,
  isBackendName,
  type BackendDescription,
  type BackendName,
  type BackendProbe,
  type BackendReport,
  type CandidateAttempt,
  type ConcreteBackendName,
} from './types';
import { activateWasm, activeWasmPatches, describeWasm } from './wasm';
import { DORA_LINEAR } from './fusedNames';
import { simdFor } from './wasmFused';
import { activateWebGpu, activeWebGpuPatches, adapterLabel, describeWebGpu, findWebGpuAdapter } from './webgpu';

export * from './types';
export * from './fusedNames';
export { assertNoGpuErrors, takeGpuErrors, GpuValidationError } from './webgpu';
export { installWasmKernelPatches, removeWasmKernelPatches } from './wasm';
export { installWebGpuKernelPatches, removeWebGpuKernelPatches } from './webgpu';
export { webGpuDispatchCount } from './webgpuDispatch';
export { recoverFromOutOfMemory } from './recover';
export {
  BackendOutOfMemoryError,
  isOutOfMemory,
  memoryState,
  mib,
  resetPeakMemory,
  trimMemory,
  trackBackendMemory,
  type MemoryState,
} from './memory';

export interface InitBackendOptions {
  log?: (msg: string) => void;
  /** Keep TF.js debug checks and warnings (no tf.enableProdMode()). */
  debug?: boolean;
  /** Replaces parts of the environment probing (tests). With a probe, results are never cached. */
  probe?: Partial<BackendProbe>;
}

/** The npm package behind each tfjs-node flavour; both register the TF.js backend 'tensorflow'. */
export const TFJS_NODE_PACKAGES = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

export function tfBackendNameOf(name: ConcreteBackendName): string {
  return name === 'tensorflow-gpu' || name === 'tensorflow' ? 'tensorflow' : name;
}

function defaultActivate(log: (msg: string) => void): (name: ConcreteBackendName) => Promise<void> {
  return async (name) => {
    switch (name) {
      case 'wasm':
        return activateWasm();
      case 'webgpu':
        return activateWebGpu(log);
      case 'cpu':
      case 'tensorflow':
      case 'tensorflow-gpu':
        return setBackendOrThrow(tfBackendNameOf(name));
    }
  };
}

function resolveProbe(options: InitBackendOptions, log: (msg: string) => void): BackendProbe {
  return {
    loadOptionalModule: options.probe?.loadOptionalModule ?? loadOptionalModule,
    findWebGpuAdapter: options.probe?.findWebGpuAdapter ?? findWebGpuAdapter,
    activate: options.probe?.activate ?? defaultActivate(log),
  };
}

async function activateOrFail(
  backend: ConcreteBackendName,
  probe: BackendProbe,
  successReason: string | (() => string),
): Promise<CandidateAttempt> {
  try {
    await probe.activate(backend);
    return { backend, outcome: 'active', reason: typeof successReason === 'string' ? successReason : successReason() };
  } catch (error) {
    return { backend, outcome: 'failed', reason: errorMessage(error) };
  }
}

/** Tries one backend. `inAuto` adds auto's extra rule: a software GPU adapter is skipped (it is slower than wasm). */
async function tryBackend(backend: ConcreteBackendName, probe: BackendProbe, inAuto: boolean): Promise<CandidateAttempt> {
  switch (backend) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const pkg = TFJS_NODE_PACKAGES[backend];
      try {
        probe.loadOptionalModule(pkg);
      } catch (error) {
        return { backend, outcome: 'skipped', reason: describeOptionalLoadFailure(pkg, error) };
      }
      return activateOrFail(backend, probe, `${pkg} loaded (libtensorflow)`);
    }
    case 'webgpu': {
      const lookup = await probe.findWebGpuAdapter();
      if (lookup.adapter === null) return { backend, outcome: 'skipped', reason: lookup.reason };
      const label = adapterLabel(lookup.adapter);
      if (lookup.adapter.isSoftware) {
        if (inAuto) {
          return {
            backend,
            outcome: 'skipped',
            reason: `software adapter '${label}' is slower than wasm; request 'webgpu' explicitly to use it`,
          };
        }
        return activateOrFail(backend, probe, `adapter '${label}' (software: correct but slower than wasm)`);
      }
      return activateOrFail(backend, probe, `adapter '${label}'`);
    }
    case 'wasm':
      return activateOrFail(backend, probe, () => {
        const wasm = describeWasm();
        return `${wasm.binary} (${wasm.threadsCount} thread), DoRA SIMD kernels: ${wasm.kernels}`;
      });
    case 'cpu':
      return activateOrFail(backend, probe, 'pure-JS reference backend (slow)');
  }
}

async function select(requested: BackendName, probe: BackendProbe, log: (msg: string) => void) {
  const attempts: CandidateAttempt[] = [];
  const candidates = requested === 'auto' ? AUTO_ORDER : [requested];
  for (const candidate of candidates) {
    const attempt = await tryBackend(candidate, probe, requested === 'auto');
    attempts.push(attempt);
    log(`[backend] ${candidate}: ${attempt.outcome} (${attempt.reason})`);
    if (attempt.outcome === 'active') {
      const reason =
        requested === 'auto'
          ? `auto: ${candidate} is the fastest candidate that initialised (${attempt.reason})` +
            attempts
              .slice(0, -1)
              .map((a) => `; ${a.backend} ${a.outcome}: ${a.reason}`)
              .join('')
          : `requested explicitly (${attempt.reason})`;
      return { active: candidate, reason, attempts };
    }
  }
  const summary = attempts.map((a) => `${a.backend} ${a.outcome}: ${a.reason}`).join('; ');
  throw new BackendInitError(`no TF.js backend could be initialised for '${requested}': ${summary}`, attempts);
}

interface CurrentBackend {
  report: BackendReport;
}

const reportsByRequest = new Map<BackendName, BackendReport>();
let current: CurrentBackend | undefined;
let serial: Promise<unknown> = Promise.resolve();

function applyProdMode(debug: boolean): void {
  if (debug) tf.env().set('PROD', false);
  else tf.enableProdMode();
}

/**
 * Initialises the requested backend and makes it the active one. An explicit name either works or throws a
 * BackendInitError with the exact reason (no silent fallback); 'auto' takes the fastest candidate that initialises.
 * Calling again with the same name is cheap: it returns the earlier report (re-activating the backend if another
 * one was selected since).
 */
export function initBackend(name: BackendName, options: InitBackendOptions = {}): Promise<BackendReport> {
  // Serialised: two overlapping calls would otherwise race on the global TF.js engine.
  const run = serial.then(() => initBackendNow(name, options));
  serial = run.catch(() => undefined);
  return run;
}

async function initBackendNow(name: BackendName, options: InitBackendOptions): Promise<BackendReport> {
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  applyProdMode(options.debug ?? false);
  const probe = resolveProbe(options, log);
  const cacheable = options.probe === undefined;

  const previous = cacheable ? reportsByRequest.get(name) : undefined;
  if (previous !== undefined) {
    const tfName = tfBackendNameOf(previous.active);
    if (tf.getBackend() !== tfName) await probe.activate(previous.active);
    const report: BackendReport = { ...previous, reused: true, initMs: performance.now() - started, description: describeBackend() };
    current = { report };
    return report;
  }

  const { active, reason, attempts } = await select(name, probe, log);
  const report: BackendReport = {
    requested: name,
    active,
    reason,
    attempts,
    reused: false,
    initMs: performance.now() - started,
    description: describeBackend(active),
  };
  if (cacheable) {
    reportsByRequest.set(name, report);
    current = { report };
  }
  log(`[backend] active: ${active} — ${reason}`);
  return report;
}

/** What is running now, for logs and benchmark headers. Cheap and synchronous. */
export function describeBackend(name?: ConcreteBackendName): BackendDescription {
  const engine = tf.engine();
  const tfBackend = engine.backendName != null && engine.registry[engine.backendName] != null ? engine.backendName : null;
  const remembered = name ?? current?.report.active;
  // Trust our name only while TF.js still runs that backend (someone may have called tf.setBackend directly).
  const ours =
    remembered !== undefined && tfBackendNameOf(remembered) === tfBackend
      ? remembered
      : tfBackend !== null && isBackendName(tfBackend) && tfBackend !== 'auto'
        ? tfBackend
        : null;
  const description: BackendDescription = {
    name: ours,
    tfBackend,
    tfjsVersion: tf.version.tfjs,
    prodMode: tf.env().getBool('PROD'),
    kernelPatches: tfBackend === 'wasm' ? activeWasmPatches() : tfBackend === 'webgpu' ? activeWebGpuPatches() : [],
  };
  if (tfBackend === 'wasm') description.wasm = describeWasm();
  if (tfBackend === 'webgpu') {
    const webgpu = describeWebGpu();
    if (webgpu !== undefined) description.webgpu = webgpu;
  }
  return description;
}

let fusedEnabled = process.env.DORA_FUSED_OPS !== '0';

/** Turns the fused kernels off (tests and benchmarks compare against the separate ops). Returns the previous value. */
export function setFusedOps(on: boolean): boolean {
  const previous = fusedEnabled;
  fusedEnabled = on;
  return previous;
}

/** Whether the next op runs fused: enabled, and the active backend has the kernels (wasm: SIMD module loaded). */
export function fusedOpsActive(): boolean {
  return fusedEnabled && fusedKernelsUsable();
}

/** Whether the active backend runs the fused kernels (fusedNames.ts): wasm with the SIMD module loaded, or webgpu. */
export function fusedKernelsUsable(): boolean {
  const name = tf.getBackend();
  if (name == null || tf.getKernel(DORA_LINEAR, name) === undefined) return false;
  if (name === 'wasm') return process.env.DORA_SIMD_KERNELS !== '0' && !(simdFor(tf.backend()) instanceof Error);
  return true;
}
