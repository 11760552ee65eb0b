/**
 * `npm run quality`: does DoRA learn object features from one video, and does its tracking-based masking help over
 * plain DINO on the same frames? Self-contained (re-run it on a quiet machine; it generates what it needs):
 *  1. two synthetic walking tours (syntheticVideo.ts): one to TRAIN on, and a separate one (another seed: other scenes,
 *     instances, colours) to EVALUATE on, so no evaluated instance was ever seen in training;
 *  2. trains, from the SAME initialisation, for the same steps on the same clips and augmentations,
 *     (i) DoRA (dora.tracker true) and (ii) the DINO baseline (the student sees the unmasked global crop);
 *  3. evaluates both teachers, (iii) the random-init encoder they started from, and (iv) raw pixels (no network):
 *     DINO weighted k-NN on object crops of the evaluation tour (classes = shape and part structure, colours random)
 *     and on Fashion-MNIST; label-propagation J&F and DoRA-tracker IoU on evaluation-tour clips; the tracker IoU of
 *     the DoRA run's intermediate checkpoints (does tracking improve with training?);
 *  4. prints the table with standard errors and the paired differences (qualityReport.ts defines them) and writes it
 *     all as JSON (quality-results.json). docs/quality-investigation.md records how the recipe was chosen.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { ConfigOverrides, PresetName } from '../../core/config';
import { configFromPreset } from '../../core/presets';
import { writeConfigFile } from '../../core/node/configFile';
import { listCheckpoints } from '../../core/node/runDir';
import { initBackend, type BackendName } from '../backend';
import { resolveFfmpeg } from '../data/ffmpeg/tools';
import { frameCacheSettings } from '../data/prepareFrames';
import { ensureDemoVideo, OBJECT_CLASSES, type SyntheticVideoOptions } from '../data/syntheticVideo';
import { runTraining } from '../run/train';
import { configFromPresetOrFile, loadCheckpointEncoder, randomInitEncoder, type EvalEncoder } from './encoder';
import { hasFashionMnist } from './fashionMnist';
import {
  formatComparisons,
  formatQualityTable,
  qualityComparisons,
  qualityVerdict,
  type PairedDifference,
  type QualityRow,
} from './qualityReport';
import {
  defaultFashionMnistDir,
  evaluationFrameRange,
  packageRoot,
  runEvaluation,
  trackingSettings,
  type KnnResult,
  type TrackingResult,
} from './runEval';
import { longestSceneFrames, openTourFrames } from './syntheticTour';
import { doraTrackerScores } from './tracking';

export { formatQualityTable };

/** The tours: 160 s (≈ 40 scenes, 160 object instances) to train on, 120 s of other scenes to evaluate on. */
export const QUALITY_TOURS: Record<'train' | 'eval', Required<SyntheticVideoOptions>> = {
  train: { width: 320, height: 180, fps: 30, durationSeconds: 160, seed: 42 },
  eval: { width: 320, height: 180, fps: 30, durationSeconds: 120, seed: 7 },
};

export interface QualityRecipe {
  preset: PresetName;
  overrides: ConfigOverrides;
  /** Train through `node <cli> train` child processes (so `runtime.engine` picks the engine) instead of in-process. */
  trainThroughCli?: boolean;
  /** Stops each training run after this many seconds (the run checkpoints and the newest checkpoint is evaluated). */
  trainSeconds?: number;
}

/** The recipe the benchmark trains (docs/quality-investigation.md: how it was chosen, and every variant tried). */
export const QUALITY_RECIPE: QualityRecipe = {
  preset: 'demo',
  overrides: {
    // 300 steps of 4 clips (1 epoch over the first 1232 frames); object-sized pre-crops; colour jitter strong enough
    // that colour cannot tell views apart (docs/quality-investigation.md §1.4, runs e7/e8).
    data: {
      maxFrames: 1232,
      precropScale: [0.05, 0.3],
      augment: { colorJitterProb: 1, brightness: 0.6, contrast: 0.6, saturation: 1, hue: 0.5, grayscaleProb: 0.5 },
    },
    training: { batchClips: 4, lr: 0.001, momentumTeacher: 0.99 },
  },
};

