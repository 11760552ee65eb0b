/** `dora init`, `dora train` and `dora demo`: making a config and training it. */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { writeConfigFile } from '../../core/node/configFile';
import { configFromPreset, isPresetName, presetNames } from '../../core/presets';
import { ensureDemoVideo } from '../data/syntheticVideo';
import { intOption, listOption, stringOption, UsageError, type CommandSpec } from './args';
import {
  BACKEND,
  backendOption,
  CACHE_DIR,
  ENGINE_OPTIONS,
  FFMPEG,
  LAUNCH_OPTIONS,
  reportResult,
  trainWithTerminal,
  viaPytorch,
} from './common';

export const initCommand: CommandSpec = {
  name: 'init',
  positionals: '<preset> <video>',
  arity: { min: 2, max: 2, missing: `give a preset (${presetNames.join(', ')}) and the video file to train on` },
  summary: `write a config from a preset (${presetNames.join(', ')})`,
  options: {
    out: { type: 'string', value: 'FILE', help: 'the config file to write (default: <preset>.dora.json)' },
    force: { type: 'boolean', help: 'overwrite an existing file' },
  },
  async run({ values, positionals: [preset, video] }) {
    if (!isPresetName(preset)) throw new UsageError(`init: the first argument must be a preset: ${presetNames.join(', ')}`, initCommand);
    const out = resolve(stringOption(values, 'out') ?? `${preset}.dora.json`);
    if (existsSync(out) && !values.force) throw new UsageError(`init: ${out} exists (use --force to overwrite)`, initCommand);
    const videoValue = relative(resolve(out, '..'), resolve(video)) || video;
    await writeConfigFile(out, configFromPreset(preset, { data: { video: videoValue } }, { expand: true }));
    console.log(`wrote ${out}`);
    return 0;
  },
};

export const trainCommand: CommandSpec = {
  name: 'train',
  positionals: '[config.dora.json]',
  arity: { min: 0, max: 1 },
  summary: 'train a config (Ctrl-C finishes the step, checkpoints and exits)',
  options: {
    'run-dir': { type: 'string', value: 'DIR', help: 'write into this run folder (default: a new one under runtime.runsDir)' },
    resume: {
      type: 'string',
      value: 'CKPT',
      help: 'resume from a checkpoint sidecar (checkpoints/step-NNNNNN.json), or "latest" of --run-dir',
    },
    backend: BACKEND,
    ffmpeg: FFMPEG,
    'max-steps': { type: 'string', value: 'N', help: 'stop (with a checkpoint) after N steps in total' },
    'cache-dir': CACHE_DIR,
    set: { type: 'string', multiple: true, value: 'KEY=VALUE', help: 'override a config key, e.g. --set training.lr=1e-4 (repeatable)' },
    ...ENGINE_OPTIONS,
    engine: { ...ENGINE_OPTIONS.engine, help: "tfjs or pytorch (default: the config's runtime.engine; resuming: the run's)" },
    precision: { type: 'string', value: 'P', help: 'pytorch: auto, fp32, tf32, bf16 or fp16 (default: runtime.precision)' },
    'snapshot-every': { type: 'string', value: 'N', help: 'pytorch: a snapshot every N steps (default: runtime.snapshotEvery)' },
    workers: { type: 'string', value: 'N', help: 'pytorch: DataLoader worker processes (default: cores − 1, at most 8)' },
    ...LAUNCH_OPTIONS,
  },
  async run(args) {
    const {
      values,
      positionals: [configPath],
    } = args;
    const resume = stringOption(values, 'resume');
    if (!configPath && !resume) throw new UsageError('train: give a *.dora.json config (or --resume <checkpoint.json>)', trainCommand);
    const pytorch = await viaPytorch('train', args);
    if (pytorch !== undefined) return pytorch;
    return reportResult(
      await trainWithTerminal({
        configPath,
        resume,
        runDir: stringOption(values, 'run-dir'),
        backend: backendOption(values),
        ffmpegPath: stringOption(values, 'ffmpeg'),
        maxSteps: intOption(values, 'max-steps'),
        cacheRoot: stringOption(values, 'cache-dir'),
        overrides: listOption(values, 'set'),
      }),
    );
  },
};

/** `npm run demo`: the synthetic walking tour (generated once) and a short DoRA run on it, in demo-workspace/. */
export const demoCommand: CommandSpec = {
  name: 'demo',
  positionals: '',
  arity: { min: 0, max: 0 },
  summary: 'generate the synthetic walking tour if needed and train the demo preset on it',
  options: {
    dir: { type: 'string', value: 'DIR', help: 'the demo workspace (default: demo-workspace)' },
    backend: BACKEND,
    'max-steps': { type: 'string', value: 'N', help: 'stop (with a checkpoint) after N steps' },
  },
  async run({ values }) {
    const dir = resolve(stringOption(values, 'dir') ?? 'demo-workspace');
    console.log(`demo workspace: ${dir}`);
    const video = await ensureDemoVideo(join(dir, 'media'));
    const where = (file: string) => relative(process.cwd(), file);
    console.log(`video: ${where(video.video)} (${video.frameCount} frames, ground-truth masks in ${where(video.mask)})`);
    const configPath = join(dir, 'demo.dora.json');
    if (!existsSync(configPath)) {
      const overrides = { data: { video: relative(dir, video.video) }, runtime: { runsDir: 'runs' } };
      await writeConfigFile(configPath, configFromPreset('demo', overrides, { expand: true, name: 'demo' }));
    }
    console.log(`config: ${where(configPath)}`);
    const maxSteps = intOption(values, 'max-steps');
    return reportResult(
      await trainWithTerminal({ configPath, backend: backendOption(values), maxSteps, cacheRoot: join(dir, '.frame-cache') }),
    );
  },
};
