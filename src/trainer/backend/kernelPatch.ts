// Replacing a backend's kernel while keeping the original callable, so a patch can delegate to it and be undone.
import * as tf from '@tensorflow/tfjs';

interface InstalledPatch {
  original: tf.KernelConfig;
}

const installed = new Map<string, InstalledPatch>();

function key(kernelName: string, backendName: string): string {
  return `${backendName}/${kernelName}`;
}

/**
 * Re-registers `kernelName` for `backendName` with `makeKernel(original)`. The original's setupFunc and disposeFunc
 * are kept: the stock kernels initialise their wasm bindings in setupFunc, which runs when the backend initialises,
 * possibly after this call. Installing twice is a no-op.
 */
export function patchKernel(kernelName: string, backendName: string, makeKernel: (original: tf.KernelFunc) => tf.KernelFunc): void {
  if (installed.has(key(kernelName, backendName))) return;
  const original = tf.getKernel(kernelName, backendName);
  if (original === undefined) {
    throw new Error(`cannot patch kernel '${kernelName}': it is not registered for backend '${backendName}'`);
  }
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...original, kernelFunc: makeKernel(original.kernelFunc) });
  installed.set(key(kernelName, backendName), { original });
}

/** Puts back the stock kernel (used by tests and benchmarks that compare against stock). */
export function unpatchKernel(kernelName: string, backendName: string): void {
  const patch = installed.get(key(kernelName, backendName));
  if (patch === undefined) return;
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel(patch.original);
  installed.delete(key(kernelName, backendName));
}

export function patchedKernels(backendName: string): string[] {
  const prefix = `${backendName}/`;
  return [...installed.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
}
