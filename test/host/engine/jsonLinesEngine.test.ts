// The second engine transport (a spawned process speaking JSON lines: stdin in, fd 3 out, stdout/stderr as log) behind
// the same client and run manager as the TF.js engine: a fake engine stands in for the PyTorch one, and no caller
// changes to use it.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TrainerMessage } from '../../../src/core/messages';
import { EngineClient } from '../../../src/host/engine/engineClient';
import { EngineProcess, type EngineLogStream } from '../../../src/host/engine/engineProcess';
import { RunManager, type LogLine } from '../../../src/host/runs/runManager';

const FAKE_ENGINE = path.join(__dirname, '..', 'fixtures', 'fakeJsonLinesEngine.mjs');
const launch = () => ({ transport: 'json-lines' as const, command: process.execPath, args: [FAKE_ENGINE] });
const clientFor = (mode: string) => new EngineClient({ launch, env: { ...process.env, FAKE_ENGINE_MODE: mode } });

function manager(mode: string, timeouts: { stopGraceMs?: number; killGraceMs?: number } = {}) {
  const runsDir = path.join(mkdtempSync(path.join(tmpdir(), 'dora-jsonl-')), 'runs');
  const m = new RunManager({ engines: clientFor(mode), ...timeouts });
  const logs: LogLine[] = [];
  m.onLog((l) => logs.push(l));
  return { m, logs, runsDir };
}

test('a JSON-lines engine trains through the run manager exactly like the forked TF.js engine', async () => {
  const { m, logs, runsDir } = manager('normal');
  const messages: TrainerMessage[] = [];
  m.onMessage(({ message }) => messages.push(message));
  const { runDir } = await m.start({ configPath: '/w/a.dora.json', runsDir, name: 'torch run' });
  await m.whenExited(runDir);
  const state = m.get(runDir)!;
  assert.equal(state.finished?.reason, 'completed');
  assert.equal(state.step, 3);
  assert.equal(state.loss, 7);
  assert.equal(messages[0].type, 'ready');
  assert.equal(messages[0].type === 'ready' && messages[0].versions.torch, '1.13.1', 'extra version keys pass the guard');
  assert.ok(
    logs.some((l) => l.stream === 'stdout' && l.text === 'fake engine: log line on stdout'),
    'stdout is log, not messages',
  );
});

test('stop reaches a JSON-lines engine on its stdin; it checkpoints and reports stopped', async () => {
  const { m, runsDir } = manager('normal');
  const ready = new Promise<void>((resolve) => m.onMessage(({ message }) => message.type === 'ready' && resolve()));
  const { runDir } = await m.start({ configPath: '/w/a.dora.json', runsDir, name: 'a' });
  await ready;
  assert.equal(await m.stop(runDir), 'stopping');
  await m.whenExited(runDir);
  assert.equal(m.get(runDir)?.finished?.reason, 'stopped');
});

test('a JSON-lines engine that ignores stop and SIGTERM is killed after the timeouts', async () => {
  const { m, logs, runsDir } = manager('stubborn', { stopGraceMs: 200, killGraceMs: 200 });
  const ready = new Promise<void>((resolve) => m.onMessage(({ message }) => message.type === 'ready' && resolve()));
  const { runDir } = await m.start({ configPath: '/w/a.dora.json', runsDir, name: 'a' });
  await ready;
  await m.stop(runDir);
  await m.whenExited(runDir);
  assert.equal(m.get(runDir)?.finished?.reason, 'failed');
  assert.match(m.get(runDir)?.lastError?.message ?? '', /killed by SIGKILL/);
  assert.match(logs.map((l) => l.text).join('\n'), /sending SIGTERM[\s\S]*sending SIGKILL/);
});

test('a crashing JSON-lines engine is reported with its stderr', async () => {
  const { m, runsDir } = manager('crash');
  const { runDir } = await m.start({ configPath: '/w/a.dora.json', runsDir, name: 'a' });
  await m.whenExited(runDir);
  assert.match(m.get(runDir)?.lastError?.message ?? '', /exited with code 3[\s\S]*CUDA out of memory/);
});

test('lines on the message channel that are not JSON or not messages are logged and skipped', async () => {
  const { m, logs, runsDir } = manager('garbage');
  const { runDir } = await m.start({ configPath: '/w/a.dora.json', runsDir, name: 'a' });
  await m.whenExited(runDir);
  assert.equal(m.get(runDir)?.finished?.reason, 'completed');
  const text = logs.map((l) => l.text).join('\n');
  assert.match(text, /not JSON: this is not JSON/);
  assert.match(text, /ignored a malformed message from the engine/);
});

test('evaluate through the same client: progress and one eval-result per job', async () => {
  const lines: string[] = [];
  const progress: string[] = [];
  const outcome = await clientFor('normal').evaluate(
    { checkpoint: path.join(tmpdir(), 'step-000003.json'), jobs: [{ suite: 'knn', dataset: 'synthetic' }, { suite: 'attention' }] },
    { log: (l) => lines.push(l), onMessage: (m) => m.type === 'progress' && progress.push(m.message ?? '') },
  );
  assert.equal(outcome.reason, 'completed', outcome.error);
  assert.deepEqual(
    outcome.results.map((r) => r.suite),
    ['knn', 'attention'],
  );
  assert.deepEqual(progress, ['knn: half way', 'attention: half way']);
  assert.ok(lines.includes('fake engine: evaluating'), 'stderr reaches the log');
});

test('closing its stdin stops a JSON-lines engine cleanly', async () => {
  const messages: TrainerMessage[] = [];
  const logs: Array<[EngineLogStream, string]> = [];
  const engine = new EngineProcess(launch(), {
    cwd: tmpdir(),
    env: { ...process.env, FAKE_ENGINE_MODE: 'normal' },
    onMessage: (m) => messages.push(m),
    onLog: (stream, text) => logs.push([stream, text]),
  });
  assert.ok(engine.send({ type: 'start', configPath: '/w/a.dora.json', runDir: '/tmp/r' }));
  engine.closeInput();
  const exit = await engine.exited;
  assert.equal(exit.code, 0);
  const finished = messages.at(-1);
  assert.equal(finished?.type === 'finished' && finished.reason, 'stopped');
  assert.equal(engine.send({ type: 'stop' }), false, 'nothing is sent after the input closed');
});
