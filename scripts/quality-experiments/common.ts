// Shared set-up of the experiment helpers (not product code): the work folder, the training and evaluation tours,
// config overrides, and a results log (<dir>/results.jsonl, one JSON line per evaluation).
import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureDemoVideo, type SyntheticVideoOptions } from '../../src/trainer/data/syntheticVideo';

export const E = resolve(process.env.QUALITY_EXP_DIR ?? '.cache/exp');
export const CACHE = join(E, 'frame-cache');

/** The tours of `npm run quality` (quality.ts QUALITY_TOURS), generated once into <E>/media. */
export const TRAIN_TOUR: SyntheticVideoOptions = { width: 320, height: 180, durationSeconds: 160, seed: 42 };
export const EVAL_TOUR: SyntheticVideoOptions = { width: 320, height: 180, durationSeconds: 120, seed: 7 };

export async function tours(): Promise<{ train: string; eval: string }> {
  mkdirSync(join(E, 'media'), { recursive: true });
  const train = await ensureDemoVideo(join(E, 'media'), TRAIN_TOUR, undefined, 'train-tour');
  const evalTour = await ensureDemoVideo(join(E, 'media'), EVAL_TOUR, undefined, 'eval-tour');
  return { train: train.video, eval: evalTour.video };
}

type Json = Record<string, unknown>;
export function merge(a: unknown, b: unknown): unknown {
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return b;
  const o: Json = { ...((a ?? {}) as Json) };
  for (const k of Object.keys(b)) o[k] = merge(o[k], (b as Json)[k]);
  return o;
}

export function record(entry: Json): void {
  appendFileSync(join(E, 'results.jsonl'), `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}
