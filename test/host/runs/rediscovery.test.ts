// After a window reload there is no IPC channel: runs are rediscovered from their folders, and live
// ones keep updating by tailing metrics.jsonl.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { RunIndex } from '../../../src/host/runs/runIndex';
import { copyFixture } from '../helpers';

function makeLive(runDir: string, pid: number): void {
  const info = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8'));
  writeFileSync(
    path.join(runDir, 'run.json'),
    JSON.stringify({ ...info, pid, hostname: hostname(), heartbeat: new Date().toISOString(), statusHint: 'running' }),
  );
  // Drop the `finished` event: the trainer is still at it.
  const events = readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter((l: string) => !l.includes('"finished"'));
  writeFileSync(path.join(runDir, 'events.jsonl'), events.join('\n') + '\n');
}

test('a run whose trainer is alive on this host is running, and its metrics are tailed', async () => {
  const { runsDir, runDir, root } = copyFixture();
  makeLive(runDir, process.pid);
  writeFileSync(path.join(runsDir, 'README.md'), 'notes next to the runs must not hide them');
  const index = new RunIndex();
  await index.refresh([runsDir, path.join(root, 'missing-folder')]);
  const run = index.find(runDir)!;
  assert.equal(run.status.status, 'running');
  assert.equal(index.lastMetrics(runDir)?.step, 240);
  appendFileSync(
    path.join(runDir, 'metrics.jsonl'),
    JSON.stringify({ step: 241, epoch: 1, time: 't', loss: 6.5, lr: 0, wd: 0, momentum: 0, teacherTemp: 0, imgPerSec: 1, secPerStep: 1 }) +
      '\n',
  );
  const fresh = await index.pollMetrics(runDir);
  assert.deepEqual(
    fresh.map((r) => r.step),
    [241],
  );
  assert.equal(index.lastMetrics(runDir)?.loss, 6.5);
  assert.equal(index.metricsAt(runDir).get(100)?.step, 100);
});

test('a run whose trainer pid is gone is crashed, with the reason', async () => {
  const { runsDir, runDir } = copyFixture();
  makeLive(runDir, 2 ** 22 + 12345); // above pid_max on Linux: never alive
  const index = new RunIndex();
  await index.refresh([runsDir]);
  const run = index.find(runDir)!;
  assert.equal(run.status.status, 'crashed');
  assert.match(run.status.reason ?? '', /is gone without writing a final event/);
});
