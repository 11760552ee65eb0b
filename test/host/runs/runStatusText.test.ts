// What the status bar and the run notifications say.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyTrainerMessage, initialLiveRun } from '../../../src/host/runs/liveRun';
import { failureText, frameCacheProgressOf, liveRunsForStatusBar } from '../../../src/host/runs/runStatusText';
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
