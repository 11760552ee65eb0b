import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import type { RunSummary } from '../../../src/core/node/runDir';
import { listRunFolders } from '../../../src/host/runs/runIndex';
import { initialLiveRun } from '../../../src/host/runs/liveRun';
import { readFileSync } from 'node:fs';
import type { EvalSidecar } from '../../../src/core/evalResults';
import {
  checkpointNodes,
  configNode,
  effectiveStatus,
  runContextValue,
  runNode,
  runsRoot,
  type RunView,
} from '../../../src/host/runs/runTree';
import { deadProbe, FIXTURE_RUN_ID, FIXTURE_RUNS } from '../helpers';

async function fixtureSummary(): Promise<RunSummary> {
  const [run] = await listRunFolders(FIXTURE_RUNS, deadProbe); // README.md next to the run is skipped
  return { ...run, id: FIXTURE_RUN_ID };
}

test('a finished fixture run: label, description with step/total/loss, icon and context value', async () => {
  const summary = await fixtureSummary();
  const node = runNode({
    summary,
    lastMetrics: { step: 240, epoch: 0, time: 't', loss: 7.8431, lr: 0, wd: 0, momentum: 0, teacherTemp: 0, imgPerSec: 46, secPerStep: 1 },
  });
  assert.equal(node.label, FIXTURE_RUN_ID, 'the name is already part of the id');
  assert.equal(node.description, 'finished · 240/240 · loss 7.843');
  assert.deepEqual(node.icon, { id: 'pass', color: 'testing.iconPassed' });
  assert.equal(node.contextValue, 'doraRun ended finished hasConfig');
  assert.match(node.tooltip ?? '', /Backend: wasm/);
});

test('live IPC state overrides the files while the trainer starts, and on a crash', async () => {
  const summary = await fixtureSummary();
  const starting: RunView = {
    summary: { ...summary, status: { status: 'starting', step: 0 } },
    live: { ...initialLiveRun(summary.dir, 'demo', true), phase: 'frame-cache' },
  };
  assert.equal(effectiveStatus(starting), 'running');
  const crashed: RunView = {
    summary: { ...summary, status: { status: 'running', step: 3 } },
    live: {
      ...initialLiveRun(summary.dir, 'demo', false),
      finished: { reason: 'failed' },
      lastError: { message: 'The trainer exited with code 3', fix: 'see the log' },
    },
  };
  assert.equal(effectiveStatus(crashed), 'crashed');
  const node = runNode(crashed);
  assert.match(node.tooltip ?? '', /Error: The trainer exited with code 3\n\nFix: see the log/);
  assert.equal(node.icon.id, 'warning');
  const stopped: RunView = {
    summary: { ...summary, status: { status: 'running', step: 3 } },
    live: { ...initialLiveRun(summary.dir, 'demo', false), finished: { reason: 'stopped' } },
  };
  assert.equal(effectiveStatus(stopped), 'stopped');
  assert.equal(runContextValue('running', false), 'doraRun active running');
});

test('checkpoints are listed newest first with checkbox state and metrics', () => {
  const sidecar = (step: number) => ({
    formatVersion: 1,
    step,
    epoch: 0,
    time: 'now',
    weightsFile: '',
    weightsSha256: '',
    optimizerFile: '',
    optimizerSha256: '',
    centerTensor: '',
    rng: { algorithm: '', state: '' },
    schedule: { iteration: step, itersPerEpoch: 240, totalIters: 240 },
    configSha256: '',
  });
  const entries = [100, 200].map((step) => ({
    step,
    sidecarFile: `/r/checkpoints/step-000${step}.json`,
    weightsFile: '',
    optimizerFile: '',
    sidecar: sidecar(step),
  }));
  const nodes = checkpointNodes(
    '/r',
    'run',
    entries,
    new Set(['/r/checkpoints/step-000100.json']),
    new Map([[200, { step: 200, epoch: 0, time: '', loss: 7.5, lr: 0, wd: 0, momentum: 0, teacherTemp: 0, imgPerSec: 0, secPerStep: 0 }]]),
  );
  assert.deepEqual(
    nodes.map((n) => [n.label, n.checked]),
    [
      ['step 200', false],
      ['step 100', true],
    ],
  );
  assert.equal(nodes[0].description, 'loss 7.5 · latest');
  assert.match(nodes[0].tooltip ?? '', /epoch 0/);
  assert.match(nodes[0].tooltip ?? '', /Not evaluated yet/);
});

test('evaluated checkpoints show the headline results, a results table in the tooltip, and a spinner while evaluating', () => {
  const sidecar = (step: number) => ({
    formatVersion: 1,
    step,
    epoch: 0,
    time: 'now',
    weightsFile: '',
    weightsSha256: '',
    optimizerFile: '',
    optimizerSha256: '',
    centerTensor: '',
    rng: { algorithm: '', state: '' },
    schedule: { iteration: step, itersPerEpoch: 240, totalIters: 240 },
    configSha256: '',
  });
  const entries = [100, 200].map((step) => ({
    step,
    sidecarFile: `/r/checkpoints/step-000${step}.json`,
    weightsFile: '',
    optimizerFile: '',
    sidecar: sidecar(step),
  }));
  const stored = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'eval', 'dino.eval.json'), 'utf8')) as EvalSidecar;
  const nodes = checkpointNodes('/r', 'run', entries, new Set(), undefined, {
    sidecars: new Map([['/r/checkpoints/step-000100.json', stored]]),
    running: new Map([['/r/checkpoints/step-000200.json', 'k-NN · synthetic objects 40%']]),
  });
  const [evaluating, evaluated] = nodes;
  assert.equal(evaluating.icon.id, 'loading~spin');
  assert.match(evaluating.description ?? '', /^evaluating: k-NN · synthetic objects 40%/);
  assert.match(evaluated.description ?? '', /k-NN \d+\.\d% · J&F 0\.\d{3}$/);
  assert.match(evaluated.tooltip ?? '', /\| k-NN · synthetic objects: top-1, k=20 \| \d+\.\d% \|/);
  assert.match(evaluated.tooltip ?? '', /\| k-NN · Fashion-MNIST: top-1, k=20 \|/);
  assert.match(evaluated.tooltip ?? '', /\| Label propagation · synthetic objects: J&F \| 0\.\d{3} \|/);
  assert.match(evaluated.tooltip ?? '', /\| Attention maps \| 4 frames × 3 heads \|/);
});

test('runs from several folders are grouped by folder; one folder is listed flat', async () => {
  const summary = await fixtureSummary();
  const one = runsRoot(new Map([['/ws/runs', [{ summary }]]]), ['/ws']);
  assert.deepEqual(
    one.map((n) => n.kind),
    ['run'],
  );
  const two = runsRoot(
    new Map([
      ['/ws/runs', [{ summary }]],
      ['/ws/demo/runs', [{ summary }]],
      ['/ws/empty', []],
    ]),
    ['/ws'],
  );
  assert.deepEqual(
    two.map((n) => [n.kind, n.label]),
    [
      ['runsFolder', path.join('ws', 'demo', 'runs')],
      ['runsFolder', path.join('ws', 'runs')],
    ],
  );
});

test('config nodes show their folder and flag invalid files', () => {
  const ok = configNode('/ws/exp/venice.dora.json', ['/ws']);
  assert.equal(ok.description, 'exp');
  assert.equal(ok.contextValue, 'doraConfig');
  const bad = configNode('/ws/bad.dora.json', ['/ws'], '/ws/bad.dora.json: $.training.lr: expected a number');
  assert.equal(bad.contextValue, 'doraConfig invalid');
  assert.equal(bad.description, 'invalid');
});
