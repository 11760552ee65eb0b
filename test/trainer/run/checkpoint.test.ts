// Checkpoints: a round trip restores every tensor exactly; a full disk in the middle of a write leaves no
// checkpoint that looks complete and keeps the previous one intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { open as fsOpen, rename, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/trainer/backend';
import { createDoraState, disposeDoraState, type DoraModelConfig } from '../../../src/trainer/dora/model';
import { loadCheckpoint, saveCheckpoint } from '../../../src/trainer/run/checkpoint';
import { listCheckpoints, verifyCheckpoint } from '../../../src/core/node/runDir';
import type { AtomicWriteFs } from '../../../src/core/node/atomicWrite';

const cfg: DoraModelConfig = {
  vit: { embedDim: 24, depth: 1, numHeads: 3, patchSize: 8, imgSize: 16, mlpRatio: 4, lnEps: 1e-6, qkvBias: true },
  head: { outDim: 32, hiddenDim: 16, bottleneckDim: 8, nlayers: 3, normLastLayer: false },
};
const meta = (step: number) => ({
  step,
  epoch: 0,
  configSha256: 'x',
  rng: { algorithm: 'test', state: null },
  schedule: { iteration: step, itersPerEpoch: 10, totalIters: 10 },
});

test('save → load restores student, teacher, centre and AdamW state exactly', async () => {
  await initBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'dora-ckpt-'));
  let seed = 1;
  const a = createDoraState(cfg, () => (seed = (seed * 16807) % 2147483647) / 2147483647);
  a.center.assign(tf.fill([1, 32], 0.25));
  a.optimizer.expAvg.set('head.mlp.0.bias', tf.variable(tf.fill([16], 0.5)));
  a.optimizer.expAvgSq.set('head.mlp.0.bias', tf.variable(tf.fill([16], 0.125)));
  a.optimizer.step.set('head.mlp.0.bias', 7);
  const sidecar = await saveCheckpoint(dir, a, meta(3));
  const b = createDoraState(cfg, () => 0.5);
  const loaded = await loadCheckpoint(sidecar, b);
  assert.equal(loaded.step, 3);
  for (const [name, v] of a.student) assert.deepEqual(b.student.get(name)!.dataSync(), v.dataSync(), name);
  for (const [name, v] of a.teacher) assert.deepEqual(b.teacher.get(name)!.dataSync(), v.dataSync(), name);
  assert.deepEqual(b.center.dataSync(), a.center.dataSync());
  assert.equal(b.optimizer.step.get('head.mlp.0.bias'), 7);
  assert.deepEqual([...b.optimizer.expAvgSq.get('head.mlp.0.bias')!.dataSync()], new Array(16).fill(0.125));
  const [entry] = await listCheckpoints(dir);
  assert.deepEqual(await verifyCheckpoint(entry), []);
  disposeDoraState(a);
  disposeDoraState(b);
});

test('a full disk while checkpointing leaves no partial checkpoint and keeps the previous one', async () => {
  await initBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'dora-ckpt-'));
  const state = createDoraState(cfg, () => 0.3);
  await saveCheckpoint(dir, state, meta(5));
  let writes = 0;
  const fullDisk: AtomicWriteFs = {
    // the second file of the checkpoint (the optimiser state) hits ENOSPC
    async open(file, flags, mode) {
      const handle = await fsOpen(file, flags, mode);
      const index = ++writes;
      return {
        write: async (buffer, offset, length, position) => {
          if (index === 2) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          return handle.write(buffer, offset, length, position);
        },
        sync: () => handle.sync(),
        close: () => handle.close(),
      };
    },
    rename,
    unlink,
  };
  await assert.rejects(saveCheckpoint(dir, state, meta(6), { fs: fullDisk }), /ENOSPC/);
  const entries = await listCheckpoints(dir);
  assert.deepEqual(
    entries.map((e) => e.step),
    [5],
  );
  assert.deepEqual(await verifyCheckpoint(entries[0]), []);
  assert.ok(!readdirSync(join(dir, 'checkpoints')).some((f) => f.endsWith('.tmp')), 'a temp file was left behind');
  assert.deepEqual(
    readdirSync(join(dir, 'checkpoints')).filter((f) => f.startsWith('step-000006')),
    [],
    'the failed checkpoint left files',
  );
  disposeDoraState(state);
});
