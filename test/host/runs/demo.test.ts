// Start Demo Run asks an engine to prepare the demo folder; the host gets its paths back.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { prepareDemoWorkspace } from '../../../src/host/runs/demo';
import { fakeEngines } from '../engine/fakeEngine';

test('the demo folder, its config, video and frame cache come from the engine', async () => {
  const root = tmpdir();
  const demo = await prepareDemoWorkspace(fakeEngines(), root, { durationSeconds: 6 });
  const dir = `${root}/dora-demo`;
  assert.deepEqual(demo, {
    dir,
    configFile: `${dir}/demo.dora.json`,
    cacheRoot: `${dir}/.frame-cache`,
    createdConfig: true,
    video: `${dir}/media/demo-walking-tour.mp4`,
    frameCount: 1200,
  });
});

test('an engine that fails leaves a clear error', async () => {
  await assert.rejects(
    prepareDemoWorkspace(fakeEngines(), path.join(tmpdir(), 'no-such-folder')),
    /working folder .*no-such-folder does not exist/,
  );
});
