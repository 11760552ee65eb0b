/**
 * `npm run quality`: does DoRA's tracking-based masking help, at demo scale, over plain DINO on the same frames?
 * Trains from the SAME initialisation (seed), for the same steps, on the same clips and augmentations of the synthetic
 * walking tour:
 *   (i)  DoRA: the tracker masks the student's global views (dora.tracker true);
 *   (ii) DINO baseline: the student sees the unmasked global crop (dora.tracker false);
 * keeps (iii) the random-init encoder both started from, and evaluates all three with DINO's weighted k-NN on
 * synthetic object crops and on Fashion-MNIST, and with label-propagation J&F (plus the DoRA tracker's IoU) on frames
 * of the tour the runs did not train on. A last row runs the same k-NN on raw pixels (no network) as a reference.
 * Prints a table and writes it as JSON. docs/quality-investigation.md explains the numbers at this scale.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { configFromPreset } from '../../core/presets';
import { writeConfigFile } from '../../core/node/configFile';
import { initBackend, type BackendName } from '../backend';
import { ensureDemoVideo } from '../data/syntheticVideo';
import { runTraining } from '../run/train';
import { configFromPresetOrFile, loadCheckpointEncoder, randomInitEncoder, type EvalEncoder } from './encoder';
import { defaultFashionMnistDir, packageRoot, runEvaluation, type KnnResult, type TrackingResult } from './runEval';
import { hasFashionMnist } from './fashionMnist';
import { checkpointPaths } from '../../core/node/runPaths';

export interface QualityOptions {
  steps?: number;
  backend?: BackendName;
  /** Work folder (video, frame cache, runs); default <package>/.cache/quality. */
  dir?: string;
  /** Results file; default <package>/quality-results.json. */
  out?: string;
  log?: (line: string) => void;
}

interface ModelRow {
  model: string;
  trainSeconds: number | null;
  checkpoint: string | null;
  knnSynthetic: KnnResult;
  knnFashionMnist: KnnResult | { skipped: string };
  tracking: TrackingResult;
}

/** k-NN on raw pixels of the same images: how much the evaluation rewards colour and texture alone. */
interface PixelReference {
  knnSynthetic: KnnResult;
  knnFashionMnist: KnnResult | { skipped: string };
}

export interface QualityResults {
  benchmark: 'dora-studio quality';
  preset: 'demo';
  steps: number;
  seed: number;
  backend: string;
  video: string;
  time: string;
  totalSeconds: number;
  rows: ModelRow[];
  rawPixels: PixelReference;
  table: string;
}

/** Fetches Fashion-MNIST with scripts/fetch-fashion-mnist.sh when it is missing; returns why not when that fails. */
function ensureFashionMnist(dir: string, log: (line: string) => void): string | undefined {
  if (hasFashionMnist(dir)) return undefined;
  log(`fetching Fashion-MNIST into ${dir} (scripts/fetch-fashion-mnist.sh)`);
  const r = spawnSync('bash', [join(packageRoot(), 'scripts', 'fetch-fashion-mnist.sh'), dir], { encoding: 'utf8' });
  return hasFashionMnist(dir)
    ? undefined
    : `fetch-fashion-mnist.sh failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-2).join(' ')}`;
}

const pct = (x: number) => x.toFixed(1).padStart(5);
const top1 = (r: KnnResult, k: number) => r.scores.find((s) => s.k === k)!.top1;
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '  n/a');

type TableRow = Pick<ModelRow, 'model' | 'knnSynthetic' | 'knnFashionMnist'> & { tracking?: TrackingResult };

/** `top-1 at k 10 / 20 / 100 / 200 (top-5 at k 20)` of a k-NN result. */
function fashionMnistCell(result: KnnResult): string {
  const top1s = [10, 20, 100, 200].map((k) => pct(top1(result, k))).join(' /');
  return `${top1s} (${pct(result.scores.find((s) => s.k === 20)!.top5)})`;
}

export function formatQualityTable(rows: readonly TableRow[]): string {
  const lines = [
    '| model       | kNN synthetic top-1 k=10 / 20 / 100 / 200 | kNN Fashion-MNIST top-1 k=10 / 20 / 100 / 200 (top-5 ' +
      'k=20) | J&F   | J     | F     | tracker IoU (anchor / later) |',
    '|-------------|-------------------------------------------|------------------------------------------------------' +
      '------|-------|-------|-------|------------------------------|',
  ];
  for (const r of rows) {
    const synth = [10, 20, 100, 200].map((k) => pct(top1(r.knnSynthetic, k))).join(' /');
    const fm = 'skipped' in r.knnFashionMnist ? 'skipped'.padEnd(58) : fashionMnistCell(r.knnFashionMnist).padEnd(58);
    if (!r.tracking) {
      lines.push(
        `| ${r.model.padEnd(11)} | ${synth.padEnd(41)} | ${fm} | ${'—'.padEnd(5)} | ${'—'.padEnd(5)} ` +
          `| ${'—'.padEnd(5)} | ${'—'.padEnd(28)} |`,
      );
      continue;
    }
    const p = r.tracking.propagation;
    const t = r.tracking.tracker;
    const tracker = `${num(t.iouByOffset[0])} / ${num(t.meanIoU)}`.padEnd(28);
    lines.push(
      `| ${r.model.padEnd(11)} | ${synth.padEnd(41)} | ${fm} | ${num(p.jAndFMean)} | ${num(p.jMean)} | ${num(p.fMean)} | ${tracker} |`,
    );
  }
  return lines.join('\n');
}

