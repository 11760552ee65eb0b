/** Why a training run failed, in words the user can act on (the message and the fix of the `failed` event). */
import * as tf from '@tensorflow/tfjs';
import type { DoraConfig } from '../../core/config';
import { NonFiniteLossError } from '../dora/trainStep';

/**
 * Recognises the wasm heap running out (4 GiB cap). Emscripten reports it in several ways: an abort, "memory access out
 * of bounds", or — when a kernel's allocation silently fails — a trap such as "remainder by zero" inside a kernel.
 */
export function isWasmOutOfMemory(error: unknown, backend: string): boolean {
  if (backend !== 'wasm') return false;
  const text = `${(error as Error)?.name ?? ''}: ${(error as Error)?.message ?? error}`;
  return /memory access out of bounds|Aborted\(\)|Out of memory|Cannot enlarge memory|RangeError: (WebAssembly\.Memory|Array buffer allocation)|RuntimeError: (remainder by zero|divide by zero|unreachable)/i.test(
    text,
  );
}

/** Bytes of the wasm backend's heap now (0 elsewhere): part of the out-of-memory message. */
function wasmHeapBytes(): number {
  const backend = tf.engine().backendNames().includes('wasm')
    ? (tf.engine().findBackend('wasm') as unknown as { wasm?: { HEAPU8?: Uint8Array } })
    : undefined;
  return backend?.wasm?.HEAPU8?.buffer.byteLength ?? 0;
}

/** The message and fix for an error that ended a run on `backend`. */
export function describeFailure(error: unknown, backend: string, config: DoraConfig): { message: string; fix?: string } {
  const e = error as Error;
  if (error instanceof NonFiniteLossError) {
    return {
      message: e.message,
      fix: 'Lower training.lr, keep training.clipGrad at 3, or try dora.sinkhorn.variant "log-domain"; the last good checkpoint is kept and can be resumed.',
    };
  }
  if (isWasmOutOfMemory(error, backend)) {
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
