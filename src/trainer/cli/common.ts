/** Options several `dora` commands share, and running training with a terminal progress bar. */
import { relative } from 'node:path';
import type { TrainerMessage } from '../../core/messages';
import { isBackendName, type BackendName } from '../backend';
import { ProgressBar } from '../run/progressBar';
import { runTraining, type TrainResult } from '../run/train';
import { stringOption, UsageError, type OptionSpec, type OptionValues } from './args';

export const BACKENDS_TEXT = 'auto, tensorflow-gpu, tensorflow, webgpu, wasm, cpu';

export const BACKEND: OptionSpec = { type: 'string', value: 'B', help: `TF.js backend: ${BACKENDS_TEXT}` };
export const FFMPEG: OptionSpec = { type: 'string', value: 'PATH', help: 'the ffmpeg executable (default: ffmpeg on the PATH)' };
export const CACHE_DIR: OptionSpec = { type: 'string', value: 'DIR', help: 'frame-cache folder (default: the user cache folder)' };

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
