// Attack 2 of issue 9: a run.json naming a live process that is not a trainer (here a `sleep`), with a heartbeat from the
// future. It used to show "running" forever, and Stop Run sent SIGTERM to the pid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { processStartOf } from '../../src/core/node/processIdentity';
import { readRunStatus } from '../../src/core/node/runDir';
import type { RunInfo } from '../../src/core/runRecords';
import { RunManager } from '../../src/host/runs/runManager';
import { EngineClient } from '../../src/host/engine/engineClient';

/** The manager is asked to resume or stop; no engine may ever start. */
function noEngine(): EngineClient {
  return new EngineClient({ launch: () => ({ transport: 'ipc', command: '/nonexistent/engine.js' }) });
}

function craftedRun(pid: number, extra: Partial<RunInfo> = {}): string {
  const runDir = join(mkdtempSync(join(tmpdir(), 'dora-sec-runjson-')), 'runs', '20261204-000000-crafted');
  mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
  const info: RunInfo = {
    formatVersion: 1,
    id: '20261204-000000-crafted',
    name: 'crafted',
    created: '2026-12-04T00:00:00.000Z',
    configFile: '/nowhere/crafted.dora.json',
    preset: null,
    statusHint: 'running',
    totalSteps: 100,
    stepsPerEpoch: 100,
    backend: 'cpu',
    pid,
    hostname: hostname(),
    heartbeat: '2099-01-01T00:00:00.000Z',
    versions: { doraStudio: '0.1.0', node: process.version },
    ...extra,
  };
  writeFileSync(join(runDir, 'run.json'), JSON.stringify(info));
  writeFileSync(join(runDir, 'events.jsonl'), `${JSON.stringify({ type: 'started', pid, time: info.created, step: 0 })}\n`);
  return runDir;
}

async function withSleep(body: (sleep: ChildProcess) => Promise<void>): Promise<void> {
  const sleep = spawn('sleep', ['60']);
  let signal: string | null = null;
  sleep.on('exit', (_code, s) => (signal = s));
  try {
    await body(sleep);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(signal, null, `the sleep was killed by ${signal}`);
    assert.equal(sleep.exitCode, null);
  } finally {
    sleep.kill('SIGKILL');
  }
}

test('a heartbeat from the future proves nothing: the run is not "running"', async () => {
  await withSleep(async (sleep) => {
    const status = await readRunStatus(craftedRun(sleep.pid!));
    assert.equal(status.status, 'crashed');
    assert.match(status.reason ?? '', /heartbeat 2099-01-01T00:00:00\.000Z is in the future/);
  });
});

test('Stop Run does not signal a live foreign pid named by run.json (no start time, or a wrong one)', async () => {
  await withSleep(async (sleep) => {
    const manager = new RunManager({ engines: noEngine() });
    for (const extra of [{}, { processStart: '1' }, { heartbeat: new Date().toISOString() }]) {
      const result = await manager.stop(craftedRun(sleep.pid!, extra));
      assert.ok(typeof result === 'object' && 'refused' in result, JSON.stringify(result));
      assert.match(result.refused, new RegExp(`did not signal pid ${sleep.pid}`));
    }
  });
});

test('a run.lock naming the foreign pid with a wrong start time does not make it stoppable either', async () => {
  await withSleep(async (sleep) => {
    const runDir = craftedRun(sleep.pid!, { heartbeat: new Date().toISOString() });
    const lock = { formatVersion: 1, pid: sleep.pid, processStart: String(Number(processStartOf(sleep.pid!)) + 1), hostname: hostname() };
    writeFileSync(join(runDir, 'run.lock'), JSON.stringify({ ...lock, engine: 'tfjs', command: 'train', since: '2026-12-04T00:00:00Z' }));
    const result = await new RunManager({ engines: noEngine() }).stop(runDir);
    assert.ok(typeof result === 'object', JSON.stringify(result));
  });
});