async function evaluateModel(
  encoder: EvalEncoder,
  model: string,
  trainSeconds: number | null,
  video: string,
  cacheRoot: string,
  fashionDir: string,
  fashionSkipped: string | undefined,
  log: (line: string) => void,
): Promise<ModelRow> {
  const common = { video, cacheRoot };
  log(`${model}: k-NN on synthetic object crops`);
  const knnSynthetic = (await runEvaluation(encoder, { suite: 'knn', dataset: 'synthetic', ...common })).record.result as KnnResult;
  let knnFashionMnist: ModelRow['knnFashionMnist'] = { skipped: fashionSkipped ?? '' };
  if (!fashionSkipped) {
    log(`${model}: k-NN on Fashion-MNIST`);
    knnFashionMnist = (await runEvaluation(encoder, { suite: 'knn', dataset: 'fashion-mnist', fashionMnistDir: fashionDir, ...common }))
      .record.result as KnnResult;
  }
  log(`${model}: tracking (label propagation J&F, DoRA tracker IoU)`);
  const tracking = (await runEvaluation(encoder, { suite: 'tracking', ...common })).record.result as TrackingResult;
  return { model, trainSeconds, checkpoint: encoder.sidecarPath ?? null, knnSynthetic, knnFashionMnist, tracking };
}

/** Trains one variant of the demo preset (DoRA with the tracker, DINO without) for `steps` steps; its last checkpoint. */
async function trainVariant(
  variant: { model: string; tracker: boolean },
  o: { dir: string; video: string; cacheRoot: string; steps: number; backend: BackendName; log: (line: string) => void },
): Promise<{ sidecar: string; trainSeconds: number }> {
  const name = `quality-${variant.model.toLowerCase()}`;
  const configPath = join(o.dir, `${name}.dora.json`);
  const runtime = { runsDir: 'runs', backend: o.backend, checkpointEvery: o.steps, snapshotEvery: 1_000_000, keepCheckpoints: 1 };
  const overrides = { data: { video: relative(o.dir, o.video) }, dora: { tracker: variant.tracker }, runtime };
  await writeConfigFile(configPath, configFromPreset('demo', overrides, { expand: true, name }));
  o.log(`${variant.model}: training ${o.steps} steps (dora.tracker ${variant.tracker})`);
  const t0 = performance.now();
  const trained = await runTraining({ configPath, cacheRoot: o.cacheRoot, maxSteps: o.steps, backend: o.backend });
  const trainSeconds = (performance.now() - t0) / 1000;
  if (trained.reason === 'failed') throw new Error(`${variant.model} training failed: ${trained.message}`);
  return { sidecar: checkpointPaths(trained.runDir, trained.step).sidecar, trainSeconds };
}

export async function runQualityBenchmark(options: QualityOptions = {}): Promise<QualityResults> {
  const log = options.log ?? ((line: string) => console.error(line));
  const started = performance.now();
  const root = packageRoot();
  const dir = options.dir ?? join(root, '.cache', 'quality');
  const cacheRoot = join(dir, 'frame-cache');
  mkdirSync(dir, { recursive: true });
  const backend = options.backend ?? 'wasm';
  const report = await initBackend(backend);
  const video = await ensureDemoVideo(join(dir, 'media'));
  log(`video: ${relative(process.cwd(), video.video)} (${video.frameCount} frames); backend ${report.active}`);
  const fashionDir = defaultFashionMnistDir();
  const fashionSkipped = ensureFashionMnist(fashionDir, log);
  if (fashionSkipped) log(`Fashion-MNIST skipped: ${fashionSkipped}`);

  const base = await configFromPresetOrFile('demo', video.video);
  const steps =
    options.steps ??
    base.training.epochs *
      Math.floor(
        (Math.min(base.data.maxFrames ?? video.frameCount, video.frameCount) - base.data.framesPerClip * base.data.stride) /
          base.training.batchClips,
      );
  const rows: ModelRow[] = [];
  for (const variant of [
    { model: 'DoRA', tracker: true },
    { model: 'DINO', tracker: false },
  ]) {
    const { sidecar, trainSeconds } = await trainVariant(variant, {
      dir,
      video: video.video,
      cacheRoot,
      steps,
      backend: report.active,
      log,
    });
    const encoder = await loadCheckpointEncoder(sidecar);
    try {
      rows.push(await evaluateModel(encoder, variant.model, trainSeconds, video.video, cacheRoot, fashionDir, fashionSkipped, log));
    } finally {
      encoder.dispose();
    }
  }
  const random = randomInitEncoder(base);
  let rawPixels: PixelReference;
  try {
    rows.push(await evaluateModel(random, 'random-init', null, video.video, cacheRoot, fashionDir, fashionSkipped, log));
    // The same k-NN images without any network: the score that colour and texture alone reach.
    log('raw pixels: k-NN on the same images');
    const common = { video: video.video, cacheRoot, rawPixels: true };
    rawPixels = {
      knnSynthetic: (await runEvaluation(random, { suite: 'knn', dataset: 'synthetic', ...common })).record.result as KnnResult,
      knnFashionMnist: fashionSkipped
        ? { skipped: fashionSkipped }
        : ((await runEvaluation(random, { suite: 'knn', dataset: 'fashion-mnist', fashionMnistDir: fashionDir, ...common })).record
            .result as KnnResult),
    };
  } finally {
    random.dispose();
  }
  const table = formatQualityTable([...rows, { model: 'raw pixels', ...rawPixels }]);
  const results: QualityResults = {
    benchmark: 'dora-studio quality',
    preset: 'demo',
    steps,
    seed: base.training.seed,
    backend: report.active,
    video: video.video,
    time: new Date().toISOString(),
    totalSeconds: (performance.now() - started) / 1000,
    rows,
    rawPixels,
    table,
  };
  writeFileSync(options.out ?? join(root, 'quality-results.json'), `${JSON.stringify(results, null, 1)}\n`);
  return results;
}
