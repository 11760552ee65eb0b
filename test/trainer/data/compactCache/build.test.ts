import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildCompactCache, type CompactCacheProgress } from '../../../../src/trainer/data/compactCache/build';
import { CompactCacheCorruptError, DAMAGED_FILE, readMeta, type CompactCacheMeta } from '../../../../src/trainer/data/compactCache/format';
import { planCompactCache } from '../../../../src/trainer/data/compactCache/plan';
import { openCompactCache, type CompactFrameSource } from '../../../../src/trainer/data/compactCache/reader';
import { readRecords } from '../../../../src/trainer/data/compactCache/records';
import { scaleFilter } from '../../../../src/trainer/data/ffmpeg/decode';
import { FrameCacheError, type FrameCacheErrorCode } from '../../../../src/trainer/data/frameCache/errors';
import { decodeSelectedFrames, ffmpegOrSkip, makeTempDir, repoRoot, testVideosOrSkip } from '../helpers';
import { psnr, referenceJpeg } from './helpers';

const { tools, skip: noFfmpeg } = ffmpegOrSkip();
const { videos, skip: noVideos } = testVideosOrSkip();
/** The compact cache reports with the frame cache's own error codes (CANCELLED, DISK_FULL …). */
const isCode = (e: unknown, code: FrameCacheErrorCode) => e instanceof FrameCacheError && e.code === code;
const temp = makeTempDir('compact-cache');
after(temp.cleanup);

// 2 MB chunks: vtest.avi at 426×320 (≈ 29 KB per JPEG) spans ≈ 12 chunk files.
const chunkBytes = 2 * 1024 * 1024;

function chunkFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('chunk-'))
    .sort();
}

/** Every frame's JPEG bytes equal the reference cache's (chunk layout may differ after a repair). */
function assertSameJpegs(actual: CompactFrameSource, reference: CompactFrameSource) {
  assert.equal(actual.frameCount, reference.frameCount);
  for (let f = 0; f < reference.frameCount; f++) assert.ok(actual.readJpeg(f).equals(reference.readJpeg(f)), `frame ${f} differs`);
  assert.deepEqual(actual.luminance(), reference.luminance());
}

