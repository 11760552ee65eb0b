import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { stepsPerEpoch, validateConfig } from '../../src/core/config';
import { peakLr } from '../../src/core/configRules';
import { formatProblem } from '../../src/core/configProblem';
import { loadConfigFile, resolveConfig, writeConfigFile } from '../../src/core/node/configFile';
import { configFromPreset, PRESETS, presetNames, serializeConfigFile } from '../../src/core/presets';

const FILE = '/work/exp/run.dora.json';
const resolvePreset = (name: (typeof presetNames)[number]) => resolveConfig({ preset: name, data: { video: 'v.mp4' } }, { file: FILE });

test('every preset validates and resolves', () => {
  assert.deepEqual([...presetNames], ['paper', 'cpu-small', 'demo']);
  for (const name of presetNames) {
    assert.deepEqual(validateConfig({ preset: name, data: { video: 'v.mp4' } }, FILE).map(formatProblem), [], name);
    assert.equal(PRESETS[name].name, name);
    assert.equal(resolvePreset(name).preset, name);
  }
});

test('paper preset is the official recipe (dora-method §1)', () => {
  const c = resolvePreset('paper');
  assert.deepEqual(
    [
      c.model.arch,
      c.model.embedDim,
      c.model.depth,
      c.model.numHeads,
      c.model.patchSize,
      c.model.mlpRatio,
      c.model.qkvBias,
      c.model.dropPathRate,
    ],
    ['vit-small', 384, 12, 6, 16, 4, true, 0.1],
  );
  assert.deepEqual(c.model.head, { outDim: 65536, hiddenDim: 2048, bottleneckDim: 256, nlayers: 3, normLastLayer: false });
  assert.deepEqual(
    [c.data.framesPerClip, c.data.stride, c.data.precropSize, c.data.globalSize, c.data.localSize, c.data.localCrops],
    [8, 60, 300, 224, 112, 6],
  );
  assert.deepEqual(
    [c.data.precropScale, c.data.globalScale, c.data.localScale],
    [
      [0.2, 1],
      [0.4, 1],
      [0.05, 0.4],
    ],
  );
  assert.deepEqual(
    [
      c.training.epochs,
      c.training.batchClips,
      c.training.lr,
      c.training.minLr,
      c.training.warmupEpochs,
      c.training.weightDecay,
      c.training.weightDecayEnd,
    ],
    [100, 16, 0.0005, 1e-5, 10, 0.04, 0.4],
  );
  assert.deepEqual(
    [c.training.momentumTeacher, c.training.teacherTemp, c.training.warmupTeacherTemp, c.training.clipGrad, c.training.freezeLastLayer],
    [0.996, 0.04, 0.04, 3, 1],
  );
  assert.deepEqual(
    [c.dora.tracker, c.dora.objects, c.dora.sinkhorn, c.dora.loss],
    [true, 3, { iterations: 30, epsilon: 0.05, variant: 'official' }, 'official'],
  );
  assert.equal(c.runtime.backend, 'auto');
  assert.equal(peakLr(c.training), 3.125e-5);
});

test('cpu-small and demo presets have the documented sizes', () => {
  const small = resolvePreset('cpu-small');
  assert.deepEqual([small.model.arch, small.model.embedDim, small.model.numHeads, small.model.head.outDim], ['vit-tiny', 192, 3, 4096]);
  assert.deepEqual(
    [
      small.data.precropSize,
      small.data.globalSize,
      small.data.localSize,
      small.data.localCrops,
      small.data.framesPerClip,
      small.training.batchClips,
    ],
    [128, 96, 48, 6, 4, 2],
  );
  assert.equal(small.runtime.backend, 'wasm');

  const demo = resolvePreset('demo');
  assert.deepEqual(
    [demo.model.arch, demo.model.embedDim, demo.model.depth, demo.model.numHeads, demo.model.head.outDim],
    ['custom', 96, 4, 3, 256],
  );
  assert.deepEqual(
    [demo.data.precropSize, demo.data.globalSize, demo.data.localSize, demo.data.localCrops, demo.data.framesPerClip, demo.data.stride],
    [72, 48, 24, 4, 4, 8],
  );
  // A few hundred steps whatever the video length: maxFrames bounds the epoch.
  assert.equal(stepsPerEpoch(demo, 1800) * demo.training.epochs, 240);
  assert.equal(demo.training.freezeLastLayer, 0);
  assert.equal(demo.model.patchSize, 8);
  assert.equal(demo.training.centerMomentum, 0.995);
});

test('configFromPreset: minimal and expanded files resolve to the same config', () => {
  const overrides = { data: { video: 'walk.mp4', localCrops: 4 }, training: { seed: 7 } };
  const minimal = configFromPreset('cpu-small', overrides, { name: 'walk' });
  assert.deepEqual(minimal, { name: 'walk', preset: 'cpu-small', data: { video: 'walk.mp4', localCrops: 4 }, training: { seed: 7 } });
  const expanded = configFromPreset('cpu-small', overrides, { name: 'walk', expand: true });
  assert.equal(Object.keys(expanded.data ?? {})[0], 'video');
  assert.equal(expanded.model?.embedDim, 192);
  assert.deepEqual(resolveConfig(expanded, { file: FILE }), resolveConfig(minimal, { file: FILE }));
  overrides.data.localCrops = 5;
  assert.equal(minimal.data?.localCrops, 4, 'the result must not alias the overrides');
});

test('writeConfigFile writes a file loadConfigFile accepts', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dora-preset-'));
  const file = path.join(dir, 'demo.dora.json');
  const content = configFromPreset('demo', { data: { video: 'synth.mp4' } });
  await writeConfigFile(file, content);
  assert.equal(await readFile(file, 'utf8'), serializeConfigFile(content));
  const config = await loadConfigFile(file);
  assert.equal(config.data.video, path.join(dir, 'synth.mp4'));
  assert.equal(config.name, 'demo');
});
