// Memory budgets on the wasm backend, in their own process: DORA_MEMORY_BUDGET_MB is read when the backend starts.
// - training.microBatch "auto" under a lowered budget plans fewer clips per pass, records the plan (trainer.log,
//   run.json, metrics) and trains;
// - a fixed micro-batch that does not fit fails the run with one message and a fix, not a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonl, tinyConfig, tinySyntheticVideo, writeConfig } from '../helpers';
import { runTraining } from '../../../src/trainer/run/train';
import type { TrainerMessage } from '../../../src/core/messages';

// One clip per pass needs ≈ 11 MiB of tensors with this config, four clips ≈ 26 MiB (measured with dora bench).
process.env.DORA_MEMORY_BUDGET_MB = '18';

const work = mkdtempSync(join(tmpdir(), 'dora-budget-'));
const cacheRoot = join(work, 'frame-cache');

function config(video: string, training: Record<string, unknown>): Record<string, unknown> {
  return tinyConfig(video, {
    model: { embedDim: 48 },
    data: { precropSize: 64, globalSize: 64, localSize: 32, frameCache: { shortSide: 96 } },
    training: { batchClips: 4, ...training },
    runtime: { backend: 'wasm', checkpointEvery: 1 },
  });
}

test(
  'microBatch "auto" under a lowered memory budget trains with fewer clips per pass and records the plan',
  { timeout: 300_000 },
  async () => {
    const video = await tinySyntheticVideo(join(work, 'media'));
    const file = writeConfig(join(work, 'auto'), 'auto', config(video, { microBatch: 'auto' }));
    const messages: TrainerMessage[] = [];
    const result = await runTraining({ configPath: file, cacheRoot, maxSteps: 2, emit: (m) => messages.push(m) });
    assert.equal(result.reason, 'stopped', result.message);
    const info = JSON.parse(readFileSync(join(result.runDir, 'run.json'), 'utf8'));
    assert.equal(info.microBatch.auto, true);
    assert.ok(info.microBatch.clips >= 1 && info.microBatch.clips < 4, `planned ${info.microBatch.clips} clips per pass`);
    assert.match(info.microBatch.reason, /^auto: \d of 4 clips per pass .*budget 18 MiB: DORA_MEMORY_BUDGET_MB/);
    const metrics = readJsonl(join(result.runDir, 'metrics.jsonl'));
    assert.equal(metrics.length, 2);
    for (const m of metrics)
      assert.ok((m.microBatch as number) >= 1 && (m.microBatch as number) < 4, `step ${m.step}: ${m.microBatch} clips`);
    assert.match(readFileSync(join(result.runDir, 'trainer.log'), 'utf8'), /micro-batch: auto: \d of 4 clips per pass/);
  },
);

test('a fixed micro-batch that does not fit the budget fails the run with one message and a fix', { timeout: 300_000 }, async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const file = writeConfig(join(work, 'fixed'), 'fixed', config(video, { microBatch: 4 }));
  const messages: TrainerMessage[] = [];
  const result = await runTraining({ configPath: file, cacheRoot, maxSteps: 2, emit: (m) => messages.push(m) });
  assert.equal(result.reason, 'failed');
  const errors = messages.filter((m) => m.type === 'error');
  assert.equal(errors.length, 1, 'exactly one error message');
  const error = errors[0];
  assert.ok(error.type === 'error');
  assert.match(
    error.message,
    /^out of wasm memory with 4 clip\(s\) per pass \(4 clips × 2 frames, 64 px\): wasm out of memory: over DORA_MEMORY_BUDGET_MB/,
  );
  assert.match(error.fix ?? '', /^Use training\.microBatch "auto"/);
  assert.match(error.fix ?? '', /--set training\.microBatch=auto/, 'a fix that also works on resume (config.json is what a resume reads)');
  const events = readJsonl(join(result.runDir, 'events.jsonl'));
  assert.equal(events.at(-1)?.type, 'failed');
});
