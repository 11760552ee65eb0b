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
 * Scores `test` against `train` for every k. Features need not be normalised: both sets are L2-normalised here,
 * as eval_knn.py does right after extraction.
 */
export function knnClassify(train: FeatureSet, test: FeatureSet, options: KnnOptions): KnnScore[] {
  if (train.dim !== test.dim) throw new Error(`k-NN: train features have ${train.dim} dimensions, test features ${test.dim}`);
  if (train.count === 0 || test.count === 0) throw new Error('k-NN: the train and test sets must not be empty');
  const ks = options.ks ?? DINO_KNN_KS;
  const temperature = options.temperature ?? DINO_KNN_TEMPERATURE;
  const dim = train.dim;
  const trainNorm = l2NormalizeRows(train.features, dim);
  const testNorm = l2NormalizeRows(test.features, dim);
  const kMax = Math.min(Math.max(...ks), train.count);
  const correctTop1 = new Array<number>(ks.length).fill(0);
  const correctTop5 = new Array<number>(ks.length).fill(0);
  const similarity = new Float64Array(train.count);
  for (let q = 0; q < test.count; q++) {
    const qBase = q * dim;
    for (let r = 0; r < train.count; r++) {
      const rBase = r * dim;
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += testNorm[qBase + i] * trainNorm[rBase + i];
      similarity[r] = dot;
    }
    // One sorted top-kMax list serves every k: the top-k of a sorted list is its prefix (similarity.topk(k, sorted=True)).
    const neighbours = topKIndices(similarity, kMax);
    ks.forEach((k, i) => {
      const used = neighbours.slice(0, Math.min(k, train.count));
      const ranking = rankClassesByWeightedVote(
        used.map((j) => similarity[j]),
        used.map((j) => train.labels[j]),
        options.numClasses,
        temperature,
      );
      const target = test.labels[q];
      if (ranking[0] === target) correctTop1[i]++;
      if (ranking.slice(0, Math.min(5, used.length)).includes(target)) correctTop5[i]++;
    });
  }
  return ks.map((k, i) => ({
    k,
    kUsed: Math.min(k, train.count),
    top1: (100 * correctTop1[i]) / test.count,
    top5: (100 * correctTop5[i]) / test.count,
  }));
}
