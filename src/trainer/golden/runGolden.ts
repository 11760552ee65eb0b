/**
 * The golden runner: every *.safetensors case under the given files/folders is run through the real modules
 * (CASE_RUNNERS) and every expected.* tensor is checked with the case's own tolerance rule.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assertNoGpuErrors } from '../backend';
import type { NamedArray } from '../io/safetensors';
import { CASE_RUNNERS, loadGoldenCase, type GoldenCase } from './cases';
import { axis0Selector, compareMask, compareUpdate, compareValues, type TensorCheck } from './tolerance';

export interface CaseResult {
  file: string;
  name: string;
  kind: string;
  checks: TensorCheck[];
  pass: boolean;
  error?: string;
  seconds: number;
}

export function collectGoldenFiles(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new Error(`golden: ${p} does not exist`);
    }
    if (st.isDirectory())
      files.push(
        ...readdirSync(p)
          .filter((f) => f.endsWith('.safetensors'))
          .sort()
          .map((f) => join(p, f)),
      );
    else files.push(p);
  }
  if (files.length === 0) throw new Error(`golden: no *.safetensors cases found in ${paths.join(', ')}`);
  return files;
}

type Actual = Map<string, { data: ArrayLike<number>; shape: number[] }>;

function missing(name: string, detail: string): TensorCheck {
  return { name, pass: false, scaledError: Infinity, relativeError: Infinity, detail };
}

/** Every expected.* tensor of the case against what the implementation produced, with the case's tolerance rules. */
export function checkCase(c: GoldenCase, actual: Actual): TensorCheck[] {
  const checks: TensorCheck[] = [];
  for (const [fullName, expected] of c.tensors) {
    if (!fullName.startsWith('expected.')) continue;
    const got = actual.get(fullName.slice('expected.'.length));
    if (!got) checks.push(missing(fullName, 'not produced by the implementation'));
    else if (got.data.length !== expected.data.length)
      checks.push(missing(fullName, `shape [${got.shape}] vs expected [${expected.shape}]`));
    else checks.push(...checkTensor(c, fullName, got.data, expected));
  }
  return checks;
}

function checkTensor(c: GoldenCase, fullName: string, got: ArrayLike<number>, expected: NamedArray): TensorCheck[] {
  const tol = c.tolerance;
  const name = fullName.slice('expected.'.length);
  const exp = expected.data as ArrayLike<number>;
  const override = tol.per_tensor?.[fullName];
  const rtol = override?.rtol ?? tol.rtol ?? 1e-4;
  const atol = override?.atol ?? tol.atol ?? 0;
  const expectedMargin = c.tensors.get('expected.margin');
  if (name === 'mask_patch' && expectedMargin)
    return [compareMask(fullName, got, exp, expectedMargin.data as ArrayLike<number>, tol.margin_tol ?? 0)];
  if (name === 'masked_images' && expectedMargin) {
    const include = decidedPixels(c, expected.shape, expectedMargin);
    return [compareValues(fullName, got, exp, rtol, atol, include)];
  }
  const exclusion = tol.exclude_elements?.[fullName];
  const excluded = exclusion ? axis0Selector(expected.shape, exclusion.axis0_range) : undefined;
  const kept = excluded ? (i: number) => !excluded(i) : undefined;
  const checks = [compareValues(fullName, got, exp, rtol, atol, kept)];
  const paramMatch = /^(student|teacher)\.(.+)$/.exec(name);
  const before = paramMatch ? c.tensors.get(`param.${paramMatch[1]}.${paramMatch[2]}`) : undefined;
  if (before && tol.update_rtol !== undefined) {
    const start = before.data as ArrayLike<number>;
    checks.push(compareUpdate(fullName, got, exp, start, tol.update_rtol, kept));
    if (excluded) checks.push(excludedMoves(fullName, got, start, exp.length, excluded, Number(c.config.lr)));
  }
  return checks;
}

/**
 * Only pixels of patches decided beyond margin_tol are comparable. masked_images is [k,B,F,3,H,W], margin [k,B,F,N].
 */
