// Experiment helper (not product code): the evaluations of `npm run quality` for one encoder, as a compact line.
import { hasFashionMnist } from '../../src/trainer/eval/fashionMnist';
import type { EvalEncoder } from '../../src/trainer/eval/encoder';
import { defaultFashionMnistDir, runEvaluation, type KnnResult, type TrackingResult } from '../../src/trainer/eval/runEval';
import { CACHE } from './common';

export type Suite = 'knn' | 'tracking' | 'fashion';

export async function evaluate(encoder: EvalEncoder, video: string, suites: Suite[], rawPixels = false): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const common = { video, cacheRoot: CACHE, rawPixels };
  const k20 = (r: KnnResult) => r.scores.find((s) => s.k === 20)!;
  if (suites.includes('knn')) {
    const r = (await runEvaluation(encoder, { suite: 'knn', dataset: 'synthetic', ...common })).record.result as KnnResult;
    out.knn = { k20: k20(r).top1, se: k20(r).top1StdErr, folds: k20(r).top1Folds, all: r.scores.map((s) => s.top1) };
  }
  if (suites.includes('fashion') && hasFashionMnist(defaultFashionMnistDir())) {
    const r = (await runEvaluation(encoder, { suite: 'knn', dataset: 'fashion-mnist', ...common })).record.result as KnnResult;
    out.fashion = { k20: k20(r).top1, se: k20(r).top1StdErr };
  }
  if (suites.includes('tracking') && !rawPixels) {
    const r = (await runEvaluation(encoder, { suite: 'tracking', ...common })).record.result as TrackingResult;
    out.jf = { mean: r.propagation.jAndFMean, se: r.propagation.jAndFStdErr, clips: r.propagation.clipJAndF };
    out.trackerIoU = { mean: r.tracker.meanIoU, se: r.tracker.meanIoUStdErr, byOffset: r.tracker.iouByOffset };
  }
  return out;
}

export function summary(r: Record<string, unknown>): string {
  const f = (x: unknown, d = 1) => (typeof x === 'number' ? x.toFixed(d) : '—');
  const parts: string[] = [];
  const knn = r.knn as { k20: number; se: number } | undefined;
  if (knn) parts.push(`kNN20 ${f(knn.k20)}±${f(knn.se)}`);
  const fm = r.fashion as { k20: number; se: number } | undefined;
  if (fm) parts.push(`FM ${f(fm.k20)}±${f(fm.se)}`);
  const jf = r.jf as { mean: number; se: number } | undefined;
  if (jf) parts.push(`J&F ${f(jf.mean, 3)}±${f(jf.se, 3)}`);
  const t = r.trackerIoU as { mean: number; se: number } | undefined;
  if (t) parts.push(`IoU ${f(t.mean, 3)}±${f(t.se, 3)}`);
  return parts.join('  ');
}
