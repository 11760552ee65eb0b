import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { EngineClient } from '../../../src/host/engine/engineClient';
import { KILLED_REASON, RunManager, type LogLine } from '../../../src/host/runs/runManager';

const FAKE_TRAINER = path.join(__dirname, '..', 'fixtures', 'fakeTrainer.js');

function manager(
  mode: string,
  options: { stopGraceMs?: number; killGraceMs?: number } = {},
): { m: RunManager; logs: LogLine[]; runsDir: string } {
  const runsDir = path.join(mkdtempSync(path.join(tmpdir(), 'dora-rm-')), 'runs');
  const engines = new EngineClient({
    launch: () => ({ transport: 'ipc', command: FAKE_TRAINER }),
    env: { ...process.env, FAKE_TRAINER_MODE: mode },
  });
  const m = new RunManager({ engines, ...options });
  const logs: LogLine[] = [];
  m.onLog((l) => logs.push(l));
  return { m, logs, runsDir };
}

test('start creates the run folder first, forks with empty execArgv, and folds the IPC feed', async () => {
  const { m, runsDir } = manager('normal');
  const messages: string[] = [];
  m.onMessage(({ message }) => messages.push(message.type));
  const { runDir, pid } = await m.start({ configPath: '/w/a.dora.json', runsDir, name: 'Venice tour', maxSteps: 3, snapshotEvery: 5 });
  assert.ok(existsSync(path.join(runDir, 'checkpoints')), 'createRunDir ran before the fork');
  assert.match(path.basename(runDir), /^\d{8}-\d{6}-venice-tour$/);
  assert.ok(pid && pid !== process.pid);
  await m.whenExited(runDir);
  const state = m.get(runDir)!;
  assert.equal(state.finished?.reason, 'completed');
  assert.equal(state.step, 3);
  assert.equal(state.loss, 7);
  assert.equal(state.attached, false);
  assert.equal(state.lastError, undefined);
  assert.ok(messages.includes('ready') && messages.includes('checkpoint-saved') && messages.at(-1) === 'finished');
});

test('stop sends `stop`; the trainer checkpoints and reports stopped', async () => {
  const { m, runsDir } = manager('normal');
  const { runDir } = await m.start({ configPath: '/w/a.dora.json', runsDir, name: 'a' });
  assert.equal(await m.stop(runDir), 'stopping');
  assert.equal(await m.stop(runDir), 'stopping', 'a second stop does not start a second escalation');
  await m.whenExited(runDir);
  assert.equal(m.get(runDir)?.finished?.reason, 'stopped');
});

test('a trainer that ignores stop and SIGTERM is killed, and the run gets a `failed` event', async () => {
  const { m, logs, runsDir } = manager('stubborn', { stopGraceMs: 200, killGraceMs: 200 });
  const ready = new Promise<void>((resolve) => m.onMessage(({ message }) => message.type === 'ready' && resolve()));
  const { runDir } = await m.start({ configPath: '/w/a.dora.json', runsDir, name: 'a' });
  await ready; // its SIGTERM handler is installed by then, even on a loaded machine
  await m.stop(runDir);
  await m.whenExited(runDir);
  const state = m.get(runDir)!;
  assert.equal(state.finished?.reason, 'failed');
  assert.match(state.lastError?.message ?? '', /SIGKILL/);
  const texts = logs.map((l) => l.text).join('\n');
  assert.match(texts, /sending SIGTERM[\s\S]*sending SIGKILL/);
  await new Promise((r) => setTimeout(r, 50)); // the event is appended right after the kill
  const events = readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(events.at(-1).type, 'failed');
  assert.equal(events.at(-1).reason, KILLED_REASON);
});

test('a crash without `finished` keeps the stderr tail as the error', async () => {
  const { m, logs, runsDir } = manager('crash');
  const { runDir } = await m.start({ configPath: '/w/a.dora.json', runsDir, name: 'a' });
  await m.whenExited(runDir);
  const state = m.get(runDir)!;
  assert.equal(state.finished?.reason, 'failed');
  assert.match(state.lastError?.message ?? '', /exited with code 3[\s\S]*out of memory in the wasm heap/);
  assert.ok(logs.some((l) => l.stream === 'stderr' && /out of memory/.test(l.text)));
});

test('malformed trainer messages are logged and ignored', async () => {
  const { m, logs, runsDir } = manager('garbage');
  const { runDir } = await m.start({ configPath: '/w/a.dora.json', runsDir, name: 'a' });
  await m.whenExited(runDir);
  assert.equal(m.get(runDir)?.finished?.reason, 'completed');
  assert.ok(logs.some((l) => /ignored a malformed message from the engine/.test(l.text)));
});

test('a missing trainer bundle is reported as a failed start, not a hang', async () => {
  const runsDir = path.join(mkdtempSync(path.join(tmpdir(), 'dora-rm-')), 'runs');
  const missing = path.join(runsDir, 'no-such-trainer.js');
  const m = new RunManager({ engines: new EngineClient({ launch: () => ({ transport: 'ipc', command: missing }) }) });
  const { runDir } = await m.start({ configPath: '/w/a.dora.json', runsDir, name: 'a' });
  await m.whenExited(runDir);
  assert.equal(m.get(runDir)?.finished?.reason, 'failed');
  assert.match(m.get(runDir)?.lastError?.message ?? '', /no-such-trainer\.js/);
});

test('stopping a run that nothing is running reports not-running', async () => {
  const { m, runsDir } = manager('normal');
  assert.equal(await m.stop(path.join(runsDir, 'nothing-here')), 'not-running');
});
