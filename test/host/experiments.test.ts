// Host logic of issue 16 without VS Code: studio.json (display name, star), deleting a run folder safely, the
// trainer log levels, the export file names and the experiment command arguments.

import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
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
  // A lock held by a live process on this host (this test's own pid).
  writeFileSync(path.join(runDir, 'run.lock'), JSON.stringify({ formatVersion: 1, pid: process.pid, hostname: hostname() }));
  const locked = await checkRunFolderForDelete(runDir, [runsDir], never);
  assert.equal(locked.ok, false);
  assert.match((locked as { reason: string }).reason, /locked by pid \d+/);
  const ownStart = readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];
  writeFileSync(
    path.join(runDir, 'run.lock'),
    JSON.stringify({ formatVersion: 1, pid: process.pid, hostname: hostname(), processStart: ownStart }),
  );
  assert.equal((await checkRunFolderForDelete(runDir, [runsDir], never)).ok, false, 'the same process (pid and start tick) holds it');
  writeFileSync(
    path.join(runDir, 'run.lock'),
    JSON.stringify({ formatVersion: 1, pid: process.pid, hostname: hostname(), processStart: '1' }),
  );
  assert.equal((await checkRunFolderForDelete(runDir, [runsDir], never)).ok, true, 'a reused pid (another start tick) does not block');
  writeFileSync(path.join(runDir, 'run.lock'), JSON.stringify({ formatVersion: 1, pid: 999_999_999, hostname: hostname() }));
  const stale = await checkRunFolderForDelete(runDir, [runsDir], never);
  assert.equal(stale.ok, true, 'a stale lock of a dead pid does not block');

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
