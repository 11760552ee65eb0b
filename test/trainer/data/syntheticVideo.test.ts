import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { decodeFrames } from '../../../src/trainer/data/ffmpeg/decode';
import { probeVideo } from '../../../src/trainer/data/ffmpeg/probe';
import {
  ensureDemoVideo,
  generateSyntheticVideo,
  groundTruthMask,
  maskLevelToObjectId,
  syntheticFilterGraph,
} from '../../../src/trainer/data/syntheticVideo';
import { ffmpegOrSkip, makeTempDir } from './helpers';

const { tools, skip: noFfmpeg } = ffmpegOrSkip();
const temp = makeTempDir('synthetic');
after(temp.cleanup);

/** Compares the decoded mask video with groundTruthMask() on the given frames; returns the mismatching frames. */
async function maskMismatches(
  maskFile: string,
  width: number,
  height: number,
  options: { fps: number; seed: number },
  frames: Set<number> | 'all',
) {
  const bad: string[] = [];
  let index = 0;
  let compared = 0;
  for await (const decoded of decodeFrames(tools!, maskFile, { width, height, pixelFormat: 'gray' })) {
    if (frames === 'all' || frames.has(index)) {
      const expected = groundTruthMask(index, width, height, options);
      let wrong = 0;
      for (let i = 0; i < decoded.length; i++) if (maskLevelToObjectId(decoded[i]) !== expected[i]) wrong++;
      if (wrong) bad.push(`frame ${index}: ${wrong} pixels`);
      compared++;
    }
    index++;
  }
  return { bad, compared, decodedFrames: index };
}

describe('synthetic walking tour', { skip: noFfmpeg }, () => {
  test('analytic masks equal the decoded mask video on every frame (320×180, 15 fps, seed 7)', async () => {
    const files = await generateSyntheticVideo(
      `${temp.dir}/small`,
      { width: 320, height: 180, fps: 15, durationSeconds: 3, seed: 7 },
      tools!,
    );
    assert.equal(files.frameCount, 45);
    const probe = await probeVideo(files.video, tools!);
    assert.deepEqual([probe.width, probe.height, probe.fps, probe.frameCount], [320, 180, 15, 45]);
    const result = await maskMismatches(files.mask, 320, 180, { fps: 15, seed: 7 }, 'all');
    assert.equal(result.decodedFrames, 45);
    assert.deepEqual(result.bad, []);
  });

  test('ensureDemoVideo: default size, exact masks on sampled frames, idempotent', async () => {
    const options = { durationSeconds: 2.5 };
    const demo = await ensureDemoVideo(temp.dir, options, tools!);
    assert.equal(demo.frameCount, 75);
    assert.deepEqual([demo.options.width, demo.options.height, demo.options.fps], [640, 360, 30]);
    const sampled = new Set([0, 1, 29, 30, 31, 59, 74]);
    const result = await maskMismatches(demo.mask, 640, 360, { fps: 30, seed: demo.options.seed }, sampled);
    assert.equal(result.compared, sampled.size);
    assert.deepEqual(result.bad, []);

    const mtime = statSync(demo.video).mtimeMs;
    const again = await ensureDemoVideo(temp.dir, options, { ...tools!, ffmpeg: '/nonexistent/ffmpeg' }); // would fail if it re-ran ffmpeg
    assert.equal(again.video, demo.video);
    assert.equal(statSync(again.video).mtimeMs, mtime);
  });

  test('every object is visible somewhere and occlusion follows z-order A<B<C<D', () => {
    const seen = new Set<number>();
    for (let frame = 0; frame < 40 * 30; frame += 15) for (const id of groundTruthMask(frame, 640, 360)) seen.add(id);
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
    // The mask is rasterised in z-order, so at a pixel covered by several objects the highest id wins:
    // check on the filter graph that overlays run in the same order.
    const graph = syntheticFilterGraph();
    const order = ['[bg][o0]', '[v0][o1]', '[v1][o2]', '[v2][o3]', '[mbg][m0]', '[mk0][m1]', '[mk1][m2]', '[mk2][m3]'].map((s) =>
      graph.indexOf(s),
    );
    assert.ok(
      order.every((pos, k) => pos >= 0 && (k === 0 || k === 4 || pos > order[k - 1])),
      `overlay order ${order}`,
    );
  });

  test('seed changes the paths; same seed gives the same masks', () => {
    assert.deepEqual(groundTruthMask(100, 320, 180, { seed: 3 }), groundTruthMask(100, 320, 180, { seed: 3 }));
    assert.notDeepEqual(groundTruthMask(100, 320, 180, { seed: 3 }), groundTruthMask(100, 320, 180, { seed: 4 }));
  });
});
