// The statistics and the table of `npm run quality` (qualityReport.ts) on hand-made results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KnnResult, TrackingResult } from '../../../src/core/evalResults';
import { meanAndStdErr } from '../../../src/trainer/eval/knn';
import {
  formatComparisons,
  formatQualityTable,
  pairedDifference,
  qualityComparisons,
  qualityVerdict,
  type QualityRow,
} from '../../../src/trainer/eval/qualityReport';

const knn = (folds: number[]): KnnResult => {
  const { mean, stdErr } = meanAndStdErr(folds);
  return {
    numTrain: 100,
    numTest: 100,
    classes: ['background', 'wheel', 'star', 'ladder', 'cross'],
    scores: [10, 20, 100, 200].map((k) => ({ k, kUsed: k, top1: mean, top5: 100, top1Folds: folds, top1StdErr: stdErr })),
    folds: { count: folds.length, unit: 'scene', cv: true },
  };
};
const tracking = (clips: number[], iou: number[]): TrackingResult => ({
  propagation: {
    jMean: meanAndStdErr(clips).mean,
    fMean: meanAndStdErr(clips).mean,
    jAndFMean: meanAndStdErr(clips).mean,
    clipJAndF: clips,
    jAndFStdErr: meanAndStdErr(clips).stdErr,
    sequences: clips.length,
    boundaryTolerancePx: 1,
    perObject: {},
  },
  tracker: {
    iouByOffset: [0.5, ...iou],
    staticIoUByOffset: [0.5, ...iou],
    meanIoU: meanAndStdErr(iou).mean,
    matchedPairs: iou.length,
    clipMeanIoU: iou,
    meanIoUStdErr: meanAndStdErr(iou).stdErr,
  },
});
const row = (model: string, folds: number[], clips?: number[]): QualityRow => ({
  model,
  trainSeconds: clips ? 60 : null,
  steps: clips ? 100 : null,
  checkpoint: null,
  knnSynthetic: knn(folds),
  knnFashionMnist: { skipped: 'not here' },
  tracking: clips
    ? tracking(
        clips,
        clips.map((c) => c / 2),
      )
    : undefined,
});

test('pairedDifference: the SE of the per-unit differences, not of each series', () => {
  // Both series vary a lot between units, their difference does not: the paired SE is small.
  const d = pairedDifference('m', 'a', 'b', [10, 50, 90, 30], [8, 47, 89, 26]);
  assert.equal(d.difference, 2.5);
  assert.ok(Math.abs(d.stdErr - meanAndStdErr([2, 3, 1, 4]).stdErr) < 1e-12);
  assert.ok(Math.abs(d.z - 2.5 / d.stdErr) < 1e-12);
  assert.equal(d.units, 4);
  assert.throws(() => pairedDifference('m', 'a', 'b', [1, 2], [1]), /same folds or clips/);
});

test('comparisons, table and verdict: DoRA above random init by more than 2 SE and DoRA ≥ DINO', () => {
  const rows = [
    row('DoRA', [40, 42, 38, 41, 44], [0.5, 0.52, 0.48, 0.55]),
    row('DINO', [35, 37, 36, 34, 38], [0.45, 0.46, 0.44, 0.5]),
    row('random init', [27, 26, 29, 28, 25], [0.3, 0.33, 0.29, 0.31]),
    row('raw pixels', [21, 22, 20, 19, 23]),
  ];
  const comparisons = qualityComparisons(rows);
  assert.deepEqual(
    comparisons.map((c) => `${c.a}-${c.b}:${c.metric.split(' ')[0]}`),
    [
      'DoRA-random init:k-NN',
      'DoRA-random init:J&F',
      'DoRA-random init:tracker',
      'DINO-random init:k-NN',
      'DINO-random init:J&F',
      'DINO-random init:tracker',
      'DoRA-DINO:k-NN',
      'DoRA-DINO:J&F',
      'DoRA-DINO:tracker',
    ],
  );
  const table = formatQualityTable(rows);
  assert.match(table, /\| DoRA +\| +60 \| 41\.0 ± 1\.0 \(41\.0 \/ 41\.0 \/ 41\.0\)/);
  assert.match(table, /\| raw pixels .*skipped .*\| —/);
  assert.match(formatComparisons(comparisons), /DoRA − random init +k-NN synthetic top-1 \(k=20, %\) +14\.0 ± /);
  const verdict = qualityVerdict(rows, comparisons, 20);
  assert.deepEqual(
    verdict.map((line) => line.replace(/ \(.*\)$/, '')),
    [
      'raw pixels on synthetic objects: 21.0 %',
      'DoRA > random init on k-NN by > 2 SE: yes',
      'DoRA ≥ DINO on k-NN: yes',
      'DoRA > random init on J&F by > 2 SE: yes',
      'DoRA ≥ DINO on J&F: yes',
    ],
  );
  // A model that does not beat random init gets a "no".
  const worse = qualityVerdict(
    [rows[2], { ...rows[0], model: 'DoRA', knnSynthetic: knn([27, 25, 30, 26, 26]) }],
    qualityComparisons([rows[2], { ...rows[0], knnSynthetic: knn([27, 25, 30, 26, 26]) }]),
    20,
  );
  assert.match(
    worse.find((l) => l.includes('k-NN by'))!,
    /: no \(z = /,
  );
});
