// Attack 3 of issue 9: two trainers on one run folder. Two `train --resume latest --run-dir R` at once used to both run
// (metrics.jsonl recorded every step twice, out of order); two fresh trains into one folder interleaved [1,1,2,2,…].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTraining } from '../../src/trainer/run/train';
import { CLI, readJsonl, tinyConfig, tinySyntheticVideo, writeConfig } from '../trainer/helpers';

const work = mkdtempSync(join(tmpdir(), 'dora-sec-concurrent-'));
const cacheRoot = join(work, 'frame-cache');

function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

function assertOneWinner(results: Array<{ code: number | null; out: string }>): void {
  const codes = results.map((r) => r.code).sort();
  assert.deepEqual(codes, [0, 1], results.map((r) => r.out).join('\n----\n'));
  const loser = results.find((r) => r.code === 1)!;
  assert.match(loser.out, /dora: run \S+ is being trained by pid \d+ on host \S+ since \d{4}-\d\d-\d\dT/);
  assert.match(loser.out, /fix: Wait for it to finish, or stop it/);
}

function assertEachStepOnce(runDir: string): void {
  const steps = readJsonl(join(runDir, 'metrics.jsonl')).map((r) => r.step as number);
  assert.deepEqual(
    steps,
    steps.map((_, i) => i + 1),
    `metrics.jsonl steps: ${steps.join(',')}`,
  );
}

test('two `train --resume latest --run-dir R` at once: one trains, the other is refused with the lock message', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'resume'), 'tiny', tinyConfig(video, { training: { epochs: 2 } }));
  const first = await runTraining({ configPath: config, cacheRoot, maxSteps: 3 });
  const args = ['train', '--resume', 'latest', '--run-dir', first.runDir, '--max-steps', '30', '--cache-dir', cacheRoot];
  assertOneWinner(await Promise.all([cli(args), cli(args)]));
  assertEachStepOnce(first.runDir);
  assert.equal(existsSync(join(first.runDir, 'run.lock')), false, 'the winner removed its lock');
  const events = readJsonl(join(first.runDir, 'events.jsonl')).map((e) => e.type);
  assert.equal(events.filter((t) => t === 'resumed').length, 1, events.join(','));
});

test('two fresh trains into one --run-dir at once: one trains, the other is refused', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'fresh'), 'tiny', tinyConfig(video, { training: { epochs: 2 } }));
  const runDir = join(work, 'fresh', 'runs', 'shared');
  const args = ['train', config, '--run-dir', runDir, '--max-steps', '30', '--cache-dir', cacheRoot];
  await runTraining({ configPath: config, cacheRoot, maxSteps: 1 }); // builds the frame cache first, so both start at once
  assertOneWinner(await Promise.all([cli(args), cli(args)]));
  assertEachStepOnce(runDir);
});
