import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatDuration, progressLine, runCacheCommand } from '../../../../src/trainer/data/cacheJob';
import type { FrameBuildProgress } from '../../../../src/trainer/data/prepareFrames';
import { ffmpegOrSkip, makeTempDir, testVideosOrSkip } from '../helpers';

const { skip: noFfmpeg } = ffmpegOrSkip();
const { videos, skip: noVideos } = testVideosOrSkip();
const temp = makeTempDir('cache-cli');
after(temp.cleanup);

test('the progress line shows frames, throughput, ETA and sizes so far → projected vs RGB24', () => {
  const p: FrameBuildProgress = {
    phase: 'encode',
    framesDone: 1234,
    totalFrames: 5000,
    framesPerSecond: 31.25,
    etaSeconds: 121,
    cacheBytes: 40e6,
    projectedBytes: 162e6,
    rawBytes: 2.7e9,
  };
  assert.equal(progressLine(p), '1234/5000 frames (24.7%) · 31.3 frames/s · ETA 2:01 · 40.0 MB → ≈ 162 MB (RGB24 2.7 GB)');
  assert.equal(formatDuration(3 * 3600 + 5), '3:00:05');
  assert.equal(progressLine({ ...p, etaSeconds: NaN }).includes('ETA …'), true);
});

test(
  'dora cache on a video: built, then found complete; the report gives sizes before → after',
  { skip: noFfmpeg || noVideos },
  async () => {
    const plans: string[] = [];
    const progress: FrameBuildProgress[] = [];
    const cacheRoot = join(temp.dir, 'frames');
    const first = await runCacheCommand({
      target: videos!.vtest,
      cacheRoot,
      shortSide: 96,
      onPlan: (s) => plans.push(s),
      onProgress: (p) => progress.push(p),
    });
    assert.match(plans[0], /^Caching 795 frames of ".*vtest\.avi" \(8\.1 MB\) at 128×96: 29\.3 MB as RGB24 → ≈ 2\.9 MB as JPEG/);
    assert.equal(first.prepared.format, 'jpeg');
    assert.equal(first.prepared.alreadyComplete, false);
    assert.ok(first.framesPerSecond > 0);
    assert.match(
      first.report,
      /^Frame cache built: 795 frames at 128×96 \(jpeg\), [\d.]+ [KM]B — RGB24 would take 29\.3 MB \([\d.]+× smaller\); [\d.]+ frames\/s — /,
    );
    assert.equal(progress.at(-1)!.framesDone, 795);
    const again = await runCacheCommand({ target: videos!.vtest, cacheRoot, shortSide: 96 });
    assert.equal(again.prepared.alreadyComplete, true);
    assert.match(again.report, /^Frame cache already complete: 795 frames/);
  },
);
