import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, readdirSync, readFileSync, realpathSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scaleFilter } from '../../../../src/trainer/data/ffmpeg/decode';
import { buildFrameCache, type FrameCacheProgress } from '../../../../src/trainer/data/frameCache/build';
import type { ResumeMethod } from '../../../../src/trainer/data/frameCache/resume';
import { detectBlankTail } from '../../../../src/trainer/data/frameCache/blankTail';
import { openFrameCache, type FrameCache } from '../../../../src/trainer/data/frameCache/reader';
import { planFrameCache } from '../../../../src/trainer/data/frameCache/plan';
import { decodeSelectedFrames, ffmpegOrSkip, makeTempDir, seededRandom, testVideosOrSkip } from '../helpers';

const { tools, skip: noFfmpeg } = ffmpegOrSkip();
const { videos, skip: noVideos } = testVideosOrSkip();
const temp = makeTempDir('frame-cache');
after(temp.cleanup);

// 64 MB chunks: vtest.avi at 426×320 (408,960 B per frame) spans 5 chunk files, so chunk boundaries are exercised.
const chunkBytes = 64 * 1024 * 1024;

function chunkFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('frames-'))
    .sort();
}

function assertSameFrames(actual: FrameCache, reference: FrameCache) {
  assert.equal(actual.frameCount, reference.frameCount);
  assert.deepEqual(chunkFiles(actual.dir), chunkFiles(reference.dir));
  for (const name of chunkFiles(reference.dir)) {
    assert.ok(
      readFileSync(join(actual.dir, name)).equals(readFileSync(join(reference.dir, name))),
      `${name} differs from an uninterrupted build`,
    );
  }
  assert.deepEqual(actual.luminance(), reference.luminance());
}

