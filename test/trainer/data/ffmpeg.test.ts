import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { scaledSize } from '../../../src/trainer/data/ffmpeg/decode';
import { probeVideo } from '../../../src/trainer/data/ffmpeg/probe';
import { resolveFfmpeg } from '../../../src/trainer/data/ffmpeg/tools';
import { VideoError } from '../../../src/trainer/data/ffmpeg/videoError';
import { buildFrameCache } from '../../../src/trainer/data/frameCache/build';
import { ffmpegOrSkip, makeTempDir, testVideosOrSkip } from './helpers';

const { tools, skip: noFfmpeg } = ffmpegOrSkip();
const { videos, skip: noVideos } = testVideosOrSkip();
const temp = makeTempDir('ffmpeg-test');
after(temp.cleanup);

function expectVideoError(code: string, message: string) {
  return (err: unknown) => {
    assert.ok(err instanceof VideoError, `expected a VideoError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    return true;
  };
}

describe('resolveFfmpeg', () => {
  test('a bogus explicit path is an error naming the path and the setting', () => {
    assert.throws(
      () => resolveFfmpeg({ explicitPath: '/nonexistent/bin/ffmpeg' }),
      expectVideoError(
        'FFMPEG_NOT_FOUND',
        'ffmpeg not found at "/nonexistent/bin/ffmpeg" (set by the dora.ffmpegPath setting or --ffmpeg). ' +
          'Fix: point it to an ffmpeg executable, or clear it to use ffmpeg from PATH.',
      ),
    );
  });

  test('nothing found: the message lists what was tried and how to fix it', () => {
    const failingLoader = (id: string) => {
      throw new Error(`Cannot find module '${id}'`);
    };
    assert.throws(
      () => resolveFfmpeg({ searchPath: join(temp.dir, 'empty-bin'), loadOptionalModule: failingLoader }),
      expectVideoError(
        'FFMPEG_NOT_FOUND',
        'ffmpeg not found. Tried: the dora.ffmpegPath setting / --ffmpeg (not set), "ffmpeg" on PATH (not found), ' +
          'the npm package @ffmpeg-installer/ffmpeg (not installed). Fix: install ffmpeg (Debian/Ubuntu: sudo apt-get install ffmpeg; ' +
          'macOS: brew install ffmpeg), or set dora.ffmpegPath (CLI: --ffmpeg /path/to/ffmpeg).',
      ),
    );
  });

  test('order: explicit path, then PATH, then the npm package', { skip: noFfmpeg }, () => {
    const real = tools!.ffmpeg;
    assert.equal(resolveFfmpeg({ explicitPath: real, searchPath: '' }).source, 'explicit');
    assert.equal(resolveFfmpeg({ searchPath: process.env.PATH }).source, 'path');
    const fromNpm = resolveFfmpeg({
      searchPath: '',
      loadOptionalModule: (id) => (id === '@ffmpeg-installer/ffmpeg' ? { path: real } : {}),
    });
    assert.deepEqual(fromNpm, { ffmpeg: real, ffprobe: null, source: 'npm' });
  });
});

describe('scaledSize', () => {
  test('short side becomes shortSide, even sides, aspect kept, never upscaled', () => {
    assert.deepEqual(scaledSize(768, 576, 320), { width: 426, height: 320 });
    assert.deepEqual(scaledSize(3840, 2160, 320), { width: 568, height: 320 });
    assert.deepEqual(scaledSize(1080, 1920, 320), { width: 320, height: 568 });
    assert.deepEqual(scaledSize(300, 200, 320), { width: 300, height: 200 });
  });
});

describe('probeVideo', { skip: noFfmpeg || noVideos }, () => {
  test('vtest.avi with ffprobe', async () => {
    const probe = await probeVideo(videos!.vtest, tools!);
    assert.deepEqual(
      {
        codec: probe.codec,
        width: probe.width,
        height: probe.height,
        fps: probe.fps,
        frames: probe.frameCount,
        source: probe.frameCountSource,
        duration: probe.durationSeconds,
        cfr: probe.constantFrameRate,
      },
      { codec: 'msmpeg4v3', width: 768, height: 576, fps: 10, frames: 795, source: 'container', duration: 79.5, cfr: true },
    );
  });

  test('vtest.avi without ffprobe (parses ffmpeg -i, counts packets)', async () => {
    const probe = await probeVideo(videos!.vtest, { ...tools!, ffprobe: null });
    assert.deepEqual(
      {
        codec: probe.codec,
        width: probe.width,
        height: probe.height,
        fps: probe.fps,
        frames: probe.frameCount,
        source: probe.frameCountSource,
        duration: probe.durationSeconds,
      },
      { codec: 'msmpeg4v3', width: 768, height: 576, fps: 10, frames: 795, source: 'counted', duration: 79.5 },
    );
  });

  test('phone mp4 (H.264, variable frame rate)', async () => {
    const probe = await probeVideo(videos!.phoneMp4, tools!);
    assert.equal(probe.codec, 'h264');
    assert.equal(probe.width, 1920);
    assert.equal(probe.height, 1080);
    assert.equal(probe.frameCount, 41);
    assert.ok(Math.abs(probe.fps - 27.019) < 0.01, `fps ${probe.fps}`);
    assert.ok(Math.abs(probe.durationSeconds - 1.517) < 0.01);
    assert.equal(probe.constantFrameRate, false);
    assert.match(probe.notes.join(' '), /Variable frame rate/);
  });
});

describe('error messages', { skip: noFfmpeg }, () => {
  test('missing file', async () => {
    const missing = join(temp.dir, 'no-such-video.mp4');
    await assert.rejects(
      probeVideo(missing, tools!),
      expectVideoError('FILE_NOT_FOUND', `Video file not found: "${missing}". Fix: check the video path in the run settings.`),
    );
  });

  for (const withFfprobe of [true, false]) {
    test(`corrupt file quotes ffmpeg's message (${withFfprobe ? 'ffprobe' : 'ffmpeg -i'})`, async () => {
      const corrupt = join(temp.dir, 'garbage.mp4');
      writeFileSync(corrupt, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37 + 11) % 256)));
      await assert.rejects(
        probeVideo(corrupt, withFfprobe ? tools! : { ...tools!, ffprobe: null }),
        expectVideoError(
          'UNREADABLE_VIDEO',
          `Cannot read video "${corrupt}": ffmpeg says "Invalid data found when processing input". The file is ` +
            `corrupt, truncated or not a video. ` +
            'Fix: re-download it, or re-encode it with ffmpeg -i IN -c:v libx264 OUT.mp4.',
        ),
      );
    });

    test(`zero-frame video (${withFfprobe ? 'ffprobe' : 'ffmpeg -i'})`, async () => {
      const empty = join(temp.dir, 'empty.y4m'); // a valid stream header and no frames
      writeFileSync(empty, 'YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg\n');
      await assert.rejects(
        probeVideo(empty, withFfprobe ? tools! : { ...tools!, ffprobe: null }),
        expectVideoError(
          'ZERO_FRAMES',
          `Video "${empty}" contains no frames: its video stream is empty. Fix: choose another video, or re-export this one.`,
        ),
      );
    });
  }

  test('audio-only file', async () => {
    const audio = join(temp.dir, 'audio-only.wav');
    const r = spawnSync(tools!.ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '0.2', audio]);
    assert.equal(r.status, 0);
    await assert.rejects(
      probeVideo(audio, tools!),
      expectVideoError('NO_VIDEO_STREAM', `"${audio}" has no video stream (it has only audio streams). Fix: choose a video file.`),
    );
  });

  test('buildFrameCache surfaces the same errors before creating anything', async () => {
    const missing = join(temp.dir, 'missing.avi');
    await assert.rejects(buildFrameCache(missing, { cacheRoot: join(temp.dir, 'cache'), tools: tools! }), { code: 'FILE_NOT_FOUND' });
  });
});
