// The host side of resuming and stopping: a run another trainer holds is refused with the lock message; Stop signals
// only a proven trainer; a changed *.dora.json is offered as overrides, minus what a resume cannot change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { processStartOf } from '../../../src/core/node/processIdentity';
import { describeResumeChanges, resumeConfigChanges, resumeOverrides } from '../../../src/host/runs/resumeChanges';
import { RunManager } from '../../../src/host/runs/runManager';
import { proveTrainer } from '../../../src/host/runs/trainerProcess';
import { copyFixture } from '../helpers';
import { EngineClient } from '../../../src/host/engine/engineClient';

/** The manager is asked to resume or stop; no engine may ever start. */
function noEngine(): EngineClient {
  return new EngineClient({ launch: () => ({ transport: 'ipc', command: '/nonexistent/engine.js' }) });
}

function lockFor(pid: number, processStart: string | null, host = hostname()) {
  return { formatVersion: 1, pid, processStart, hostname: host, engine: 'pytorch', command: 'train', since: '2026-12-04T10:00:00.000Z' };
}

test('resume is refused while another trainer holds the run lock, with the contract message and its fix', async () => {
  const { runDir } = copyFixture();
  const sidecar = path.join(runDir, 'checkpoints', 'step-000100.json');
  writeFileSync(sidecar, JSON.stringify({ step: 100 }));
  writeFileSync(path.join(runDir, 'run.lock'), JSON.stringify(lockFor(process.pid, processStartOf(process.pid))));
  const manager = new RunManager({ engines: noEngine() });
  await assert.rejects(
    manager.start({ name: 'demo', resumeCheckpoint: sidecar }),
    new RegExp(
      `run 20261126-114909-demo is being trained by pid ${process.pid} on host ${hostname()} since 2026-12-04T10:00:00\\.000Z\\. Wait`,
    ),
  );
});

test('a trainer is proven by run.lock or run.json with its start time; a bare pid or another host is not', async () => {
  const child = spawn('sleep', ['30']);
  try {
    const { runDir } = copyFixture();
    const start = processStartOf(child.pid!);
    const info = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8'));
    writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ ...info, hostname: hostname(), pid: child.pid }));
    assert.equal((await proveTrainer(runDir)).kind, 'unproven');
    writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ ...info, hostname: hostname(), pid: child.pid, processStart: start }));
    assert.deepEqual(await proveTrainer(runDir), { kind: 'proven', pid: child.pid, source: 'run.json' });
    writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ ...info, heartbeat: new Date().toISOString() }));
    writeFileSync(path.join(runDir, 'run.lock'), JSON.stringify(lockFor(child.pid!, start)));
    assert.deepEqual(await proveTrainer(runDir), { kind: 'proven', pid: child.pid, source: 'run.lock' });
    writeFileSync(path.join(runDir, 'run.lock'), JSON.stringify(lockFor(child.pid!, start, 'gpu-node-7')));
    const remote = await proveTrainer(runDir);
    assert.equal(remote.kind, 'unproven');
    assert.match(remote.kind === 'unproven' ? remote.reason : '', /trained on host gpu-node-7/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a changed *.dora.json is split into overrides a resume applies and changes it cannot make', async () => {
  const { root, runDir } = copyFixture();
  const configFile = path.join(root, 'demo.dora.json');
  const runConfig = JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8'));
  mkdirSync(path.dirname(configFile), { recursive: true });
  writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ ...runConfig, configFile }));
  assert.equal(await resumeConfigChanges(runDir), undefined, 'no file, nothing to apply');
  // The file as it was, then edited: a lower lr (applies) and a deeper model (cannot apply).
  const { configFile: _c, name: _n, ...file } = runConfig;
  writeFileSync(configFile, JSON.stringify({ ...file, name: 'demo' }));
  assert.equal(await resumeConfigChanges(runDir), undefined, 'unchanged');
  writeFileSync(
    configFile,
    JSON.stringify({
      ...file,
      name: 'demo',
      training: { ...file.training, lr: file.training.lr / 10 },
      model: { ...file.model, depth: 5 },
    }),
  );
  const changes = (await resumeConfigChanges(runDir))!;
  assert.deepEqual(changes.apply, [{ key: 'training.lr', from: file.training.lr, to: file.training.lr / 10 }]);
  assert.deepEqual(
    changes.refused.map((c) => c.key),
    ['model.depth'],
  );
  assert.deepEqual(resumeOverrides(changes), [`training.lr=${file.training.lr / 10}`]);
  assert.match(
    describeResumeChanges(changes),
    /Resuming applies:\n {2}training\.lr: .*\nNot applied .*:\n {2}model\.depth: \d+ → 5: the checkpoint's weights/,
  );
});
