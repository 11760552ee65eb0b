// The SIMD module bound to a wasm backend instance, and the slice of BackendWasm the kernels use.
import * as tf from '@tensorflow/tfjs';
import { loadSimdModule, type SimdModule } from './simd';

/** The slice of tfjs-backend-wasm's BackendWasm these kernels use (dist/backend_wasm.d.ts). */
export interface WasmBackendLike {
  wasm: { asm: { memory: WebAssembly.Memory }; _malloc(bytes: number): number; _free(ptr: number): void };
  getMemoryOffset(dataId: tf.DataId): number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
  refCount(dataId: tf.DataId): number;
}

const modules = new WeakMap<object, SimdModule | Error>();

/** The SIMD module bound to this backend's heap, or the Error that says why there is none. */
export function simdFor(backend: unknown): SimdModule | Error {
  const b = backend as WasmBackendLike;
  let m = modules.get(b);
  if (m === undefined) {
    try {
      m = loadSimdModule(b.wasm.asm.memory, b.wasm);
    } catch (error) {
      m = error instanceof Error ? error : new Error(String(error));
    }
    modules.set(b, m);
  }
  return m;
}

export function requireSimd(backend: unknown): SimdModule {
  const m = simdFor(backend);
  if (m instanceof Error) throw m;
  return m;
}

export const size = (t: tf.TensorInfo) => tf.util.sizeFromShape(t.shape);
