/**
 * Weighted k-NN classification on frozen features, following DINO's eval_knn.py (`knn_classifier`):
 *  - features are L2-normalised (nn.functional.normalize, eps 1e-12), so the dot product is the cosine similarity;
 *  - each test sample takes its k most similar training samples; neighbour j votes for its class with weight
 *    exp(sim_j / T), T = 0.07;
 *  - classes are ranked by their summed votes; top-1 checks the first class, top-5 the first min(5, k) classes.
 * Plain JavaScript: the evaluation sets here are a few thousand samples, and exact arithmetic order keeps results
 * independent of the TF.js backend.
 */

export const DINO_KNN_KS: readonly number[] = [10, 20, 100, 200];
export const DINO_KNN_TEMPERATURE = 0.07;

export interface FeatureSet {
  /** Row-major [count, dim]. */
  features: Float32Array;
  labels: Int32Array;
  count: number;
  dim: number;
}

export interface KnnOptions {
  ks?: readonly number[];
  temperature?: number;
  numClasses: number;
}

import type { KnnScore } from '../../core/evalResults';

export type { KnnScore };

/** Copies `features` with every row scaled to unit L2 norm (rows of zeros stay zero, as with eps 1e-12). */
export function l2NormalizeRows(features: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(features.length);
  for (let row = 0; row < features.length / dim; row++) {
    const base = row * dim;
    let sumSq = 0;
    for (let i = 0; i < dim; i++) sumSq += features[base + i] * features[base + i];
    const scale = 1 / Math.max(Math.sqrt(sumSq), 1e-12);
    for (let i = 0; i < dim; i++) out[base + i] = features[base + i] * scale;
  }
  return out;
}

/** Indices of the `k` largest values, largest first (ties: lower index first, deterministic). */
function topKIndices(values: Float64Array, k: number): number[] {
  // The k-th largest value via a native typed-array sort, then only the candidates at or above it get ordered.
  const sorted = values.slice().sort();
  const threshold = sorted[sorted.length - k];
  const candidates: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] >= threshold) candidates.push(i);
  candidates.sort((a, b) => values[b] - values[a] || a - b);
  return candidates.slice(0, k);
}

/**
 * Class ranking of one test sample from its neighbours' similarities and labels: classes sorted by summed
 * exp(sim/T), highest first; ties (including classes with no vote) keep the lower class index first.
 */
export function rankClassesByWeightedVote(
  similarities: readonly number[],
  labels: readonly number[],
  numClasses: number,
  temperature: number,
): number[] {
  const votes = new Float64Array(numClasses);
  similarities.forEach((sim, j) => {
    votes[labels[j]] += Math.exp(sim / temperature);
  });
  return Array.from({ length: numClasses }, (_, c) => c).sort((a, b) => votes[b] - votes[a] || a - b);
}

/**
 * Evaluation folds, the unit of the standard errors. `test[i]` is the fold of test sample i. With `train` (the fold of
 * every train sample) the evaluation cross-validates: a test sample only votes with train samples of OTHER folds (pass
 * the same pool as train and test). `unit` says what a fold groups (e.g. `scene`, `index`), for the record.
 */
export interface KnnFolds {
  test: Int32Array;
  train?: Int32Array;
  count: number;
  unit: string;
}

/** Mean and standard error of the mean (sample standard deviation / √n; NaN for n < 2). */
export function meanAndStdErr(values: readonly number[]): { mean: number; stdErr: number } {
  const n = values.length;
  const mean = n ? values.reduce((a, b) => a + b, 0) / n : NaN;
  if (n < 2) return { mean, stdErr: NaN };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, stdErr: Math.sqrt(variance / n) };
}

/** Per k: top-1 accuracy (%) of each fold's test samples (NaN for an empty fold), its mean over folds and standard error. */
function foldSummary(correct: Uint8Array, folds: KnnFolds): { top1Folds: number[]; top1StdErr: number } {
  const hits = new Array<number>(folds.count).fill(0);
  const counts = new Array<number>(folds.count).fill(0);
  folds.test.forEach((f, q) => {
    counts[f]++;
    hits[f] += correct[q];
  });
  const top1Folds = hits.map((h, f) => (counts[f] ? (100 * h) / counts[f] : NaN));
  return { top1Folds, top1StdErr: meanAndStdErr(top1Folds.filter(Number.isFinite)).stdErr };
}

/**
 * Scores `test` against `train` for every k. Features need not be normalised: both sets are L2-normalised here,
 * as eval_knn.py does right after extraction. With `folds`, each score also gets per-fold top-1 accuracies and their
 * standard error (see KnnFolds; top1 stays the accuracy over all test samples).
 */
export function knnClassify(train: FeatureSet, test: FeatureSet, options: KnnOptions & { folds?: KnnFolds }): KnnScore[] {
  if (train.dim !== test.dim) throw new Error(`k-NN: train features have ${train.dim} dimensions, test features ${test.dim}`);
  if (train.count === 0 || test.count === 0) throw new Error('k-NN: the train and test sets must not be empty');
  const folds = options.folds;
  if (folds && (folds.test.length !== test.count || (folds.train && folds.train.length !== train.count)))
    throw new Error('k-NN: the folds must give one fold per test (and train) sample');
  const ks = options.ks ?? DINO_KNN_KS;
  const temperature = options.temperature ?? DINO_KNN_TEMPERATURE;
  const dim = train.dim;
  const trainNorm = l2NormalizeRows(train.features, dim);
  const testNorm = l2NormalizeRows(test.features, dim);
  const correctTop1 = ks.map(() => new Uint8Array(test.count));
  const correctTop5 = new Array<number>(ks.length).fill(0);
  const kUsed = new Array<number>(ks.length).fill(0);
  const similarity = new Float64Array(train.count);
  for (let q = 0; q < test.count; q++) {
    const qBase = q * dim;
    let available = 0;
    for (let r = 0; r < train.count; r++) {
      if (folds?.train && folds.train[r] === folds.test[q]) {
        similarity[r] = -Infinity; // same fold: not a neighbour when cross-validating
        continue;
      }
      available++;
      const rBase = r * dim;
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += testNorm[qBase + i] * trainNorm[rBase + i];
      similarity[r] = dot;
    }
    if (available === 0) throw new Error('k-NN: a test fold has no training samples in the other folds');
    // One sorted top-kMax list serves every k: the top-k of a sorted list is its prefix (similarity.topk(k, sorted=True)).
    const neighbours = topKIndices(similarity, Math.min(Math.max(...ks), available));
    ks.forEach((k, i) => {
      const used = neighbours.slice(0, Math.min(k, available));
      kUsed[i] = Math.max(kUsed[i], used.length);
      const ranking = rankClassesByWeightedVote(
        used.map((j) => similarity[j]),
        used.map((j) => train.labels[j]),
        options.numClasses,
        temperature,
      );
      const target = test.labels[q];
      if (ranking[0] === target) correctTop1[i][q] = 1;
      if (ranking.slice(0, Math.min(5, used.length)).includes(target)) correctTop5[i]++;
    });
  }
  return ks.map((k, i) => ({
    k,
    kUsed: kUsed[i],
    top1: (100 * correctTop1[i].reduce((a, b) => a + b, 0)) / test.count,
    top5: (100 * correctTop5[i]) / test.count,
    ...(folds ? foldSummary(correctTop1[i], folds) : {}),
  }));
}
