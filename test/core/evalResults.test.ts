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
  isEvalSidecar,
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
