// Links inside a run folder: a trainer appends to and truncates events.jsonl, metrics.jsonl and trainer.log, and writes
// into checkpoints/ and snapshots/; a snapshot manifest names files the webview loads. None may lead elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSnapshotArray, readSnapshotManifest } from '../../src/core/node/runDir';
import { snapshotUriMap } from '../../src/host/shared/snapshotUris';
import { runTraining } from '../../src/trainer/run/train';
import { copyFixture } from '../host/helpers';
import { tinyConfig, tinySyntheticVideo, writeConfig } from '../trainer/helpers';

const work = mkdtempSync(join(tmpdir(), 'dora-sec-links-'));
const cacheRoot = join(work, 'frame-cache');

test('resuming a run whose events.jsonl links to a file elsewhere is refused before anything is written', async () => {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(join(work, 'events'), 'tiny', tinyConfig(video));
  const run = await runTraining({ configPath: config, cacheRoot, maxSteps: 3 });
  const outside = join(work, 'bashrc');
  writeFileSync(outside, 'export PATH=/usr/bin\npartial line without newline');
  const events = join(run.runDir, 'events.jsonl');
  rmSync(events);
  symlinkSync(outside, events);
  await assert.rejects(
    runTraining({ runDir: run.runDir, resume: join(run.runDir, 'checkpoints', 'step-000003.json'), cacheRoot, maxSteps: 4 }),
    /: entry "events\.jsonl" resolves \(through a symbolic link\) to .*bashrc, outside/,
  );
  assert.equal(readFileSync(outside, 'utf8'), 'export PATH=/usr/bin\npartial line without newline', 'not truncated, not appended to');
});

test("a snapshot's files that link elsewhere get no webview URI and are not read", async () => {
  const { runDir } = copyFixture();
  const secret = join(work, 'secret.f32');
  writeFileSync(secret, Buffer.alloc(4 * 64 * 3));
  const clip = join(runDir, 'snapshots', 'step-000100', 'clip-00');
  rmSync(join(clip, 'assignment.f32'));
  symlinkSync(secret, join(clip, 'assignment.f32'));
  const other = join(work, 'elsewhere');
  mkdirSync(other);
  writeFileSync(join(other, 'frame-00.png'), 'png');
  rmSync(join(runDir, 'snapshots', 'step-000100', 'clip-01'), { recursive: true });
  symlinkSync(other, join(runDir, 'snapshots', 'step-000100', 'clip-01'));
  const manifest = (await readSnapshotManifest(runDir, 100))!;
  const uris = snapshotUriMap(manifest, join(runDir, 'snapshots', 'step-000100'), (p) => `webview:${p}`);
  assert.equal(uris['clip-00/assignment.f32'], undefined);
  assert.equal(uris['clip-01/frame-00.png'], undefined);
  assert.ok(uris['clip-00/frame-00.png']);
  await assert.rejects(
    readSnapshotArray(join(runDir, 'snapshots', 'step-000100'), manifest.clips[0].assignment),
    /snapshot\.json: file "clip-00\/assignment\.f32" resolves \(through a symbolic link\) to .*secret\.f32/,
  );
});
