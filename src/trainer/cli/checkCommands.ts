/** `dora golden`, `eval`, `quality`, `inspect` and `bench`: checking and measuring the engine and its checkpoints. */
import { resolve } from 'node:path';
import { EVAL_SUITES, type EvalSuite } from '../../core/evalResults';
import { initBackend } from '../backend';
import { evalFromCli, qualityFromCli } from '../eval/evalCli';
import { collectGoldenFiles, formatCaseLine, runGoldenCase } from '../golden/runGolden';
import { benchStep } from '../run/bench';
import { inspectCheckpoints } from '../run/inspect';
import { intOption, stringOption, UsageError, type CommandSpec, type OptionValues } from './args';
import { BACKEND, backendOption, CACHE_DIR, ENGINE_OPTIONS, FFMPEG, viaPytorch } from './common';

const PYTORCH_EVAL_NOTE =
  '--engine pytorch: the PyTorch engine has no evaluation suites; this checkpoint was evaluated by the TF.js engine ' +
  "(both engines read each other's checkpoints)";

export const goldenCommand: CommandSpec = {
  name: 'golden',
  positionals: '<dir-or-files...>',
  arity: { min: 1, max: Infinity, missing: 'give at least one folder or .safetensors file, e.g. `dora golden ../shared/golden`' },
  summary: 'check the implementation against the official golden cases',
  options: {
    backend: { ...BACKEND, help: 'TF.js backend: wasm (default), cpu, webgpu, auto …' },
    verbose: { type: 'boolean', help: 'print every check, not only failures' },
    ...ENGINE_OPTIONS,
  },
  async run(args) {
    const pytorch = await viaPytorch('golden', args);
    if (pytorch !== undefined) return pytorch;
    const verbose = args.values.verbose === true;
    const report = await initBackend(backendOption(args.values, 'wasm')!);
    console.log(`backend: ${report.active} — ${report.reason}`);
    const files = collectGoldenFiles(args.positionals);
    let failed = 0;
    for (const file of files) {
      const result = await runGoldenCase(file);
      console.log(formatCaseLine(result));
      if (!result.pass) failed++;
      for (const c of result.checks) if (verbose || !c.pass) console.log(`    ${c.pass ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    }
    console.log(`${files.length - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  },
};

export const evalCommand: CommandSpec = {
  name: 'eval',
  positionals: '<checkpoint.json>',
  arity: { min: 0, max: 1 },
  summary: "evaluate a checkpoint's teacher; results are stored in checkpoints/step-NNNNNN.eval.json",
  options: {
    suite: { type: 'string', value: 'S', help: `the evaluation: ${EVAL_SUITES.join(', ')}` },
    dataset: { type: 'string', value: 'D', help: 'k-NN data: synthetic (default), fashion-mnist or an image folder' },
    video: { type: 'string', value: 'V', help: "the synthetic walking tour to use (default: the run's video)" },
    frames: { type: 'string', value: 'LIST', help: 'attention: frame numbers separated by commas, e.g. 600,700' },
    'image-size': { type: 'string', value: 'N', help: 'input size of the k-NN images' },
    force: { type: 'boolean', help: 'recompute a result that is already stored' },
    'random-init': { type: 'boolean', help: 'evaluate a randomly initialised encoder instead (needs --config; not stored)' },
    config: { type: 'string', value: 'C', help: 'with --random-init: a preset or a *.dora.json' },
    seed: { type: 'string', value: 'N', help: 'with --random-init: the initialisation seed' },
    backend: BACKEND,
    ffmpeg: FFMPEG,
    'cache-dir': CACHE_DIR,
    engine: { ...ENGINE_OPTIONS.engine, help: 'pytorch: evaluated by the TF.js engine all the same (said in the output)' },
  },
  async run({ values, positionals }) {
    const suite = stringOption(values, 'suite');
    if (!suite || !(EVAL_SUITES as readonly string[]).includes(suite))
      throw new UsageError(`eval: --suite must be one of ${EVAL_SUITES.join(', ')}`, evalCommand);
    const randomInit = values['random-init'] === true;
    const config = stringOption(values, 'config');
    if (randomInit && !config) throw new UsageError('eval: --random-init needs --config <preset|file.dora.json>', evalCommand);
    if (!randomInit && positionals.length !== 1)
      throw new UsageError('eval: give one checkpoint sidecar (checkpoints/step-NNNNNN.json)', evalCommand);
    const outcome = await evalFromCli({
      checkpoint: positionals[0],
      randomInit: randomInit ? { config: config!, seed: intOption(values, 'seed', 0) } : undefined,
      suite: suite as EvalSuite,
      dataset: stringOption(values, 'dataset'),
      backend: backendOption(values),
      video: stringOption(values, 'video'),
      cacheRoot: stringOption(values, 'cache-dir'),
      ffmpegPath: stringOption(values, 'ffmpeg'),
      frames: frameList(values),
      imageSize: intOption(values, 'image-size'),
      force: values.force === true,
    });
    // The PyTorch engine has no evaluation suites: the TF.js engine evaluates (checkpoints are interoperable).
    const engine = stringOption(values, 'engine') === 'pytorch' ? { engine: 'tfjs', engineNote: PYTORCH_EVAL_NOTE } : {};
    if (engine.engineNote) console.error(`dora: ${engine.engineNote}`);
    console.log(JSON.stringify({ model: outcome.model, cached: outcome.cached, ...engine, ...outcome.record }, null, 1));
    return 0;
  },
};

function frameList(values: OptionValues): number[] | undefined {
  const text = stringOption(values, 'frames');
  const frames = text?.split(',').map((f) => Number(f));
  if (frames?.some((f) => !Number.isInteger(f) || f < 0))
    throw new UsageError(`eval: --frames must be frame numbers separated by commas (got "${text}")`, evalCommand);
  return frames;
}

export const qualityCommand: CommandSpec = {
  name: 'quality',
  positionals: '',
  arity: { min: 0, max: 0 },
  summary: 'DoRA vs DINO vs random init on the synthetic tour (k-NN, J&F); prints a table',
  options: {
    steps: { type: 'string', value: 'N', help: 'training steps per model (default: one epoch of the demo preset)' },
    backend: BACKEND,
    out: { type: 'string', value: 'FILE', help: 'where to write the results (default: quality-results.json)' },
  },
  async run({ values }) {
    const results = await qualityFromCli({
      steps: intOption(values, 'steps'),
      backend: backendOption(values),
      out: stringOption(values, 'out'),
    });
    const seconds = results.totalSeconds.toFixed(0);
    console.log(
      `quality benchmark: demo preset, ${results.steps} steps per run, seed ${results.seed}, ` +
        `backend ${results.backend}, ${seconds} s in total`,
    );
    console.log(results.table);
    return 0;
  },
};

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  positionals: '<checkpoint.json...>',
  arity: { min: 1, max: Infinity, missing: 'no checkpoint given; pass one or more checkpoint sidecars (checkpoints/step-NNNNNN.json)' },
  summary: "run each checkpoint's tracker on the same frames (one snapshot-format folder per checkpoint)",
  options: {
    out: { type: 'string', value: 'DIR', help: 'the folder for the results (required)' },
    video: { type: 'string', value: 'V', help: "the video to take the frames from (default: the first checkpoint's)" },
    'clip-start': { type: 'string', value: 'N', help: 'first frame of the clip (default: the middle of the video)' },
    backend: BACKEND,
    ffmpeg: FFMPEG,
    'cache-dir': CACHE_DIR,
    ...ENGINE_OPTIONS,
  },
  async run(args) {
    const pytorch = await viaPytorch('inspect', args);
    if (pytorch !== undefined) return pytorch;
    const { values, positionals } = args;
    const out = stringOption(values, 'out');
    if (!out) throw new UsageError('inspect: --out <dir> is required', inspectCommand);
    const results = await inspectCheckpoints({
      checkpoints: positionals,
      outDir: resolve(out),
      video: stringOption(values, 'video'),
      clipStart: intOption(values, 'clip-start', 0),
      backend: backendOption(values),
      ffmpegPath: stringOption(values, 'ffmpeg'),
      cacheRoot: stringOption(values, 'cache-dir'),
    });
    for (const r of results) console.log(`${r.label}: ${r.dir}`);
    return 0;
  },
};

export const benchCommand: CommandSpec = {
  name: 'bench',
  positionals: '',
  arity: { min: 0, max: 0 },
  summary: 'time the DoRA step; prints one JSON line',
  options: {
    config: { type: 'string', value: 'C', help: 'cpu-small (default), demo, paper or a *.dora.json' },
    backend: BACKEND,
    steps: { type: 'string', value: 'N', help: 'steps to time' },
    profile: { type: 'boolean', help: 'time each stage of the step' },
    ...ENGINE_OPTIONS,
    precision: { type: 'string', value: 'P', help: 'pytorch: auto, fp32, tf32, bf16 or fp16' },
    'micro-batch': { type: 'string', value: 'N', help: 'pytorch: clips per forward/backward pass' },
    warmup: { type: 'string', value: 'N', help: 'pytorch: untimed steps first' },
    rounds: { type: 'string', value: 'N', help: 'pytorch: timing rounds' },
    threads: { type: 'string', value: 'N', help: 'pytorch: CPU threads' },
    official: { type: 'string', value: 'DIR', help: 'pytorch: the official DoRA code, to time its step too' },
    anchors: { type: 'string', value: 'DIR', help: 'pytorch: the anchor measurements to compare with' },
  },
  async run(args) {
    const pytorch = await viaPytorch('bench', args);
    if (pytorch !== undefined) return pytorch;
    const { values } = args;
    const result = await benchStep({
      config: stringOption(values, 'config') ?? 'cpu-small',
      backend: backendOption(values),
      steps: intOption(values, 'steps'),
      profile: values.profile === true,
    });
    console.log(JSON.stringify(result));
    return 0;
  },
};