function decidedPixels(c: GoldenCase, shape: number[], margin: NamedArray): (i: number) => boolean {
  const [, , , , h, w] = shape;
  const patch = Number(c.config.patch_size);
  const cols = Math.floor(w / patch);
  const n = margin.shape[margin.shape.length - 1];
  const marginData = margin.data as ArrayLike<number>;
  const marginTol = c.tolerance.margin_tol ?? 0;
  return (i: number) => {
    const x = i % w;
    const y = Math.floor(i / w) % h;
    const view = Math.floor(i / (3 * h * w)); // (k, b, f) flattened
    return Math.abs(marginData[view * n + Math.floor(y / patch) * cols + Math.floor(x / patch)]) > marginTol;
  };
}

/** Elements with an exactly-zero true gradient: a fresh AdamW step may move them by at most lr. */
function excludedMoves(
  fullName: string,
  got: ArrayLike<number>,
  before: ArrayLike<number>,
  length: number,
  excluded: (i: number) => boolean,
  lr: number,
): TensorCheck {
  let worst = 0;
  for (let i = 0; i < length; i++) if (excluded(i)) worst = Math.max(worst, Math.abs(got[i] - before[i]));
  const bound = lr * (1 + 1e-3) + 1e-7;
  return {
    name: `${fullName} (excluded elements: |Δ| ≤ lr)`,
    pass: worst <= bound,
    scaledError: worst / bound,
    relativeError: worst,
    detail: `max|Δ| ${worst.toExponential(2)} vs lr ${lr}`,
  };
}

export async function runGoldenCase(file: string): Promise<CaseResult> {
  const started = Date.now();
  let c: GoldenCase;
  try {
    c = loadGoldenCase(file);
  } catch (e) {
    return { file, name: basename(file), kind: '?', checks: [], pass: false, error: (e as Error).message, seconds: 0 };
  }
  const runner = CASE_RUNNERS[c.kind];
  if (!runner) {
    return {
      file,
      name: c.name,
      kind: c.kind,
      checks: [],
      pass: false,
      error: `unknown case kind "${c.kind}" (known: ${Object.keys(CASE_RUNNERS).join(', ')})`,
      seconds: 0,
    };
  }
  try {
    const outputs = await runner(c);
    if (tf.getBackend() === 'webgpu') assertNoGpuErrors();
    const checks = checkCase(c, outputs);
    return {
      file,
      name: c.name,
      kind: c.kind,
      checks,
      pass: checks.length > 0 && checks.every((x) => x.pass),
      seconds: (Date.now() - started) / 1000,
    };
  } catch (e) {
    return {
      file,
      name: c.name,
      kind: c.kind,
      checks: [],
      pass: false,
      error: (e as Error).stack ?? String(e),
      seconds: (Date.now() - started) / 1000,
    };
  }
}

/** One line per case: name, tensors checked, the worst scaled error (error / allowed bound, ≤ 1 passes) and where. */
export function formatCaseLine(r: CaseResult): string {
  if (r.error) return `${r.name.padEnd(24)} ERROR  ${r.error.split('\n')[0]}`;
  // The |Δ| ≤ lr check of exactly-zero-gradient elements is a different kind of bound: reported, not ranked.
  const numeric = r.checks.filter((c) => !c.name.endsWith('mask_patch') && !c.name.includes('excluded elements'));
  const worst = numeric.reduce<TensorCheck | undefined>((w, c) => (!w || c.scaledError > w.scaledError ? c : w), undefined);
  const worstRel = numeric.reduce((m, c) => Math.max(m, Number.isFinite(c.relativeError) ? c.relativeError : Infinity), 0);
  const masks = r.checks.filter((c) => c.name.endsWith('mask_patch'));
  const maskText = masks.length ? `  masks: ${masks.map((m) => m.detail).join('; ')}` : '';
  return (
    `${r.name.padEnd(24)} ${r.pass ? 'PASS' : 'FAIL'}  ${String(r.checks.length).padStart(3)} checks  worst ` +
    `err/bound ${worst ? worst.scaledError.toExponential(2) : '-'} (${worst?.name ?? '-'})  worst ` +
    `rel ${worstRel.toExponential(2)}  ${r.seconds.toFixed(1)}s${maskText}`
  );
}
