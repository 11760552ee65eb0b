// The training loop end to end: run directory contents, exact resume (cpu and wasm), stop requests, and the
// failure modes a user can hit (each with its exact message).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonl, runCli, tinyConfig, tinySyntheticVideo, writeConfig } from '../helpers';
import { runTraining } from '../../../src/trainer/run/train';
import type { TrainerMessage } from '../../../src/core/messages';
import { listCheckpoints, listSnapshots } from '../../../src/core/node/runDir';

const work = mkdtempSync(join(tmpdir(), 'dora-train-'));
const cacheRoot = join(work, 'frame-cache');

function weightsOf(runDir: string, step: number): Buffer {
  return readFileSync(join(runDir, 'checkpoints', `step-${String(step).padStart(6, '0')}.safetensors`));
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`a run stopped at step 3 and resumed follows exactly the uninterrupted trajectory (${backend})`, async () => {
    const video = await tinySyntheticVideo(join(work, 'media'));
    const config = writeConfig(join(work, backend), 'tiny', tinyConfig(video, { runtime: { backend } }));
    const full = await runTraining({ configPath: config, cacheRoot, maxSteps: 6 });
    assert.equal(full.reason, 'stopped');
    assert.equal(full.step, 6);
    const first = await runTraining({ configPath: config, cacheRoot, maxSteps: 3 });
    assert.equal(first.step, 3);
    const resumed = await runTraining({ runDir: first.runDir, resume: 'latest', cacheRoot, maxSteps: 6 });
    assert.equal(resumed.reason, 'stopped');
    assert.equal(resumed.step, 6);
    const lossesFull = readJsonl(join(full.runDir, 'metrics.jsonl')).map((r) => r.loss);
    const lossesResumed = readJsonl(join(first.runDir, 'metrics.jsonl')).map((r) => r.loss);
    assert.equal(lossesFull.length, 6);
    assert.deepEqual(lossesResumed, lossesFull, 'losses differ after resume');
    assert.ok(
      weightsOf(full.runDir, 6).equals(weightsOf(first.runDir, 6)),
      'step-6 weights (student, teacher, centre) differ after resume',
    );
    const events = readJsonl(join(first.runDir, 'events.jsonl')).map((e) => e.type);
    assert.deepEqual(
      events.filter((t) => t !== 'snapshot' && t !== 'checkpoint'),
      ['started', 'stopped', 'resumed', 'stopped'],
    );
  });
}

test('a run directory holds config, metrics, events, snapshots with masks, and verified checkpoints', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'complete'), 'tiny', tinyConfig(video, { runtime: { backend: 'wasm' } }));
  const messages: TrainerMessage[] = [];
  const result = await runTraining({ configPath: config, cacheRoot, emit: (m) => messages.push(m) });
  assert.equal(result.reason, 'completed'); // 40 frames − F·stride (2·3) = 34 clip starts → 17 steps of 2 clips
  assert.equal(result.step, 17);
  const runDir = result.runDir;
  for (const f of ['run.json', 'config.json', 'metrics.jsonl', 'events.jsonl', 'trainer.log']) assert.ok(existsSync(join(runDir, f)), f);
  const metrics = readJsonl(join(runDir, 'metrics.jsonl'));
  assert.equal(metrics.length, 17);
  for (const key of ['step', 'epoch', 'loss', 'lr', 'wd', 'momentum', 'teacherTemp', 'imgPerSec', 'secPerStep', 'time'])
    assert.ok(key in metrics[0], key);
  const snapshots = await listSnapshots(runDir);
  assert.deepEqual(
    snapshots.map((s) => s.step),
    [1, 3, 6, 9, 12, 15],
  );
  const snap = readdirSync(join(runDir, 'snapshots', 'step-000003', 'clip-00')).sort();
  assert.deepEqual(snap, ['assignment.f32', 'attention.f32', 'frame-00.png', 'frame-01.png', 'masks.u8']);
  assert.equal(readFileSync(join(runDir, 'snapshots', 'step-000003', 'clip-00', 'masks.u8')).length, 3 * 2 * 4 * 4);
  const checkpoints = await listCheckpoints(runDir);
  assert.deepEqual(
    checkpoints.map((c) => c.step),
    [3, 6, 9, 12, 15, 17],
  );
  const types = messages.map((m) => m.type);
  assert.equal(types[0], 'progress', 'the engine process sends `ready`; training starts with progress');
  assert.equal(types[types.length - 1], 'finished');
  assert.ok(types.includes('snapshot-ready') && types.includes('checkpoint-saved') && types.includes('metrics'));
  const events = readJsonl(join(runDir, 'events.jsonl'));
  assert.equal(events[events.length - 1].type, 'finished');
});

test('a stop request finishes the current step, writes a checkpoint and reports stopped', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'stop'), 'tiny', tinyConfig(video, { runtime: { backend: 'wasm', checkpointEvery: 100 } }));
  const controller = new AbortController();
  const result = await runTraining({
    configPath: config,
    cacheRoot,
    signal: controller.signal,
    emit: (m) => {
      if (m.type === 'metrics' && m.record.step === 2) controller.abort();
    },
  });
  assert.equal(result.reason, 'stopped');
  assert.equal(result.step, 2);
  assert.deepEqual(
    (await listCheckpoints(result.runDir)).map((c) => c.step),
    [2],
  );
});

