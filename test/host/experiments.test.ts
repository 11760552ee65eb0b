// Host logic of issue 16 without VS Code: studio.json (display name, star), deleting a run folder safely, the
// trainer log levels, the export file names and the experiment command arguments.

import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { processStartOf } from '../../src/core/node/processIdentity';
import { parseStudioInfo, runDisplayName, sanitizeDisplayName } from '../../src/core/studioFile';
import { exportTarget } from '../../src/host/chartExport/exportFiles';
import { optionsFromArgs, runDirsFromArgs } from '../../src/host/experiments/args';
import { checkRunFolderForDelete, deleteRunFolder } from '../../src/host/runManagement/deleteRun';
import { readStudioInfo, updateStudioInfo } from '../../src/host/runManagement/studioFiles';
import { trainerLogLevel, trainerLogText } from '../../src/host/trainerLog/logLevel';
import { copyFixture } from './helpers';

test('studio.json: display name sanitised, star, lenient parse of untrusted content', async () => {
  assert.equal(sanitizeDisplayName('  my\u0007 run\n\tname  '), 'my run name');
  assert.equal(sanitizeDisplayName('   '), undefined);
  assert.equal(sanitizeDisplayName('x'.repeat(500))?.length, 120);
  assert.deepEqual(parseStudioInfo({ displayName: 42, starred: 'yes', extra: 1 }), { formatVersion: 1 });
  assert.deepEqual(parseStudioInfo([1]), { formatVersion: 1 });
  assert.equal(runDisplayName('20250101-x', 'x', { formatVersion: 1, displayName: 'Nice' }), 'Nice');
  assert.equal(runDisplayName('20250101-x', undefined, undefined), '20250101-x');

  const { runDir } = copyFixture();
  assert.equal(await readStudioInfo(runDir), undefined);
  await updateStudioInfo(runDir, { displayName: 'baseline, lr 5e-4' });
  await updateStudioInfo(runDir, { starred: true });
  assert.deepEqual(JSON.parse(readFileSync(path.join(runDir, 'studio.json'), 'utf8')), {
    formatVersion: 1,
    displayName: 'baseline, lr 5e-4',
    starred: true,
  });
  await updateStudioInfo(runDir, { displayName: '', starred: false });
  assert.deepEqual(await readStudioInfo(runDir), { formatVersion: 1 });
  writeFileSync(path.join(runDir, 'studio.json'), '{not json');
  assert.equal(await readStudioInfo(runDir), undefined, 'a broken studio.json is ignored');
});

test('studio.json planted as a symlink is neither read nor written through', async () => {
  const { runDir } = copyFixture();
  const outside = path.join(mkdtempSync(path.join(tmpdir(), 'dora-outside-')), 'secret.json');
  writeFileSync(outside, JSON.stringify({ displayName: 'leaked' }));
  symlinkSync(outside, path.join(runDir, 'studio.json'));
  assert.equal(await readStudioInfo(runDir), undefined);
  await updateStudioInfo(runDir, { starred: true });
  assert.deepEqual(JSON.parse(readFileSync(outside, 'utf8')), { displayName: 'leaked' }, 'the target is untouched');
  assert.deepEqual(JSON.parse(readFileSync(path.join(runDir, 'studio.json'), 'utf8')), { formatVersion: 1, starred: true });
});

