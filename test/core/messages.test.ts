import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeInvalidMessage, isHostMessage, isTrainerMessage, PROTOCOL_VERSION, type TrainerMessage } from '../../src/core/messages';
import { isHostToWebviewMessage, isWebviewToHostMessage } from '../../src/core/webviewMessages';

const record = {
  step: 3,
  epoch: 0,
  time: '2025-01-01T00:00:00Z',
  loss: 9.1,
  lr: 1e-4,
  wd: 0.04,
  momentum: 0.996,
  teacherTemp: 0.04,
  imgPerSec: 4,
  secPerStep: 2,
};

const validTrainerMessages: TrainerMessage[] = [
  { type: 'ready', protocol: PROTOCOL_VERSION, pid: 12, versions: { node: 'v20.0.0', tfjs: '4.22.0' } },
  { type: 'progress', phase: 'frame-cache', done: 10, total: null },
  { type: 'progress', phase: 'training', done: 10, total: 240, rate: 1.2, eta: 190, message: 'epoch 1' },
  { type: 'metrics', record },
  { type: 'snapshot-ready', step: 25, path: '/r/snapshots/step-000025' },
  { type: 'checkpoint-saved', step: 100, path: '/r/checkpoints/step-000100.json' },
  { type: 'warning', message: 'slow backend', fix: 'use webgpu' },
  { type: 'error', message: 'out of memory', fatal: true },
  { type: 'finished', reason: 'completed', step: 240 },
  // The PyTorch engine's ready: no `node` key (there is no Node in that process), extra keys of its own.
  {
    type: 'ready',
    protocol: PROTOCOL_VERSION,
    pid: 12,
    versions: { doraStudio: '0.1.0', engine: 'pytorch', python: '3.11.2', torch: '2.3.0', cuda: '12.1', device: 'cuda', precision: 'bf16' },
  },
  { type: 'run-prepared', runDir: '/runs/r', frameCacheDir: '/c/v-1234', frameCount: 795 },
  {
    type: 'checkpoint-imported',
    runDir: '/runs/r',
    checkpoint: '/runs/r/checkpoints/step-000000.json',
    kind: 'official checkpoint',
    snapshot: null,
    summary: 'imported',
  },
  { type: 'progress', phase: 'import', done: 1, total: 3, message: 'frame cache' },
  { type: 'progress', phase: 'inspection', done: 1, total: 2 },
  { type: 'inspect-result', results: [{ checkpoint: '/r/checkpoints/step-000100.json', label: 'r-step-100', step: 100, dir: '/i/r' }] },
  { type: 'frame-cache-ready', cacheDir: '/c/v-1234', frameCount: 795, alreadyComplete: false, summary: 'Caching 795 frames' },
  { type: 'demo-ready', video: '/w/dora-demo/media/demo-walking-tour.mp4', frameCount: 1200 },
  {
    type: 'demo-ready',
    video: '/w/dora-demo/media/demo-walking-tour.mp4',
    frameCount: 1200,
    demo: { dir: '/w/dora-demo', configFile: '/w/dora-demo/demo.dora.json', cacheRoot: '/w/dora-demo/.frame-cache', createdConfig: true },
  },
];

test('every valid trainer message passes the guard', () => {
  for (const message of validTrainerMessages) {
    assert.ok(isTrainerMessage(message), JSON.stringify(message));
    assert.ok(isTrainerMessage(JSON.parse(JSON.stringify(message))), 'survives JSON IPC');
    assert.ok(!isHostMessage(message));
  }
});

test('malformed trainer messages are rejected', () => {
  const bad: unknown[] = [
    null,
    'ready',
    [],
    { type: 'hello' },
    { type: 'progress', phase: 'decoding', done: 1, total: 2 },
    { type: 'progress', phase: 'training', done: '1', total: 2 },
    { type: 'metrics', record: { ...record, loss: null } },
    { type: 'snapshot-ready', step: -1, path: '/x' },
    { type: 'error', message: 'x' },
    { type: 'finished', reason: 'done', step: 1 },
    { type: 'toString' },
    { type: 'ready', protocol: 1, pid: 1, versions: { node: 20 } },
    { type: 'inspect-result', results: [{ checkpoint: '/c.json', label: 'x', step: -1, dir: '/d' }] },
    { type: 'frame-cache-ready', cacheDir: '/c', frameCount: 3, summary: 's' },
    { type: 'demo-ready', video: '/v.mp4', frameCount: 3, demo: { dir: '/w' } },
    { type: 'ready', protocol: 1, pid: 1, versions: { engine: 'pytorch', cuda: null } },
    { type: 'run-prepared', runDir: '/r', frameCount: 3 },
    { type: 'checkpoint-imported', runDir: '/r', checkpoint: '/c.json', kind: 'x', summary: 's' },
  ];
  for (const value of bad) assert.ok(!isTrainerMessage(value), JSON.stringify(value));
  assert.equal(describeInvalidMessage({ type: 'hello' }), 'unknown type "hello"');
  assert.equal(describeInvalidMessage({ type: 'error', message: 'x' }), 'fields of a "error" message are missing or have the wrong type');
  assert.equal(describeInvalidMessage(3), 'not an object');
});

