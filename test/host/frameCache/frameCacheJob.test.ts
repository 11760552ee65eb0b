// Build Frame Cache as the command runs it: the plan first, then frame progress, then the cache; cancel keeps what is
// done. Against a fake engine (the real one: test/host/engine/engineRequests.test.ts).
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildFrameCacheForConfig, FrameCacheJobError, frameProgressText } from '../../../src/host/frameCache/frameCacheJob';
import { fakeEngines } from '../engine/fakeEngine';

const config = path.join(tmpdir(), 'venice.dora.json');

test('the plan, then frames, then the cache', async () => {
  const plans: string[] = [];
  const progress: string[] = [];
  const result = await buildFrameCacheForConfig(fakeEngines(), config, {
    onPlan: (summary) => plans.push(summary),
    onProgress: (p) => progress.push(frameProgressText(p)),
  });
  const summary = 'Frame cache built: 10 frames at 32×32 (jpeg), 10 MB — RGB24 would take 100 MB (10.0× smaller) — /cache/v-1';
  assert.deepEqual(result, { cacheDir: '/cache/v-1', frameCount: 10, alreadyComplete: false, summary });
  assert.deepEqual(plans, [`Caching 10 frames of ${config}`]);
  assert.deepEqual(progress, [
    '5/10 frames · 250.0 frames/s · 1 s left · 5 MB → ≈ 10 MB (RGB24 100 MB)',
    '10/10 frames · 250.0 frames/s · 0 s left · 10 MB → ≈ 10 MB (RGB24 100 MB)',
  ]);
});

test('cancelling stops the engine and says so', async () => {
  const abort = new AbortController();
  const done = buildFrameCacheForConfig(fakeEngines('slow'), config, { onProgress: () => abort.abort(), signal: abort.signal });
  await assert.rejects(done, (error: unknown) => error instanceof FrameCacheJobError && error.cancelled);
});

test('progress text without a total or an ETA', () => {
  assert.equal(frameProgressText({ framesDone: 3, totalFrames: null }), '3/? frames');
});
