/** `dora eval` and `dora quality`: option handling shared by the CLI (cli.ts parses the flags). */
import { resolve } from 'node:path';
import { initBackend, type BackendName } from '../backend';
import { configFromPresetOrFile, loadCheckpointEncoder, randomInitEncoder, type EvalEncoder } from './encoder';
import { runEvaluation, type EvalOutcome, type EvalSuite } from './runEval';
import { runQualityBenchmark, type QualityRecipe, type QualityResults } from './quality';
import { isPresetName, presetNames } from '../../core/presets';
import { readFileSync } from 'node:fs';

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

/** A recipe file for `dora quality --recipe`: `{ "preset": …, "overrides": {…}, "trainThroughCli"?: bool, "trainSeconds"?: s }`. */
export function readQualityRecipe(file: string): QualityRecipe {
  const where = resolve(file);
  let parsed: Partial<QualityRecipe>;
  try {
    parsed = JSON.parse(readFileSync(where, 'utf8')) as Partial<QualityRecipe>;
  } catch (e) {
    throw new Error(
      `--recipe ${where}: not readable JSON (${(e as Error).message}). Fix: give a file like scripts/device/quality-gpu.recipe.json`,
    );
  }
  if (!isPresetName(parsed.preset))
    throw new Error(`--recipe ${where}: "preset" must be one of ${presetNames.join(', ')}, got ${JSON.stringify(parsed.preset)}`);
  if (typeof parsed.overrides !== 'object' || parsed.overrides === null || Array.isArray(parsed.overrides))
    throw new Error(`--recipe ${where}: "overrides" must be an object of config sections (as in a *.dora.json)`);
  if (parsed.trainSeconds !== undefined && !(typeof parsed.trainSeconds === 'number' && parsed.trainSeconds > 0))
    throw new Error(`--recipe ${where}: "trainSeconds" must be a positive number of seconds`);
  return {
    preset: parsed.preset,
    overrides: parsed.overrides,
    trainThroughCli: parsed.trainThroughCli === true,
    trainSeconds: parsed.trainSeconds,
  };
}

export function qualityFromCli(options: {
  steps?: number;
  backend?: BackendName;
  out?: string;
  dir?: string;
  recipe?: string;
  ffmpegPath?: string;
}): Promise<QualityResults> {
  return runQualityBenchmark({
    steps: options.steps,
    backend: options.backend,
    out: options.out,
    dir: options.dir ? resolve(options.dir) : undefined,
    recipe: options.recipe ? readQualityRecipe(options.recipe) : undefined,
    ffmpegPath: options.ffmpegPath,
  });
}
