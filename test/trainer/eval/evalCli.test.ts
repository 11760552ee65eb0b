// `dora eval` end to end on a tiny model: a 3-step run on a tiny synthetic tour (checkpoint + cached sidecar), and a
// random-init encoder on a hand-made image folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, tinyConfig, tinySyntheticVideo, writeConfig } from '../helpers';
import { runTraining } from '../../../src/trainer/run/train';
import { encodePng } from '../../../src/trainer/data/png';

const work = mkdtempSync(join(tmpdir(), 'dora-eval-cli-'));
const cacheRoot = join(work, 'frame-cache');

test('eval of a checkpoint: tracking, k-NN on object crops and attention maps, cached in step-NNNNNN.eval.json', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(
    join(work, 'run'),
    'tiny',
    tinyConfig(video, { runtime: { backend: 'cpu' }, data: { frameCache: { dir: cacheRoot } } }),
  );
  const run = await runTraining({ configPath: config, cacheRoot, maxSteps: 3 });
  const checkpoint = join(run.runDir, 'checkpoints', 'step-000003.json');
  assert.ok(existsSync(checkpoint));

  const tracking = runCli(['eval', checkpoint, '--suite', 'tracking', '--backend', 'cpu']);
  assert.equal(tracking.code, 0, tracking.out);
  const first = JSON.parse(tracking.out.slice(tracking.out.indexOf('{'))) as {
    cached: boolean;
    result: { propagation: { jAndFMean: number; sequences: number }; tracker: { iouByOffset: number[] } };
  };
  assert.equal(first.cached, false);
  assert.ok(first.result.propagation.sequences > 0);
  assert.ok(first.result.propagation.jAndFMean >= 0 && first.result.propagation.jAndFMean <= 1);
  assert.equal(first.result.tracker.iouByOffset.length, 2); // the tiny config's 2-frame clips
  const again = runCli(['eval', checkpoint, '--suite', 'tracking', '--backend', 'cpu']);
  assert.equal((JSON.parse(again.out.slice(again.out.indexOf('{'))) as { cached: boolean }).cached, true);

  const knn = runCli(['eval', checkpoint, '--suite', 'knn', '--dataset', 'synthetic', '--backend', 'cpu']);
  assert.equal(knn.code, 0, knn.out);
  const knnResult = JSON.parse(knn.out.slice(knn.out.indexOf('{'))) as {
    result: { scores: { k: number; top1: number }[]; classes: string[] };
  };
  assert.deepEqual(
    knnResult.result.scores.map((s) => s.k),
    [10, 20, 100, 200],
  );
  assert.deepEqual(knnResult.result.classes, ['background', 'A', 'B', 'C', 'D']);

  const attention = runCli(['eval', checkpoint, '--suite', 'attention', '--frames', '41,50', '--backend', 'cpu']);
  assert.equal(attention.code, 0, attention.out);
  const dir = join(run.runDir, 'checkpoints', 'step-000003.attention');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    attention: { shape: number[] };
    frames: { index: number; png: string }[];
  };
  assert.deepEqual(manifest.attention.shape, [2, 3, 4, 4]); // frames, heads, grid (32 px / patch 8)
  assert.equal(statSync(join(dir, 'attention.f32')).size, 2 * 3 * 4 * 4 * 4);
  assert.deepEqual(
    manifest.frames.map((f) => f.index),
    [41, 50],
  );

  const sidecar = JSON.parse(readFileSync(join(run.runDir, 'checkpoints', 'step-000003.eval.json'), 'utf8')) as {
    results: Record<string, unknown>;
  };
  assert.equal(Object.keys(sidecar.results).length, 3);
});

test('eval of a random-init encoder on an image folder (train/ and val/ class folders, PNG)', () => {
  const root = join(work, 'folder');
  const colours: Record<string, [number, number, number]> = { red: [220, 30, 30], blue: [30, 30, 220] };
  for (const split of ['train', 'val']) {
    for (const [name, rgb] of Object.entries(colours)) {
      mkdirSync(join(root, split, name), { recursive: true });
      for (let i = 0; i < 3; i++) {
        const data = new Uint8Array(20 * 12 * 3);
        for (let p = 0; p < 20 * 12; p++)
          data.set(
            rgb.map((v) => Math.max(0, Math.min(255, v + 10 * i - (p % 7)))),
            p * 3,
          );
        writeFileSync(join(root, split, name, `${i}.png`), encodePng({ width: 20, height: 12, channels: 3, data }));
      }
    }
  }
  const config = writeConfig(join(work, 'random'), 'tiny', tinyConfig('unused.mp4'));
  const r = runCli(['eval', '--random-init', '--config', config, '--suite', 'knn', '--dataset', root, '--backend', 'cpu']);
  assert.equal(r.code, 0, r.out);
  const out = JSON.parse(r.out.slice(r.out.indexOf('{'))) as {
    model: string;
    cached: boolean;
    result: { numTrain: number; numTest: number; classes: string[]; scores: { kUsed: number }[] };
  };
  assert.equal(out.model, 'random-init(seed 0)');
  assert.deepEqual(out.result.classes, ['blue', 'red']);
  assert.equal(out.result.numTrain, 6);
  assert.equal(out.result.numTest, 6);
  assert.ok(out.result.scores.every((s) => s.kUsed === 6));
});