test('a stop while the frame cache is being built ends the run stopped (not failed); the frames done are kept', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'stop-cache'), 'tiny', tinyConfig(video));
  const controller = new AbortController();
  controller.abort();
  const result = await runTraining({ configPath: config, cacheRoot: join(work, 'stop-cache', 'frames'), signal: controller.signal });
  assert.equal(result.reason, 'stopped');
  assert.equal(result.message, 'stopped while building the frame cache');
  const events = readJsonl(join(result.runDir, 'events.jsonl'));
  assert.deepEqual(
    events.map((e) => e.type),
    ['stopped'],
  );
});

test('missing ffmpeg, a missing video and a corrupt video fail with messages that name the file and the fix', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const dir = join(work, 'bad');
  const config = writeConfig(dir, 'tiny', tinyConfig(video));
  let r = runCli(['train', config, '--ffmpeg', '/nonexistent/ffmpeg', '--cache-dir', cacheRoot]);
  assert.equal(r.code, 1);
  assert.match(r.out, /ffmpeg not found at "\/nonexistent\/ffmpeg".*Fix: /);
  const missing = writeConfig(dir, 'missing', tinyConfig(join(dir, 'no-such-video.mp4')));
  r = runCli(['train', missing, '--cache-dir', cacheRoot]);
  assert.equal(r.code, 1);
  assert.match(r.out, /no-such-video\.mp4/);
  // Both are known before anything runs: no run folder is created for them.
  assert.equal(existsSync(join(dir, 'runs')) ? readdirSync(join(dir, 'runs')).length : 0, 0);
  const corruptFile = join(dir, 'corrupt.mp4');
  writeFileSync(corruptFile, Buffer.alloc(4096, 7));
  const corrupt = writeConfig(dir, 'corrupt', tinyConfig(corruptFile));
  r = runCli(['train', corrupt, '--cache-dir', cacheRoot]);
  assert.equal(r.code, 1);
  assert.match(r.out, /corrupt\.mp4/);
  assert.match(r.out, /Invalid data found when processing input/);
});

test('an invalid config is rejected before anything runs, naming the file, the JSON path and the fix', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'invalid'), 'tiny', tinyConfig(video, { training: { lr: 'fast', batchClip: 2 } }));
  const r = runCli(['train', config, '--cache-dir', cacheRoot]);
  assert.equal(r.code, 1);
  assert.match(r.out, /tiny\.dora\.json: \$\.training\.lr: /);
  assert.match(r.out, /\$\.training\.batchClip: .*batchClips/);
});

test('a video too short for one clip says which numbers to change', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(
    join(work, 'short'),
    'tiny',
    tinyConfig(video, { data: { stride: 15, framesPerClip: 4, maxFrames: undefined } }),
  );
  const r = runCli(['train', config, '--cache-dir', cacheRoot]);
  assert.equal(r.code, 1);
  assert.match(
    r.out,
    /tiny-tour\.mp4: Video too short for one clip: the usable range \[0, 60\) has 60 frames, but 4 frames per clip at stride 15 need more than 60\. Lower stride or framesPerClip\./,
  );
  assert.match(r.out, /fix: Use a longer video, or lower data\.stride/);
});

test('a diverging run stops with a diagnosis, writes no checkpoint of the bad step, and keeps the last good one', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(
    join(work, 'nan'),
    'tiny',
    tinyConfig(video, {
      training: { lr: 1e30, clipGrad: 0, warmupEpochs: 0, minLr: 1e29 },
      runtime: { backend: 'cpu', checkpointEvery: 1 },
    }),
  );
  const messages: TrainerMessage[] = [];
  const result = await runTraining({ configPath: config, cacheRoot, emit: (m) => messages.push(m) });
  assert.equal(result.reason, 'failed');
  const error = messages.find((m) => m.type === 'error');
  assert.ok(error && error.type === 'error');
  assert.match(error.message, /the loss is (NaN|Infinity|-Infinity) at epoch 0 .*no parameter was updated/);
  assert.match(error.fix ?? '', /Lower training\.lr/);
  const checkpoints = await listCheckpoints(result.runDir);
  assert.ok(checkpoints.every((c) => c.step < result.step + 1));
  const events = readJsonl(join(result.runDir, 'events.jsonl'));
  assert.equal(events[events.length - 1].type, 'failed');
});

test('a video ending in black frames is trimmed, with a warning that names the file', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const withTail = join(work, 'media', 'with-black-tail.mp4');
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-i',
    video,
    '-f',
    'lavfi',
    '-i',
    'color=black:s=160x96:r=15:d=3',
    '-filter_complex',
    '[0:v][1:v]concat=n=2:v=1[v]',
    '-map',
    '[v]',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    withTail,
  ]);
  assert.equal(r.status, 0, String(r.stderr));
  const config = writeConfig(
    join(work, 'tail'),
    'tiny',
    tinyConfig(withTail, { data: { maxFrames: undefined }, runtime: { backend: 'wasm' } }),
  );
  const messages: TrainerMessage[] = [];
  const result = await runTraining({ configPath: config, cacheRoot, maxSteps: 1, emit: (m) => messages.push(m) });
  assert.equal(result.reason, 'stopped');
  const warning = messages.find((m) => m.type === 'warning');
  assert.ok(warning && warning.type === 'warning');
  assert.match(
    warning.message,
    /with-black-tail\.mp4" ends with 0:00:03 of near-black frames \(frames 60–104, from 0:00:04\); training uses frames 0–59 only\.$/,
  );
  assert.ok(readJsonl(join(result.runDir, 'events.jsonl')).some((e) => e.type === 'warning'));
});
