// Experiment helper (not product code): train a preset with overrides on the training tour for a step budget, then
// evaluate the teacher of every checkpoint (k-NN; k-NN + tracking for the last one).
// usage: tsx scripts/quality-experiments/train.ts <name> <preset> '<overrides json>' [maxSteps] [suites of the last]
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { configFromPreset } from '../../src/core/presets';
import { writeConfigFile } from '../../src/core/node/configFile';
import type { PresetName } from '../../src/core/config';
import { initBackend } from '../../src/trainer/backend';
import { runTraining } from '../../src/trainer/run/train';
import { loadCheckpointEncoder } from '../../src/trainer/eval/encoder';
import { CACHE, E, merge, record, tours } from './common';
import { evaluate, summary, type Suite } from './evaluate';

async function main() {
  const [name, preset, ov = '{}', stepsArg, lastSuites = 'knn,tracking'] = process.argv.slice(2);
  await initBackend('wasm');
  const video = await tours();
  const overrides = merge(
    {
      data: { video: relative(E, video.train) },
      runtime: { runsDir: 'runs', backend: 'wasm', snapshotEvery: 1_000_000, keepCheckpoints: 20 },
    },
    JSON.parse(ov),
  );
  const configPath = join(E, `cfg-${name}.dora.json`);
  await writeConfigFile(configPath, configFromPreset(preset as PresetName, overrides as never, { expand: true, name }));
  const t0 = performance.now();
  const r = await runTraining({ configPath, cacheRoot: CACHE, maxSteps: stepsArg ? Number(stepsArg) : undefined, backend: 'wasm' });
  if (r.reason === 'failed') throw new Error(r.message);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`${name}: trained ${r.step} steps in ${seconds.toFixed(0)} s (${(r.step / seconds).toFixed(2)} steps/s) → ${r.runDir}`);
  const metrics = readFileSync(join(r.runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const every = Math.max(1, Math.floor(metrics.length / 12));
  console.log(
    metrics
      .filter((_, i) => i % every === 0 || i === metrics.length - 1)
      .map((m) => `${m.step}:L${m.loss.toFixed(2)} H${m.teacherEntropy.toFixed(2)} Hb${m.teacherBatchEntropy.toFixed(2)}`)
      .join(' '),
  );
  const cks = readdirSync(join(r.runDir, 'checkpoints'))
    .filter((f) => /^step-\d+\.json$/.test(f))
    .sort();
  for (const f of cks) {
    const last = f === cks[cks.length - 1];
    const enc = await loadCheckpointEncoder(join(r.runDir, 'checkpoints', f));
    const result = await evaluate(enc, video.eval, last ? (lastSuites.split(',') as Suite[]) : ['knn']);
    record({ what: name, preset, overrides: JSON.parse(ov), checkpoint: f, steps: r.step, trainSeconds: seconds, ...result });
    console.log(`${name} ${f}: ${summary(result)}`);
    enc.dispose();
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
