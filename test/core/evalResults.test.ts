import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  attentionResultOf,
  evalHeadline,
  evalKey,
  evalMarkdown,
  evalMetrics,
  formatEvalCell,
  isEvalSidecar,
  knnCaveat,
  newestRecords,
  type EvalRecord,
  type EvalSidecar,
} from '../../src/core/evalResults';
import { evalSidecarPath } from '../../src/core/node/runPaths';
import { readEvalSidecar } from '../../src/core/node/evalFiles';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'eval');
const load = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, `${name}.eval.json`), 'utf8')) as EvalSidecar;

test('metrics of a stored evaluation: every k-NN k, top-5 at k=20, J&F/J/F and the tracker IoU', () => {
  const sidecar = load('dino');
  assert.ok(isEvalSidecar(sidecar));
  const metrics = evalMetrics(sidecar);
  const keys = metrics.map((m) => m.key);
  assert.deepEqual(keys, [
    'knn:synthetic:top1@10',
    'knn:synthetic:top1@20',
    'knn:synthetic:top1@100',
    'knn:synthetic:top1@200',
    'knn:synthetic:top5@20',
    'knn:fashion-mnist:top1@10',
    'knn:fashion-mnist:top1@20',
    'knn:fashion-mnist:top1@100',
    'knn:fashion-mnist:top1@200',
    'knn:fashion-mnist:top5@20',
    'tracking:propagation:jf',
    'tracking:propagation:j',
    'tracking:propagation:f',
    'tracking:tracker:anchorIoU',
    'tracking:tracker:meanIoU',
  ]);
  const knn = Object.values(sidecar.results).find((r) => r.suite === 'knn' && r.dataset === 'synthetic')!.result as {
    scores: { k: number; top1: number }[];
  };
  assert.equal(metrics.find((m) => m.key === 'knn:synthetic:top1@20')!.value, knn.scores.find((s) => s.k === 20)!.top1);
  assert.ok(metrics.every((m) => m.direction === 'higher'));
  assert.equal(metrics.find((m) => m.key === 'knn:synthetic:top1@20')!.group, 'k-NN · synthetic objects');
  const headline = evalHeadline(metrics)!;
  assert.match(headline, /^k-NN \d+\.\d% · J&F 0\.\d{3}$/);
  assert.equal(attentionResultOf(sidecar)?.manifest.heads, 3);
  assert.match(evalMarkdown(sidecar)!, /Evaluated \d{4}-\d\d-\d\d /);
  assert.equal(evalMetrics(undefined).length, 0);
  assert.equal(evalMarkdown(undefined), undefined);
});

test('a re-evaluation with other settings supersedes the older record of the same suite and dataset', () => {
  const sidecar = load('dora');
  const old = Object.values(sidecar.results).find((r) => r.suite === 'knn')!;
  const newer: EvalRecord = {
    ...old,
    settings: { imageSize: 96 },
    time: '2099-01-01T00:00:00.000Z',
    result: { ...(old.result as object), scores: [{ k: 20, kUsed: 20, top1: 99, top5: 100 }] },
  };
  const both: EvalSidecar = { ...sidecar, results: { ...sidecar.results, [evalKey('knn', 'synthetic', newer.settings)]: newer } };
  assert.equal(newestRecords(both).filter((r) => r.suite === 'knn').length, 1);
  assert.equal(evalMetrics(both).find((m) => m.key === 'knn:synthetic:top1@20')!.value, 99);
});

/** The dora fixture with its synthetic k-NN split into `folds` and standard errors on k-NN and J&F. */
function withFolds(folds: { count: number; unit: string; cv: boolean }): EvalSidecar {
  const sidecar = load('dora');
  const results = Object.fromEntries(
    Object.entries(sidecar.results).map(([key, r]) => {
      if (r.suite === 'knn' && r.dataset === 'synthetic') {
        const knn = r.result as { scores: { top1: number }[] };
        const scores = knn.scores.map((s) => ({ ...s, top1: 0, top1StdErr: 0 }));
        return [key, { ...r, result: { ...knn, scores, folds } }];
      }
      if (r.suite === 'tracking') {
        const t = r.result as { propagation: object };
        return [key, { ...r, result: { ...t, propagation: { ...t.propagation, jAndFStdErr: 0.0123 } } }];
      }
      return [key, r];
    }),
  );
  return { ...sidecar, results };
}

test('k-NN over two scene folds carries a caveat to every view of it; five scenes do not; standard errors are shown', () => {
  const two = withFolds({ count: 2, unit: 'scene', cv: true });
  const top1 = evalMetrics(two).find((m) => m.key === 'knn:synthetic:top1@20')!;
  assert.match(top1.caveat ?? '', /^only 2 scenes in the evaluated frames: .*≥ 3 scenes/);
  assert.equal(top1.stdErr, 0);
  assert.equal(formatEvalCell(top1), '0.0% ± 0.0 ⚠');
  assert.match(evalHeadline(evalMetrics(two))!, /^k-NN 0\.0% ⚠ · J&F 0\.\d{3}$/);
  const markdown = evalMarkdown(two)!;
  assert.match(markdown, /\| k-NN · synthetic objects: top-1, k=20 \| 0\.0% ± 0\.0 ⚠ \|/);
  assert.match(markdown, /\n⚠ k-NN · synthetic objects: only 2 scenes/);
  const jf = evalMetrics(two).find((m) => m.key === 'tracking:propagation:jf')!;
  assert.equal(jf.caveat, undefined, 'the caveat is the k-NN folds’, not the tracking’s');
  assert.match(formatEvalCell(jf), /^0\.\d{3} ± 0\.012$/);

  const five = withFolds({ count: 5, unit: 'scene', cv: true });
  assert.ok(evalMetrics(five).every((m) => m.caveat === undefined));
  assert.doesNotMatch(evalMarkdown(five)!, /⚠/);
  assert.match(knnCaveat({ count: 5, unit: 'time block', cv: true }) ?? '', /blocks in time that share objects/);
  assert.equal(knnCaveat({ count: 2, unit: 'scene', cv: false }), undefined, 'a fixed test set is not a fold split');
  assert.equal(knnCaveat(undefined), undefined);
});

test('readEvalSidecar: missing, corrupt or another format version read as undefined', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dora-eval-results-'));
  const file = evalSidecarPath(path.join(dir, 'step-000010.json'));
  assert.equal(file, path.join(dir, 'step-000010.eval.json'));
  assert.equal(await readEvalSidecar(file), undefined);
  writeFileSync(file, '{ not json');
  assert.equal(await readEvalSidecar(file), undefined);
  writeFileSync(file, JSON.stringify({ ...load('dora'), formatVersion: 2 }));
  assert.equal(await readEvalSidecar(file), undefined);
  writeFileSync(file, JSON.stringify(load('dora')));
  assert.equal((await readEvalSidecar(file))?.checkpoint, 'step-000240.json');
  assert.throws(() => evalSidecarPath('/r/step-000010.safetensors'), /not a checkpoint sidecar/);
});
