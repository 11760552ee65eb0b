// The eval sidecar computes each (suite, dataset, settings) once per checkpoint weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedEvaluation, evalKey, evalSidecarPath, type EvalSidecar } from '../../../src/trainer/eval/evalSidecar';

test('a result is computed once, then read back; other settings or other weights compute again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dora-eval-sidecar-'));
  const file = evalSidecarPath(join(dir, 'step-000120.json'));
  assert.equal(file, join(dir, 'step-000120.eval.json'));
  let calls = 0;
  const compute = async () => ({ top1: 50 + ++calls });
  const identity = { file, checkpoint: 'step-000120.json', weightsSha256: 'a'.repeat(64) };

  const first = await cachedEvaluation(identity, 'knn', 'synthetic', { k: [10, 20], imageSize: 48 }, compute);
  assert.equal(first.cached, false);
  assert.deepEqual(first.record.result, { top1: 51 });
  // Same settings written in another key order: the stored record, no computation.
  const again = await cachedEvaluation(identity, 'knn', 'synthetic', { imageSize: 48, k: [10, 20] }, compute);
  assert.equal(again.cached, true);
  assert.deepEqual(again.record.result, { top1: 51 });
  assert.equal(calls, 1);

  const other = await cachedEvaluation(identity, 'knn', 'fashion-mnist', { imageSize: 48, k: [10, 20] }, compute);
  assert.equal(other.cached, false);
  const stored = JSON.parse(readFileSync(file, 'utf8')) as EvalSidecar;
  assert.deepEqual(
    Object.keys(stored.results).sort(),
    [evalKey('knn', 'fashion-mnist', { k: [10, 20], imageSize: 48 }), evalKey('knn', 'synthetic', { imageSize: 48, k: [10, 20] })].sort(),
  );

  const forced = await cachedEvaluation({ ...identity, force: true }, 'knn', 'synthetic', { k: [10, 20], imageSize: 48 }, compute);
  assert.equal(forced.cached, false);
  assert.equal(calls, 3);

  // New weights under the same name: old results no longer apply and are dropped.
  const replaced = await cachedEvaluation(
    { ...identity, weightsSha256: 'b'.repeat(64) },
    'knn',
    'synthetic',
    { k: [10, 20], imageSize: 48 },
    compute,
  );
  assert.equal(replaced.cached, false);
  assert.equal(Object.keys((JSON.parse(readFileSync(file, 'utf8')) as EvalSidecar).results).length, 1);
  assert.ok(!existsSync(join(dir, 'step-000120.eval.json.tmp')));
});
