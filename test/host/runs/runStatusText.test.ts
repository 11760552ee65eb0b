// What the status bar and the run notifications say.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineLabel } from '../../../src/core/runRecords';
import { applyTrainerMessage, initialLiveRun } from '../../../src/host/runs/liveRun';
import { engineText, failureText, frameCacheProgressOf, liveRunsForStatusBar } from '../../../src/host/runs/runStatusText';
import type { RunView } from '../../../src/host/runs/runTree';

const view = (dir: string, status: 'running' | 'finished', step: number): RunView => ({
  summary: { id: dir.split('/').pop()!, dir, status: { status, step } },
});

test('the status bar lists the runs of this window that have not finished, then runs training elsewhere', () => {
  const mine = { ...initialLiveRun('/runs/a', 'a', true), phase: 'training' as const, step: 3 };
  const done = { ...initialLiveRun('/runs/b', 'b', true), finished: { reason: 'completed' as const } };
  const live = liveRunsForStatusBar(
    [mine, done],
    [view('/runs/a', 'running', 3), view('/runs/c', 'running', 7), view('/runs/d', 'finished', 9)],
  );
  assert.deepEqual(
    live.map((s) => [s.runDir, s.step, s.attached]),
    [
      ['/runs/a', 3, true],
      ['/runs/c', 7, false],
    ],
  );
});

test('frame-cache progress of a run: percent, frames, speed, ETA and the sizes the engine reports', () => {
  const state = { ...initialLiveRun('/runs/a', 'a', true), phase: 'frame-cache' as const, frameCache: { done: 30, total: 120, eta: 9.6 } };
  assert.deepEqual(frameCacheProgressOf(state), { percent: 25, message: '30/120 frames · 10 s left' });
  assert.deepEqual(frameCacheProgressOf({ ...state, frameCache: { done: 4, total: null } }), { percent: 0, message: '4 frames' });
  assert.equal(frameCacheProgressOf(initialLiveRun('/runs/a', 'a', true)), undefined);
  // The engine's progress message, folded into the live state as the run's notification sees it.
  const sizes = '12 MB → ≈ 48 MB (RGB24 650 MB)';
  const building = applyTrainerMessage(initialLiveRun('/runs/a', 'a', true), {
    type: 'progress',
    phase: 'frame-cache',
    done: 30,
    total: 120,
    rate: 12.5,
    eta: 7.2,
    message: sizes,
  });
  assert.deepEqual(frameCacheProgressOf(building), { percent: 25, message: `30/120 frames · 12.5 frames/s · 7 s left · ${sizes}` });
  const preparing = applyTrainerMessage(initialLiveRun('/runs/a', 'a', true), {
    type: 'progress',
    phase: 'frame-cache',
    done: 0,
    total: null,
    message: 'Preparing v.mp4',
  });
  assert.deepEqual(frameCacheProgressOf(preparing), { percent: 0, message: 'Preparing v.mp4' });
});

test('a failed run is announced with its first error line and the fix; other runs are not', () => {
  const failed = {
    ...initialLiveRun('/runs/a', 'a', true),
    lastError: { message: 'out of memory\nstack…', fix: 'lower training.microBatch' },
    finished: { reason: 'failed' as const },
  };
  assert.equal(failureText(failed, 'a'), 'DoRA run a failed: out of memory Fix: lower training.microBatch');
  assert.equal(failureText({ ...failed, finished: { reason: 'stopped' } }, 'a'), undefined);
});

test('which engine runs a run: from run.json (a TF.js run.json has no engine) or the live ready', () => {
  assert.equal(engineLabel({ backend: 'wasm' }), 'tfjs · wasm');
  assert.equal(engineLabel({ engine: 'pytorch', backend: 'pytorch-cuda', device: 'cuda', precision: 'bf16' }), 'pytorch · cuda · bf16');
  assert.equal(engineLabel({ backend: 'pytorch-cpu' }), 'pytorch · cpu');
  assert.equal(engineLabel({ backend: null }), 'tfjs');
  // A TF.js engine's ready cannot know the backend (chosen after it); run.json fills it in for the status bar.
  const mine = { ...initialLiveRun('/runs/a', 'a', true), phase: 'training' as const, engine: { name: 'tfjs' } };
  const info = { backend: 'webgpu' } as NonNullable<RunView['summary']['info']>;
  const [live] = liveRunsForStatusBar([mine], [{ summary: { id: 'a', dir: '/runs/a', info, status: { status: 'running', step: 1 } } }]);
  assert.equal(engineText(live), 'tfjs · webgpu');
  const torch = { ...mine, engine: { name: 'pytorch', device: 'cuda', precision: 'fp16' } };
  const pinfo = { engine: 'pytorch', backend: 'pytorch-cuda', device: 'cuda', precision: 'bf16' } as NonNullable<
    RunView['summary']['info']
  >;
  const [p] = liveRunsForStatusBar(
    [torch],
    [{ summary: { id: 'a', dir: '/runs/a', info: pinfo, status: { status: 'running', step: 1 } } }],
  );
  assert.equal(engineText(p), 'pytorch · cuda · fp16', "the engine's own ready wins over the file");
});