export interface QualityOptions {
  /** Stop each training run after this many steps (default: the recipe's full schedule). */
  steps?: number;
  /** Another recipe (a JSON file of a QualityRecipe, e.g. scripts/device/quality-gpu.recipe.json); default QUALITY_RECIPE. */
  recipe?: QualityRecipe;
  ffmpegPath?: string;
  backend?: BackendName;
  /** Work folder (tours, frame cache, runs); default <package>/.cache/quality. */
  dir?: string;
  /** Results file; default <package>/quality-results.json. */
  out?: string;
  log?: (line: string) => void;
}

export interface QualityResults {
  benchmark: 'dora-studio quality';
  recipe: QualityRecipe;
  tours: typeof QUALITY_TOURS;
  steps: number;
  seed: number;
  backend: string;
  time: string;
  totalSeconds: number;
  rows: QualityRow[];
  comparisons: PairedDifference[];
  /** Tracker IoU (later frames) of the DoRA run's checkpoints on the evaluation tour; step 0 is the random init. */
  trackerOverTraining: { step: number; meanIoU: number; stdErr: number }[];
  verdict: string[];
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

interface EvalContext {
  video: string;
  cacheRoot: string;
  ffmpegPath?: string;
  fashionDir: string;
  fashionSkipped: string | undefined;
  log: (line: string) => void;
}

async function evaluateModel(
  encoder: EvalEncoder,
  model: string,
  train: { seconds: number; steps: number } | null,
  ctx: EvalContext,
  rawPixels = false,
): Promise<QualityRow> {
  const common = { video: ctx.video, cacheRoot: ctx.cacheRoot, ffmpegPath: ctx.ffmpegPath, rawPixels };
  ctx.log(`${model}: k-NN on synthetic object crops`);
  const knnSynthetic = (await runEvaluation(encoder, { suite: 'knn', dataset: 'synthetic', ...common })).record.result as KnnResult;
  let knnFashionMnist: QualityRow['knnFashionMnist'] = { skipped: ctx.fashionSkipped ?? '' };
  if (!ctx.fashionSkipped) {
    ctx.log(`${model}: k-NN on Fashion-MNIST`);
    const request = { suite: 'knn', dataset: 'fashion-mnist', fashionMnistDir: ctx.fashionDir, testCount: 1000, ...common } as const;
    knnFashionMnist = (await runEvaluation(encoder, request)).record.result as KnnResult;
  }
  let tracking: TrackingResult | undefined;
  if (!rawPixels) {
    ctx.log(`${model}: tracking (label propagation J&F, DoRA tracker IoU)`);
    tracking = (await runEvaluation(encoder, { suite: 'tracking', ...common })).record.result as TrackingResult;
  }
  return {
    model,
    trainSeconds: train?.seconds ?? null,
    steps: train?.steps ?? null,
    checkpoint: encoder.sidecarPath ?? null,
    knnSynthetic,
    knnFashionMnist,
    tracking,
  };
}

interface TrainSettings {
  recipe: QualityRecipe;
  steps?: number;
  backend: string;
  cacheRoot: string;
  ffmpegPath?: string;
  log: (line: string) => void;
}

/** `node <this cli> train …` as a child process, stopped (SIGINT: checkpoint and exit) after `seconds` if given. */
async function trainThroughCli(configPath: string, runDir: string, t: TrainSettings): Promise<void> {
  const args = [process.argv[1], 'train', configPath, '--run-dir', runDir, '--cache-dir', t.cacheRoot, '--backend', t.backend];
  if (t.steps !== undefined) args.push('--max-steps', String(t.steps));
  if (t.ffmpegPath) args.push('--ffmpeg', t.ffmpegPath);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const timer = t.recipe.trainSeconds ? setTimeout(() => child.kill('SIGINT'), t.recipe.trainSeconds * 1000) : undefined;
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (timer) clearTimeout(timer);
  if (code !== 0) throw new Error(`training ${configPath} through the CLI failed (exit code ${code})`);
}

/** The checkpoint sidecars of a run folder, oldest first (listCheckpoints: complete ones whose files stay inside it). */
async function checkpointSidecars(runDir: string): Promise<string[]> {
  const sidecars = (await listCheckpoints(runDir)).map((c) => c.sidecarFile);
  if (!sidecars.length) throw new Error(`${runDir}: the run wrote no checkpoint`);
  return sidecars;
}

/** Trains one variant of the recipe; returns its newest checkpoint, steps and seconds. */
async function trainVariant(dir: string, trainVideo: string, variant: { model: string; tracker: boolean }, t: TrainSettings) {
  const name = `quality-${variant.model.toLowerCase()}`;
  const configPath = join(dir, `${name}.dora.json`);
  const { recipe } = t;
  const content = configFromPreset(
    recipe.preset,
    {
      ...recipe.overrides,
      data: { ...recipe.overrides.data, video: relative(dir, trainVideo) },
      dora: { ...recipe.overrides.dora, tracker: variant.tracker },
      runtime: { ...recipe.overrides.runtime, runsDir: 'runs', snapshotEvery: 1_000_000, keepCheckpoints: 8 },
    },
    { expand: true, name },
  );
  const total = t.steps ?? Infinity;
  // Four intermediate checkpoints for the tracker-over-training curve; the last step always gets one.
  // The DoRA run also writes dashboard snapshots (step 1 and at every checkpoint) for the before/after masks.
  const every = Math.max(1, Math.ceil((Number.isFinite(total) ? total : 300) / 4));
  content.runtime = { ...content.runtime, checkpointEvery: every, snapshotEvery: variant.tracker ? every : 1_000_000 };
  await writeConfigFile(configPath, content);
  t.log(`${variant.model}: training (dora.tracker ${variant.tracker})`);
  const t0 = performance.now();
  const runDir = join(dir, 'runs', `${name}-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`);
  if (recipe.trainThroughCli) await trainThroughCli(configPath, runDir, t);
  else {
    const trained = await runTraining({ configPath, runDir, cacheRoot: t.cacheRoot, maxSteps: t.steps, backend: t.backend as never });
    if (trained.reason === 'failed') throw new Error(`${variant.model} training failed: ${trained.message}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const sidecar = (await checkpointSidecars(runDir)).at(-1)!;
  const steps = Number(/step-(\d+)\.json$/.exec(sidecar)![1]);
  return { runDir, sidecar, steps, seconds };
}

/** The DoRA tracker's IoU (tracker part of the tracking suite, same settings) of every checkpoint of a run. */
async function trackerOverTraining(runDir: string, random: QualityRow, ctx: EvalContext): Promise<QualityResults['trackerOverTraining']> {
  const points: QualityResults['trackerOverTraining'] = [
    { step: 0, meanIoU: random.tracking!.tracker.meanIoU, stdErr: random.tracking!.tracker.meanIoUStdErr ?? NaN },
  ];
  for (const sidecar of await checkpointSidecars(runDir)) {
    const encoder = await loadCheckpointEncoder(sidecar);
    const c = encoder.config.data;
    const tour = await openTourFrames(ctx.video, {
      ...frameCacheSettings(encoder.config),
      shortSide: Math.max(c.frameCache.shortSide, c.globalSize),
      cacheRoot: ctx.cacheRoot,
      ffmpegPath: ctx.ffmpegPath,
    });
    try {
      ctx.log(`DoRA tracker over training: ${basename(sidecar)}`);
      const range = evaluationFrameRange(encoder, tour.frameCount, tour.video);
      const { tracker } = trackingSettings(encoder, range, longestSceneFrames(tour, range));
      const scores = await doraTrackerScores(encoder, tour, tracker);
      points.push({ step: encoder.sidecar!.step, meanIoU: scores.meanIoU, stdErr: scores.meanIoUStdErr ?? NaN });
    } finally {
      tour.close();
      encoder.dispose();
    }
  }
  return points;
}

export async function runQualityBenchmark(options: QualityOptions = {}): Promise<QualityResults> {
  const log = options.log ?? ((line: string) => console.error(line));
  const started = performance.now();
  const root = packageRoot();
  const dir = options.dir ?? join(root, '.cache', 'quality');
  const cacheRoot = join(dir, 'frame-cache');
  mkdirSync(dir, { recursive: true });
  const recipe = options.recipe ?? QUALITY_RECIPE;
  const report = await initBackend(options.backend ?? 'wasm');
  const tools = resolveFfmpeg({ explicitPath: options.ffmpegPath });
  const trainTour = await ensureDemoVideo(join(dir, 'media'), QUALITY_TOURS.train, tools, 'train-tour');
  const evalTour = await ensureDemoVideo(join(dir, 'media'), QUALITY_TOURS.eval, tools, 'eval-tour');
  const here = (file: string) => relative(process.cwd(), file);
  log(`tours: train ${here(trainTour.video)}, evaluate ${here(evalTour.video)}; backend ${report.active}`);
  const fashionDir = defaultFashionMnistDir();
  const fashionSkipped = ensureFashionMnist(fashionDir, log);
  if (fashionSkipped) log(`Fashion-MNIST skipped: ${fashionSkipped}`);
  const ctx: EvalContext = { video: evalTour.video, cacheRoot, ffmpegPath: options.ffmpegPath, fashionDir, fashionSkipped, log };

  const rows: QualityRow[] = [];
  let doraRun = '';
  let steps = 0;
  for (const variant of [
    { model: 'DoRA', tracker: true },
    { model: 'DINO', tracker: false },
  ]) {
    const trained = await trainVariant(dir, trainTour.video, variant, {
      recipe,
      steps: options.steps,
      backend: report.active,
      cacheRoot,
      ffmpegPath: options.ffmpegPath,
      log,
    });
    if (variant.tracker) doraRun = trained.runDir;
    steps = trained.steps;
    const encoder = await loadCheckpointEncoder(trained.sidecar);
    try {
      rows.push(await evaluateModel(encoder, variant.model, trained, ctx));
    } finally {
      encoder.dispose();
    }
  }
  const base = await configFromPresetOrFile(join(dir, 'quality-dora.dora.json'));
  const random = randomInitEncoder(base);
  let over: QualityResults['trackerOverTraining'];
  try {
    rows.push(await evaluateModel(random, 'random init', null, ctx));
    rows.push(await evaluateModel(random, 'raw pixels', null, ctx, true));
    over = await trackerOverTraining(doraRun, rows[rows.length - 2], ctx);
  } finally {
    random.dispose();
  }
  const comparisons = qualityComparisons(rows);
  const verdict = qualityVerdict(rows, comparisons, 100 / (1 + OBJECT_CLASSES.length));
  const points = over.map((p) => `step ${p.step}: ${p.meanIoU.toFixed(3)} ± ${p.stdErr.toFixed(3)}`);
  const curve = `DoRA tracker IoU over training (evaluation tour): ${points.join(', ')}`;
  const table = [formatQualityTable(rows), '', formatComparisons(comparisons), '', curve, '', ...verdict].join('\n');
  const results: QualityResults = {
    benchmark: 'dora-studio quality',
    recipe,
    tours: QUALITY_TOURS,
    steps,
    seed: base.training.seed,
    backend: report.active,
    time: new Date().toISOString(),
    totalSeconds: (performance.now() - started) / 1000,
    rows,
    comparisons,
    trackerOverTraining: over,
    verdict,
    table,
  };
  writeFileSync(options.out ?? join(root, 'quality-results.json'), `${JSON.stringify(results, null, 1)}\n`);
  return results;
}
