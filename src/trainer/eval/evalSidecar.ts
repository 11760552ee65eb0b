/**
 * Evaluation results beside their checkpoint: `checkpoints/step-NNNNNN.eval.json`, one record per
 * (suite, dataset, settings), so every evaluation is computed once. The file names the checkpoint's weights checksum;
 * results for other weights (a replaced checkpoint) are dropped. Written atomically; listCheckpoints ignores it
 * (it only reads `step-NNNNNN.json`).
 */
import { writeJsonAtomic } from '../../core/node/atomicWrite';
import { evalKey, EVAL_SIDECAR_VERSION, type EvalRecord, type EvalSidecar } from '../../core/evalResults';
import { readEvalSidecar } from '../../core/node/evalFiles';

export { evalKey, stableStringify, EVAL_SIDECAR_VERSION, type EvalRecord, type EvalSidecar } from '../../core/evalResults';
export { evalSidecarPath } from '../../core/node/runPaths';
export { readEvalSidecar } from '../../core/node/evalFiles';

export interface CachedEvalOptions {
  /** The eval sidecar file. */
  file: string;
  checkpoint: string;
  weightsSha256: string;
  /** Recompute even when a result exists. */
  force?: boolean;
}

/** The stored result for (suite, dataset, settings), or `compute()`'s, which is then stored. */
export async function cachedEvaluation<T>(
  options: CachedEvalOptions,
  suite: string,
  dataset: string,
  settings: unknown,
  compute: () => Promise<T>,
): Promise<{ record: EvalRecord<T>; cached: boolean }> {
  const key = evalKey(suite, dataset, settings);
  const existing = await readEvalSidecar(options.file);
  const valid = existing && existing.weightsSha256 === options.weightsSha256 ? existing : undefined;
  if (!options.force && valid?.results[key]) return { record: valid.results[key] as EvalRecord<T>, cached: true };
  const started = performance.now();
  const result = await compute();
  const record: EvalRecord<T> = {
    suite,
    dataset,
    settings,
    result,
    time: new Date().toISOString(),
    seconds: (performance.now() - started) / 1000,
  };
  // Re-read: another evaluation of the same checkpoint may have finished meanwhile; keep its records.
  const latest = await readEvalSidecar(options.file);
  const keep = latest && latest.weightsSha256 === options.weightsSha256 ? latest.results : {};
  const sidecar: EvalSidecar = {
    formatVersion: EVAL_SIDECAR_VERSION,
    checkpoint: options.checkpoint,
    weightsSha256: options.weightsSha256,
    results: { ...keep, [key]: record },
  };
  await writeJsonAtomic(options.file, sidecar);
  return { record, cached: false };
}
