// Delete Checkpoint and the resume step cap, on real checkpoint files (no VS Code).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { listCheckpoints } from '../../../src/core/node/runDir';
import { attentionDirOf, checkpointPaths, evalSidecarPath } from '../../../src/core/node/runPaths';
import { checkpointBytes, deleteCheckpointFiles } from '../../../src/host/runs/checkpointFiles';
import { stepCap } from '../../../src/host/runs/stepCap';

function fakeCheckpoint(runDir: string, step: number): void {
  const files = checkpointPaths(runDir, step);
  mkdirSync(path.dirname(files.sidecar), { recursive: true });
  writeFileSync(files.weights, Buffer.alloc(1000));
  writeFileSync(files.optimizer, Buffer.alloc(2000));
  const sidecar = {
    formatVersion: 1,
    step,
    epoch: 0,
    time: '2025-01-01T00:00:00Z',
    weightsFile: path.basename(files.weights),
    weightsSha256: '',
    optimizerFile: path.basename(files.optimizer),
    optimizerSha256: '',
    centerTensor: 'center',
    rng: { algorithm: 'a', state: 1 },
    schedule: { iteration: step, itersPerEpoch: 10, totalIters: 10 },
    configSha256: '',
  };
  writeFileSync(files.sidecar, JSON.stringify(sidecar));
}

test('deleting a checkpoint removes its files and its stored evaluations, and nothing else', async () => {
  const runDir = mkdtempSync(path.join(tmpdir(), 'dora-ckpt-'));
  fakeCheckpoint(runDir, 3);
  fakeCheckpoint(runDir, 6);
  const [entry] = await listCheckpoints(runDir);
  writeFileSync(evalSidecarPath(entry.sidecarFile), '{}');
  mkdirSync(attentionDirOf(entry.sidecarFile));
  writeFileSync(path.join(attentionDirOf(entry.sidecarFile), 'manifest.json'), '{}');
  assert.equal(await checkpointBytes(entry), 3000);
  await deleteCheckpointFiles(entry);
  for (const file of [
    entry.sidecarFile,
    entry.weightsFile,
    entry.optimizerFile,
    evalSidecarPath(entry.sidecarFile),
    attentionDirOf(entry.sidecarFile),
  ])
    assert.ok(!existsSync(file), file);
  assert.deepEqual(
    (await listCheckpoints(runDir)).map((c) => c.step),
    [6],
  );
});

test('a step cap counts steps per launch: a resumed run goes that many steps past its checkpoint', async () => {
  const runDir = mkdtempSync(path.join(tmpdir(), 'dora-cap-'));
  fakeCheckpoint(runDir, 6);
  assert.equal(await stepCap(undefined, checkpointPaths(runDir, 6).sidecar), undefined);
  assert.equal(await stepCap(4, undefined), 4);
  assert.equal(await stepCap(4, checkpointPaths(runDir, 6).sidecar), 10);
  assert.equal(await stepCap(4, checkpointPaths(runDir, 9).sidecar), 4, 'an unknown checkpoint counts from 0');
});