describe('frame cache on vtest.avi', { skip: noFfmpeg || noVideos }, () => {
  let reference: FrameCache;
  const progress: FrameCacheProgress[] = [];

  before(async () => {
    const plan = await planFrameCache(videos!.vtest, { cacheRoot: join(temp.dir, 'full'), tools: tools!, chunkBytes });
    assert.match(plan.summary, /^Caching 795 frames of ".*vtest\.avi" at 426×320 RGB24 \(409 KB per frame\): 325 MB in /);
    assert.equal(plan.estimatedBytes, 795 * (426 * 320 * 3 + 4));
    reference = await buildFrameCache(plan, { tools: tools!, onProgress: (p) => progress.push(p) });
  });
  after(() => reference?.close());

  test('795 frames, short side 320, complete, progress reported', () => {
    assert.equal(reference.frameCount, 795);
    assert.equal(reference.width, 426);
    assert.equal(reference.height, 320);
    assert.equal(reference.fps, 10);
    assert.equal(reference.complete, true);
    assert.deepEqual(chunkFiles(reference.dir), [
      'frames-00000.rgb',
      'frames-00001.rgb',
      'frames-00002.rgb',
      'frames-00003.rgb',
      'frames-00004.rgb',
    ]);
    const last = progress.at(-1)!;
    assert.equal(last.framesDone, 795);
    assert.equal(last.totalFrames, 795);
    assert.equal(last.etaSeconds, 0);
    assert.ok(last.framesPerSecond > 0);
    assert.equal(last.resumeMethod, 'start');
  });

  test('random frames equal a direct ffmpeg decode of the same index', async () => {
    const random = seededRandom(7);
    const indices = [0, 163, 164, 794, ...Array.from({ length: 6 }, () => Math.floor(random() * 795))];
    const direct = await decodeSelectedFrames(tools!, videos!.vtest, indices, 426, 320, scaleFilter(426, 320));
    assert.equal(direct.size, new Set(indices).size);
    for (const [index, frame] of direct) assert.ok(Buffer.from(reference.readFrame(index)).equals(frame), `frame ${index} differs`);
    const stacked = reference.readFrames([794, 0, 163]);
    assert.equal(stacked.length, 3 * reference.frameBytes);
    assert.ok(Buffer.from(stacked.subarray(0, reference.frameBytes)).equals(direct.get(794)!));
    assert.ok(Buffer.from(stacked.subarray(2 * reference.frameBytes)).equals(direct.get(163)!));
    assert.throws(() => reference.readFrame(795), RangeError);
  });

  test('a second build reuses the cache without decoding', async () => {
    const indexBefore = readFileSync(join(reference.dir, 'index.json'), 'utf8');
    const plan = await planFrameCache(videos!.vtest, { cacheRoot: join(temp.dir, 'full'), tools: tools!, chunkBytes });
    assert.equal(plan.alreadyComplete, true);
    assert.equal(plan.cacheDir, reference.dir);
    const started = Date.now();
    // A bogus ffmpeg proves nothing is decoded: only ffprobe runs, for the plan.
    const again = await buildFrameCache(videos!.vtest, {
      cacheRoot: join(temp.dir, 'full'),
      tools: { ...tools!, ffmpeg: '/nonexistent/ffmpeg' },
      chunkBytes,
    });
    assert.ok(Date.now() - started < 5000);
    assert.equal(again.frameCount, 795);
    assert.equal(readFileSync(join(reference.dir, 'index.json'), 'utf8'), indexBefore);
    assert.equal(openFrameCache(reference.dir).frameCount, 795);
    again.close();
  });

  for (const [strategy, stopAt] of [
    ['seek', 437],
    ['decode-skip', 250],
  ] as const) {
    test(`interrupted at frame ${stopAt} and resumed by ${strategy}: identical to an uninterrupted build`, async () => {
      const cacheRoot = join(temp.dir, `resume-${strategy}`);
      const controller = new AbortController();
      await assert.rejects(
        buildFrameCache(videos!.vtest, {
          cacheRoot,
          tools: tools!,
          chunkBytes,
          signal: controller.signal,
          progressIntervalMs: 0,
          onProgress: (p) => p.framesDone >= stopAt && controller.abort(),
        }),
        new RegExp(`was cancelled at frame ${stopAt}; it resumes from there next time`),
      );
      const partial = openFrameCache(join(cacheRoot, readdirSync(cacheRoot)[0]));
      assert.equal(partial.frameCount, stopAt);
      assert.equal(partial.complete, false);
      assert.ok(Buffer.from(partial.readFrame(stopAt - 1)).equals(Buffer.from(reference.readFrame(stopAt - 1))));
      partial.close();
      // Simulate a crash after bytes were written but before the index was updated.
      const lastChunk = chunkFiles(partial.dir).at(-1)!;
      appendFileSync(join(partial.dir, lastChunk), Buffer.alloc(100_000, 0xab));
      appendFileSync(join(partial.dir, 'luma.f32'), Buffer.alloc(12, 0xcd));

      const methods: ResumeMethod[] = [];
      const resumed = await buildFrameCache(videos!.vtest, {
        cacheRoot,
        tools: tools!,
        chunkBytes,
        resumeStrategy: strategy,
        onProgress: (p) => methods.push(p.resumeMethod),
      });
      assert.equal(methods.at(-1), strategy);
      assert.equal(resumed.index.completedFrames, 795);
      assertSameFrames(resumed, reference);
      resumed.close();
    });
  }

  test('auto resume picks the verified seek for a constant-frame-rate video', async () => {
    const cacheRoot = join(temp.dir, 'resume-auto');
    const controller = new AbortController();
    await assert.rejects(
      buildFrameCache(videos!.vtest, {
        cacheRoot,
        tools: tools!,
        shortSide: 64,
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => p.framesDone >= 700 && controller.abort(),
      }),
      /cancelled at frame 700/,
    );
    const methods: ResumeMethod[] = [];
    const resumed = await buildFrameCache(videos!.vtest, {
      cacheRoot,
      tools: tools!,
      shortSide: 64,
      onProgress: (p) => methods.push(p.resumeMethod),
    });
    assert.equal(methods.at(-1), 'seek');
    const direct = await decodeSelectedFrames(
      tools!,
      videos!.vtest,
      [699, 700, 701, 794],
      resumed.width,
      resumed.height,
      scaleFilter(resumed.width, resumed.height),
    );
    for (const [index, frame] of direct) assert.ok(Buffer.from(resumed.readFrame(index)).equals(frame), `frame ${index} differs`);
    resumed.close();
  });

  test('changing the video file (mtime) invalidates the cache and removes the stale one', async () => {
    const cacheRoot = join(temp.dir, 'invalidate');
    const copy = join(temp.dir, 'vtest-copy.avi');
    copyFileSync(videos!.vtest, copy);
    const first = await buildFrameCache(copy, { cacheRoot, tools: tools!, shortSide: 48 });
    first.close();
    const otherSetting = await buildFrameCache(copy, { cacheRoot, tools: tools!, shortSide: 32 });
    otherSetting.close();
    assert.notEqual(otherSetting.dir, first.dir, 'shortSide is part of the cache key');
    assert.equal(existsSync(first.dir), true, 'a cache with other settings of the same file is kept');
    utimesSync(copy, new Date(), new Date(Date.now() + 60_000));
    const plan = await planFrameCache(copy, { cacheRoot, tools: tools!, shortSide: 48 });
    assert.notEqual(plan.cacheDir, first.dir);
    assert.equal(plan.alreadyComplete, false);
    const second = await buildFrameCache(plan, { tools: tools! });
    assert.equal(second.frameCount, 795);
    assert.equal(existsSync(first.dir), false, 'stale cache should be removed');
    assert.equal(existsSync(otherSetting.dir), false, 'stale cache should be removed');
    assert.deepEqual(readdirSync(cacheRoot), [plan.cacheDir.split('/').at(-1)]);
    second.close();
  });

  test('variable-frame-rate phone mp4: one cached frame per decoded frame', async () => {
    const cache = await buildFrameCache(videos!.phoneMp4, { cacheRoot: join(temp.dir, 'phone'), tools: tools! });
    assert.equal(cache.frameCount, 41);
    assert.equal(cache.width, 568);
    assert.equal(cache.height, 320);
    const direct = await decodeSelectedFrames(tools!, videos!.phoneMp4, [0, 17, 40], 568, 320, scaleFilter(568, 320));
    for (const [index, frame] of direct) assert.ok(Buffer.from(cache.readFrame(index)).equals(frame), `frame ${index} differs`);
    cache.close();
  });

  test('no blank tail in vtest.avi', () => {
    assert.equal(detectBlankTail(reference), null);
  });
});

