/**
 * `dora` command line: the headless front door to the trainer (the extension forks dist/trainer.js instead).
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { configFromPreset, isPresetName, presetNames } from '../core/presets';
import { writeConfigFile } from '../core/node/configFile';
import type { TrainerMessage } from '../core/messages';
import { initBackend, isBackendName, type BackendName } from './backend';
import { collectGoldenFiles, formatCaseLine, runGoldenCase } from './golden/runGolden';
import { ensureDemoVideo } from './data/syntheticVideo';
import { runTraining, type TrainResult } from './run/train';
import { ProgressBar } from './run/progressBar';
import { inspectCheckpoints } from './run/inspect';
import { benchStep } from './run/bench';
import { evalFromCli, qualityFromCli } from './eval/evalCli';
import { EVAL_SUITES, type EvalSuite } from './eval/runEval';
import { pytorchEngineCommand } from './pytorch/command';

interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/** Flags that never take a value (`dora train --wait cfg.dora.json` keeps cfg.dora.json positional). */
const BOOLEAN_FLAGS = new Set(['wait']);

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--') && !BOOLEAN_FLAGS.has(a.slice(2))) flags.set(a.slice(2), argv[++i]);
      else flags.set(a.slice(2), true);
    } else positional.push(a);
  }
  return { positional, flags };
}

const USAGE = `usage: dora <command> [options]
  init <preset> <video> [--out file.dora.json]        write a config from a preset (${presetNames.join(', ')})
  train <config.dora.json> [--run-dir D] [--resume <checkpoint.json>|latest] [--backend B] [--ffmpeg PATH] [--max-steps N]
                                                      train (Ctrl-C finishes the step, checkpoints and exits)
  demo [--dir demo-workspace] [--max-steps N]          generate the synthetic walking tour if needed and train the demo preset
  inspect --out DIR <checkpoint.json...> [--video V] [--clip-start N] [--backend B]
                                                      run each checkpoint's tracker on the same frames (snapshot format per checkpoint)
  bench [--config cpu-small|demo|paper|file.dora.json] [--backend B] [--steps N] [--profile]
                                                      time the DoRA step; prints one JSON line
  eval <checkpoint.json> --suite knn|tracking|attention [--dataset synthetic|fashion-mnist|<folder>] [--video V] [--frames 600,700]
       [--image-size N] [--force] [--backend B]     evaluate a checkpoint's teacher; results cached in checkpoints/step-NNNNNN.eval.json
  eval --random-init --config <preset|file> --suite … [--seed N]
                                                      the same for a randomly initialised encoder (not cached)
  quality [--steps N] [--backend B] [--out quality-results.json]
                                                      DoRA vs DINO vs random init on the synthetic tour (k-NN, J&F); prints a table
  golden <dir-or-files...> [--backend wasm|cpu|webgpu|auto] [--verbose]
                                                      check the implementation against the official golden cases
  train|golden|bench|inspect … --engine pytorch [--python P] [--device auto|cuda|cpu|mps] [--precision auto|fp32|tf32|bf16|fp16]
                                                      the same through the PyTorch engine (train: also runtime.engine "pytorch"
                                                      in the config; bench: also --official DIR)
  train … --launcher local|torchrun|slurm [--nproc N] [--nodes N] [--partition P] [--wait] [--rdzv-endpoint HOST:PORT]
                                                      PyTorch engine on N processes per node: torchrun here, or a Slurm job
                                                      (slurm/job-N.sbatch in the run folder; --wait follows it to its end)
  eval … --engine pytorch                             the TF.js engine evaluates the checkpoint (either engine's) and says so
  import <file.pth> [--video V] [--name N] [--runs-dir runs] [--python P]
                                                      released DoRA/DINO weights → a run folder (dashboard, eval, compare, resume)
backends: auto, tensorflow-gpu, tensorflow, webgpu, wasm, cpu`;

class UsageError extends Error {}

const PYTORCH_EVAL_NOTE =
  '--engine pytorch: the PyTorch engine has no evaluation suites; this checkpoint was evaluated by the TF.js engine ' +
  "(both engines read each other's checkpoints)";

function backendFlag(flags: ParsedArgs['flags'], fallback?: BackendName): BackendName | undefined {
  const value = flags.get('backend') ?? fallback;
  if (value === undefined) return undefined;
  if (!isBackendName(value))
    throw new UsageError(`--backend must be one of auto, tensorflow-gpu, tensorflow, webgpu, wasm, cpu (got "${String(value)}")`);
  return value;
}

