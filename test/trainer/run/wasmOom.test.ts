// The wasm heap running out: in its own file (its own process), because a wasm trap leaves that backend unusable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyConfig, tinySyntheticVideo, writeConfig } from '../helpers';
import { runTraining } from '../../../src/trainer/run/train';
import type { TrainerMessage } from '../../../src/core/messages';

const work = mkdtempSync(join(tmpdir(), 'dora-oom-'));
const cacheRoot = join(work, 'frame-cache');

test('the wasm heap running out stops the run with a message that suggests a smaller micro-batch', { timeout: 300_000 }, async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  // 512 px crops with 8 px patches: 4097 tokens, so one attention map of the 12 student views needs > 2 GB.
  const config = writeConfig(
    join(work, 'oom'),
    'tiny',
    tinyConfig(video, { model: { depth: 1 }, data: { precropSize: 512, globalSize: 512 }, runtime: { backend: 'wasm' } }),
  );
  const messages: TrainerMessage[] = [];
  const result = await runTraining({ configPath: config, cacheRoot, emit: (m) => messages.push(m) });
  assert.equal(result.reason, 'failed');
  const error = messages.find((m) => m.type === 'error');
  assert.ok(error && error.type === 'error');
  assert.match(
    error.message,
    /^the wasm backend ran out of memory \(heap [\d.]+ GiB; its cap is 4 GiB\) during a step of 2 clips × 2 frames at 512 px/,
  );
  assert.match(error.fix ?? '', /^Set training\.microBatch to a smaller number of clips \(e\.g\. 1\)/);
});
