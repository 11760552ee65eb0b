// The micro-batch planner: divisors that fit, and the out-of-memory back-off (without any real memory pressure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendOutOfMemoryError, initBackend } from '../../../src/trainer/backend';
import { resolveConfig } from '../../../src/core/node/configFile';
import { describeFailure } from '../../../src/trainer/run/failure';
import { largestFitting, MicroBatchPlanner, OutOfMemoryFailure, stepWithBackOff } from '../../../src/trainer/run/microBatch';

function config(microBatch: number | 'auto', batchClips = 16) {
  return resolveConfig({ preset: 'cpu-small', data: { video: 'v.mp4' }, training: { batchClips, microBatch } }, { file: 't.dora.json' });
}

const oom = () => new BackendOutOfMemoryError('cpu', 1 << 20, 0, 1 << 30, 'test');

test('largestFitting takes the largest divisor of the batch that fits 85 % of the budget', () => {
  assert.equal(largestFitting(16, 10, 0, 1000), 16);
  assert.equal(largestFitting(16, 100, 0, 1000), 8);
  assert.equal(largestFitting(16, 100, 500, 1000), 2);
  assert.equal(largestFitting(12, 100, 0, 1000), 6);
  assert.equal(largestFitting(16, 5000, 0, 1000), 1, 'at least one clip');
});

test('an out-of-memory step is retried with half the clips until it fits, and later plans stay below what failed', async () => {
  await initBackend('cpu');
  const planner = new MicroBatchPlanner(config('auto'));
  assert.equal(planner.current.clips, 16);
  const tried: number[] = [];
  const retries: string[] = [];
  const step = (clips: number) => {
    tried.push(clips);
    if (clips > 2) throw oom();
    return Promise.resolve(clips);
  };
  assert.equal(await stepWithBackOff(planner, step, (m) => void retries.push(m)), 2);
  assert.deepEqual(tried, [16, 8, 4, 2]);
  assert.equal(retries.length, 3);
  assert.match(retries[0], /^out of memory with 16 clips per pass; retrying the step with 8$/);
  assert.equal(planner.current.clips, 2);
  assert.match(planner.current.reason, /^auto: 2 clips per pass after running out of memory with 4/);
  await stepWithBackOff(planner, step);
  assert.ok(planner.current.clips < 4, 'the measured footprint does not lift the plan back to a size that failed');
});

test('out of memory at one clip, or with a fixed micro-batch, is one failure with a fix', async () => {
  await initBackend('cpu');
  const always = () => Promise.reject(oom());
  let failure: unknown;
  await assert.rejects(stepWithBackOff(new MicroBatchPlanner(config('auto', 1)), always), (e: unknown) => {
    assert.ok(e instanceof OutOfMemoryFailure);
    assert.match(e.message, /^out of cpu memory with 1 clip\(s\) per pass \(1 clips × 4 frames, 96 px\)/);
    assert.match(e.fix, /^One clip per pass does not fit/);
    return true;
  });
  await assert.rejects(stepWithBackOff(new MicroBatchPlanner(config(8)), always), (e: unknown) => {
    assert.ok(e instanceof OutOfMemoryFailure);
    assert.match(e.fix, /^Use training\.microBatch "auto"/);
    assert.deepEqual(e.sets, ['training.microBatch=auto'], 'applied on resume with --set: a resume reads config.json');
    failure = e;
    return true;
  });
  // The run's failure message turns it into a resume command that works (the .dora.json is not read on resume).
  const described = await describeFailure(failure, { config: config(8), runDir: '/r', backend: 'cpu', lastStep: 7, lastCheckpointStep: 6 });
  assert.match(described.fix ?? '', /dora train --run-dir \/r --resume latest --set training\.microBatch=auto/);
  const other = new Error('not memory');
  await assert.rejects(
    stepWithBackOff(new MicroBatchPlanner(config('auto')), () => Promise.reject(other)),
    (e) => e === other,
  );
});