test('delete: only a real run folder directly inside a listed runs folder, never a live one', async () => {
  const { runsDir, runDir } = copyFixture();
  const never = () => false;
  assert.deepEqual(await checkRunFolderForDelete(runDir, [runsDir], () => true), {
    ok: false,
    reason: `${path.basename(runDir)} is being trained by this window. Stop it first (DoRA: Stop Run), then delete it.`,
  });
  // run.lock is judged exactly as the trainers judge it (src/core/node/runLock.ts, contract 5).
  const lockFile = path.join(runDir, 'run.lock');
  const lock = (fields: Record<string, unknown>) =>
    writeFileSync(
      lockFile,
      JSON.stringify({ formatVersion: 1, engine: 'tfjs', command: 'train', since: new Date().toISOString(), ...fields }),
    );
  const deletable = async () => (await checkRunFolderForDelete(runDir, [runsDir], never)).ok;
  lock({ pid: process.pid, hostname: hostname(), processStart: processStartOf(process.pid) });
  const locked = await checkRunFolderForDelete(runDir, [runsDir], never);
  assert.equal(locked.ok, false, 'the same process (pid and start tick) holds it');
  assert.match(
    (locked as { reason: string }).reason,
    new RegExp(`locked by pid ${process.pid} on ${hostname()} \\(run.lock: pid \\d+ is alive\\)`),
  );
  lock({ pid: process.pid, hostname: hostname(), processStart: '1' });
  assert.equal(await deletable(), true, 'a reused pid (another start tick) does not block');
  lock({ pid: 999_999_999, hostname: hostname(), processStart: null });
  assert.equal(await deletable(), true, 'a stale lock of a dead pid does not block');
  lock({ pid: 4242, hostname: 'another-host', processStart: '77' });
  const info = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as Record<string, unknown>;
  const withHeartbeat = (ms: number) =>
    writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ ...info, heartbeat: new Date(Date.now() - ms).toISOString() }));
  withHeartbeat(60_000);
  assert.equal(await deletable(), false, 'another host with a heartbeat a minute ago holds it');
  withHeartbeat(60 * 60_000);
  assert.equal(await deletable(), true, 'another host silent for an hour does not');
  writeFileSync(path.join(runDir, 'run.json'), JSON.stringify(info));
  writeFileSync(lockFile, JSON.stringify({ pid: process.pid, hostname: hostname() }));
  assert.equal(await deletable(), true, 'an invalid lock record is stale, as for the trainers');
  rmSync(lockFile);
  mkdirSync(lockFile);
  const unreadable = await checkRunFolderForDelete(runDir, [runsDir], never);
  assert.match((unreadable as { reason: string }).reason, /run\.lock that cannot be read .*delete .*run\.lock by hand/);
  rmSync(lockFile, { recursive: true });

  const elsewhere = mkdtempSync(path.join(tmpdir(), 'dora-elsewhere-'));
  assert.match(
    ((await checkRunFolderForDelete(runDir, [elsewhere], never)) as { reason: string }).reason,
    /not directly inside a runs folder/,
  );
  const nested = path.join(runDir, 'checkpoints');
  assert.equal((await checkRunFolderForDelete(nested, [runsDir], never)).ok, false, 'a folder inside a run is not a run');
  const link = path.join(runsDir, 'link-to-run');
  symlinkSync(runDir, link);
  assert.match(((await checkRunFolderForDelete(link, [runsDir], never)) as { reason: string }).reason, /symbolic link/);
  const notRun = path.join(runsDir, 'notes');
  mkdirSync(notRun);
  assert.match(((await checkRunFolderForDelete(notRun, [runsDir], never)) as { reason: string }).reason, /does not look like a run folder/);

  // A symlink inside the run pointing outside: deleting the run removes the link, not its target.
  const target = path.join(elsewhere, 'keep.txt');
  writeFileSync(target, 'keep me');
  symlinkSync(target, path.join(runDir, 'innocent.txt'));
  const check = await checkRunFolderForDelete(runDir, [runsDir], never);
  assert.ok(check.ok);
  await deleteRunFolder(check.realDir);
  assert.equal(existsSync(runDir), false);
  assert.equal(readFileSync(target, 'utf8'), 'keep me');
  assert.ok(lstatSync(link).isSymbolicLink(), 'the other link in the runs folder is left alone (now dangling)');
});

test('trainer log levels for the LogOutputChannel', () => {
  const line = (stream: 'stdout' | 'stderr' | 'host', text: string) => ({ runDir: '/r/20250101-x', stream, text });
  assert.equal(trainerLogLevel(line('stdout', '2026-12-04T19:36:40.850Z started lr-x4: 240 steps')), 'info');
  assert.equal(trainerLogLevel(line('host', 'warning: frame cache is stale')), 'warn');
  assert.equal(trainerLogLevel(line('host', 'error: ffprobe failed (fix: set dora.ffmpegPath)')), 'error');
  assert.equal(trainerLogLevel(line('host', 'finished (failed) at step 3: out of memory')), 'error');
  assert.equal(trainerLogLevel(line('host', 'the trainer did not stop in time: sending SIGTERM')), 'warn');
  assert.equal(trainerLogLevel(line('stderr', 'TypeError: cannot read x')), 'error');
  assert.equal(trainerLogLevel(line('stderr', 'Platform node has already been set.')), 'warn');
  assert.equal(trainerLogLevel(line('stdout', 'step 2 epoch 0 loss 5.7 lr 1e-4')), 'info');
  assert.equal(trainerLogText(line('stdout', '2026-12-04T19:36:40.850Z started'), 'run-a'), '[run-a] started');
  assert.equal(trainerLogText(line('host', 'sent SIGTERM'), 'run-a'), '[run-a] studio: sent SIGTERM');
});

test('export targets and experiment command arguments', () => {
  assert.equal(exportTarget('/ws', 'loss-of-3-runs.svg'), path.join('/ws', 'loss-of-3-runs.svg'));
  assert.equal(exportTarget('/ws', '../evil.png'), path.join('/ws', 'chart.png'), 'a name with folders is not trusted');
  assert.deepEqual(
    runDirsFromArgs([
      { kind: 'run', dir: '/r/a' },
      [
        { kind: 'run', dir: '/r/a' },
        { kind: 'run', dir: '/r/b' },
      ],
    ]),
    ['/r/a', '/r/b'],
  );
  assert.deepEqual(runDirsFromArgs([['/r/a', '/r/c'], { confirmed: true }]), ['/r/a', '/r/c']);
  assert.deepEqual(optionsFromArgs<{ confirmed: boolean }>(['/r/a', { confirmed: true }]), { confirmed: true });
  assert.deepEqual(optionsFromArgs([{ kind: 'run', dir: '/r/a' }]), {});
});
