/**
 * Why a training run failed, in words the user can act on (the message and the fix of the `failed` event). Every fix
 * names a command that works (fixAdvice.ts): a resume reads the run's own config.json, so changes are `--set`s.
 */
import * as tf from '@tensorflow/tfjs';
import type { DoraConfig } from '../../core/config';
import { formatNumber } from '../../core/configProblem';
import { listCheckpoints } from '../../core/node/runDir';
import { NonFiniteLossError } from '../dora/trainStep';
import { diskCause, diskFix, divergenceAdvice, lowerLrSettings } from './fixAdvice';
import { TrainingError } from './runConfig';

const WASM_OUT_OF_MEMORY = new RegExp(
  [
    'memory access out of bounds',
    'Aborted\\(\\)',
    'Out of memory',
    'Cannot enlarge memory',
    'RangeError: (WebAssembly\\.Memory|Array buffer allocation)',
    'RuntimeError: (remainder by zero|divide by zero|unreachable)',
  ].join('|'),
  'i',
);

/**
 * Recognises the wasm heap running out (4 GiB cap). Emscripten reports it in several ways: an abort, "memory access out
 * of bounds", or — when a kernel's allocation silently fails — a trap such as "remainder by zero" inside a kernel.
 */
export function isWasmOutOfMemory(error: unknown, backend: string): boolean {
  if (backend !== 'wasm') return false;
  const text = `${(error as Error)?.name ?? ''}: ${(error as Error)?.message ?? error}`;
  return WASM_OUT_OF_MEMORY.test(text);
}

/** Bytes of the wasm backend's heap now (0 elsewhere): part of the out-of-memory message. */
function wasmHeapBytes(): number {
  const backend = tf.engine().backendNames().includes('wasm')
    ? (tf.engine().findBackend('wasm') as unknown as { wasm?: { HEAPU8?: Uint8Array } })
    : undefined;
  return backend?.wasm?.HEAPU8?.buffer.byteLength ?? 0;
}

/** Where a run stood when it failed. */
export interface FailureContext {
  config: DoraConfig;
  runDir: string;
  /** The backend in use ('' before one was chosen). */
  backend: string;
  /** The last completed step. */
  lastStep: number;
  /** The step of the newest complete checkpoint (-1: none). */
  lastCheckpointStep: number;
}

/** The message and fix for an error that ended a run. */
export async function describeFailure(error: unknown, c: FailureContext): Promise<{ message: string; fix?: string }> {
  const e = error as Error;
  const { config, runDir } = c;
  if (error instanceof NonFiniteLossError) {
    // The fix resumes from a checkpoint before the divergence with a tenfold lower lr: `--set`, as a resume reads config.json.
    const checkpoints = await listCheckpoints(runDir).catch(() => []);
    const advice = divergenceAdvice(runDir, checkpoints, c.lastStep, lowerLrSettings(config));
    return {
      message: e.message,
      fix:
        `Lower training.lr (now ${formatNumber(config.training.lr)}), keep training.clipGrad at 3, or try dora.sinkhorn.variant ` +
        `"log-domain"; then ${advice}.`,
    };
  }
  const cause = error instanceof TrainingError ? undefined : diskCause(error);
  if (cause) {
    const path = (error as { path?: unknown }).path;
    const where = typeof path === 'string' ? path : `a file in ${runDir}`;
    return { message: `could not write ${where}: ${cause} (${e.message})`, fix: diskFix(runDir, c.lastCheckpointStep, error) };
  }
  if (isWasmOutOfMemory(error, c.backend)) {
    const { batchClips } = config.training;
    const heap = (wasmHeapBytes() / 2 ** 30).toFixed(2);
    return {
      message:
        `the wasm backend ran out of memory (heap ${heap} GiB; its cap is 4 GiB) during a step of ${batchClips} clips × ` +
        `${config.data.framesPerClip} frames at ${config.data.globalSize} px (${e.message})`,
      fix:
        `Set training.microBatch to a smaller number of clips (e.g. ${Math.max(1, Math.floor(batchClips / 4))}), ` +
        'lower data.globalSize or data.localCrops, or use a GPU backend.',
    };
  }
  return { message: e.message, fix: (error as { fix?: string }).fix };
}
