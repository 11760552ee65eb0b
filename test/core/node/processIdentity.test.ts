// Proving a pid is the process we recorded: /proc/<pid>/stat parsing, live processes, reused pids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { isPidAlive, matchProcess, ownProcessStart, parseProcStatStartTime, processStartOf } from '../../../src/core/node/processIdentity';

test('field 22 is found after the last ")" even when the command name has spaces and parentheses', () => {
  const rest = 'S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 19 20';
  assert.equal(parseProcStatStartTime(`123 (node) ${rest}`), '424242');
  assert.equal(parseProcStatStartTime(`123 (a b) c) (d) ${rest}`), '424242');
  assert.equal(parseProcStatStartTime('garbage'), null);
  assert.equal(parseProcStatStartTime('1 (x) S 1 2'), null);
});

test('pids that address groups or everything are never alive', () => {
  for (const pid of [0, -1, -42, 1.5, Number.NaN]) assert.equal(isPidAlive(pid), false, String(pid));
  assert.equal(isPidAlive(process.pid), true);
});

test('a live child is the same process only with its own start time; a dead one is gone (Linux)', async () => {
  const child = spawn('sleep', ['30']);
  try {
    const start = processStartOf(child.pid!);
    assert.match(start ?? '', /^\d+$/);
    assert.equal(matchProcess(child.pid!, start), 'same');
    assert.equal(matchProcess(child.pid!, String(Number(start) + 1)), 'different');
    assert.equal(matchProcess(child.pid!, null), 'unproven');
    assert.equal(ownProcessStart(), processStartOf(process.pid));
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  assert.equal(matchProcess(child.pid!, '1'), 'gone');
});

test('without a start time to compare (another platform), nothing is proven', () => {
  const probe = { isPidAlive: () => true, processStartOf: () => null };
  assert.equal(matchProcess(1234, '99', probe), 'unproven');
  assert.equal(matchProcess(1234, null, probe), 'unproven');
  assert.equal(matchProcess(1234, '99', { isPidAlive: () => false, processStartOf: () => null }), 'gone');
});
