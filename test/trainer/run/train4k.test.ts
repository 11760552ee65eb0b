// A 4K video trains through the TF.js engine from the compact (JPEG) frame cache: ffmpeg scales inside its pass,
// and the run reads the JPEG frames through the decode worker pool (prefetched while steps train).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readMeta } from '../../../src/trainer/data/compactCache/format';
import { runTraining } from '../../../src/trainer/run/train';
import { ffmpegOrSkip } from '../data/helpers';
import { readJsonl, tinyConfig, writeConfig } from '../helpers';

const { tools, skip } = ffmpegOrSkip();
const work = mkdtempSync(join(tmpdir(), 'dora-train-4k-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('a short 3840×2160 clip trains from the compact JPEG cache', { skip }, async () => {
  const video = join(work, 'uhd.mp4');
  const made = spawnSync(tools!.ffmpeg, [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=3840x2160:r=30:d=1.4'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', video],
  ]);
  assert.equal(made.status, 0, made.stderr.toString());
  const cacheRoot = join(work, 'frames');
  const config = writeConfig(
    join(work, 'cfg'),
    'uhd',
    tinyConfig(video, { data: { frameCache: { shortSide: 64, format: 'jpeg' }, maxFrames: 42 }, runtime: { backend: 'cpu' } }),
  );
  const result = await runTraining({ configPath: config, cacheRoot, maxSteps: 4 });
  assert.equal(result.reason, 'stopped', result.message);
  assert.equal(result.step, 4);
  const [dir] = readdirSync(cacheRoot);
  const meta = readMeta(join(cacheRoot, dir))!;
  assert.equal(meta.format, 'jpeg');
  assert.deepEqual([meta.width, meta.height, meta.completedFrames, meta.complete], [114, 64, 42, true]);
  const log = readFileSync(join(result.runDir, 'trainer.log'), 'utf8');
  assert.match(log, /frame cache format jpeg: data\.frameCache\.format is "jpeg"/);
  assert.match(log, /frames: jpeg cache, 42 frames/);
  const losses = readJsonl(join(result.runDir, 'metrics.jsonl')).map((r) => r.loss as number);
  assert.equal(losses.length, 4);
  assert.ok(losses.every(Number.isFinite), `losses ${losses.join(', ')}`);
});
