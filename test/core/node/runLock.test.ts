// The run-folder lock: exclusive, refused while live with the contract's message, taken over when stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { processStartOf } from '../../../src/core/node/processIdentity';
import { acquireRunLock, judgeRunLock, readRunLockState, RunLockedError, type RunLockRecord } from '../../../src/core/node/runLock';

const fresh = () => mkdtempSync(join(tmpdir(), 'dora-lock-'));

function lockOf(pid: number, processStart: string | null, host = hostname()): RunLockRecord {
  return { formatVersion: 1, pid, processStart, hostname: host, engine: 'tfjs', command: 'train', since: '2026-12-04T10:00:00.000Z' };
}

test('the lock file holds the contract record and is removed on release', async () => {
  const dir = fresh();
  const handle = await acquireRunLock(dir, { engine: 'tfjs', command: 'train' });
  const record = JSON.parse(readFileSync(join(dir, 'run.lock'), 'utf8'));
  assert.deepEqual(Object.keys(record).sort(), ['command', 'engine', 'formatVersion', 'hostname', 'pid', 'processStart', 'since']);
  assert.equal(record.pid, process.pid);
  assert.equal(record.processStart, processStartOf(process.pid));
  assert.equal(record.hostname, hostname());
  assert.equal((await readRunLockState(dir)).state, 'live');
  await handle.release();
  assert.equal(existsSync(join(dir, 'run.lock')), false);
});

test('a live lock refuses with "run R is being trained by pid P on host H since T"', async () => {
  const dir = fresh();
  const handle = await acquireRunLock(dir, { engine: 'tfjs', command: 'train' });
  try {
    await assert.rejects(acquireRunLock(dir, { engine: 'pytorch', command: 'resume' }), (e: Error) => {
      assert.ok(e instanceof RunLockedError);
      assert.equal(
        e.message,
        `run ${dir.split('/').pop()} is being trained by pid ${process.pid} on host ${hostname()} since ${handle.record.since}`,
      );
      assert.match(e.fix, /delete .*run\.lock/);
      return true;
    });
  } finally {
    await handle.release();
  }
});

test('a lock of a dead pid, of a reused pid, or that is not a record is stale and taken over', async () => {
  const child = spawn('sleep', ['30']);
  try {
    for (const [label, text] of [
      ['dead pid', JSON.stringify(lockOf(2 ** 22 + 17, '5'))],
      ['pid reused (another start time)', JSON.stringify(lockOf(child.pid!, '1'))],
      ['garbage', 'not json'],
    ] as const) {
      const dir = fresh();
      writeFileSync(join(dir, 'run.lock'), text);
      const handle = await acquireRunLock(dir, { engine: 'tfjs', command: 'resume' });
      assert.ok(handle.tookOver, label);
      assert.equal(JSON.parse(readFileSync(join(dir, 'run.lock'), 'utf8')).pid, process.pid, label);
      await handle.release();
    }
    // The same child with its real start time is a live owner.
    const dir = fresh();
    writeFileSync(join(dir, 'run.lock'), JSON.stringify(lockOf(child.pid!, processStartOf(child.pid!))));
    await assert.rejects(acquireRunLock(dir, { engine: 'tfjs', command: 'train' }), RunLockedError);
  } finally {
    child.kill('SIGKILL');
  }
});

test('another host: live while run.json has a recent heartbeat; stale when it is old or from the future', () => {
  const probe = { hostname: 'here', now: Date.parse('2026-12-04T12:00:00Z'), isPidAlive: () => true, processStartOf: () => '1' };
  const other = lockOf(99, '7', 'gpu-node-3');
  assert.equal(judgeRunLock(other, probe, '2026-12-04T11:59:00Z').live, true);
  assert.equal(judgeRunLock(other, probe, '2026-12-04T11:00:00Z').live, false);
  assert.match(judgeRunLock(other, probe, '2027-01-01T00:00:00Z').reason, /in the future/);
  assert.equal(judgeRunLock(other, probe, undefined).live, false);
});

test('processes racing for one folder, also over a stale lock: exactly one gets it, the others are refused', async () => {
  for (const stale of [false, true]) {
    const dir = fresh();
    if (stale) writeFileSync(join(dir, 'run.lock'), JSON.stringify(lockOf(2 ** 22 + 3, '5')));
    const children = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'lockHolder.ts'), dir]);
      let out = '';
      const lines: Array<(line: string) => void> = [];
      child.stdout.on('data', (d) => {
        out += d;
        for (;;) {
          const nl = out.indexOf('\n');
          if (nl < 0) break;
          const line = out.slice(0, nl);
          out = out.slice(nl + 1);
          lines.shift()?.(line);
        }
      });
      child.stderr.on('data', (d) => process.stderr.write(d));
      const next = () => new Promise<string>((r) => lines.push(r));
      return { child, ready: next(), outcome: next(), exited: new Promise((r) => child.on('exit', r)) };
    });
    try {
      await Promise.all(children.map((c) => c.ready));
      for (const c of children) c.child.stdin.write('go\n'); // all try at once
      const outcomes = await Promise.all(children.map((c) => c.outcome));
      assert.equal(outcomes.filter((o) => o.startsWith('got')).length, 1, outcomes.join('\n'));
      for (const o of outcomes.filter((x) => !x.startsWith('got'))) assert.match(o, /^refused run .* is being trained by pid \d+ on host /);
      for (const c of children) c.child.stdin.end();
      await Promise.all(children.map((c) => c.exited));
      assert.equal(existsSync(join(dir, 'run.lock')), false);
    } finally {
      for (const c of children) c.child.kill('SIGKILL');
    }
  }
});
