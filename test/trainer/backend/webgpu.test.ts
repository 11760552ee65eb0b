// The webgpu backend on Dawn: the two silent-wrong-result work-arounds and the uncaptured-error guard.
// Needs a WebGPU adapter (a GPU, or lavapipe from Mesa >= 25). Without one the suite is skipped with the reason,
// unless DORA_REQUIRE_WEBGPU is set, in which case the missing adapter is a failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  assertNoGpuErrors,
  describeBackend,
  GpuValidationError,
  initBackend,
  installWebGpuKernelPatches,
  removeWebGpuKernelPatches,
  takeGpuErrors,
} from '../../../src/trainer/backend';
import { findWebGpuAdapter } from '../../../src/trainer/backend/webgpu';
import { assertClose, computeOn, seededTensor } from './helpers';

function gpuDevice(): GPUDevice {
  return (tf.backend() as unknown as { device: GPUDevice }).device;
}

test('webgpu backend', async (t) => {
  const lookup = await findWebGpuAdapter();
  if (lookup.adapter === null) {
    if (process.env.DORA_REQUIRE_WEBGPU) assert.fail(`DORA_REQUIRE_WEBGPU is set, but there is ${lookup.reason}`);
    t.skip(`skipped: ${lookup.reason}`);
    return;
  }
  const report = await initBackend('webgpu');
  t.diagnostic(`adapter: ${report.attempts[0].reason}`);

  await t.test('initialises with the work-arounds in place', () => {
    assert.equal(report.active, 'webgpu');
    assert.equal(tf.getBackend(), 'webgpu');
    const description = describeBackend();
    assert.ok(description.kernelPatches.includes('AddN'));
    assert.equal(description.webgpu?.isSoftware, lookup.adapter!.isSoftware);
    assert.equal(tf.env().getNumber('WEBGPU_THRESHOLD_TO_INCREASE_WORKGROUPS_FOR_MATMUL'), 1);
  });

  await t.test('addN with 8 and 37 inputs gives the right sum', async () => {
    const eight = Array.from({ length: 8 }, (_, i) => tf.fill([3], i + 1));
    const thirtySeven = Array.from({ length: 37 }, (_, i) => tf.scalar(i + 1));
    assert.deepEqual(Array.from(await tf.addN(eight).data()), [36, 36, 36]);
    assert.deepEqual(Array.from(await tf.addN(thirtySeven).data()), [703]);
    tf.dispose([...eight, ...thirtySeven]);
    assertNoGpuErrors();
  });

  await t.test('matMul with transposeB, batch 1, K=2048, M=2, N=384 equals cpu (split-K bug)', async () => {
    // Stock tfjs picks MatMulSplitKProgram here and returns garbage (relative error ≈1.4).
    const compute = () => [tf.matMul(seededTensor([1, 2, 2048], 81), seededTensor([1, 384, 2048], 82), false, true)];
    const expected = await computeOn('cpu', compute);
    const actual = await computeOn('webgpu', compute);
    assertClose(actual, expected, 1e-5, 'split-K matMul');
    assertNoGpuErrors();
  });

  await t.test('the guard catches a deliberate validation error', async () => {
    const device = gpuDevice();
    // MAP_READ may only be combined with COPY_DST, so this is a validation error.
    device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    await device.queue.onSubmittedWorkDone();
    assert.throws(
      () => assertNoGpuErrors(),
      (error: unknown) => {
        assert.ok(error instanceof GpuValidationError);
        assert.match(error.message, /MapRead/);
        return true;
      },
    );
    // Every download fails while an error is pending: nothing computed after it can be trusted.
    await assert.rejects(tf.scalar(1).data(), GpuValidationError);
    assert.ok(takeGpuErrors().length >= 1);
    assertNoGpuErrors();
    assert.deepEqual(Array.from(await tf.scalar(2).square().data()), [4]);
  });

  await t.test('the guard catches the stock AddN bug that the patch avoids', async () => {
    const nineTensors = () => Array.from({ length: 9 }, (_, i) => tf.fill([2], i + 1));
    const stockInputs = nineTensors();
    removeWebGpuKernelPatches();
    try {
      await assert.rejects(tf.addN(stockInputs).data(), /storage buffers/);
    } finally {
      installWebGpuKernelPatches();
      takeGpuErrors();
    }
    // Dawn dropped the whole command buffer, including the kernels that filled the inputs: those are garbage now.
    tf.dispose(stockInputs);
    const inputs = nineTensors();
    assert.deepEqual(Array.from(await tf.addN(inputs).data()), [45, 45]);
    tf.dispose(inputs);
    assertNoGpuErrors();
  });
});
