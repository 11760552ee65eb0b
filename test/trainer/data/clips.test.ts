import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClipSampler, clipEpochLength, clipFrameIndices } from '../../../src/trainer/data/clips';

describe('ClipSampler (WTDataloader.py semantics)', () => {
  it('uses the official epoch length and frame layout', () => {
    assert.equal(clipEpochLength(1000, 8, 60), 1000 - 480);
    assert.deepEqual(clipFrameIndices(5, 4, 3), [5, 8, 11, 14]);
    const sampler = new ClipSampler({ totalFrames: 1000, framesPerClip: 8, stride: 60, batchClips: 16, seed: 0 });
    assert.equal(sampler.epochLength, 520);
    assert.equal(sampler.stepsPerEpoch, 32); // floor(520 / 16), drop_last
    const clip = sampler.batch(0, 0)[0];
    assert.deepEqual(clip.frameIndices, clipFrameIndices(clip.start, 8, 60));
  });

  it('visits every start exactly once per epoch (before drop_last)', () => {
    const sampler = new ClipSampler({ totalFrames: 200, framesPerClip: 4, stride: 10, batchClips: 7, seed: 3 });
    const order = [...sampler.epochOrder(2)];
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      Array.from({ length: 160 }, (_, i) => i),
    );
    const batched = [...sampler.batches(2)].flatMap((b) => b.clips.map((c) => c.start));
    assert.equal(batched.length, sampler.stepsPerEpoch * 7);
    assert.equal(new Set(batched).size, batched.length);
    assert.deepEqual(batched, order.slice(0, batched.length));
    for (const start of batched) assert.ok(start + 3 * 10 < 200);
  });

  it('gives the same order for the same (seed, epoch) and a new one per epoch', () => {
    const opts = { totalFrames: 500, framesPerClip: 2, stride: 5, batchClips: 4, seed: 17 };
    const a = new ClipSampler(opts);
    const b = new ClipSampler(opts);
    assert.deepEqual([...b.epochOrder(4)], [...a.epochOrder(4)]);
    assert.notDeepEqual([...a.epochOrder(5)], [...b.epochOrder(4)]);
    assert.notDeepEqual([...new ClipSampler({ ...opts, seed: 18 }).epochOrder(4)], [...a.epochOrder(4)]);
    // Resume at (epoch 4, step 10) without replaying: same batches as the uninterrupted run.
    const resumed = [...new ClipSampler(opts).batches(4, 10)].map((s) => s.clips.map((c) => c.start));
    const full = [...a.batches(4)].slice(10).map((s) => s.clips.map((c) => c.start));
    assert.deepEqual(resumed, full);
  });

  it('respects a trimmed [startFrame, endFrame) range', () => {
    const sampler = new ClipSampler({
      totalFrames: 1000,
      framesPerClip: 3,
      stride: 20,
      batchClips: 5,
      seed: 1,
      startFrame: 100,
      endFrame: 400,
    });
    assert.equal(sampler.epochLength, 300 - 60);
    const starts = [...sampler.epochOrder(0)];
    assert.equal(Math.min(...starts), 100);
    assert.equal(Math.max(...starts), 100 + 240 - 1);
    for (const { clips } of sampler.batches(0)) {
      for (const clip of clips) for (const f of clip.frameIndices) assert.ok(f >= 100 && f < 400);
    }
  });

  it('explains a too-short video', () => {
    assert.throws(() => new ClipSampler({ totalFrames: 400, framesPerClip: 8, stride: 60, batchClips: 1, seed: 0 }), {
      message:
        'Video too short for one clip: the usable range [0, 400) has 400 frames, but 8 frames per clip at stride 60 ' +
        'need more than 480. Lower stride or framesPerClip.',
    });
    assert.throws(
      () => new ClipSampler({ totalFrames: 100, framesPerClip: 2, stride: 10, batchClips: 128, seed: 0 }),
      /gives 80 clip starts, fewer than batchClips 128/,
    );
    assert.throws(
      () => new ClipSampler({ totalFrames: 100, framesPerClip: 2, stride: 10, batchClips: 1, seed: 0, startFrame: 50, endFrame: 20 }),
      /usable range \[50, 20\)/,
    );
  });
});
