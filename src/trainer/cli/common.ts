/** Options several `dora` commands share, and running training with a terminal progress bar. */
import { relative } from 'node:path';
import type { TrainerMessage } from '../../core/messages';
import { isBackendName, type BackendName } from '../backend';
import { pytorchEngineCommand } from '../pytorch/command';
import { ProgressBar } from '../run/progressBar';
import { runTraining, type TrainResult } from '../run/train';
import { listOption, stringOption, UsageError, type OptionSpec, type OptionValues, type ParsedCommand } from './args';

export const BACKENDS_TEXT = 'auto, tensorflow-gpu, tensorflow, webgpu, wasm, cpu';

export const BACKEND: OptionSpec = { type: 'string', value: 'B', help: `TF.js backend: ${BACKENDS_TEXT}` };
export const FFMPEG: OptionSpec = { type: 'string', value: 'PATH', help: 'the ffmpeg executable (default: ffmpeg on the PATH)' };
export const CACHE_DIR: OptionSpec = { type: 'string', value: 'DIR', help: 'frame-cache folder (default: the user cache folder)' };

export const ENGINE_OPTIONS: Record<string, OptionSpec> = {
  engine: { type: 'string', value: 'E', help: 'tfjs (default) or pytorch' },
  python: { type: 'string', value: 'P', help: 'pytorch: the Python interpreter (default: DORA_PYTHON, else the first with torch)' },
  device: { type: 'string', value: 'D', help: 'pytorch: auto, cuda, cpu or mps' },
};

/** `dora train --launcher …` (docs/launchers.md): the PyTorch engine on several processes, here or as a Slurm job. */
export const LAUNCH_OPTIONS: Record<string, OptionSpec> = {
  launcher: {
    type: 'string',
    value: 'L',
    help: 'local, torchrun or slurm (default: runtime.launcher); torchrun and slurm mean the PyTorch engine',
  },
  nproc: { type: 'string', value: 'N', help: 'torchrun/slurm: processes per node, one per GPU (default: runtime.distributed.nproc)' },
  nodes: { type: 'string', value: 'N', help: 'torchrun/slurm: number of nodes (default: runtime.distributed.nodes)' },
  partition: { type: 'string', value: 'P', help: 'slurm: the partition (default: runtime.slurm.partition)' },
  wait: { type: 'boolean', help: "slurm: follow the submitted job to its end (exit status: the run's)" },
  'rdzv-endpoint': { type: 'string', value: 'HOST:PORT', help: 'torchrun on several nodes: the rendezvous endpoint' },
};

/** `--engine pytorch` (train: also the config's runtime.engine): the PyTorch engine's command; undefined for TF.js. */
export function viaPytorch(command: string, { values, positionals }: ParsedCommand): Promise<number | undefined> {
  const flags = new Map<string, string | true>();
  for (const [name, value] of Object.entries(values)) if (value === true || typeof value === 'string') flags.set(name, value);
  return pytorchEngineCommand(command, positionals, flags, listOption(values, 'set'));
}

export function backendOption(values: OptionValues, fallback?: BackendName): BackendName | undefined {
  const value = stringOption(values, 'backend') ?? fallback;
  if (value === undefined) return undefined;
  if (!isBackendName(value)) throw new UsageError(`--backend must be one of ${BACKENDS_TEXT} (got "${value}")`);
  return value;
}

/** Runs training with a terminal progress bar; SIGINT/SIGTERM stop after the current step with a checkpoint. */
export async function trainWithTerminal(options: Parameters<typeof runTraining>[0]): Promise<TrainResult> {
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
    return await runTraining({ ...options, signal: controller.signal, emit: (m: TrainerMessage) => bar.handle(m) });
  } finally {
    bar.done();
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  }
}

export function reportResult(r: TrainResult): number {
  const where = relative(process.cwd(), r.runDir) || r.runDir;
  if (r.reason === 'failed') {
    console.error(`dora: training failed at step ${r.step}: ${r.message}\nrun folder: ${where}`);
    return 1;
  }
  console.log(`${r.reason === 'completed' ? 'finished' : 'stopped'} at step ${r.step}; run folder: ${where}`);
  return 0;
}
