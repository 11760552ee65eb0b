import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, formatLoss, formatProgress, formatRate } from '../../../src/host/shared/format';
import { applyExit, applyTrainerMessage, initialLiveRun, stateFromFiles } from '../../../src/host/runs/liveRun';
import { statusBarText, statusBarTextForRuns } from '../../../src/host/runs/runStatusText';

test('durations read naturally at every scale', () => {
  assert.equal(formatDuration(42.4), '42s');
  assert.equal(formatDuration(185), '3m 05s');
  assert.equal(formatDuration(3720), '1h 02m');
  assert.equal(formatDuration(2 * 86400 + 3 * 3600), '2d 03h');
  assert.equal(formatDuration(Number.NaN), '');
  assert.equal(formatDuration(undefined), '');
});

test('loss, rate and progress formatting', () => {
  assert.equal(formatLoss(9.84123), '9.841');
  assert.equal(formatLoss(0.012345), '0.01235');
  assert.equal(formatLoss(undefined), '');
  assert.equal(formatRate(5.14), '5.1');
  assert.equal(formatRate(46.6), '47');
  assert.equal(formatProgress(120, 240), '120/240');
  assert.equal(formatProgress(120, null), '120');
});

test('the status bar shows step, loss, img/s and ETA from trainer messages', () => {
  let s = initialLiveRun('/runs/a', 'venice', true);
  assert.match(statusBarText(s), /venice: starting/);
  s = applyTrainerMessage(s, { type: 'ready', protocol: 1, pid: 42, versions: { node: 'v20' } });
  s = applyTrainerMessage(s, { type: 'progress', phase: 'frame-cache', done: 50, total: 200 });
  assert.equal(statusBarText(s), '$(database) venice: caching frames 25%');
  s = applyTrainerMessage(s, { type: 'progress', phase: 'training', done: 120, total: 240, rate: 1, eta: 123 });
  s = applyTrainerMessage(s, {
    type: 'metrics',
    record: { step: 120, epoch: 0, time: 't', loss: 9.84123, lr: 1, wd: 1, momentum: 1, teacherTemp: 1, imgPerSec: 5.14, secPerStep: 1 },
  });
  assert.equal(s.pid, 42);
  assert.equal(statusBarText(s), '$(sync~spin) venice 120/240 · loss 9.841 · 5.1 img/s · ETA 2m 03s · tfjs');
  const torch = applyTrainerMessage(s, {
    type: 'ready',
    protocol: 1,
    pid: 43,
    versions: { engine: 'pytorch', device: 'cuda', precision: 'bf16' },
  });
  assert.equal(statusBarText(torch), '$(sync~spin) venice 120/240 · loss 9.841 · 5.1 img/s · ETA 2m 03s · pytorch · cuda · bf16');
  const other = { ...initialLiveRun('/runs/b', 'b', true), phase: 'training' as const };
  assert.match(statusBarTextForRuns([s, other]) ?? '', /\(\+1 more\)$/);
  assert.equal(statusBarTextForRuns([{ ...s, finished: { reason: 'completed' } }]), undefined);
});

test('an exit without `finished` is a crash that quotes stderr and says how to go on', () => {
  const s = applyExit(
    { ...initialLiveRun('/runs/a', 'a', true), pid: 7 },
    { code: null, signal: 'SIGKILL', stderrTail: 'line 1\nRangeError: wasm heap\n' },
  );
  assert.equal(s.finished?.reason, 'failed');
  assert.equal(s.attached, false);
  assert.match(s.lastError?.message ?? '', /pid 7\) was killed by SIGKILL before it finished\.\nline 1\nRangeError: wasm heap/);
  assert.match(s.lastError?.fix ?? '', /DoRA Trainer/);
});

test('a clean exit after `finished` is not an error; a reported error is kept over the exit code', () => {
  const done = applyExit(applyTrainerMessage(initialLiveRun('/r', 'r', true), { type: 'finished', reason: 'completed', step: 3 }), {
    code: 0,
    signal: null,
    stderrTail: '',
  });
  assert.equal(done.lastError, undefined);
  assert.equal(done.finished?.reason, 'completed');
  let failed = applyTrainerMessage(initialLiveRun('/r', 'r', true), {
    type: 'error',
    message: 'video.mp4: no frames',
    fix: 'choose another video',
    fatal: true,
  });
  failed = applyTrainerMessage(failed, { type: 'finished', reason: 'failed', step: 0 });
  failed = applyExit(failed, { code: 1, signal: null, stderrTail: '' });
  assert.deepEqual(failed.lastError, { message: 'video.mp4: no frames', fix: 'choose another video' });
});

test('a run training elsewhere (CLI, another window) gets a status-bar entry from its files', () => {
  const lastMetrics = {
    step: 120,
    epoch: 0,
    time: '',
    loss: 4.2,
    lr: 0,
    wd: 0,
    momentum: 0,
    teacherTemp: 0,
    imgPerSec: 12.5,
    secPerStep: 0.5,
  };
  const state = stateFromFiles('/runs/cli-run', 'walk', { step: 118, totalSteps: 240, lastMetrics });
  assert.equal(state.attached, false);
  assert.equal(state.eta, 60, '(240 − 120) steps × 0.5 s');
  assert.match(statusBarText(state), /^\$\(sync~spin\) walk 120\/240 · loss 4\.2\d* · 13 img\/s · ETA 1m 00s$/);
  assert.equal(stateFromFiles('/runs/x', 'x', { step: 3 }).eta, undefined, 'no total, no ETA');
});
