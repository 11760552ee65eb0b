// Attack 1 of issue 9: a checkpoint sidecar whose weightsFile / optimizerFile lead outside the run folder. Checkpoint
// pruning on `train --resume latest` and Delete Checkpoint used to delete whatever they named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainerMessage } from '../../src/core/messages';
import { listCheckpoints } from '../../src/core/node/runDir';
import type { CheckpointSidecar } from '../../src/core/runRecords';
import { UnsafeRunPathError } from '../../src/core/node/runPathSafety';
import { deleteCheckpoint } from '../../src/trainer/run/checkpoint';
import { runTraining } from '../../src/trainer/run/train';
import { tinyConfig, tinySyntheticVideo, writeConfig } from '../trainer/helpers';

const work = mkdtempSync(join(tmpdir(), 'dora-sec-sidecar-'));
const cacheRoot = join(work, 'frame-cache');

async function runWithCheckpoints(name: string): Promise<string> {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, name), 'tiny', tinyConfig(video, { runtime: { checkpointEvery: 1, keepCheckpoints: 2 } }));
  const run = await runTraining({ configPath: config, cacheRoot, maxSteps: 3 });
  assert.equal(run.reason, 'stopped');
  return run.runDir;
}

/** Writes checkpoints/step-000001.json, a valid sidecar except for the file names it gives. */
function craftSidecar(runDir: string, names: Pick<CheckpointSidecar, 'weightsFile' | 'optimizerFile'>): string {
  const genuine = JSON.parse(readFileSync(join(runDir, 'checkpoints', 'step-000003.json'), 'utf8')) as CheckpointSidecar;
  const file = join(runDir, 'checkpoints', 'step-000001.json');
  writeFileSync(file, JSON.stringify({ ...genuine, step: 1, ...names }));
  return file;
}

test('pruning on `train --resume latest` deletes nothing a crafted sidecar names outside the run folder', async () => {
  const runDir = await runWithCheckpoints('prune');
  const victim = join(runDir, '..', 'victim.txt'); // checkpoints/../../victim.txt
  const victim2 = join(work, 'victim2.txt');
  writeFileSync(victim, 'precious');
  writeFileSync(victim2, 'precious too');
  const crafted = craftSidecar(runDir, { weightsFile: '../../victim.txt', optimizerFile: victim2 });

  const messages: TrainerMessage[] = [];
  const resumed = await runTraining({ runDir, resume: 'latest', cacheRoot, maxSteps: 5, emit: (m) => messages.push(m) });
  assert.equal(resumed.reason, 'stopped');
  assert.equal(readFileSync(victim, 'utf8'), 'precious', 'the pruning of the oldest checkpoint deleted a file outside the run');
  assert.equal(readFileSync(victim2, 'utf8'), 'precious too');
  assert.ok(existsSync(crafted), 'the crafted sidecar is left alone (never used, never deleted through)');
  const warning = messages.find((m) => m.type === 'warning' && m.message.includes('step-000001.json'));
  assert.ok(warning && warning.type === 'warning');
  assert.match(warning.message, /step-000001\.json: weightsFile "\.\.\/\.\.\/victim\.txt" is not a plain file name/);
});

test('Delete Checkpoint (deleteCheckpoint) and the checkpoint list refuse the crafted names, naming the file and the field', async () => {
  const runDir = await runWithCheckpoints('delete');
  const victim = join(runDir, '..', 'victim.txt');
  writeFileSync(victim, 'precious');
  const crafted = craftSidecar(runDir, { weightsFile: 'step-000001.safetensors', optimizerFile: '../../victim.txt' });
  const refused: UnsafeRunPathError[] = [];
  const list = await listCheckpoints(runDir, (e) => refused.push(e));
  assert.deepEqual(
    list.map((c) => c.step),
    [2, 3],
  );
  assert.equal(refused.length, 1);
  assert.equal(refused[0].source.file, crafted);
  assert.equal(refused[0].source.field, 'optimizerFile');
  await assert.rejects(deleteCheckpoint(crafted, JSON.parse(readFileSync(crafted, 'utf8'))), UnsafeRunPathError);
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  assert.ok(existsSync(crafted), 'nothing was deleted, not even the sidecar');
});

test('a checkpoint file that is a symbolic link to elsewhere is refused for resume, listing and deletion', async () => {
  const runDir = await runWithCheckpoints('symlink');
  const victim = join(work, 'secret.bin');
  writeFileSync(victim, 'not weights');
  const crafted = craftSidecar(runDir, { weightsFile: 'step-000001.safetensors', optimizerFile: 'step-000003.optim.safetensors' });
  symlinkSync(victim, join(runDir, 'checkpoints', 'step-000001.safetensors'));
  assert.deepEqual(
    (await listCheckpoints(runDir)).map((c) => c.step),
    [2, 3],
  );
  const result = await runTraining({ resume: crafted, cacheRoot, maxSteps: 2 });
  assert.equal(result.reason, 'failed');
  assert.match(
    result.message ?? '',
    /step-000001\.json: weightsFile "step-000001\.safetensors" resolves \(through a symbolic link\) to .*secret\.bin/,
  );
  assert.equal(readFileSync(victim, 'utf8'), 'not weights');
});
