/**
 * Evaluation results beside their checkpoint: `checkpoints/step-NNNNNN.eval.json`, one record per
 * (suite, dataset, settings), so every evaluation is computed once. The file names the checkpoint's weights checksum;
 * results for other weights (a replaced checkpoint) are dropped. Written atomically; listCheckpoints ignores it
 * (it only reads `step-NNNNNN.json`).
 */
import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../../core/atomicWrite';

export const EVAL_SIDECAR_VERSION = 1;

export interface EvalRecord<T = unknown> {
  suite: string;
  dataset: string;
  settings: unknown;
  result: T;
  time: string;
  seconds: number;
}

export interface EvalSidecar {
  formatVersion: number;
  /** The checkpoint sidecar's file name and its weights checksum. */
  checkpoint: string;
  weightsSha256: string;
  results: Record<string, EvalRecord>;
}

export function evalSidecarPath(checkpointSidecar: string): string {
  if (!/\.json$/.test(checkpointSidecar)) throw new Error(`${checkpointSidecar}: not a checkpoint sidecar (.json)`);
  return checkpointSidecar.replace(/\.json$/, '.eval.json');
}

/** JSON with sorted object keys, so equal settings give equal keys whatever order they were written in. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function evalKey(suite: string, dataset: string, settings: unknown): string {
  return `${suite}|${dataset}|${stableStringify(settings)}`;
}

export async function readEvalSidecar(file: string): Promise<EvalSidecar | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as EvalSidecar;
    return parsed && parsed.formatVersion === EVAL_SIDECAR_VERSION && typeof parsed.results === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export interface CachedEvalOptions {
  /** The eval sidecar file. */
  file: string;
  checkpoint: string;
  weightsSha256: string;
  /** Recompute even when a result exists. */
  force?: boolean;
}

/** The stored result for (suite, dataset, settings), or `compute()`'s, which is then stored. */
export async function cachedEvaluation<T>(options: CachedEvalOptions, suite: string, dataset: string, settings: unknown, compute: () => Promise<T>): Promise<{ record: EvalRecord<T>; cached: boolean }> {
  const key = evalKey(suite, dataset, settings);
  const existing = await readEvalSidecar(options.file);
  const valid = existing && existing.weightsSha256 === options.weightsSha256 ? existing : undefined;
  if (!options.force && valid?.results[key]) return { record: valid.results[key] as EvalRecord<T>, cached: true };
  const started = performance.now();
  const result = await compute();
  const record: EvalRecord<T> = { suite, dataset, settings, result, time: new Date().toISOString(), seconds: (performance.now() - started) / 1000 };
  // Re-read: another evaluation of the same checkpoint may have finished meanwhile; keep its records.
  const latest = await readEvalSidecar(options.file);
  const keep = latest && latest.weightsSha256 === options.weightsSha256 ? latest.results : {};
  const sidecar: EvalSidecar = { formatVersion: EVAL_SIDECAR_VERSION, checkpoint: options.checkpoint, weightsSha256: options.weightsSha256, results: { ...keep, [key]: record } };
  await writeJsonAtomic(options.file, sidecar);
  return { record, cached: false };
}
