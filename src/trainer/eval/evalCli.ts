/** `dora eval` and `dora quality`: option handling shared by the CLI (cli.ts parses the flags). */
import { resolve } from 'node:path';
import { initBackend, type BackendName } from '../backend';
import { configFromPresetOrFile, loadCheckpointEncoder, randomInitEncoder, type EvalEncoder } from './encoder';
import { runEvaluation, type EvalOutcome, type EvalSuite } from './runEval';
import { runQualityBenchmark, type QualityResults } from './quality';

export interface EvalCliOptions {
  checkpoint?: string;
  randomInit?: { config: string; seed?: number };
  suite: EvalSuite;
  dataset?: string;
  backend?: BackendName;
  video?: string;
  cacheRoot?: string;
  ffmpegPath?: string;
  frames?: number[];
  imageSize?: number;
  force?: boolean;
}

/** Loads the model (checkpoint teacher or random init), runs the suite, returns the record and whether it was cached. */
export async function evalFromCli(options: EvalCliOptions): Promise<EvalOutcome & { model: string }> {
  let encoder: EvalEncoder;
  if (options.randomInit) {
    const config = await configFromPresetOrFile(options.randomInit.config, options.video);
    await initBackend(options.backend ?? config.runtime.backend);
    encoder = randomInitEncoder(config, options.randomInit.seed);
  } else {
    if (!options.checkpoint)
      throw new Error('eval: give a checkpoint sidecar (checkpoints/step-NNNNNN.json) or --random-init --config <preset|file>');
    await initBackend(options.backend ?? 'wasm');
    encoder = await loadCheckpointEncoder(resolve(options.checkpoint));
  }
  try {
    const outcome = await runEvaluation(encoder, {
      suite: options.suite,
      dataset: options.dataset,
      video: options.video,
      cacheRoot: options.cacheRoot,
      ffmpegPath: options.ffmpegPath,
      frames: options.frames,
      imageSize: options.imageSize,
      force: options.force,
    });
    return { ...outcome, model: encoder.label };
  } finally {
    encoder.dispose();
  }
}

export function qualityFromCli(options: { steps?: number; backend?: BackendName; out?: string }): Promise<QualityResults> {
  return runQualityBenchmark(options);
}
