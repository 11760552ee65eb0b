/**
 * Counts TF.js kernel launches (and their wall time) while a function runs, by wrapping the engine's runKernel, the
 * one door every op goes through. tf.profile records the same calls but overflows the call stack past ~100 000
 * kernels (a spread in its peak-bytes bookkeeping), which a paper step at microBatch 1 exceeds.
 * - launches: calls that run a compute kernel; views (Reshape, Identity: a new shape or a shared buffer) are counted
 *   separately, as `views`.
 * - wall time per kernel: compute time on wasm and cpu (synchronous); on webgpu only the time to record the dispatch.
 */
import * as tf from '@tensorflow/tfjs';
import { VIEW_KERNELS } from '../backend';

export interface KernelStat {
  kernel: string;
  calls: number;
  ms: number;
}

export interface KernelCount {
  launches: number;
  views: number;
  byKernel: KernelStat[];
}

interface EngineWithRunKernel {
  runKernel(kernelName: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap): tf.Tensor | tf.Tensor[];
}

/** `onKernel` runs after every top-level kernel (e.g. a memory sampler). */
export async function countKernels(fn: () => Promise<unknown>, onKernel?: () => void): Promise<KernelCount> {
  const engine = tf.engine() as unknown as EngineWithRunKernel;
  const original = engine.runKernel;
  const stats = new Map<string, KernelStat>();
  let depth = 0;
  engine.runKernel = function (this: unknown, kernelName, inputs, attrs) {
    if (depth > 0) return original.call(this, kernelName, inputs, attrs);
    depth++;
    const t0 = performance.now();
    try {
      return original.call(this, kernelName, inputs, attrs);
    } finally {
      depth--;
      const s = stats.get(kernelName) ?? { kernel: kernelName, calls: 0, ms: 0 };
      s.calls++;
      s.ms += performance.now() - t0;
      stats.set(kernelName, s);
      onKernel?.();
    }
  };
  try {
    await fn();
  } finally {
    engine.runKernel = original;
  }
  const byKernel = [...stats.values()].sort((a, b) => b.ms - a.ms);
  let launches = 0;
  let views = 0;
  for (const s of byKernel) {
    if (VIEW_KERNELS.has(s.kernel)) views += s.calls;
    else launches += s.calls;
  }
  return { launches, views, byKernel };
}
