// The short engine requests as the extension makes them, answered by the real TF.js engine (dist/trainer.js) in its
// own process: `build-frame-cache`, `prepare-demo` and `inspect`, each starting with `ready` and ending with `finished`.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROTOCOL_VERSION, type TrainerMessage } from '../../../src/core/messages';
import { loadConfigFile } from '../../../src/core/node/configFile';
import { checkpointPaths } from '../../../src/core/node/runPaths';
import { isSnapshotManifest } from '../../../src/core/runRecords';
import { EngineClient, tfjsEngine } from '../../../src/host/engine/engineClient';
import { runTraining } from '../../../src/trainer/run/train';
import { repoRoot, tinyConfig, tinySyntheticVideo, writeConfig } from '../../trainer/helpers';

const engines = new EngineClient({ launch: tfjsEngine(join(repoRoot, 'dist')) });
const work = mkdtempSync(join(tmpdir(), 'dora-engine-requests-'));

test('build-frame-cache: the plan, frame progress and the cache, then "already complete"', { timeout: 120_000 }, async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(work, 'tiny', tinyConfig(video, { data: { frameCache: { dir: join(work, 'frames') } } }));
  const messages: TrainerMessage[] = [];
  const built = await engines.buildFrameCache({ configPath: config }, { onMessage: (m) => messages.push(m) });
  assert.equal(built.reason, 'completed', built.error);
  assert.equal(built.ready?.frameCount, 60);
  assert.equal(built.ready?.alreadyComplete, false);
  assert.ok(existsSync(join(built.ready!.cacheDir, 'index.json')));
  assert.equal(messages[0].type === 'ready' && messages[0].protocol, PROTOCOL_VERSION, '`ready` with the real protocol comes first');
  const progress = messages.filter((m) => m.type === 'progress');
  assert.match(progress[0].type === 'progress' ? (progress[0].message ?? '') : '', /Caching 60 frames/);
  // data.frameCache.format "auto": a 60-frame video stays raw RGB24; the frame progress carries the sizes as text.
  assert.match(
    progress.at(-1)?.type === 'progress' ? (progress.at(-1)?.message ?? '') : '',
    /^[\d.]+ [KM]B → ≈ [\d.]+ [KM]B \(RGB24 [\d.]+ [KM]B\)$/,
  );
  assert.match(built.ready?.summary ?? '', /^Frame cache built: 60 frames at \d+×\d+ \(rgb24\), [\d.]+ [KM]B/);
  assert.equal(messages.at(-1)?.type, 'finished');
  const again = await engines.buildFrameCache({ configPath: config });
  assert.equal(again.ready?.alreadyComplete, true);
  assert.equal(again.ready?.cacheDir, built.ready?.cacheDir);
});

test('build-frame-cache with data.frameCache.format "jpeg": the compact cache, sizes before → after', { timeout: 120_000 }, async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const frameCache = { dir: join(work, 'jpeg-frames'), format: 'jpeg' };
  const config = writeConfig(join(work, 'jpeg'), 'tiny-jpeg', tinyConfig(video, { data: { frameCache } }));
  const built = await engines.buildFrameCache({ configPath: config });
  assert.equal(built.reason, 'completed', built.error);
  assert.equal(built.ready?.frameCount, 60);
  assert.match(built.ready?.summary ?? '', /^Frame cache built: 60 frames at \d+×\d+ \(jpeg\), .* — RGB24 would take .*× smaller\)/);
  assert.equal(JSON.parse(readFileSync(join(built.ready!.cacheDir, 'index.json'), 'utf8')).format, 'jpeg');
});

test('build-frame-cache on a broken config fails with the config problem', async () => {
  const config = writeConfig(join(work, 'broken'), 'broken', { preset: 'demo', data: { video: 'x.mp4', stride: 0 } });
  const outcome = await engines.buildFrameCache({ configPath: config });
  assert.equal(outcome.reason, 'failed');
  assert.match(outcome.error ?? '', /\$\.data\.stride/);
});

test('prepare-demo writes the demo folder once: tour, ground truth and a valid config', { timeout: 180_000 }, async () => {
  const root = join(work, 'workspace');
  mkdirSync(root);
  const first = await engines.prepareDemo({ target: 'workspace', workspaceRoot: root, durationSeconds: 2 });
  assert.equal(first.reason, 'completed', first.error);
  const demo = first.ready!.demo!;
  assert.equal(demo.dir, join(root, 'dora-demo'));
  assert.ok(existsSync(first.ready!.video) && first.ready!.frameCount > 0);
  assert.equal(demo.createdConfig, true);
  const config = await loadConfigFile(demo.configFile);
  assert.equal(config.data.video, first.ready!.video);
  assert.equal(config.data.frameCache.dir, demo.cacheRoot);
  const second = await engines.prepareDemo({ target: 'workspace', workspaceRoot: root, durationSeconds: 2 });
  assert.equal(second.ready?.demo?.createdConfig, false, 'an existing demo config is kept');
  const tour = await engines.prepareDemo({ target: 'tour', workspaceRoot: root, durationSeconds: 2 });
  assert.equal(tour.ready?.video, first.ready!.video, 'the tour alone is the same video');
  assert.equal(tour.ready?.demo, undefined);
});

test('inspect: every checkpoint on the same frames, in the snapshot format', { timeout: 180_000 }, async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'run'), 'tiny', tinyConfig(video, { data: { frameCache: { dir: join(work, 'frames') } } }));
  const run = await runTraining({ configPath: config, maxSteps: 3 });
  const checkpoints = [checkpointPaths(run.runDir, 3).sidecar];
  const outDir = join(work, 'inspect-out');
  const outcome = await engines.inspect({ checkpoints, outDir, backend: 'cpu' });
  assert.equal(outcome.reason, 'completed', outcome.error);
  assert.deepEqual(
    outcome.results.map((r) => [r.checkpoint, r.step]),
    [[checkpoints[0], 3]],
  );
  const manifest: unknown = JSON.parse(readFileSync(join(outcome.results[0].dir, 'snapshot.json'), 'utf8'));
  assert.ok(isSnapshotManifest(manifest));
  assert.ok(existsSync(join(outDir, 'inspect.json')));
  const cancelled = new AbortController();
  cancelled.abort();
  const stopped = await engines.inspect(
    { checkpoints, outDir: join(work, 'inspect-cancelled'), backend: 'cpu' },
    { signal: cancelled.signal },
  );
  assert.equal(stopped.reason, 'stopped');
});
