// Truncated and variable-frame-rate videos: what the decode reveals is recorded in the cache index and worded as warnings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFrameCache } from '../../../src/trainer/data/frameCache/build';
import { isTruncated, summarizeFfmpegDiagnostics, videoIntegrityWarnings } from '../../../src/trainer/data/videoIntegrity';
import { truncatedVideo, variableRateVideo } from './brokenVideos';

const work = mkdtempSync(join(tmpdir(), 'dora-integrity-'));

test("ffmpeg's diagnostics are summarised without addresses and offsets, most frequent first", () => {
  const stderr = [
    '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x562a4e82fbc0] stream 0, offset 0x21f14: partial file',
    '[h264 @ 0x562a4e87fb40] Invalid NAL unit size (1447 > 988).',
    '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x562a4e82fbc0] stream 0, offset 0x22369: partial file',
    'Error while decoding stream #0:0: Invalid data found when processing input',
  ].join('\n');
  assert.deepEqual(summarizeFfmpegDiagnostics(stderr), [
    'partial file (×2)',
    'Invalid NAL unit size (1447 > 988).',
    'Error while decoding stream #0:0: Invalid data found when processing input',
  ]);
});

test('a truncated mp4 is cached with what decodes, and reported: decoded vs listed frames, and "partial file"', async () => {
  const video = truncatedVideo(work);
  const cache = await buildFrameCache(video, { cacheRoot: join(work, 'cache'), shortSide: 64 });
  try {
    assert.ok(cache.frameCount > 0 && cache.frameCount < 120, `decoded ${cache.frameCount}`);
    assert.equal(cache.index.probe.frameCount, 120);
    assert.ok(isTruncated(cache.index));
    assert.ok(cache.index.decodeDiagnostics?.some((d) => /partial file/.test(d)));
    const [warning] = videoIntegrityWarnings(cache.index);
    assert.match(
      warning,
      new RegExp(
        `truncated\\.mp4" looks truncated: ffmpeg decoded ${cache.frameCount} of the 120 frames its container lists; ` +
          'ffmpeg said: .*partial file',
      ),
    );
    assert.match(warning, /Training uses the \d+ decoded frames\. Fix: re-download or re-copy the file/);
  } finally {
    cache.close();
  }
  // Reopening the finished cache reports the same (it is in index.json).
  const again = await buildFrameCache(video, { cacheRoot: join(work, 'cache'), shortSide: 64 });
  assert.ok(isTruncated(again.index));
  again.close();
});

test('a variable-frame-rate video is reported; a complete constant-rate one is not', async () => {
  const vfr = await buildFrameCache(variableRateVideo(work), { cacheRoot: join(work, 'cache'), shortSide: 64 });
  try {
    const warnings = videoIntegrityWarnings(vfr.index);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /vfr\.mp4" has a variable frame rate \(average [\d.]+ fps\): frames are used in decode order/);
  } finally {
    vfr.close();
  }
  const plain = join(work, 'plain.mp4');
  const r = spawnSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=160x96:r=15:d=2',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    plain,
  ]);
  assert.equal(r.status, 0, String(r.stderr));
  const ok = await buildFrameCache(plain, { cacheRoot: join(work, 'cache'), shortSide: 64 });
  assert.deepEqual(videoIntegrityWarnings(ok.index), []);
  ok.close();
});
