// Every failure message tells the truth: the fix it suggests is run here and works (issue 9). Disk errors of
// checkpoints, snapshots and the start-up name the file, the cause, the fix and the last good checkpoint, record a
// `failed` event and leave nothing partial; NaN and ENOSPC fixes are `--set` overrides on resume; a resume that fails
// before it starts leaves the run as it was; leftovers of killed writers are removed on the next start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFs, type AtomicWriteFs } from '../../../src/core/node/atomicWrite';
import type { TrainerMessage } from '../../../src/core/messages';
import { listCheckpoints, readRunInfo, readRunStatus } from '../../../src/core/node/runDir';
import { runTraining } from '../../../src/trainer/run/train';
import { truncatedVideo, variableRateVideo } from '../data/brokenVideos';
import { readJsonl, runCli, tinyConfig, tinySyntheticVideo, writeConfig } from '../helpers';

const work = mkdtempSync(join(tmpdir(), 'dora-fixes-'));
const cacheRoot = join(work, 'frame-cache');

/** A file system whose atomic writes of files matching `pattern` fail with ENOSPC (after putting half the bytes down). */
function fullDiskFor(pattern: RegExp): AtomicWriteFs {
  return {
    ...nodeFs,
    async open(file, flags, mode) {
      const handle = await nodeFs.open(file, flags, mode);
      if (!pattern.test(file)) return handle;
      return {
        async write(buffer, offset, length, position) {
          await handle.write(buffer, offset, Math.floor(length / 2), position);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        },
        sync: () => handle.sync(),
        close: () => handle.close(),
      };
    },
  };
}

/** The arguments of the `dora train …` resume command a fix suggests, and its `--set` values. */
function suggestedCommand(fix: string): { args: string[]; sets: string[] } {
  const command = /dora train ((?:--run-dir \S+ )?--resume \S+(?: --set \S+)*)/.exec(fix);
  assert.ok(command, `the fix names a resume command: ${fix}`);
  const args = command[1].split(' ');
  return { args, sets: args.filter((_, i) => args[i - 1] === '--set') };
}

/** The `--set` arguments of the resume command a fix suggests. */
function suggestedSets(fix: string): string[] {
  return suggestedCommand(fix).sets;
}

function errorOf(messages: TrainerMessage[]): { message: string; fix?: string } {
  const error = messages.find((m) => m.type === 'error');
  assert.ok(error && error.type === 'error', 'an error message was emitted');
  return error;
}

/** No temp file or partial folder anywhere in the run folder. */
function assertNothingPartial(runDir: string): void {
  for (const sub of ['', 'checkpoints', 'snapshots'])
    for (const name of readdirSync(join(runDir, sub))) assert.ok(!/\.tmp$|\.partial$/.test(name), `${sub}/${name} was left behind`);
}

test('a full disk at a checkpoint: file and last good checkpoint named; the fix (--set runtime.keepCheckpoints) resumes', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'ckpt'), 'tiny', tinyConfig(video, { runtime: { checkpointEvery: 1, keepCheckpoints: 5 } }));
  const messages: TrainerMessage[] = [];
  const failed = await runTraining({
    configPath: config,
    cacheRoot,
    writeFs: fullDiskFor(/step-000004\.optim/),
    emit: (m) => messages.push(m),
  });
  assert.equal(failed.reason, 'failed');
  const { message, fix } = errorOf(messages);
  assert.match(
    message,
    /could not write the checkpoint of step 4 in .*checkpoints: the disk is full; nothing partial was left behind \(last complete checkpoint: step 3\)/,
  );
  assert.match(
    fix ?? '',
    /^Free disk space \(or write less: --set runtime\.keepCheckpoints=2\), then resume from the last complete checkpoint \(step 3\): dora train/,
  );
  const events = readJsonl(join(failed.runDir, 'events.jsonl'));
  assert.equal(events.at(-1)!.type, 'failed');
  assert.equal(events.at(-1)!.fix, fix);
  assertNothingPartial(failed.runDir);

  const sets = suggestedSets(fix!);
  assert.deepEqual(sets, ['runtime.keepCheckpoints=2']);
  const resumed = await runTraining({ runDir: failed.runDir, resume: 'latest', cacheRoot, maxSteps: 6, overrides: sets });
  assert.equal(resumed.reason, 'stopped');
  assert.equal(resumed.step, 6);
  assert.deepEqual(
    (await listCheckpoints(failed.runDir)).map((c) => c.step),
    [5, 6],
    'the lowered keepCheckpoints frees space at once (pruned on resume) and from then on',
  );
  assert.equal(JSON.parse(readFileSync(join(failed.runDir, 'config.json'), 'utf8')).runtime.keepCheckpoints, 2);
  const resumedEvent = readJsonl(join(failed.runDir, 'events.jsonl')).find((e) => e.type === 'resumed');
  assert.deepEqual(resumedEvent?.configChanges, [{ key: 'runtime.keepCheckpoints', from: 5, to: 2 }]);
});

