// DINO's weighted k-NN (eval_knn.py) on hand-made 2-D features whose neighbours and votes can be worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { knnClassify, l2NormalizeRows, rankClassesByWeightedVote, type FeatureSet } from '../../../src/trainer/eval/knn';

const set = (points: [number, number][], labels: number[]): FeatureSet => ({
  features: Float32Array.from(points.flat()),
  labels: Int32Array.from(labels),
  count: points.length,
  dim: 2,
});

// Query (1, 0). Class 0 has ONE neighbour at cosine 0.9; class 1 has TWO at cosine 0.8; class 2 sits opposite.
const query = set([[1, 0]], [0]);
const train = set(
  [
    [0.9, Math.sqrt(1 - 0.81)],
    [0.8, 0.6],
    [0.8, -0.6],
    [-1, 0],
    [-0.9, 0.1],
  ],
  [0, 1, 1, 2, 2],
);

test('votes are weighted by exp(similarity / 0.07): one close neighbour beats two farther ones', () => {
  // class 0: e^(0.9/0.07) = e^12.857 ≈ 383 000; class 1: 2·e^(0.8/0.07) = 2·e^11.429 ≈ 183 000 → class 0 first.
  const [score] = knnClassify(train, query, { ks: [3], numClasses: 3 });
  assert.equal(score.top1, 100);
  // With a huge temperature every vote weighs ~1: a plain majority, so class 1 (two votes) wins and top-1 is wrong.
  const [majority] = knnClassify(train, query, { ks: [3], temperature: 1e6, numClasses: 3 });
  assert.equal(majority.top1, 0);
  assert.deepEqual(rankClassesByWeightedVote([0.9, 0.8, 0.8], [0, 1, 1], 3, 0.07), [0, 1, 2]);
  assert.deepEqual(rankClassesByWeightedVote([0.9, 0.8, 0.8], [0, 1, 1], 3, 1e6), [1, 0, 2]);
});

test('features are L2-normalised first: scaling a vector does not change its neighbours', () => {
  const scaled = set(
    [
      [9, Math.sqrt(1 - 0.81) * 10],
      [8, 6],
      [0.08, -0.06],
      [-100, 0],
      [-0.9, 0.1],
    ],
    [0, 1, 1, 2, 2],
  );
  assert.deepEqual(
    knnClassify(scaled, set([[5, 0]], [0]), { ks: [3], numClasses: 3 }),
    knnClassify(train, query, { ks: [3], numClasses: 3 }),
  );
  const unit = l2NormalizeRows(Float32Array.from([3, 4, 0, 0]), 2);
  assert.deepEqual(Array.from(unit), [0.6000000238418579, 0.800000011920929, 0, 0]);
});

test('top-5 looks at the first min(5, k) classes of the ranking; k is clipped to the train size', () => {
  // Seven classes at decreasing similarity to the query; the query's true class is ranked 3rd (top-5 hit) or 6th (miss).
  const angles = [0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2];
  const seven = set(
    angles.map((a) => [Math.cos(a), Math.sin(a)] as [number, number]),
    [0, 1, 2, 3, 4, 5, 6],
  );
  const [third] = knnClassify(seven, set([[1, 0]], [2]), { ks: [10], numClasses: 7 });
  assert.deepEqual(third, { k: 10, kUsed: 7, top1: 0, top5: 100 });
  const [sixth] = knnClassify(seven, set([[1, 0]], [5]), { ks: [10], numClasses: 7 });
  assert.equal(sixth.top5, 0);
  // k = 2 considers only two neighbours: top-5 is then the first min(5, 2) = 2 classes.
  const [two] = knnClassify(seven, set([[1, 0]], [2]), { ks: [2], numClasses: 7 });
  assert.equal(two.top5, 0);
});

test('accuracies are percentages over the test set, one score per k', () => {
  const queries = set(
    [
      [1, 0],
      [-1, 0.05],
      [0.8, 0.6],
      [0.1, 1],
    ],
    [0, 2, 1, 1],
  );
  const scores = knnClassify(train, queries, { ks: [1, 200], numClasses: 3 });
  assert.deepEqual(
    scores.map((s) => s.k),
    [1, 200],
  );
  assert.deepEqual(
    scores.map((s) => s.kUsed),
    [1, 5],
  );
  assert.equal(scores[0].top1, 100); // nearest neighbours: class 0, 2, 1 and (0.8, 0.6) for (0.1, 1) → 1
});