describe('compact cache on vtest.avi', { skip: noFfmpeg || noVideos }, () => {
  let reference: CompactFrameSource;
  let meta: CompactCacheMeta;
  const progress: CompactCacheProgress[] = [];

  before(async () => {
    const plan = await planCompactCache(videos!.vtest, { cacheRoot: join(temp.dir, 'full'), tools: tools!, chunkBytes });
    assert.match(
      plan.summary,
      /^Caching 795 frames of ".*vtest\.avi" \(8\.1 MB\) at 426×320: 325 MB as RGB24 → ≈ 32.5 MB as JPEG \(10× smaller\) in /,
    );
    const result = await buildCompactCache(plan, { tools: tools!, progressIntervalMs: 0, onProgress: (p) => progress.push(p) });
    meta = result.meta;
    reference = await openCompactCache(plan.cacheDir, { workers: 2 });
  });
  after(() => reference?.close());

  test('795 frames in chunk files, complete, ≥ 10× smaller than RGB24, progress with sizes', () => {
    assert.equal(reference.frameCount, 795);
    assert.equal(reference.width, 426);
    assert.equal(reference.height, 320);
    assert.equal(reference.complete, true);
    assert.equal(meta.expectedFrames, 795);
    const chunks = chunkFiles(reference.dir);
    assert.ok(chunks.length >= 8, `${chunks.length} chunks`);
    const onDisk = chunks.reduce((n, c) => n + readFileSync(join(reference.dir, c)).length, 0);
    assert.equal(onDisk, meta.jpegBytes);
    assert.ok(meta.jpegBytes * 10 <= 795 * 426 * 320 * 3, `${meta.jpegBytes} bytes is not ≤ 1/10 of RGB24`);
    const last = progress.at(-1)!;
    assert.equal(last.framesDone, 795);
    assert.equal(last.etaSeconds, 0);
    assert.equal(last.cacheBytes, meta.jpegBytes);
    assert.equal(last.rawBytes, 795 * 426 * 320 * 3);
    assert.ok(last.framesPerSecond > 0);
    assert.ok(progress.some((p) => p.framesDone < 795 && Number.isFinite(p.etaSeconds) && p.etaSeconds > 0));
  });

  test('a frame is the JPEG ffmpeg makes of that frame alone, and decodes close to the RGB24 decode', async () => {
    const indices = [0, 163, 500, 794];
    const direct = await decodeSelectedFrames(tools!, videos!.vtest, indices, 426, 320, scaleFilter(426, 320));
    for (const index of indices) {
      assert.ok(
        reference.readJpeg(index).equals(referenceJpeg(tools!, videos!.vtest, index, 426, 320)),
        `frame ${index}: other JPEG bytes`,
      );
      const quality = psnr(reference.readFrame(index), direct.get(index)!);
      assert.ok(quality > 30, `frame ${index}: PSNR ${quality.toFixed(1)} dB against the RGB24 decode`);
    }
    assert.throws(() => reference.readFrame(795), RangeError);
  });

  test('frames decoded by the worker pool equal frames decoded on this thread', async () => {
    const frames = [794, 3, 400, 401, 3];
    await reference.ready!(frames);
    const pooled = reference.readFrames(frames);
    const sync = await openCompactCache(reference.dir, { workers: 0 });
    try {
      assert.ok(Buffer.from(pooled).equals(Buffer.from(sync.readFrames(frames))));
    } finally {
      sync.close();
    }
  });

  test('killed with SIGKILL mid-build and started again: resumes, same JPEGs as an uninterrupted build', async () => {
    const cacheRoot = join(temp.dir, 'killed');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'buildChild.ts'), videos!.vtest, cacheRoot, String(chunkBytes)],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let seen = 0;
    await new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        seen = Math.max(seen, ...[...d.matchAll(/frames (\d+)/g)].map((m) => Number(m[1])));
        if (seen >= 300 && child.exitCode === null) child.kill('SIGKILL');
      });
      child.once('close', () => resolve());
    });
    const dir = join(cacheRoot, readdirSync(cacheRoot)[0]);
    const partial = readMeta(dir)!;
    assert.equal(partial.complete, false, 'the child was killed before it finished');
    assert.ok(partial.completedFrames > 0 && partial.completedFrames < 795, `${partial.completedFrames} frames committed`);
    const methods: string[] = [];
    await buildCompactCache(videos!.vtest, { cacheRoot, tools: tools!, chunkBytes, onProgress: (p) => methods.push(p.resumeMethod) });
    assert.equal(methods.at(-1), 'seek');
    const resumed = await openCompactCache(dir, { workers: 0 });
    assertSameJpegs(resumed, reference);
    assert.deepEqual(chunkFiles(dir), chunkFiles(reference.dir));
    assert.equal(existsSync(join(dir, 'build.lock')), false);
    resumed.close();
  });

  test('cancel keeps the committed frames; the next build resumes exactly', async () => {
    const cacheRoot = join(temp.dir, 'cancelled');
    const controller = new AbortController();
    await assert.rejects(
      buildCompactCache(videos!.vtest, {
        cacheRoot,
        tools: tools!,
        chunkBytes,
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => p.framesDone >= 250 && controller.abort(),
      }),
      (e: unknown) => isCode(e, 'CANCELLED') && /was cancelled at frame 250; it resumes from there next time/.test((e as Error).message),
    );
    const dir = join(cacheRoot, readdirSync(cacheRoot)[0]);
    const partial = await openCompactCache(dir, { workers: 0 });
    assert.equal(partial.frameCount, 250);
    assert.ok(partial.readJpeg(249).equals(reference.readJpeg(249)));
    partial.close();
    const methods: string[] = [];
    const resumed = await buildCompactCache(videos!.vtest, {
      cacheRoot,
      tools: tools!,
      chunkBytes,
      onProgress: (p) => methods.push(p.resumeMethod),
    });
    assert.equal(resumed.meta.completedFrames, 795);
    assert.equal(methods.at(-1), 'seek');
    const reader = await openCompactCache(dir, { workers: 0 });
    assertSameJpegs(reader, reference);
    reader.close();
  });

  test('a variable-frame-rate video resumes by decoding and skipping (no seek): same JPEGs', async () => {
    const full = await buildCompactCache(videos!.phoneMp4, { cacheRoot: join(temp.dir, 'vfr-full'), tools: tools! });
    assert.equal(full.meta.completedFrames, 41);
    const cacheRoot = join(temp.dir, 'vfr-cancelled');
    const controller = new AbortController();
    await assert.rejects(
      buildCompactCache(videos!.phoneMp4, {
        cacheRoot,
        tools: tools!,
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => p.framesDone >= 20 && controller.abort(),
      }),
      /cancelled at frame 20/,
    );
    const methods: string[] = [];
    await buildCompactCache(videos!.phoneMp4, { cacheRoot, tools: tools!, onProgress: (p) => methods.push(p.resumeMethod) });
    assert.equal(methods.at(-1), 'decode-skip');
    const a = await openCompactCache(full.plan.cacheDir, { workers: 0 });
    const b = await openCompactCache(join(cacheRoot, readdirSync(cacheRoot)[0]), { workers: 0 });
    assertSameJpegs(b, a);
    a.close();
    b.close();
  });

  test('a corrupt chunk is detected by the reader and re-built by the next build', async () => {
    const cacheRoot = join(temp.dir, 'corrupt');
    await buildCompactCache(videos!.vtest, { cacheRoot, tools: tools!, chunkBytes });
    const dir = join(cacheRoot, readdirSync(cacheRoot)[0]);
    const [victim] = readRecords(dir, 400, 1);
    const path = join(
      dir,
      chunkFiles(dir).find((c) => c === `chunk-${String(victim.chunk).padStart(5, '0')}.mjpeg`)!,
    );
    const bytes = readFileSync(path);
    bytes[victim.offset + 200] ^= 0xff; // one flipped byte inside frame 400's entropy-coded data
    writeFileSync(path, bytes);
    const reader = await openCompactCache(dir, { workers: 1 });
    assert.throws(() => reader.readFrame(400), CompactCacheCorruptError);
    await assert.rejects(reader.ready!([400]), /Frame 400 of the frame cache .* is corrupt \(.*\). Fix: run "DoRA: Build Frame Cache"/);
    reader.close();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, DAMAGED_FILE), 'utf8')).chunks, [victim.chunk]);
    const repaired = await buildCompactCache(videos!.vtest, { cacheRoot, tools: tools! });
    assert.deepEqual(repaired.rebuiltChunks, [victim.chunk]);
    assert.equal(existsSync(path), false, 'the corrupt chunk file is replaced');
    assert.equal(existsSync(join(dir, DAMAGED_FILE)), false);
    const after = await openCompactCache(dir, { workers: 0 });
    assertSameJpegs(after, reference);
    after.close();
  });

  test('a truncated chunk is found without any reader (quick check) and re-built', async () => {
    const cacheRoot = join(temp.dir, 'truncated');
    await buildCompactCache(videos!.vtest, { cacheRoot, tools: tools!, chunkBytes });
    const dir = join(cacheRoot, readdirSync(cacheRoot)[0]);
    const chunk = chunkFiles(dir)[0];
    truncateSync(join(dir, chunk), 1000);
    const repaired = await buildCompactCache(videos!.vtest, { cacheRoot, tools: tools! });
    assert.deepEqual(repaired.rebuiltChunks, [0]);
    const after = await openCompactCache(dir, { workers: 0 });
    assertSameJpegs(after, reference);
    after.close();
  });

  test('a full disk stops the build with a message; the partial cache is usable; the next build finishes it', async () => {
    const cacheRoot = join(temp.dir, 'full-disk');
    // The projection after 100 frames says ≈ 20 MB more are needed; only 10 MB are "free".
    const STOPPED_BY_PROJECTION =
      /stopped: the remaining frames need ≈.* \(projected from the first 100 frames\), only 10\.0 MB are free .* 100 of ≈795 frames .* stay usable\. Fix: free disk space, or choose a cache folder on a larger disk \(setting dora\.cacheFolder/;
    await assert.rejects(
      buildCompactCache(videos!.vtest, { cacheRoot, tools: tools!, projectAfterFrames: 100, reserveBytes: 0, freeSpace: () => 10e6 }),
      (e: unknown) => isCode(e, 'DISK_FULL') && STOPPED_BY_PROJECTION.test((e as Error).message),
    );
    // A real ENOSPC from the file system in the middle of a chunk write.
    let written = 0;
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    await assert.rejects(
      buildCompactCache(videos!.vtest, {
        cacheRoot,
        tools: tools!,
        flushIntervalMs: 0,
        beforeWrite: (n) => {
          if ((written += n) > 5e6) throw enospc;
        },
      }),
      (e: unknown) => isCode(e, 'DISK_FULL') && /stopped: the disk is full\. \d+ of ≈795 frames .* stay usable/.test((e as Error).message),
    );
    const dir = join(cacheRoot, readdirSync(cacheRoot)[0]);
    const partial = await openCompactCache(dir, { workers: 0 });
    assert.ok(partial.frameCount > 100 && partial.frameCount < 795, `${partial.frameCount} frames usable`);
    assert.ok(partial.readJpeg(partial.frameCount - 1).equals(reference.readJpeg(partial.frameCount - 1)));
    partial.close();
    await buildCompactCache(videos!.vtest, { cacheRoot, tools: tools! });
    const done = await openCompactCache(dir, { workers: 0 });
    assertSameJpegs(done, reference);
    done.close();
  });
});