test('host messages', () => {
  assert.ok(isHostMessage({ type: 'start', configPath: '/a.dora.json', runDir: '/runs/r' }));
  assert.ok(
    isHostMessage({
      type: 'start',
      configPath: '/a.dora.json',
      runDir: '/runs/r',
      resumeCheckpoint: '/runs/r/checkpoints/step-000100.json',
    }),
  );
  assert.ok(isHostMessage({ type: 'stop' }));
  assert.ok(isHostMessage({ type: 'stop', checkpoint: false }));
  assert.ok(!isHostMessage({ type: 'start', configPath: '/a.dora.json' }));
  assert.ok(!isHostMessage({ type: 'stop', checkpoint: 'no' }));
  assert.ok(!isTrainerMessage({ type: 'stop' }));
  assert.ok(isHostMessage({ type: 'start', configPath: '/a.dora.json', runDir: '/runs/r', device: 'cuda', precision: 'bf16' }));
  assert.ok(!isHostMessage({ type: 'start', configPath: '/a.dora.json', runDir: '/runs/r', device: 1 }));
});

test("the PyTorch engine's preparation and import requests", () => {
  assert.ok(isHostMessage({ type: 'prepare-run', runDir: '/runs/r', configPath: '/w/a.dora.json', cacheRoot: '/c' }));
  assert.ok(isHostMessage({ type: 'prepare-run', runDir: '/runs/r', resumeCheckpoint: '/runs/r/checkpoints/step-000002.json' }));
  assert.ok(!isHostMessage({ type: 'prepare-run', runDir: '/runs/r' }), 'a config or a checkpoint to resume');
  assert.ok(
    isHostMessage({ type: 'import-checkpoint', file: '/w/dora.pth', runsDir: '/w/runs', python: '/usr/bin/python3', video: '/w/v.mp4' }),
  );
  assert.ok(!isHostMessage({ type: 'import-checkpoint', file: '/w/dora.pth', runsDir: '/w/runs' }), 'the interpreter is required');
});

test('the short requests: inspect, build-frame-cache and prepare-demo', () => {
  const checkpoints = ['/runs/r/checkpoints/step-000100.json'];
  assert.ok(isHostMessage({ type: 'inspect', checkpoints, outDir: '/i', backend: 'wasm', clipStart: 0 }));
  assert.ok(!isHostMessage({ type: 'inspect', checkpoints: [], outDir: '/i' }), 'at least one checkpoint');
  assert.ok(!isHostMessage({ type: 'inspect', checkpoints, outDir: '/i', clipStart: -3 }));
  assert.ok(isHostMessage({ type: 'build-frame-cache', configPath: '/w/a.dora.json', ffmpegPath: '/usr/bin/ffmpeg' }));
  assert.ok(!isHostMessage({ type: 'build-frame-cache' }));
  assert.ok(isHostMessage({ type: 'prepare-demo', target: 'workspace', workspaceRoot: '/w', durationSeconds: 6 }));
  assert.ok(isHostMessage({ type: 'prepare-demo', target: 'tour', workspaceRoot: '/w' }));
  assert.ok(!isHostMessage({ type: 'prepare-demo', target: 'everything', workspaceRoot: '/w' }));
  const tour = { dir: '/w/dora-demo/media', durationSeconds: 6 };
  assert.ok(isHostMessage({ type: 'evaluate', checkpoint: checkpoints[0], jobs: [{ suite: 'tracking' }], tour }));
  assert.ok(!isHostMessage({ type: 'evaluate', checkpoint: checkpoints[0], jobs: [{ suite: 'tracking' }], tour: { dir: 3 } }));
});

test('evaluate request and eval-result messages', () => {
  const checkpoint = '/runs/r/checkpoints/step-000100.json';
  assert.ok(
    isHostMessage({ type: 'evaluate', checkpoint, jobs: [{ suite: 'knn', dataset: 'fashion-mnist' }, { suite: 'tracking' }], force: true }),
  );
  assert.ok(!isHostMessage({ type: 'evaluate', checkpoint, jobs: [] }), 'at least one job');
  assert.ok(!isHostMessage({ type: 'evaluate', checkpoint, jobs: [{ suite: 'linear-probe' }] }), 'unknown suite');
  assert.ok(!isHostMessage({ type: 'evaluate', jobs: [{ suite: 'knn' }] }), 'no checkpoint');
  assert.ok(!isHostMessage({ type: 'evaluate', checkpoint, jobs: [{ suite: 'knn', dataset: 3 }] }));
  assert.ok(
    isTrainerMessage({
      type: 'eval-result',
      suite: 'attention',
      dataset: 'video',
      cached: false,
      seconds: 1.5,
      evalFile: '/r/step-000100.eval.json',
    }),
  );
  assert.ok(!isTrainerMessage({ type: 'eval-result', suite: 'attention', dataset: 'video', cached: 'no', seconds: 1.5, evalFile: '/r/x' }));
  assert.ok(isTrainerMessage({ type: 'progress', phase: 'evaluation', done: 3, total: 10, message: 'k-NN' }));
});

test('webview messages', () => {
  assert.ok(isWebviewToHostMessage({ type: 'ready' }));
  assert.ok(isWebviewToHostMessage({ type: 'requestSnapshot', step: 25 }));
  assert.ok(!isWebviewToHostMessage({ type: 'requestSnapshot', step: 2.5 }));
  assert.ok(!isWebviewToHostMessage({ type: 'setData', data: {} }));
  assert.ok(isHostToWebviewMessage({ type: 'setData', data: { metrics: [], metricsAppend: true } }));
  assert.ok(!isHostToWebviewMessage({ type: 'setData', data: [] }));
});
