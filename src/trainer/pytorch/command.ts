/**
 * The CLI's `--engine pytorch` switch for the commands the PyTorch engine serves (train, golden, bench, inspect) and
 * `dora import`. Kept apart from cli.ts so the CLI needs one call: it returns the exit code, or undefined when the
 * command is not a PyTorch one and the TF.js path should run. `train` follows the config's `runtime.engine` when no
 * --engine is given. `eval` has no PyTorch implementation: cli.ts runs it in the TF.js engine and says so.
 */
import { resolve } from 'node:path';
import { ENGINES, LAUNCHERS, type EngineName, type LauncherName } from '../../core/config';
import type { LaunchOverrides } from '../launch/launchers';
import { loadConfigFile } from '../../core/node/configFile';
import { runDirOfCheckpoint } from '../../core/node/runPaths';
import { loadRunConfig } from '../run/runConfig';
import { benchPytorchCommand } from './bench';
import { goldenPytorchCommand } from './golden';
import { importCheckpoint } from './importCheckpoint';
import { inspectPytorchCommand } from './inspect';
import { findCliPython } from './interpreter';
import { ProgressBar } from '../run/progressBar';
import { trainPytorchCommand } from './train';

export { ENGINES, type EngineName };

type Flags = Map<string, string | true>;

export class EngineUsageError extends Error {}

function str(flags: Flags, name: string): string | undefined {
  const v = flags.get(name);
  if (v === true) throw new EngineUsageError(`--${name} needs a value`);
  return v;
}