test('a full disk at a snapshot: named, partial folder removed, failed event; the fix (--set runtime.snapshotEvery) resumes', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'snap'), 'tiny', tinyConfig(video, { runtime: { checkpointEvery: 2, snapshotEvery: 3 } }));
  const messages: TrainerMessage[] = [];
  const failed = await runTraining({
    configPath: config,
    cacheRoot,
    writeFs: fullDiskFor(/\.step-000006\.partial/),
    emit: (m) => messages.push(m),
  });
  assert.equal(failed.reason, 'failed');
  const { message, fix } = errorOf(messages);
  assert.match(
    message,
    /could not write the snapshot of step 6 in .*snapshots: the disk is full; its partial folder was removed \(last complete checkpoint: step 4\)/,
  );
  assert.equal(readJsonl(join(failed.runDir, 'events.jsonl')).at(-1)!.type, 'failed');
  assertNothingPartial(failed.runDir);
  const sets = suggestedSets(fix!);
  assert.deepEqual(sets, ['runtime.snapshotEvery=30']);
  const resumed = await runTraining({ runDir: failed.runDir, resume: 'latest', cacheRoot, maxSteps: 8, overrides: sets });
  assert.equal(resumed.reason, 'stopped');
  assert.equal(resumed.step, 8);
});

test('a full disk at start-up: the message names the file, a failed event is recorded, nothing partial; starting again works', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'startup'), 'tiny', tinyConfig(video));
  const messages: TrainerMessage[] = [];
  const failed = await runTraining({ configPath: config, cacheRoot, writeFs: fullDiskFor(/run\.json/), emit: (m) => messages.push(m) });
  assert.equal(failed.reason, 'failed');
  const { message, fix } = errorOf(messages);
  assert.match(
    message,
    /could not write .*run\.json while starting the run: the disk is full \(ENOSPC: no space left on device, write\); nothing partial was left behind/,
  );
  assert.equal(fix, 'Free disk space, then start the run again: there is no complete checkpoint to resume from.');
  const events = readJsonl(join(failed.runDir, 'events.jsonl'));
  assert.deepEqual(
    events.map((e) => e.type),
    ['failed'],
  );
  assertNothingPartial(failed.runDir);
  assert.equal((await runTraining({ configPath: config, cacheRoot, maxSteps: 1 })).reason, 'stopped');
});

