// The compare panel's host side (CompareSession): configs and metrics at once, then same-frame inspections and stored
// evaluations, each merged into the state as it arrives.
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { HostToCompareMessage } from '../../../src/core/webviewMessages';
import { CompareSession, metricsAtStep } from '../../../src/host/compare/compareSession';
import { copyFixture } from '../helpers';

const toUri = (p: string) => `webview:${p}`;
const settle = () => new Promise((r) => setTimeout(r, 20));

test('compare: configs and metrics at once, then same-frame inspections from the runner', async () => {
  const { root, runDir } = copyFixture();
  const checkpoints = [100, 200].map((step) => {
    const sidecar = path.join(runDir, 'checkpoints', `step-000${step}.json`);
    writeFileSync(sidecar, JSON.stringify({ step, epoch: 0 }));
    return sidecar;
  });
  const posted: HostToCompareMessage[] = [];
  let askedOut = '';
  const session = new CompareSession({
    checkpoints,
    post: (m) => void posted.push(m),
    toWebviewUri: toUri,
    inspectRoot: path.join(root, 'inspect'),
    // The fixture's own snapshots stand in for inspect output (same format).
    runInspect: async (_c, outDir) => {
      askedOut = outDir;
      return { dirs: [path.join(runDir, 'snapshots', 'step-000100'), path.join(runDir, 'snapshots', 'step-000200')] };
    },
  });
  await session.handleMessage({ type: 'ready' });
  await session.whenSettled();
  await settle();
  const first = posted[0].data;
  assert.equal(first.title, 'Compare 2 checkpoints');
  assert.deepEqual(
    first.checkpoints?.map((c) => [c.id, c.step, c.metrics?.step, c.inspection]),
    [
      ['20261126-114909-demo@100', 100, 100, null],
      ['20261126-114909-demo@200', 200, 200, null],
    ],
  );
  assert.equal((first.checkpoints?.[0].config as { name?: string }).name, 'demo');
  const second = posted[1].data.checkpoints!;
  assert.deepEqual(
    second.map((c) => c.inspection?.manifest.step),
    [100, 200],
  );
  assert.ok(second[0].inspection?.uris['clip-00/frame-00.png']?.startsWith('webview:'));
  assert.ok(askedOut.startsWith(path.join(root, 'inspect')));
});

test('compare: a failed inspection is reported per checkpoint', async () => {
  const { root, runDir } = copyFixture();
  const sidecar = path.join(runDir, 'checkpoints', 'step-000100.json');
  writeFileSync(sidecar, JSON.stringify({ step: 100 }));
  const posted: HostToCompareMessage[] = [];
  const session = new CompareSession({
    checkpoints: [sidecar, path.join(runDir, 'checkpoints', 'step-000300.json')],
    post: (m) => void posted.push(m),
    toWebviewUri: toUri,
    inspectRoot: root,
    runInspect: async () => ({ problem: '`dora inspect` failed: no such video' }),
  });
  await session.handleMessage({ type: 'ready' });
  await session.whenSettled();
  assert.match(posted[0].data.error ?? '', /step-000300\.json: the checkpoint sidecar is missing/);
  assert.deepEqual(
    posted[1].data.checkpoints?.map((c) => c.inspectionError),
    ['`dora inspect` failed: no such video', '`dora inspect` failed: no such video'],
  );
});

test('compare: stored evaluations and attention maps are sent with URIs; an evaluation refresh and the Evaluate button', async () => {
  const { root, runDir } = copyFixture();
  const fixtures = path.join(__dirname, '..', '..', 'fixtures', 'eval');
  const checkpoints = [100, 200].map((step) => {
    const sidecar = path.join(runDir, 'checkpoints', `step-000${step}.json`);
    writeFileSync(sidecar, JSON.stringify({ step, epoch: 0 }));
    return sidecar;
  });
  // Step 100 has the DINO run's results and attention maps; step 200 is not evaluated yet.
  cpSync(path.join(fixtures, 'dino.eval.json'), checkpoints[0].replace(/\.json$/, '.eval.json'));
  cpSync(path.join(fixtures, 'dino.attention'), checkpoints[0].replace(/\.json$/, '.attention'), { recursive: true });
  const posted: HostToCompareMessage[] = [];
  const asked: string[][] = [];
  const session = new CompareSession({
    checkpoints,
    post: (m) => void posted.push(m),
    toWebviewUri: toUri,
    inspectRoot: root,
    onEvaluateRequest: (c) => asked.push([...c]),
  });
  await session.handleMessage({ type: 'ready' });
  await session.whenSettled();
  const [first, second] = posted[0].data.checkpoints!;
  assert.ok(first.evaluation!.some((m) => m.key === 'knn:synthetic:top1@20'));
  assert.equal(first.attentionMaps?.manifest.frames.length, 4);
  assert.equal(
    first.attentionMaps?.uris['attention.f32'],
    toUri(path.join(checkpoints[0].replace(/\.json$/, '.attention'), 'attention.f32')),
  );
  assert.deepEqual([second.evaluation, second.attentionMaps], [[], null]);

  cpSync(path.join(fixtures, 'dora.eval.json'), checkpoints[1].replace(/\.json$/, '.eval.json'));
  const before = posted.length;
  await session.refreshEvaluations();
  const refreshed = posted.at(-1)!.data.checkpoints!;
  assert.equal(posted.length, before + 1);
  assert.ok(refreshed[1].evaluation!.some((m) => m.key === 'tracking:propagation:jf'));
  assert.ok(refreshed[0].inspectionError, 'the inspection result is kept');
  await session.refreshEvaluations();
  assert.equal(posted.length, before + 1, 'nothing new, nothing sent');

  await session.handleMessage({ type: 'evaluate' });
  assert.deepEqual(asked, [checkpoints]);
});

test('compare: one checkpoint is titled by itself', async () => {
  const { root, runDir } = copyFixture();
  const sidecar = path.join(runDir, 'checkpoints', 'step-000100.json');
  writeFileSync(sidecar, JSON.stringify({ step: 100 }));
  const posted: HostToCompareMessage[] = [];
  const session = new CompareSession({ checkpoints: [sidecar], post: (m) => void posted.push(m), toWebviewUri: toUri, inspectRoot: root });
  await session.handleMessage({ type: 'ready' });
  assert.equal(posted[0].data.title, 'Checkpoint 20261126-114909-demo @ 100');
});

test('metricsAtStep picks the record at or just before the step', () => {
  const r = (step: number) => ({
    step,
    epoch: 0,
    time: '',
    loss: step,
    lr: 0,
    wd: 0,
    momentum: 0,
    teacherTemp: 0,
    imgPerSec: 0,
    secPerStep: 0,
  });
  assert.equal(metricsAtStep([r(2), r(4), r(6)], 5)?.step, 4);
  assert.equal(metricsAtStep([r(2)], 1), null);
});
