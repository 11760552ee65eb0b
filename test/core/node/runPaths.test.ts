// Every run-folder name and path comes from src/core/node/runPaths.ts; these are the ones the host and the engines
// derive from a checkpoint sidecar.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  attentionDirOf,
  checkpointPaths,
  evalSidecarPath,
  isCheckpointSidecarName,
  runDirOfCheckpoint,
  runDirOfRunFile,
  sidecarOfCheckpointFile,
  stepOfCheckpoint,
} from '../../../src/core/node/runPaths';

const run = path.join('/w', 'runs', '20250101-120000-demo');
const sidecar = checkpointPaths(run, 120).sidecar;

test('a checkpoint sidecar names its run, its step and the files beside it', () => {
  assert.equal(sidecar, path.join(run, 'checkpoints', 'step-000120.json'));
  assert.equal(runDirOfCheckpoint(sidecar), run);
  assert.equal(stepOfCheckpoint(sidecar), 120);
  assert.equal(stepOfCheckpoint(path.join(run, 'checkpoints', 'step-1234567.json')), 1234567, 'more than six digits');
  assert.equal(stepOfCheckpoint(evalSidecarPath(sidecar)), undefined, 'an eval sidecar is not a checkpoint');
  assert.equal(evalSidecarPath(sidecar), path.join(run, 'checkpoints', 'step-000120.eval.json'));
  assert.equal(attentionDirOf(sidecar), path.join(run, 'checkpoints', 'step-000120.attention'));
  assert.throws(() => evalSidecarPath(path.join(run, 'checkpoints', 'step-000120.safetensors')), /not a checkpoint sidecar/);
});

test('weights and optimizer files lead back to their sidecar; other names are not checkpoints', () => {
  const { weights, optimizer } = checkpointPaths(run, 7);
  assert.equal(sidecarOfCheckpointFile(weights), checkpointPaths(run, 7).sidecar);
  assert.equal(sidecarOfCheckpointFile(optimizer), checkpointPaths(run, 7).sidecar);
  assert.equal(sidecarOfCheckpointFile(path.join(run, 'model.safetensors')), undefined);
  assert.ok(isCheckpointSidecarName('step-000007.json'));
  for (const name of ['step-000007.eval.json', 'step-x.json', 'step-000007.json.tmp', '.step-000007.json.1.tmp'])
    assert.ok(!isCheckpointSidecarName(name), name);
});

test('a file inside a run folder names the run; other paths do not', () => {
  assert.equal(runDirOfRunFile(path.join(run, 'run.json')), run);
  assert.equal(runDirOfRunFile(path.join(run, 'metrics.jsonl')), run);
  assert.equal(runDirOfRunFile(sidecar), run);
  assert.equal(runDirOfRunFile(run), undefined);
  assert.equal(runDirOfRunFile(path.join(run, 'notes.txt')), undefined);
});