test('NaN: the fix names `--set training.lr=…` and a checkpoint before the divergence; that resume trains on', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  // A constant, far too high lr: the loss diverges after about 30 steps (checkpoints every 2 steps before that).
  const dir = join(work, 'nan');
  const config = writeConfig(
    dir,
    'tiny',
    tinyConfig(video, { training: { lr: 30, minLr: 15, epochs: 3, clipGrad: 0, warmupEpochs: 0 }, runtime: { checkpointEvery: 2 } }),
  );
  const first = runCli(['train', config, '--cache-dir', cacheRoot]);
  assert.equal(first.code, 1, first.out);
  assert.match(first.out, /the loss is (NaN|Infinity|-Infinity)/);
  const fix = /Fix: (.*)/.exec(first.out)?.[1] ?? '';
  assert.match(
    fix,
    /^Lower training\.lr \(now 30\), keep training\.clipGrad at 3, or try dora\.sinkhorn\.variant "log-domain"; then resume from the checkpoint of step \d+/,
  );
  const { args, sets } = suggestedCommand(fix);
  assert.deepEqual(sets, ['training.lr=3', 'training.minLr=1.5']);
  const runDir = join(dir, 'runs', readdirSync(join(dir, 'runs'))[0]);
  const failedAt = (await readRunStatus(runDir)).step;
  // Today's advice (resume reads the run's own config.json, unchanged) diverges again at the same step.
  const resumed = runCli(['train', ...args, '--cache-dir', cacheRoot, '--max-steps', String(failedAt + 3)]);
  assert.equal(resumed.code, 0, resumed.out);
  const metrics = readJsonl(join(runDir, 'metrics.jsonl'));
  assert.equal(metrics.at(-1)!.step, failedAt + 3);
  assert.ok(metrics.every((m) => typeof m.loss === 'number' && Number.isFinite(m.loss)));
  assert.equal(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).training.lr, 3);
});

test('--set problems name the JSON path and the override; keys a resume cannot change are refused before anything runs', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'sets'), 'tiny', tinyConfig(video));
  let r = runCli(['train', config, '--cache-dir', cacheRoot, '--set', 'training.lr=fast']);
  assert.equal(r.code, 1);
  assert.match(r.out, /tiny\.dora\.json with --set training\.lr=fast: \$\.training\.lr: expected a number > 0, got "fast"/);
  r = runCli(['train', config, '--cache-dir', cacheRoot, '--set', 'training.lrr=1']);
  assert.match(r.out, /\$\.training\.lrr: unknown key "lrr"; did you mean "lr"\?/);
  assert.equal(existsSync(join(work, 'sets', 'runs')), false, 'a config error creates no run folder');
  const run = await runTraining({ configPath: config, cacheRoot, maxSteps: 3 });
  const before = readFileSync(join(run.runDir, 'events.jsonl'), 'utf8');
  r = runCli(['train', '--run-dir', run.runDir, '--resume', 'latest', '--cache-dir', cacheRoot, '--set', 'model.depth=4']);
  assert.equal(r.code, 1);
  assert.match(
    r.out,
    /--set model\.depth=4: model\.depth cannot change when a run resumes \(the checkpoint's weights have the shapes of the run's model\)/,
  );
  assert.match(r.out, /fix: start a new run with the changed config/);
  assert.equal(readFileSync(join(run.runDir, 'events.jsonl'), 'utf8'), before, 'the run is untouched');
});

test('a resume that fails before it starts leaves a cleanly stopped run stopped, at its step', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'failed-resume'), 'tiny', tinyConfig(video));
  const run = await runTraining({ configPath: config, cacheRoot, maxSteps: 3 });
  assert.equal((await readRunStatus(run.runDir)).status, 'stopped');
  const infoBefore = await readRunInfo(run.runDir);
  // A damaged checkpoint: found only after the lock, the frame cache and the model are set up.
  const weights = join(run.runDir, 'checkpoints', 'step-000003.safetensors');
  writeFileSync(weights, Buffer.alloc(readFileSync(weights).length, 1));
  const result = await runTraining({ runDir: run.runDir, resume: 'latest', cacheRoot, maxSteps: 6 });
  assert.equal(result.reason, 'failed');
  assert.match(result.message ?? '', /checksum mismatch/);
  const status = await readRunStatus(run.runDir);
  assert.equal(status.status, 'stopped', 'today a `failed at step 0` event would replace the clean stop');
  assert.equal(status.step, 3);
  const last = readJsonl(join(run.runDir, 'events.jsonl')).at(-1)!;
  assert.equal(last.type, 'warning');
  assert.equal(last.step, 3);
  assert.match(String(last.message), /^resuming from .*step-000003\.json failed before training started: .*checksum mismatch/);
  assert.deepEqual(await readRunInfo(run.runDir), infoBefore, 'run.json is as the clean stop left it');
});

