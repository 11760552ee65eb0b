// How an engine request ended, from what the engine said and how its process exited.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyRequestEnd, describeExit, stderrLines } from '../../../src/host/engine/exit';

const exit = (code: number | null, signal: NodeJS.Signals | null = null, stderrTail = '') => ({ code, signal, stderrTail });

test('the exit in words', () => {
  assert.equal(describeExit(exit(3)), 'exited with code 3');
  assert.equal(describeExit(exit(null, 'SIGKILL')), 'was killed by SIGKILL');
  assert.equal(describeExit({ ...exit(null), startError: 'spawn python3 ENOENT' }), 'could not be started: spawn python3 ENOENT');
  assert.deepEqual(stderrLines(exit(1, null, 'a\n\nb\nc\n'), 2), ['b', 'c']);
});

test("the engine's own `finished` is trusted; its error is the reason of a failure", () => {
  assert.deepEqual(classifyRequestEnd(exit(0), { finished: 'completed', cancelled: false, complete: true }), { reason: 'completed' });
  assert.deepEqual(classifyRequestEnd(exit(0), { finished: 'stopped', cancelled: false, complete: true }), { reason: 'stopped' });
  assert.deepEqual(classifyRequestEnd(exit(1), { finished: 'failed', error: 'no such video', cancelled: false, complete: false }), {
    reason: 'failed',
    error: 'no such video',
  });
});

test('without `finished`: cancelled is stopped, a clean exit completed, anything else failed with the last stderr line', () => {
  assert.equal(classifyRequestEnd(exit(null, 'SIGKILL'), { cancelled: true, complete: false }).reason, 'stopped');
  assert.equal(classifyRequestEnd(exit(0), { cancelled: false, complete: true }).reason, 'completed');
  assert.deepEqual(classifyRequestEnd(exit(134, null, 'working\nAborted(OOM)\n'), { cancelled: false, complete: false }), {
    reason: 'failed',
    error: 'the engine exited with code 134: Aborted(OOM)',
  });
});

test('a clean exit without the answer the request needs is not a success', () => {
  assert.deepEqual(classifyRequestEnd(exit(0), { finished: 'completed', cancelled: false, complete: false }), {
    reason: 'failed',
    error: 'the engine exited with code 0',
  });
  assert.equal(classifyRequestEnd(exit(0), { finished: 'completed', cancelled: true, complete: false }).reason, 'stopped');
});
