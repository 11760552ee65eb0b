import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  checkpointFromArg,
  checkpointsFromArgs,
  configFromArg,
  evalCommandOptionsFromArgs,
  runDirFromArg,
} from '../../src/host/logic/commandArgs';
import { jobsForCheckpoint } from '../../src/host/logic/evalJob';
import { runsDirFromConfigText, runsDirFromSetting } from '../../src/host/logic/runsDirs';
import { runDirOfCheckpoint } from '../../src/core/node/runPaths';

test('a run folder from tree nodes, Uris, paths and files inside the run', () => {
  assert.equal(runDirFromArg({ kind: 'run', dir: '/r/a' }), '/r/a');
  assert.equal(runDirFromArg({ kind: 'checkpoint', runDir: '/r/a', sidecarFile: '/r/a/checkpoints/step-000001.json' }), '/r/a');
  assert.equal(runDirFromArg({ scheme: 'file', fsPath: '/r/a/metrics.jsonl' }), '/r/a');
  assert.equal(runDirFromArg('/r/a/checkpoints/step-000004.json'), '/r/a');
  assert.equal(runDirFromArg({ runDir: '/r/b' }), '/r/b');
  assert.equal(runDirFromArg(undefined), undefined);
  assert.equal(runDirFromArg({ scheme: 'untitled', fsPath: 'x' }), undefined);
});

test('a checkpoint sidecar from nodes, sidecar paths and weight files', () => {
  assert.equal(
    checkpointFromArg({ kind: 'checkpoint', sidecarFile: '/r/a/checkpoints/step-000004.json' }),
    '/r/a/checkpoints/step-000004.json',
  );
  assert.equal(checkpointFromArg('/r/a/checkpoints/step-000004.optim.safetensors'), '/r/a/checkpoints/step-000004.json');
  assert.equal(checkpointFromArg('/r/a/checkpoints/step-000004.safetensors'), '/r/a/checkpoints/step-000004.json');
  assert.equal(checkpointFromArg('/r/a/run.json'), undefined);
  assert.equal(checkpointFromArg({ kind: 'run', dir: '/r/a' }), undefined);
});

test('compare arguments: VS Code passes (clicked, selected[]); tests pass a list', () => {
  const a = { kind: 'checkpoint', sidecarFile: '/r/a/checkpoints/step-000004.json' };
  const b = { kind: 'checkpoint', sidecarFile: '/r/a/checkpoints/step-000008.json' };
  assert.deepEqual(checkpointsFromArgs([a, [a, b]]), [a.sidecarFile, b.sidecarFile]);
  assert.deepEqual(checkpointsFromArgs([[a.sidecarFile, b.sidecarFile]]), [a.sidecarFile, b.sidecarFile]);
  assert.deepEqual(checkpointsFromArgs([]), []);
});

test('configs only from *.dora.json', () => {
  assert.equal(configFromArg({ kind: 'config', file: '/w/x.dora.json' }), '/w/x.dora.json');
  assert.equal(configFromArg({ scheme: 'file', fsPath: '/w/X.DORA.JSON' }), '/w/X.DORA.JSON');
  assert.equal(configFromArg('/w/package.json'), undefined);
});

test("runs folders: the config runtime.runsDir, the setting, and a checkpoint's run", () => {
  assert.equal(runsDirFromConfigText('/w/exp/a.dora.json', '{"runtime":{"runsDir":"../out"}}'), path.resolve('/w/out'));
  assert.equal(runsDirFromConfigText('/w/exp/a.dora.json', '{ not json'), path.resolve('/w/exp/runs'));
  assert.equal(runsDirFromSetting('results', '/w'), path.resolve('/w/results'));
  assert.equal(runsDirFromSetting('/abs/runs', undefined), '/abs/runs');
  assert.equal(runsDirFromSetting('  ', '/w'), undefined);
  assert.equal(runDirOfCheckpoint('/w/runs/x/checkpoints/step-000001.json'), '/w/runs/x');
});

test('Evaluate Checkpoint arguments: checkpoints plus an options object with jobs, force and quiet', () => {
  const node = { kind: 'checkpoint', sidecarFile: '/r/checkpoints/step-000008.json', runDir: '/r' };
  const options = { jobs: [{ suite: 'knn', dataset: 'fashion-mnist' }, { suite: 'bogus' }, { suite: 'attention' }], quiet: true };
  assert.deepEqual(checkpointsFromArgs([node, options]), ['/r/checkpoints/step-000008.json'], 'the options object is not a checkpoint');
  assert.deepEqual(evalCommandOptionsFromArgs([node, options]), {
    jobs: [{ suite: 'knn', dataset: 'fashion-mnist' }, { suite: 'attention' }],
    force: false,
    quiet: true,
  });
  // From the tree: (clicked node, selected nodes) carry no options.
  assert.deepEqual(evalCommandOptionsFromArgs([node, [node]]), { jobs: undefined, force: false, quiet: false });
  assert.deepEqual(evalCommandOptionsFromArgs([['/a/step-000001.json'], { force: true }]), { jobs: undefined, force: true, quiet: false });
});

test('runs trained on a video without ground truth evaluate k-NN on objects and tracking on the synthetic tour', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'dora-jobs-'));
  const runWith = (name: string, video: string) => {
    const runDir = path.join(root, 'runs', name);
    mkdirSync(path.join(runDir, 'checkpoints'), { recursive: true });
    writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ data: { video } }));
    return path.join(runDir, 'checkpoints', 'step-000010.json');
  };
  const synthetic = path.join(root, 'tour.mp4');
  writeFileSync(path.join(root, 'tour.json'), JSON.stringify({ generator: 'dora-studio synthetic walking tour v1', options: {} }));
  const jobs = [
    { suite: 'knn' as const, dataset: 'synthetic' },
    { suite: 'knn' as const, dataset: 'fashion-mnist' },
    { suite: 'tracking' as const },
    { suite: 'attention' as const },
  ];
  let generated = 0;
  const tour = async () => {
    generated++;
    return '/generated/tour.mp4';
  };
  assert.deepEqual(await jobsForCheckpoint(runWith('on-synthetic', synthetic), jobs, tour), jobs, 'a synthetic run keeps its own video');
  assert.equal(generated, 0);
  assert.deepEqual(await jobsForCheckpoint(runWith('on-real', path.join(root, 'walk.mp4')), jobs, tour), [
    { suite: 'knn', dataset: 'synthetic', video: '/generated/tour.mp4' },
    { suite: 'knn', dataset: 'fashion-mnist' },
    { suite: 'tracking', video: '/generated/tour.mp4' },
    { suite: 'attention' },
  ]);
  assert.deepEqual(await jobsForCheckpoint(runWith('attention-only', path.join(root, 'walk.mp4')), [{ suite: 'attention' }], tour), [
    { suite: 'attention' },
  ]);
  assert.equal(generated, 1, 'the tour is only made when a job needs it');
});
