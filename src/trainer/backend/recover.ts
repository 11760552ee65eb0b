// After an out-of-memory error: let the GPU finish what was submitted (so every error it will report has arrived),
// forget those errors (they describe the abandoned attempt), and release cached memory.
import * as tf from '@tensorflow/tfjs';
import { trimMemory } from './memory';
import { takeGpuErrors } from './webgpu';
import { backendInternals } from './webgpuDispatch';

export async function recoverFromOutOfMemory(): Promise<string[]> {
  let errors: string[] = [];
  if (tf.getBackend() === 'webgpu') {
    const b = backendInternals(tf.backend());
    if (b.commandEncoder) {
      b.endComputePassEncoder();
      b.submitQueue();
    }
    await b.device.queue.onSubmittedWorkDone();
    errors = takeGpuErrors();
  }
  trimMemory();
  return errors;
}
