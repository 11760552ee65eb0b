// The Node half of a PyTorch run (prepareRun: config.json and the frame cache the engine reads): `--set` overrides reach
// config.json of a new run and rewrite it on resume (not while another trainer holds the run), and the cache is the one
// data.frameCache.format selects (the PyTorch engine reads both formats).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { prepareRun } from '../../../src/trainer/pytorch/prepareRun';
import { tinyConfig, tinySyntheticVideo, writeConfig } from '../helpers';

const work = mkdtempSync(join(tmpdir(), 'dora-prepare-run-'));
const emit = () => undefined;
const configOf = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));

test('prepareRun applies --set to a new run, and rewrites config.json on a resume whose overrides change it', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const file = writeConfig(work, 'p', tinyConfig(video, { data: { frameCache: { format: 'jpeg' } } }));
  const runDir = join(work, 'runs', 'a');
  mkdirSync(runDir, { recursive: true });
  const cacheRoot = join(work, 'cache');
  const fresh = await prepareRun({ runDir, configPath: file, cacheRoot, overrides: ['training.lr=0.0005'], emit });
  assert.equal(fresh.config.training.lr, 0.0005);
  assert.equal(configOf(runDir).training.lr, 0.0005);
  const index = JSON.parse(readFileSync(join(fresh.frameCacheDir, 'index.json'), 'utf8'));
  assert.equal(index.format, 'jpeg', 'the cache the config selects');
  assert.ok(fresh.frameCount > 0);

  const same = await prepareRun({ runDir, resume: true, cacheRoot, emit });
  assert.equal(same.config.training.lr, 0.0005, 'a resume without overrides keeps the run config');
  const changed = await prepareRun({ runDir, resume: true, cacheRoot, overrides: ['training.lr=0.0002'], emit });
  assert.equal(changed.config.training.lr, 0.0002);
  assert.equal(configOf(runDir).training.lr, 0.0002, 'config.json says what the resumed run trains with');
});

test('prepareRun refuses to rewrite the config of a run another live trainer holds', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const file = writeConfig(work, 'q', tinyConfig(video));
  const runDir = join(work, 'runs', 'b');
  mkdirSync(runDir, { recursive: true });
  const cacheRoot = join(work, 'cache');
  await prepareRun({ runDir, configPath: file, cacheRoot, emit });
  const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  const processStart = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  const lock = { formatVersion: 1, pid: process.pid, processStart, hostname: (await import('node:os')).hostname() };
  writeFileSync(
    join(runDir, 'run.lock'),
    JSON.stringify({ ...lock, engine: 'pytorch', command: 'train', since: new Date().toISOString() }),
  );
  await assert.rejects(prepareRun({ runDir, resume: true, cacheRoot, overrides: ['training.lr=0.0002'], emit }), /being trained by pid/);
  assert.equal(configOf(runDir).training.lr, 0.001, 'config.json untouched');
});
