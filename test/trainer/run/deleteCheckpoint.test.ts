import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CheckpointSidecar } from '../../../src/core/runRecords';
import { deleteCheckpoint } from '../../../src/trainer/run/checkpoint';

test('deleting (pruning) a checkpoint also removes its evaluation results and attention maps, and nothing else', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dora-delete-checkpoint-'));
  for (const name of [
    'step-000010.json',
    'step-000010.safetensors',
    'step-000010.optim.safetensors',
    'step-000010.eval.json',
    'step-000020.json',
    'step-000020.eval.json',
  ])
    writeFileSync(join(dir, name), '{}');
  mkdirSync(join(dir, 'step-000010.attention'));
  writeFileSync(join(dir, 'step-000010.attention', 'manifest.json'), '{}');
  await deleteCheckpoint(join(dir, 'step-000010.json'), {
    weightsFile: 'step-000010.safetensors',
    optimizerFile: 'step-000010.optim.safetensors',
  } as CheckpointSidecar);
  assert.deepEqual(readdirSync(dir).sort(), ['step-000020.eval.json', 'step-000020.json']);
  assert.ok(!existsSync(join(dir, 'step-000010.attention')));
});
