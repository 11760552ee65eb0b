// The raw-pixel reference of `npm run quality`: the same k-NN, on normalised pixels instead of network features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng } from '../../../src/trainer/data/png';
import { initBackend } from '../../../src/trainer/backend';
import { configFromPresetOrFile, randomInitEncoder } from '../../../src/trainer/eval/encoder';
import { runEvaluation, type KnnResult } from '../../../src/trainer/eval/runEval';
import { tinyConfig, writeConfig } from '../helpers';

test('k-NN on raw pixels separates flat colours perfectly and is recorded as pixel features', async () => {
  const work = mkdtempSync(join(tmpdir(), 'dora-raw-pixels-'));
  const root = join(work, 'folder');
  const colours: Record<string, [number, number, number]> = { red: [220, 30, 30], green: [30, 200, 40], blue: [30, 30, 220] };
  for (const split of ['train', 'val']) {
    for (const [name, rgb] of Object.entries(colours)) {
      mkdirSync(join(root, split, name), { recursive: true });
      for (let i = 0; i < 4; i++) {
        const data = new Uint8Array(16 * 16 * 3);
        for (let p = 0; p < 16 * 16; p++)
          data.set(
            rgb.map((v) => Math.max(0, Math.min(255, v + 7 * i - (p % 5)))),
            p * 3,
          );
        writeFileSync(join(root, split, name, `${i}.png`), encodePng({ width: 16, height: 16, channels: 3, data }));
      }
    }
  }
  await initBackend('cpu');
  const encoder = randomInitEncoder(await configFromPresetOrFile(writeConfig(join(work, 'cfg'), 'tiny', tinyConfig('unused.mp4'))));
  // Without weights the network cannot run: the pixel reference must not need it.
  encoder.dispose();
  const outcome = await runEvaluation(encoder, { suite: 'knn', dataset: root, rawPixels: true });
  const result = outcome.record.result as KnnResult;
  assert.deepEqual(result.classes, ['blue', 'green', 'red']);
  assert.ok(
    result.scores.every((s) => s.top1 === 100),
    JSON.stringify(result.scores),
  );
  assert.match((outcome.record.settings as { features: string }).features, /raw normalised pixels/);
  await assert.rejects(runEvaluation(encoder, { suite: 'knn', dataset: root }), 'the network path does use the (disposed) weights');
});
