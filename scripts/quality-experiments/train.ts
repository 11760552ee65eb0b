// Experiment helper (not product code): train the demo preset with overrides, then k-NN every checkpoint's teacher.
// usage: tsx scripts/quality-experiments/train.ts <name> '<overrides json>' [maxSteps]
import { join, relative, resolve } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { configFromPreset } from '../../src/core/presets';
import { writeConfigFile } from '../../src/core/node/configFile';
import { initBackend } from '../../src/trainer/backend';
import { runTraining } from '../../src/trainer/run/train';
import { loadCheckpointEncoder } from '../../src/trainer/eval/encoder';
import { runEvaluation, type KnnResult } from '../../src/trainer/eval/runEval';

// Work folder with media/demo-walking-tour.mp4 (+ .json) and a frame cache; runs go to <E>/runs.
const E = resolve(process.env.QUALITY_EXP_DIR ?? '.cache/exp');
type Json = Record<string, unknown>;
function merge(a: unknown, b: unknown): unknown {
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return b;
  const o: Json = { ...((a ?? {}) as Json) };
  for (const k of Object.keys(b)) o[k] = merge(o[k], (b as Json)[k]);
  return o;
}
async function main() {
  const [name, ov = '{}', stepsArg] = process.argv.slice(2);
  await initBackend('wasm');
  const overrides = merge(
    {
      data: { video: relative(E, `${E}/media/demo-walking-tour.mp4`) },
      runtime: { runsDir: 'runs', backend: 'wasm', snapshotEvery: 1_000_000, keepCheckpoints: 10 },
    },
    JSON.parse(ov),
  );
  const configPath = join(E, `cfg-${name}.dora.json`);
  await writeConfigFile(configPath, configFromPreset('demo', overrides as Parameters<typeof configFromPreset>[1], { expand: true, name }));
  const t0 = performance.now();
  const r = await runTraining({
    configPath,
    cacheRoot: `${E}/frame-cache`,
    maxSteps: stepsArg ? Number(stepsArg) : undefined,
    backend: 'wasm',
  });
  if (r.reason === 'failed') throw new Error(r.message);
  console.log(`${name}: trained ${r.step} steps in ${((performance.now() - t0) / 1000).toFixed(0)} s → ${r.runDir}`);
  const metrics = readFileSync(join(r.runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const pick = metrics.filter((_, i) => i % 20 === 0 || i === metrics.length - 1);
  console.log(
    pick.map((m) => `${m.step}:L${m.loss.toFixed(2)} H${m.teacherEntropy.toFixed(2)} Hb${m.teacherBatchEntropy.toFixed(2)}`).join(' '),
  );
  const cks = readdirSync(join(r.runDir, 'checkpoints'))
    .filter((f) => /^step-\d+\.json$/.test(f))
    .sort();
  for (const f of cks) {
    const enc = await loadCheckpointEncoder(join(r.runDir, 'checkpoints', f));
    const last = f === cks[cks.length - 1];
    const out: string[] = [];
    for (const d of last ? ['synthetic', 'fashion-mnist'] : ['synthetic']) {
      const res = (
        await runEvaluation(enc, { suite: 'knn', dataset: d, video: `${E}/media/demo-walking-tour.mp4`, cacheRoot: `${E}/frame-cache` })
      ).record.result as KnnResult;
      out.push(`${d}: ${res.scores.map((s) => s.top1.toFixed(1)).join('/')}`);
    }
    console.log(`${name} ${f} teacher ${out.join('  |  ')}`);
    enc.dispose();
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
