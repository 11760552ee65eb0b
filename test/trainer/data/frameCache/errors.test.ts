// What can go wrong with a frame cache, each with its own code (not all FFMPEG_FAILED): another builder holds the lock,
// the disk is too small, the build is cancelled, there is no cache, a chunk is truncated.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildFrameCache } from '../../../../src/trainer/data/frameCache/build';
import { FrameCacheError, type FrameCacheErrorCode } from '../../../../src/trainer/data/frameCache/errors';
import { planFrameCache } from '../../../../src/trainer/data/frameCache/plan';
import { openFrameCache } from '../../../../src/trainer/data/frameCache/reader';
import { tinySyntheticVideo } from '../../helpers';
import { ffmpegOrSkip, makeTempDir } from '../helpers';

const { tools, skip: noFfmpeg } = ffmpegOrSkip();
const temp = makeTempDir('frame-cache-errors');
after(temp.cleanup);

const withCode = (code: FrameCacheErrorCode) => (error: unknown) => error instanceof FrameCacheError && error.code === code;

describe('frame cache errors', { skip: noFfmpeg }, () => {
  const plan = async (name: string) =>
    planFrameCache(await tinySyntheticVideo(join(temp.dir, 'media')), { cacheRoot: join(temp.dir, name), tools: tools! });

  test('a build running in another live process: CACHE_LOCKED, naming the pid; a dead one is taken over', async () => {
    const p = await plan('locked');
    mkdirSync(p.cacheDir, { recursive: true });
    writeFileSync(join(p.cacheDir, 'build.lock'), String(process.ppid));
    await assert.rejects(
      buildFrameCache(p, { tools: tools! }),
      (e: unknown) => withCode('CACHE_LOCKED')(e) && new RegExp(`pid ${process.ppid}`).test(String(e)),
    );
    writeFileSync(join(p.cacheDir, 'build.lock'), '999999999');
    const cache = await buildFrameCache(p, { tools: tools! });
    assert.equal(cache.frameCount, 60);
    cache.close();
  });

  test('not enough free space: DISK_FULL before anything is decoded', async () => {
    const p = await plan('small-disk');
    await assert.rejects(
      buildFrameCache({ ...p, freeBytes: 1000 }, { tools: tools! }),
      (e: unknown) => withCode('DISK_FULL')(e) && /it needs .* more, 1\.0 KB are free/.test(String(e)),
    );
  });

  test('a cancelled build: CANCELLED, and what is done is kept', async () => {
    const p = await plan('cancelled');
    const controller = new AbortController();
    const build = buildFrameCache(p, {
      tools: tools!,
      signal: controller.signal,
      progressIntervalMs: 0,
      onProgress: () => controller.abort(),
    });
    await assert.rejects(build, withCode('CANCELLED'));
    const partial = openFrameCache(p.cacheDir);
    assert.ok(partial.frameCount >= 1 && partial.frameCount < 60, `${partial.frameCount} frames kept`);
    partial.close();
  });

  test('no cache in a folder: NO_CACHE; a truncated chunk: TRUNCATED on read', async () => {
    assert.throws(() => openFrameCache(join(temp.dir, 'nothing-here')), withCode('NO_CACHE'));
    const p = await plan('truncated');
    (await buildFrameCache(p, { tools: tools! })).close();
    const chunk = readdirSync(p.cacheDir).find((f) => f.startsWith('frames-'))!;
    truncateSync(join(p.cacheDir, chunk), p.frameBytes * 10);
    const cache = openFrameCache(p.cacheDir);
    assert.throws(() => cache.readFrame(20), withCode('TRUNCATED'));
    cache.close();
  });
});
