// Experiment helper (not product code): train the quality recipe through the PyTorch engine, then report its
// checkpoints against random init with the TF.js evaluation of `npm run quality` (checkpoints are interchangeable).
// usage: tsx scripts/quality-experiments/pytorch.ts run <name> '<overrides json>' [firstSteps] [maxSteps]
//          the quality recipe + overrides on the training tour through `dora train --engine pytorch` (DORA_PYTHON or
//          /usr/bin/python3): `firstSteps` steps, then resumed to `maxSteps` (default: the schedule's end)
//        tsx scripts/quality-experiments/pytorch.ts report <sidecar.json>... [--tracking]
//          k-NN on synthetic objects (and tracking) of the evaluation tour for random init and each checkpoint, the
//          quality table and the paired differences against random init (qualityReport.ts)
import { spawnSync } from 'node:child_process';
import { basename, join, relative } from 'node:path';
import { writeConfigFile } from '../../src/core/node/configFile';
import { configFromPreset } from '../../src/core/presets';
import type { KnnResult, TrackingResult } from '../../src/core/evalResults';
import { initBackend } from '../../src/trainer/backend';
import { configFromPresetOrFile, loadCheckpointEncoder, randomInitEncoder, type EvalEncoder } from '../../src/trainer/eval/encoder';
import { QUALITY_RECIPE } from '../../src/trainer/eval/quality';
import { formatComparisons, formatQualityTable, pairedDifference, type QualityRow } from '../../src/trainer/eval/qualityReport';
import { runEvaluation } from '../../src/trainer/eval/runEval';
import { CACHE, E, merge, record, tours } from './common';

/** `dora train <config> --engine pytorch` (the CLI front door: run folder, config.json, frame cache, then the engine). */
function train(args: string[]): number | null {
  const python = process.env.DORA_PYTHON ?? '/usr/bin/python3';
  const all = ['dist/cli.js', 'train', ...args, '--engine', 'pytorch', '--python', python, '--cache-dir', CACHE];
  console.log(`node ${all.join(' ')}`);
  return spawnSync(process.execPath, all, { stdio: 'inherit' }).status;
}

async function run(name: string, ov: string, firstSteps?: number, steps?: number): Promise<void> {
  const video = await tours();
  const overrides = merge(
    merge(QUALITY_RECIPE.overrides, {
      data: { video: relative(E, video.train) },
      runtime: { runsDir: 'runs', snapshotEvery: 1_000_000, keepCheckpoints: 20 },
    }),
    JSON.parse(ov),
  );
  const configPath = join(E, `cfg-${name}.dora.json`);
  await writeConfigFile(configPath, configFromPreset(QUALITY_RECIPE.preset, overrides as never, { expand: true, name }));
  const runDir = join(E, 'runs', `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${name}`);
  const t0 = performance.now();
  // First a short leg (its last checkpoint is a near-init teacher of the same engine), then on to `steps` or the end.
  const first = firstSteps || steps;
  let exit = train([configPath, '--run-dir', runDir, ...(first ? ['--max-steps', String(first)] : [])]);
  if (exit === 0 && firstSteps) exit = train(['--resume', 'latest', '--run-dir', runDir, ...(steps ? ['--max-steps', String(steps)] : [])]);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`${name}: exit ${exit} after ${seconds.toFixed(0)} s → ${runDir}`);
  record({ what: name, engine: 'pytorch', overrides: JSON.parse(ov), steps, trainSeconds: seconds, runDir, exit });
}

async function row(encoder: EvalEncoder, model: string, video: string, tracking: boolean): Promise<QualityRow> {
  const common = { video, cacheRoot: CACHE };
  const knnSynthetic = (await runEvaluation(encoder, { suite: 'knn', dataset: 'synthetic', ...common })).record.result as KnnResult;
  const track = tracking ? ((await runEvaluation(encoder, { suite: 'tracking', ...common })).record.result as TrackingResult) : undefined;
  const steps = encoder.sidecar?.step ?? null;
  return {
    model,
    trainSeconds: null,
    steps,
    checkpoint: encoder.sidecarPath ?? null,
    knnSynthetic,
    knnFashionMnist: { skipped: '' },
    tracking: track,
  };
}

async function report(sidecars: string[], tracking: boolean): Promise<void> {
  await initBackend('wasm');
  const { eval: video, train } = await tours();
  const random = randomInitEncoder(await configFromPresetOrFile(QUALITY_RECIPE.preset, train));
  const rows = [await row(random, 'random init', video, tracking)];
  random.dispose();
  for (const sidecar of sidecars) {
    const encoder = await loadCheckpointEncoder(sidecar);
    const run = basename(join(sidecar, '..', '..')).replace(/^\d{8}T\d{6}-/, '');
    rows.push(await row(encoder, `${run} @${encoder.sidecar!.step}`, video, tracking));
    encoder.dispose();
  }
  const k20 = (r: QualityRow) => r.knnSynthetic.scores.find((s) => s.k === 20)!.top1Folds ?? [];
  const diffs = rows.slice(1).flatMap((r) => {
    const out = [pairedDifference('k-NN synthetic top-1 (k=20, %)', r.model, 'random init', k20(r), k20(rows[0]))];
    if (r.tracking && rows[0].tracking) {
      const clips = (x: QualityRow) => x.tracking!.propagation.clipJAndF ?? [];
      out.push(pairedDifference('J&F', r.model, 'random init', clips(r), clips(rows[0])));
    }
    return out;
  });
  console.log([formatQualityTable(rows), '', formatComparisons(diffs)].join('\n'));
  for (const r of rows) record({ what: `pytorch report: ${r.model}`, checkpoint: r.checkpoint, knn: r.knnSynthetic, tracking: r.tracking });
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'run') await run(rest[0], rest[1] ?? '{}', ...rest.slice(2, 4).map(Number));
  else if (command === 'report')
    await report(
      rest.filter((a) => a !== '--tracking'),
      rest.includes('--tracking'),
    );
  else throw new Error('usage: pytorch.ts run <name> <overrides> [maxSteps] | report <sidecar.json>... [--tracking]');
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
