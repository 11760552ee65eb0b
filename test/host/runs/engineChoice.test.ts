// Which engine a run trains in: the dora.engine setting over the config's runtime.engine; a resume follows its own
// run (config.json, else what run.json recorded); the device from dora.device over runtime.device.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chooseEngine } from '../../../src/host/runs/engineChoice';

const fromConfig = { engine: 'fromConfig', device: 'fromConfig' };

test('new runs: the setting wins, else the config, else tfjs; the device likewise, and says where it came from', async () => {
  const torch = { runtime: { engine: 'pytorch', device: 'cuda' } };
  assert.deepEqual(await chooseEngine(fromConfig, { config: torch }), {
    engine: 'pytorch',
    device: undefined,
    requirements: { device: 'cuda', deviceSource: 'runtime.device' },
  });
  assert.equal((await chooseEngine({ ...fromConfig, engine: 'tfjs' }, { config: torch })).engine, 'tfjs');
  assert.equal((await chooseEngine({ ...fromConfig, engine: 'pytorch' }, { config: {} })).engine, 'pytorch');
  assert.equal((await chooseEngine(fromConfig, { config: undefined })).engine, 'tfjs');
  assert.deepEqual(await chooseEngine({ engine: 'fromConfig', device: 'cpu' }, { config: torch }), {
    engine: 'pytorch',
    device: 'cpu',
    requirements: { device: 'cpu', deviceSource: 'dora.device' },
  });
  assert.equal((await chooseEngine(fromConfig, { config: { runtime: { engine: 'jax' } } })).engine, 'tfjs', 'unknown values are ignored');
});

test('a resume follows its run: config.json, else run.json, unless the setting says otherwise', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'dora-engine-choice-'));
  const torchRun = join(runs, 'a');
  mkdirSync(join(torchRun, 'checkpoints'), { recursive: true });
  writeFileSync(join(torchRun, 'config.json'), JSON.stringify({ runtime: { engine: 'pytorch', device: 'mps' } }));
  const sidecar = join(torchRun, 'checkpoints', 'step-000002.json');
  const choice = await chooseEngine(fromConfig, { resumeCheckpoint: sidecar });
  assert.equal(choice.engine, 'pytorch');
  assert.equal(choice.requirements.device, 'mps');
  const imported = join(runs, 'b');
  mkdirSync(join(imported, 'checkpoints'), { recursive: true });
  writeFileSync(join(imported, 'config.json'), JSON.stringify({ runtime: {} }));
  const info = { formatVersion: 1, id: 'b', name: 'b', created: 't', configFile: '/c', preset: null, statusHint: 'stopped' };
  const rest = { totalSteps: 0, stepsPerEpoch: 0, backend: 'pytorch-cpu', pid: 1, hostname: 'h', heartbeat: 't', versions: {} };
  writeFileSync(join(imported, 'run.json'), JSON.stringify({ ...info, ...rest, engine: 'pytorch' }));
  assert.equal((await chooseEngine(fromConfig, { resumeCheckpoint: join(imported, 'checkpoints', 'step-000000.json') })).engine, 'pytorch');
  assert.equal((await chooseEngine({ ...fromConfig, engine: 'tfjs' }, { resumeCheckpoint: sidecar })).engine, 'tfjs');
});
