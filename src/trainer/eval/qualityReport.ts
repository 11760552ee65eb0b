/**
 * The table of `npm run quality` and its statistics.
 *
 * Standard errors (SE) are over EVALUATION units, defined once here and in README/docs:
 *  - k-NN on synthetic objects: 5 folds of scenes (scene index mod 5) of the evaluation tour, cross-validated (a crop
 *    is classified by crops of the other folds' scenes only); SE = sd(fold top-1) / √5.
 *  - k-NN on Fashion-MNIST: the 2000 train images fixed, the 1000 test images in 5 folds (index mod 5); SE likewise.
 *  - J&F and tracker IoU: per clip (one clip per scene); SE = sd(clip values) / √clips.
 * Differences between two models are PAIRED (the same folds or clips): SE of the per-fold / per-clip differences.
 * They do not include training-seed variance (one training run per model); the random-init row can be repeated over
 * init seeds with `dora eval --random-init --seed N` to see that spread.
 */
import type { KnnResult, TrackingResult } from '../../core/evalResults';
import { meanAndStdErr } from './knn';

export interface QualityRow {
  model: string;
  trainSeconds: number | null;
  steps: number | null;
  checkpoint: string | null;
  knnSynthetic: KnnResult;
  knnFashionMnist: KnnResult | { skipped: string };
  /** Absent for raw pixels (no network to track with). */
  tracking?: TrackingResult;
}

export interface PairedDifference {
  metric: string;
  a: string;
  b: string;
  /** mean(a − b) over the shared folds or clips, its standard error, and mean / SE. */
  difference: number;
  stdErr: number;
  z: number;
  units: number;
}

const k20 = (r: KnnResult) => r.scores.find((s) => s.k === 20)!;
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '  n/a' : x.toFixed(1).padStart(5));
const frac = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '  n/a' : x.toFixed(3));
const withSe = (value: string, se: string) => `${value.trim()} ± ${se.trim()}`;

/** Paired difference of two per-unit series (NaN units dropped pairwise). */
export function pairedDifference(metric: string, a: string, b: string, va: readonly number[], vb: readonly number[]): PairedDifference {
  if (va.length !== vb.length)
    throw new Error(`${metric}: ${a} has ${va.length} units, ${b} ${vb.length}; they must be the same folds or clips`);
  const diffs = va.map((x, i) => x - vb[i]).filter(Number.isFinite);
  const { mean, stdErr } = meanAndStdErr(diffs);
  return {
    metric,
    a,
    b,
    difference: mean,
    stdErr,
    z: stdErr > 0 ? mean / stdErr : mean === 0 ? 0 : Math.sign(mean) * Infinity,
    units: diffs.length,
  };
}

/** DoRA vs random init and DoRA vs DINO on the synthetic k-NN (k = 20, folds) and J&F / tracker IoU (clips). */
export function qualityComparisons(rows: readonly QualityRow[]): PairedDifference[] {
  const by = (name: string) => rows.find((r) => r.model === name);
  const out: PairedDifference[] = [];
  for (const [a, b] of [
    ['DoRA', 'random init'],
    ['DINO', 'random init'],
    ['DoRA', 'DINO'],
  ] as const) {
    const ra = by(a);
    const rb = by(b);
    if (!ra || !rb) continue;
    out.push(
      pairedDifference('k-NN synthetic top-1 (k=20, %)', a, b, k20(ra.knnSynthetic).top1Folds ?? [], k20(rb.knnSynthetic).top1Folds ?? []),
    );
    if (ra.tracking && rb.tracking) {
      out.push(pairedDifference('J&F', a, b, ra.tracking.propagation.clipJAndF ?? [], rb.tracking.propagation.clipJAndF ?? []));
      out.push(pairedDifference('tracker IoU', a, b, ra.tracking.tracker.clipMeanIoU ?? [], rb.tracking.tracker.clipMeanIoU ?? []));
    }
  }
  return out;
}

export function formatQualityTable(rows: readonly QualityRow[]): string {
  const lines = [
    '| model       | train s | kNN synthetic top-1 k=20 ± SE (k=10 / 100 / 200) | kNN Fashion-MNIST k=20 ± SE ' +
      '| J&F ± SE      | J     | F     | tracker IoU later ± SE |',
    '|-------------|---------|--------------------------------------------------|-----------------------------' +
      '|---------------|-------|-------|------------------------|',
  ];
  for (const r of rows) {
    const s = k20(r.knnSynthetic);
    const others = [10, 100, 200].map((k) => pct(r.knnSynthetic.scores.find((x) => x.k === k)?.top1).trim()).join(' / ');
    const synth = `${withSe(pct(s.top1), pct(s.top1StdErr))} (${others})`;
    const fm =
      'skipped' in r.knnFashionMnist ? 'skipped' : withSe(pct(k20(r.knnFashionMnist).top1), pct(k20(r.knnFashionMnist).top1StdErr));
    const p = r.tracking?.propagation;
    const t = r.tracking?.tracker;
    const cells = [
      r.model.padEnd(11),
      (r.trainSeconds === null ? '—' : r.trainSeconds.toFixed(0)).padStart(7),
      synth.padEnd(48),
      fm.padEnd(27),
      (p ? withSe(frac(p.jAndFMean), frac(p.jAndFStdErr)) : '—').padEnd(13),
      (p ? frac(p.jMean) : '—').padEnd(5),
      (p ? frac(p.fMean) : '—').padEnd(5),
      (t ? withSe(frac(t.meanIoU), frac(t.meanIoUStdErr)) : '—').padEnd(22),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function formatComparisons(comparisons: readonly PairedDifference[]): string {
  const lines = ['Paired differences (same folds / clips; |z| > 2 means more than two standard errors):'];
  for (const c of comparisons) {
    const scale = c.metric.includes('%') ? 1 : 1000;
    const unit = c.metric.includes('%') ? ' points' : ' × 1e-3';
    const difference = `${(c.difference * scale).toFixed(1).padStart(7)} ± ${(c.stdErr * scale).toFixed(1)}${unit}`;
    lines.push(`  ${`${c.a} − ${c.b}`.padEnd(20)} ${c.metric.padEnd(31)} ${difference}  z = ${c.z.toFixed(2)} (${c.units} units)`);
  }
  return lines.join('\n');
}

/** The issue's "done when": raw pixels near chance, DoRA above random init by > 2 SE on k-NN and J&F, DoRA ≥ DINO. */
export function qualityVerdict(rows: readonly QualityRow[], comparisons: readonly PairedDifference[], chance: number): string[] {
  const find = (a: string, b: string, metric: string) => comparisons.find((c) => c.a === a && c.b === b && c.metric.startsWith(metric));
  const pixels = rows.find((r) => r.model === 'raw pixels');
  const lines: string[] = [];
  if (pixels) lines.push(`raw pixels on synthetic objects: ${k20(pixels.knnSynthetic).top1.toFixed(1)} % (chance ${chance.toFixed(1)} %)`);
  for (const metric of ['k-NN', 'J&F']) {
    const vsRandom = find('DoRA', 'random init', metric);
    if (vsRandom) lines.push(`DoRA > random init on ${metric} by > 2 SE: ${vsRandom.z > 2 ? 'yes' : 'no'} (z = ${vsRandom.z.toFixed(2)})`);
    const vsDino = find('DoRA', 'DINO', metric);
    if (vsDino) lines.push(`DoRA ≥ DINO on ${metric}: ${vsDino.difference >= 0 ? 'yes' : 'no'} (z = ${vsDino.z.toFixed(2)})`);
  }
  return lines;
}
