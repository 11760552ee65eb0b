import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  checkpointFromArg,
  checkpointsFromArgs,
  configFromArg,
  evalCommandOptionsFromArgs,
  runDirFromArg,
} from '../../../src/host/shared/commandArgs';
import { runsDirFromConfigText, runsDirFromSetting } from '../../../src/host/runs/runsDirs';
import { runDirOfCheckpoint } from '../../../src/core/node/runPaths';

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