test('what killed writers left (temp files, a partial snapshot, data files without a sidecar) is removed on the next start', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'leftovers'), 'tiny', tinyConfig(video));
  const run = await runTraining({ configPath: config, cacheRoot, maxSteps: 3 });
  const live = spawn('sleep', ['60']);
  try {
    const deadTemp = join(run.runDir, 'checkpoints', `.step-000006.safetensors.${2 ** 22 + 11}.0badc0de.tmp`);
    const liveTemp = join(run.runDir, `.studio.json.${live.pid}.0badc0de.tmp`); // the extension writing studio.json now
    writeFileSync(deadTemp, 'x');
    writeFileSync(liveTemp, 'x');
    mkdirSync(join(run.runDir, 'snapshots', '.step-000005.partial', 'clip-00'), { recursive: true });
    writeFileSync(join(run.runDir, 'checkpoints', 'step-000009.safetensors'), 'orphan');
    const result = await runTraining({ runDir: run.runDir, resume: 'latest', cacheRoot, maxSteps: 4 });
    assert.equal(result.reason, 'stopped');
    assert.equal(existsSync(deadTemp), false);
    assert.equal(existsSync(join(run.runDir, 'snapshots', '.step-000005.partial')), false);
    assert.equal(existsSync(join(run.runDir, 'checkpoints', 'step-000009.safetensors')), false);
    assert.equal(existsSync(liveTemp), true, 'a temp file of a live writer is kept');
    assert.match(
      readFileSync(join(run.runDir, 'trainer.log'), 'utf8'),
      /removed what an interrupted writer left: .*step-000006\.safetensors.*\.tmp/,
    );
  } finally {
    live.kill('SIGKILL');
  }
});

test('a start with a missing video into a folder made for it (the extension makes one) removes that empty folder', async () => {
  const dir = join(work, 'hollow', 'runs', '20261204-120000-tiny');
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  mkdirSync(join(dir, 'snapshots'));
  const config = writeConfig(join(work, 'hollow'), 'tiny', tinyConfig(join(work, 'hollow', 'gone.mp4')));
  await assert.rejects(runTraining({ configPath: config, runDir: dir, cacheRoot }), /gone\.mp4/);
  assert.equal(existsSync(dir), false);
});

test('a truncated video and a variable frame rate are reported in the log, the events and the messages', async () => {
  const dir = join(work, 'broken-video');
  mkdirSync(dir, { recursive: true });
  for (const [video, pattern] of [
    [
      truncatedVideo(dir),
      /truncated\.mp4" looks truncated: ffmpeg decoded \d+ of the 120 frames its container lists; ffmpeg said: .*partial file/,
    ],
    [variableRateVideo(dir), /vfr\.mp4" has a variable frame rate/],
  ] as const) {
    const config = writeConfig(dir, 'tiny', tinyConfig(video));
    const messages: TrainerMessage[] = [];
    const result = await runTraining({ configPath: config, cacheRoot, maxSteps: 1, emit: (m) => messages.push(m) });
    assert.equal(result.reason, 'stopped');
    assert.ok(
      messages.some((m) => m.type === 'warning' && pattern.test(m.message)),
      'a warning message',
    );
    assert.ok(
      readJsonl(join(result.runDir, 'events.jsonl')).some((e) => e.type === 'warning' && pattern.test(String(e.message))),
      'an event',
    );
    assert.match(readFileSync(join(result.runDir, 'trainer.log'), 'utf8'), pattern);
  }
});