function int(flags: Flags, name: string, min = 1): number | undefined {
  const v = str(flags, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new EngineUsageError(`--${name} must be ${min === 0 ? 'a whole number ≥ 0' : 'a positive integer'} (got "${v}")`);
  return n;
}

export function engineOf(flags: Flags, fallback: EngineName = 'tfjs'): EngineName {
  const engine = str(flags, 'engine') ?? fallback;
  if (!(ENGINES as readonly string[]).includes(engine)) throw new EngineUsageError(`--engine must be tfjs or pytorch (got "${engine}")`);
  return engine as EngineName;
}

/** Returns the exit code of a PyTorch-engine command, or undefined for the TF.js path. Usage errors print and give 2. */
export async function pytorchEngineCommand(
  command: string | undefined,
  positional: string[],
  flags: Flags,
  overrides: readonly string[] = [],
): Promise<number | undefined> {
  try {
    if (command === 'import') return await importCommand(positional, flags);
    const fallback = command === 'train' && !flags.has('engine') ? await configuredEngine(positional, flags) : 'tfjs';
    if (command === 'train' && launcherOf(flags) && launcherOf(flags) !== 'local' && engineOf(flags, 'pytorch') !== 'pytorch')
      throw new EngineUsageError(`--launcher ${launcherOf(flags)} starts the PyTorch engine; drop --engine tfjs`);
    if (engineOf(flags, fallback) !== 'pytorch') return undefined;
    return await dispatch(command, positional, flags, overrides);
  } catch (e) {
    if (!(e instanceof EngineUsageError)) throw e;
    console.error(`dora: ${e.message}`);
    return 2;
  }
}

export function launcherOf(flags: Flags): LauncherName | undefined {
  const launcher = str(flags, 'launcher');
  if (launcher === undefined) return undefined;
  if (!(LAUNCHERS as readonly string[]).includes(launcher))
    throw new EngineUsageError(`--launcher must be local, torchrun or slurm (got "${launcher}")`);
  return launcher as LauncherName;
}

function launchOverrides(flags: Flags): LaunchOverrides {
  return {
    launcher: launcherOf(flags),
    nproc: int(flags, 'nproc'),
    nodes: int(flags, 'nodes'),
    partition: str(flags, 'partition'),
    rdzvEndpoint: str(flags, 'rdzv-endpoint'),
    wait: flags.has('wait'),
  };
}

/** `runtime.engine` of the config to train (or of the run to resume); tfjs when it cannot be read (the TF.js path reports why).
 * A --launcher other than local means the PyTorch engine. */
async function configuredEngine(positional: string[], flags: Flags): Promise<EngineName> {
  const launcher = launcherOf(flags);
  if (launcher && launcher !== 'local') return 'pytorch';
  const resume = str(flags, 'resume');
  const runDir = str(flags, 'run-dir');
  try {
    if (resume) {
      const dir = runDir ?? (resume !== 'latest' ? runDirOfCheckpoint(resolve(resume)) : undefined);
      return dir ? (await loadRunConfig(resolve(dir))).runtime.engine : 'tfjs';
    }
    return positional[0] ? (await loadConfigFile(resolve(positional[0]))).runtime.engine : 'tfjs';
  } catch {
    return 'tfjs';
  }
}

/** `dora import <file.pth> [--video V] [--name N] [--runs-dir D] [--python P] [--cache-dir R] [--ffmpeg F]`. */
async function importCommand(positional: string[], flags: Flags): Promise<number> {
  if (positional.length !== 1)
    throw new EngineUsageError('import: give one .pth file (an official DoRA/DINO checkpoint or a ViT state dict)');
  const interpreter = await findCliPython(str(flags, 'python'));
  const bar = new ProgressBar(process.stderr);
  try {
    const imported = await importCheckpoint({
      file: positional[0],
      runsDir: str(flags, 'runs-dir') ?? 'runs',
      python: interpreter.python,
      video: str(flags, 'video'),
      name: str(flags, 'name'),
      ffmpegPath: str(flags, 'ffmpeg'),
      cacheRoot: str(flags, 'cache-dir'),
      emit: (m) => bar.handle(m),
    });
    bar.done();
    console.log(imported.summary);
    console.log(`checkpoint: ${imported.checkpoint}`);
    return 0;
  } finally {
    bar.done();
  }
}

async function dispatch(
  command: string | undefined,
  positional: string[],
  flags: Flags,
  overrides: readonly string[],
): Promise<number | undefined> {
  const common = { python: str(flags, 'python'), device: str(flags, 'device') };
  if (command === 'train') {
    if (!positional[0] && !flags.has('resume'))
      throw new EngineUsageError('train: give a *.dora.json config (or --resume <checkpoint.json>)');
    return trainPytorchCommand({
      ...common,
      configPath: positional[0],
      resume: str(flags, 'resume'),
      runDir: str(flags, 'run-dir'),
      precision: str(flags, 'precision'),
      ffmpegPath: str(flags, 'ffmpeg'),
      cacheRoot: str(flags, 'cache-dir'),
      maxSteps: int(flags, 'max-steps'),
      snapshotEvery: int(flags, 'snapshot-every'),
      workers: int(flags, 'workers', 0),
      launch: launchOverrides(flags),
      overrides,
    });
  }
  if (command === 'inspect') {
    const out = str(flags, 'out');
    if (!out) throw new EngineUsageError('inspect: --out <dir> is required');
    return inspectPytorchCommand({
      ...common,
      checkpoints: positional,
      outDir: out,
      video: str(flags, 'video'),
      clipStart: int(flags, 'clip-start', 0),
      ffmpegPath: str(flags, 'ffmpeg'),
      cacheRoot: str(flags, 'cache-dir'),
    });
  }
  if (command === 'golden') {
    if (positional.length === 0)
      throw new EngineUsageError('golden: give at least one folder or .safetensors file, e.g. `dora golden ../shared/golden`');
    return goldenPytorchCommand(positional, { ...common, verbose: flags.has('verbose') });
  }
  if (command === 'bench') {
    return benchPytorchCommand({
      ...common,
      config: str(flags, 'config') ?? 'cpu-small',
      precision: str(flags, 'precision'),
      microBatch: str(flags, 'micro-batch'),
      steps: int(flags, 'steps'),
      warmup: int(flags, 'warmup', 0),
      rounds: int(flags, 'rounds'),
      threads: int(flags, 'threads'),
      official: str(flags, 'official'),
      anchors: str(flags, 'anchors'),
    });
  }
  return undefined;
}
