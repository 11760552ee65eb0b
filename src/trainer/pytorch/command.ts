/**
 * The CLI's `--engine pytorch` switch for the commands the PyTorch engine serves here (golden, bench). Kept apart from
 * cli.ts so the CLI needs one call: it returns the exit code, or undefined when the command is not (or not here)
 * a PyTorch one and the TF.js path should run.
 */
import { benchPytorchCommand } from './bench';
import { goldenPytorchCommand } from './golden';

export const ENGINES = ['tfjs', 'pytorch'] as const;
export type EngineName = (typeof ENGINES)[number];

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

export function engineOf(flags: Flags): EngineName {
  const engine = str(flags, 'engine') ?? 'tfjs';
  if (!(ENGINES as readonly string[]).includes(engine)) throw new EngineUsageError(`--engine must be tfjs or pytorch (got "${engine}")`);
  return engine as EngineName;
}

/** Returns the exit code of a PyTorch-engine command, or undefined for the TF.js path. Usage errors print and give 2. */
export async function pytorchEngineCommand(command: string | undefined, positional: string[], flags: Flags): Promise<number | undefined> {
  try {
    if (!flags.has('engine') || engineOf(flags) !== 'pytorch') return undefined;
    return await dispatch(command, positional, flags);
  } catch (e) {
    if (!(e instanceof EngineUsageError)) throw e;
    console.error(`dora: ${e.message}`);
    return 2;
  }
}

async function dispatch(command: string | undefined, positional: string[], flags: Flags): Promise<number | undefined> {
  const common = { python: str(flags, 'python'), device: str(flags, 'device') };
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
