// dist/trainer.js as the extension forks it: typed IPC in both directions, a stop request, and a clean exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTrainerMessage, type TrainerMessage } from '../../src/core/messages';
import { createRunDir } from '../../src/core/node/runDir';
import { repoRoot, tinyConfig, tinySyntheticVideo, writeConfig } from './helpers';

test('the forked trainer streams typed messages, stops on request with a checkpoint, and exits 0', { timeout: 120_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'dora-child-'));
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(work, 'tiny', tinyConfig(video, { runtime: { backend: 'wasm', checkpointEvery: 100 } }));
  const { dir: runDir } = await createRunDir(join(work, 'runs'), 'tiny');
  const child = fork(join(repoRoot, 'dist', 'trainer.js'), [], { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const messages: unknown[] = [];
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.on('message', (m) => {
    messages.push(m);
    if (isTrainerMessage(m) && m.type === 'metrics' && m.record.step === 3) child.send({ type: 'stop' });
  });
  child.send({ type: 'start', configPath: config, runDir, cacheRoot: join(work, 'cache') });
  assert.equal(await exit, 0);
  assert.ok(messages.every(isTrainerMessage), `untyped message: ${JSON.stringify(messages.find((m) => !isTrainerMessage(m)))}`);
  const typed = messages as TrainerMessage[];
  assert.equal(typed[0].type, 'ready');
  assert.ok(typed.some((m) => m.type === 'progress' && m.phase === 'frame-cache'));
  assert.ok(typed.some((m) => m.type === 'snapshot-ready'));
  const finished = typed[typed.length - 1];
  assert.equal(finished.type, 'finished');
  assert.equal(finished.type === 'finished' && finished.reason, 'stopped');
  const saved = typed.find((m) => m.type === 'checkpoint-saved');
  assert.ok(saved && saved.type === 'checkpoint-saved' && saved.step >= 3);
  const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).type);
  assert.equal(events[events.length - 1], 'stopped');
});
