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
  assert.deepEqual(result, { cacheDir: '/cache/v-1', frameCount: 10, alreadyComplete: false, summary: 'Caching 10 frames' });
  assert.deepEqual(plans, [`Caching 10 frames of ${config}`]);
  assert.deepEqual(progress, ['5/10 frames, 1 s left', '10/10 frames, 0 s left']);
});

test('cancelling stops the engine and says so', async () => {
  const abort = new AbortController();
  const done = buildFrameCacheForConfig(fakeEngines('slow'), config, { onProgress: () => abort.abort(), signal: abort.signal });
  await assert.rejects(done, (error: unknown) => error instanceof FrameCacheJobError && error.cancelled);
});

test('progress text without a total or an ETA', () => {
  assert.equal(frameProgressText({ framesDone: 3, totalFrames: null }), '3/? frames');
});