function intFlag(flags: ParsedArgs['flags'], name: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer (got "${String(v)}")`);
  return n;
}

function stringFlag(flags: ParsedArgs['flags'], name: string): string | undefined {
  const v = flags.get(name);
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

async function goldenCommand(args: ParsedArgs): Promise<number> {
  if (args.positional.length === 0)
    throw new UsageError('golden: give at least one folder or .safetensors file, e.g. `dora golden ../shared/golden`');
  const report = await initBackend(backendFlag(args.flags, 'wasm')!);
  console.log(`backend: ${report.active} — ${report.reason}`);
  const files = collectGoldenFiles(args.positional);
  let failed = 0;
  for (const file of files) {
    const result = await runGoldenCase(file);
    console.log(formatCaseLine(result));
    if (!result.pass) failed++;
    if (args.flags.has('verbose') || !result.pass) {
      for (const c of result.checks)
        if (args.flags.has('verbose') || !c.pass) console.log(`    ${c.pass ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    }
  }
  console.log(`${files.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

/** Runs training with a terminal progress bar; SIGINT/SIGTERM stop after the current step with a checkpoint. */
async function trainWithTerminal(options: Parameters<typeof runTraining>[0]): Promise<TrainResult> {
  const controller = new AbortController();
  const onSignal = (sig: string) => {
    if (controller.signal.aborted) {
      console.error(`\n${sig} again: exiting now without a checkpoint`);
      process.exit(130);
    }
    console.error(`\n${sig}: finishing the current step, then writing a checkpoint (press again to exit at once)`);
    controller.abort();
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  const bar = new ProgressBar(process.stderr);
  try {
    return await runTraining({
      ...options,
      signal: controller.signal,
      emit: (m: TrainerMessage) => bar.handle(m),
    });
  } finally {
    bar.done();
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
}

function reportResult(r: TrainResult): number {
  const where = relative(process.cwd(), r.runDir) || r.runDir;
  if (r.reason === 'failed') {
    console.error(`dora: training failed at step ${r.step}: ${r.message}\nrun folder: ${where}`);
    return 1;
  }
  console.log(`${r.reason === 'completed' ? 'finished' : 'stopped'} at step ${r.step}; run folder: ${where}`);
  return 0;
}

async function trainCommand(args: ParsedArgs): Promise<number> {
  const [configPath] = args.positional;
  const resume = stringFlag(args.flags, 'resume');
  if (!configPath && !resume) throw new UsageError('train: give a *.dora.json config (or --resume <checkpoint.json>)');
  return reportResult(
    await trainWithTerminal({
      configPath,
      resume,
      runDir: stringFlag(args.flags, 'run-dir'),
      backend: backendFlag(args.flags),
      ffmpegPath: stringFlag(args.flags, 'ffmpeg'),
      maxSteps: intFlag(args.flags, 'max-steps'),
      cacheRoot: stringFlag(args.flags, 'cache-dir'),
    }),
  );
}

async function initCommand(args: ParsedArgs): Promise<number> {
  const [preset, video] = args.positional;
  if (!isPresetName(preset)) throw new UsageError(`init: the first argument must be a preset: ${presetNames.join(', ')}`);
  if (!video) throw new UsageError('init: give the video file to train on');
  const out = resolve(stringFlag(args.flags, 'out') ?? `${preset}.dora.json`);
  if (existsSync(out) && !args.flags.has('force')) throw new UsageError(`init: ${out} exists (use --force to overwrite)`);
  await writeConfigFile(
    out,
    configFromPreset(preset, { data: { video: relative(resolve(out, '..'), resolve(video)) || video } }, { expand: true }),
  );
  console.log(`wrote ${out}`);
  return 0;
}

async function inspectCommand(args: ParsedArgs): Promise<number> {
  const out = stringFlag(args.flags, 'out');
  if (!out) throw new UsageError('inspect: --out <dir> is required');
  const clipStart = args.flags.has('clip-start') ? Number(stringFlag(args.flags, 'clip-start')) : undefined;
  const results = await inspectCheckpoints({
    checkpoints: args.positional,
    outDir: resolve(out),
    video: stringFlag(args.flags, 'video'),
    clipStart,
    backend: backendFlag(args.flags),
    ffmpegPath: stringFlag(args.flags, 'ffmpeg'),
    cacheRoot: stringFlag(args.flags, 'cache-dir'),
  });
  for (const r of results) console.log(`${r.label}: ${r.dir}`);
  return 0;
}

async function benchCommand(args: ParsedArgs): Promise<number> {
  const result = await benchStep({
    config: stringFlag(args.flags, 'config') ?? 'cpu-small',
    backend: backendFlag(args.flags),
    steps: intFlag(args.flags, 'steps'),
    profile: args.flags.has('profile'),
  });
  console.log(JSON.stringify(result));
  return 0;
}

async function evalCommand(args: ParsedArgs): Promise<number> {
  const suite = stringFlag(args.flags, 'suite');
  if (!suite || !(EVAL_SUITES as readonly string[]).includes(suite))
    throw new UsageError(`eval: --suite must be one of ${EVAL_SUITES.join(', ')}`);
  const randomInit = args.flags.has('random-init');
  const config = stringFlag(args.flags, 'config');
  if (randomInit && !config) throw new UsageError('eval: --random-init needs --config <preset|file.dora.json>');
  if (!randomInit && args.positional.length !== 1) throw new UsageError('eval: give one checkpoint sidecar (checkpoints/step-NNNNNN.json)');
  const framesFlag = stringFlag(args.flags, 'frames');
  const frames = framesFlag?.split(',').map((f) => Number(f));
  if (frames?.some((f) => !Number.isInteger(f) || f < 0))
    throw new UsageError(`eval: --frames must be frame numbers separated by commas (got "${framesFlag}")`);
  const outcome = await evalFromCli({
    checkpoint: args.positional[0],
    randomInit: randomInit
      ? { config: config!, seed: args.flags.has('seed') ? Number(stringFlag(args.flags, 'seed')) : undefined }
      : undefined,
    suite: suite as EvalSuite,
    dataset: stringFlag(args.flags, 'dataset'),
    backend: backendFlag(args.flags),
    video: stringFlag(args.flags, 'video'),
    cacheRoot: stringFlag(args.flags, 'cache-dir'),
    ffmpegPath: stringFlag(args.flags, 'ffmpeg'),
    frames,
    imageSize: intFlag(args.flags, 'image-size'),
    force: args.flags.has('force'),
  });
  // The PyTorch engine has no evaluation suites: the TF.js engine evaluates (checkpoints are interoperable).
  const engine = args.flags.get('engine') === 'pytorch' ? { engine: 'tfjs', engineNote: PYTORCH_EVAL_NOTE } : {};
  if (engine.engineNote) console.error(`dora: ${engine.engineNote}`);
  console.log(JSON.stringify({ model: outcome.model, cached: outcome.cached, ...engine, ...outcome.record }, null, 1));
  return 0;
}

async function qualityCommand(args: ParsedArgs): Promise<number> {
  const results = await qualityFromCli({
    steps: intFlag(args.flags, 'steps'),
    backend: backendFlag(args.flags),
    out: stringFlag(args.flags, 'out'),
  });
  console.log(
    `quality benchmark: demo preset, ${results.steps} steps per run, seed ${results.seed}, backend ${results.backend}, ${results.totalSeconds.toFixed(0)} s in total`,
  );
  console.log(results.table);
  return 0;
}

/** `npm run demo`: the synthetic walking tour (generated once) and a short DoRA run on it, in demo-workspace/. */
async function demoCommand(args: ParsedArgs): Promise<number> {
  const dir = resolve(stringFlag(args.flags, 'dir') ?? 'demo-workspace');
  console.log(`demo workspace: ${dir}`);
  const video = await ensureDemoVideo(join(dir, 'media'));
  console.log(
    `video: ${relative(process.cwd(), video.video)} (${video.frameCount} frames, ground-truth masks in ${relative(process.cwd(), video.mask)})`,
  );
  const configPath = join(dir, 'demo.dora.json');
  if (!existsSync(configPath)) {
    await writeConfigFile(
      configPath,
      configFromPreset(
        'demo',
        { data: { video: relative(dir, video.video) }, runtime: { runsDir: 'runs' } },
        { expand: true, name: 'demo' },
      ),
    );
  }
  console.log(`config: ${relative(process.cwd(), configPath)}`);
  return reportResult(
    await trainWithTerminal({
      configPath,
      backend: backendFlag(args.flags),
      maxSteps: intFlag(args.flags, 'max-steps'),
      cacheRoot: join(dir, '.frame-cache'),
    }),
  );
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const [command, ...rest] = args.positional;
  const sub = { ...args, positional: rest };
  try {
    const pytorch = await pytorchEngineCommand(command, sub.positional, sub.flags); // `--engine pytorch` (golden, bench)
    if (pytorch !== undefined) return pytorch;
    switch (command) {
      case 'golden':
        return await goldenCommand(sub);
      case 'train':
        return await trainCommand(sub);
      case 'init':
        return await initCommand(sub);
      case 'demo':
        return await demoCommand(sub);
      case 'inspect':
        return await inspectCommand(sub);
      case 'bench':
        return await benchCommand(sub);
      case 'eval':
        return await evalCommand(sub);
      case 'quality':
        return await qualityCommand(sub);
      case undefined:
      case 'help':
        console.log(USAGE);
        return command ? 0 : 2;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`dora: ${e.message}\n${USAGE}`);
      return 2;
    }
    console.error(`dora: ${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
