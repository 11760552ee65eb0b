// initBackend against the real environment of this machine: wasm/cpu, idempotency, real tfjs-node skip reasons.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { AUTO_ORDER, BackendInitError, DEFAULT_BACKEND, describeBackend, initBackend } from '../../../src/trainer/backend';
import { runtimeRequire } from '../../../src/trainer/backend/optionalModule';

function isInstalled(moduleId: string): boolean {
  try {
    runtimeRequire.resolve(moduleId);
    return true;
  } catch {
    return false;
  }
}

test('the default backend is wasm, with SIMD, prod mode and the kernel patches', async () => {
  assert.equal(DEFAULT_BACKEND, 'wasm');
  const lines: string[] = [];
  const report = await initBackend(DEFAULT_BACKEND, { log: (line) => lines.push(line) });
  assert.equal(report.active, 'wasm');
  assert.equal(report.reused, false);
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(report.reason, /^requested explicitly \(XNNPACK via tfjs-backend-wasm-simd\.wasm/);
  const description = describeBackend();
  assert.equal(description.name, 'wasm');
  assert.equal(description.prodMode, true);
  assert.deepEqual(description.wasm, { simd: true, threads: false, threadsCount: 1, binary: 'tfjs-backend-wasm-simd.wasm' });
  assert.ok(
    lines.some((line) => line.includes('active: wasm')),
    'the log callback receives the decision',
  );
  assert.equal((await tf.add(tf.scalar(2), tf.scalar(3)).data())[0], 5);
});

test('the Emscripten runtime leaves no rethrowing process handlers behind', async () => {
  await initBackend('wasm');
  const sources = [...process.listeners('uncaughtException'), ...process.listeners('unhandledRejection')].map(String);
  assert.ok(!sources.some((source) => source.includes('ExitStatus') || source.includes('throw reason')), sources.join('\n'));
});

test('initBackend is idempotent and cheap for the same name, and re-activates after a switch', async () => {
  const first = await initBackend('wasm');
  const again = await initBackend('wasm');
  assert.equal(again.reused, true);
  assert.equal(again.active, 'wasm');
  assert.deepEqual(again.attempts, first.attempts);
  assert.ok(again.initMs < 50, `re-init took ${again.initMs} ms`);

  const cpu = await initBackend('cpu');
  assert.equal(cpu.active, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(describeBackend().name, 'cpu');
  assert.equal(describeBackend().wasm, undefined);

  const back = await initBackend('wasm');
  assert.equal(back.reused, true);
  assert.equal(tf.getBackend(), 'wasm');
});

test('overlapping calls are serialised: the last one wins', async () => {
  const [cpu, wasm] = await Promise.all([initBackend('cpu'), initBackend('wasm')]);
  assert.equal(cpu.active, 'cpu');
  assert.equal(wasm.active, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
});

test('the debug option keeps TF.js out of prod mode', async () => {
  await initBackend('cpu', { debug: true });
  assert.equal(describeBackend().prodMode, false);
  await initBackend('wasm');
  assert.equal(describeBackend().prodMode, true);
});

for (const [name, moduleId] of [
  ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu'],
  ['tensorflow', '@tensorflow/tfjs-node'],
] as const) {
  test(`'${name}' reports exactly why ${moduleId} cannot be used (or works when installed)`, async () => {
    if (isInstalled(moduleId)) {
      const report = await initBackend(name);
      assert.equal(tf.getBackend(), 'tensorflow');
      assert.equal(report.active, name);
      return;
    }
    await assert.rejects(initBackend(name), (error: unknown) => {
      assert.ok(error instanceof BackendInitError);
      assert.equal(error.attempts[0].outcome, 'skipped');
      assert.match(error.attempts[0].reason, new RegExp(`Cannot find module '${moduleId.replace('/', '\\/')}'`));
      return true;
    });
    // The failed request must not leave TF.js without a working backend.
    assert.equal((await tf.scalar(4).square().data())[0], 16);
  });
}

test("'auto' on this machine picks a backend and explains each faster one it passed over", async () => {
  const report = await initBackend('auto');
  assert.ok(AUTO_ORDER.includes(report.active));
  const activeIndex = report.attempts.findIndex((a) => a.outcome === 'active');
  assert.equal(activeIndex, report.attempts.length - 1, 'the active backend is the last attempt');
  for (const attempt of report.attempts.slice(0, -1)) {
    assert.notEqual(attempt.reason.trim(), '', `${attempt.backend} has a reason`);
    assert.ok(report.reason.includes(attempt.reason));
  }
  if (!isInstalled('@tensorflow/tfjs-node-gpu') && !isInstalled('@tensorflow/tfjs-node')) {
    // Without tfjs-node, only a hardware GPU adapter can beat wasm.
    const webgpu = report.attempts.find((a) => a.backend === 'webgpu')!;
    assert.equal(report.active, webgpu.outcome === 'active' ? 'webgpu' : 'wasm');
  }
  assert.equal((await initBackend('auto')).reused, true);
});