describe('resume on H.264 with B-frames and 1 s GOPs', { skip: noFfmpeg }, () => {
  test('auto resume seeks, verifies, and matches an uninterrupted build', async () => {
    const video = join(temp.dir, 'gop25.mp4');
    const r = spawnSync(tools!.ffmpeg, [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=s=320x240:r=25:d=6',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-bf',
      '3',
      '-g',
      '25',
      '-pix_fmt',
      'yuv420p',
      video,
    ]);
    assert.equal(r.status, 0, r.stderr.toString());
    const full = await buildFrameCache(video, { cacheRoot: join(temp.dir, 'h264-full'), tools: tools!, shortSide: 120 });
    assert.equal(full.frameCount, 150);
    for (const stopAt of [37, 50, 51]) {
      // 50 is a keyframe; 37 and 51 are not: the seek must land exactly either way.
      const cacheRoot = join(temp.dir, `h264-resume-${stopAt}`);
      const controller = new AbortController();
      await assert.rejects(
        buildFrameCache(video, {
          cacheRoot,
          tools: tools!,
          shortSide: 120,
          signal: controller.signal,
          progressIntervalMs: 0,
          onProgress: (p) => p.framesDone >= stopAt && controller.abort(),
        }),
        /cancelled/,
      );
      const methods: ResumeMethod[] = [];
      const resumed = await buildFrameCache(video, {
        cacheRoot,
        tools: tools!,
        shortSide: 120,
        onProgress: (p) => methods.push(p.resumeMethod),
      });
      assert.equal(methods.at(-1), 'seek');
      assertSameFrames(resumed, full);
      resumed.close();
    }
    full.close();
  });
});

describe('blank tail detection', { skip: noFfmpeg }, () => {
  test('finds the first frame of trailing black frames and names the file', async () => {
    const video = join(temp.dir, 'content-then-black.mp4');
    // 4 s of test pattern, then 3 s of black, at 10 fps: frames 40..69 are black.
    const r = spawnSync(tools!.ffmpeg, [
      '-v',
      'error',
      '-y',
      '-filter_complex',
      'testsrc2=s=160x120:r=10:d=4[a];color=c=black:s=160x120:r=10:d=3[b];[a][b]concat=n=2:v=1:a=0',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-pix_fmt',
      'yuv420p',
      video,
    ]);
    assert.equal(r.status, 0, r.stderr.toString());
    const cache = await buildFrameCache(video, { cacheRoot: join(temp.dir, 'blank'), tools: tools!, shortSide: 120 });
    assert.equal(cache.frameCount, 70);
    const tail = detectBlankTail(cache);
    assert.ok(tail);
    assert.equal(tail.firstBlankFrame, 40);
    assert.equal(tail.blankFrames, 30);
    assert.equal(tail.blankSeconds, 3);
    assert.equal(
      tail.message,
      `"${realpathSync(video)}" ends with 0:00:03 of near-black frames (frames 40–69, from 0:00:04); training uses frames 0–39 only.`,
    );
    assert.equal(detectBlankTail(cache, { minSeconds: 5 }), null, 'shorter than minSeconds is not a blank tail');
    cache.close();
  });
});
