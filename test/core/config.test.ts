import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { clipCount, OFFICIAL_DEFAULTS, parseConfigText, stepsPerEpoch, validateConfig } from '../../src/core/config';
import { peakLr } from '../../src/core/configRules';
import { ConfigError, formatProblem } from '../../src/core/configProblem';
import { loadConfigFile, resolveConfig } from '../../src/core/node/configFile';
import { editDistance, suggest } from '../../src/core/suggest';

const FILE = 'configs/venice.dora.json';
const lines = (raw: unknown) => validateConfig(raw, FILE).map(formatProblem);
const withVideo = (extra: Record<string, unknown> = {}) => ({ ...extra, data: { video: 'v.mp4', ...((extra.data as object) ?? {}) } });

test('a minimal file is valid and gets the official values', () => {
  assert.deepEqual(lines({ data: { video: 'v.mp4' } }), []);
  const config = resolveConfig({ data: { video: 'v.mp4' } }, { file: FILE });
  assert.equal(config.preset, null);
  assert.equal(config.training.lr, 0.0005);
  assert.equal(config.training.minLr, 1e-5);
  assert.equal(config.training.teacherTemp, 0.04);
  assert.equal(config.training.warmupTeacherTempEpochs, 30);
  assert.equal(config.data.stride, 60);
  assert.equal(config.model.arch, 'vit-small');
  assert.equal(config.runtime.backend, 'wasm');
});

test('wrong type: exact message with path, cause and fix', () => {
  assert.deepEqual(lines(withVideo({ training: { lr: 'abc' } })), [
    'configs/venice.dora.json: $.training.lr: expected a number > 0, got "abc"; set training.lr to e.g. 0.0005',
  ]);
  assert.deepEqual(lines(withVideo({ data: { trimBlankTail: 'yes' } })), [
    'configs/venice.dora.json: $.data.trimBlankTail: expected true or false, got "yes"; set data.trimBlankTail to true or false',
  ]);
  assert.deepEqual(lines(withVideo({ model: { head: 7 } })), [
    'configs/venice.dora.json: $.model.head: expected an object, got 7; set model.head to an object, e.g. {}',
  ]);
});

test('out of range: integers, probabilities, ranges, enums, "auto"', () => {
  assert.deepEqual(lines(withVideo({ data: { framesPerClip: 0, augment: { grayscaleProb: 1.5 }, localScale: [0.4, 0.05] } })), [
    'configs/venice.dora.json: $.data.framesPerClip: expected an integer >= 1, got 0; set data.framesPerClip to e.g. 8',
    'configs/venice.dora.json: $.data.augment.grayscaleProb: expected a number between 0 and 1, got 1.5; set ' +
      'data.augment.grayscaleProb to e.g. 0.2',
    'configs/venice.dora.json: $.data.localScale: expected [min, max] with 0 < min <= max <= 1, got [0.4, 0.05]; set ' +
      'data.localScale to e.g. [0.05, 0.4]',
  ]);
  assert.deepEqual(
    lines(
      withVideo({ training: { microBatch: 'max', epochs: 2.5 }, runtime: { backend: 'webgl' }, dora: { sinkhorn: { variant: 'fast' } } }),
    ),
    [
      'configs/venice.dora.json: $.training.microBatch: expected "auto" or an integer >= 1, got "max"; set ' +
        'training.microBatch to e.g. "auto"',
      'configs/venice.dora.json: $.training.epochs: expected an integer >= 1, got 2.5; set training.epochs to e.g. 100',
      'configs/venice.dora.json: $.runtime.backend: expected one of "auto", "tensorflow-gpu", "tensorflow", "webgpu", ' +
        '"wasm", "cpu", got "webgl"; did you mean "webgpu"?',
      'configs/venice.dora.json: $.dora.sinkhorn.variant: expected one of "official", "log-domain", got "fast"; set ' +
        'dora.sinkhorn.variant to e.g. "official"',
    ],
  );
});

test('unknown keys get a did-you-mean suggestion', () => {
  assert.deepEqual(
    lines({
      presett: 'demo',
      data: { video: 'v.mp4', lcoalCrops: 3 },
      training: { warmup_epochs: 3, objects: 2, batch_size_per_gpu: 4 },
      dora: { loss: 'offical' },
      colour: 1,
    }),
    [
      'configs/venice.dora.json: $.presett: unknown key "presett"; did you mean "preset"?',
      'configs/venice.dora.json: $.data.lcoalCrops: unknown key "lcoalCrops"; did you mean "localCrops"?',
      'configs/venice.dora.json: $.training.warmup_epochs: unknown key "warmup_epochs"; did you mean "warmupEpochs"?',
      'configs/venice.dora.json: $.training.objects: unknown key "objects"; it belongs elsewhere: move it to dora.objects',
      'configs/venice.dora.json: $.training.batch_size_per_gpu: unknown key "batch_size_per_gpu"; did you mean ' +
        '"batchClips"? (the official code\'s --batch_size_per_gpu flag)',
      'configs/venice.dora.json: $.dora.loss: expected one of "official", "clean", got "offical"; did you mean "official"?',
      'configs/venice.dora.json: $.colour: unknown key "colour"; remove it; known keys here: $schema, preset, name, ' +
        'model, data, training, dora, runtime',
    ],
  );
});

test('missing video and non-object root', () => {
  assert.deepEqual(lines({ preset: 'paper' }), [
    'configs/venice.dora.json: $.data.video: missing required key "video"; set data.video to your file (relative to ' +
      'this config file, or absolute), e.g. "videos/walk.mp4"',
  ]);
  assert.deepEqual(lines([1, 2]), [
    'configs/venice.dora.json: $: expected a JSON object, got [1, 2]; write the config as an object, e.g. { "preset": ' +
      '"demo", "data": { "video": "videos/walk.mp4" } }',
  ]);
});

test('JSON paths quote keys that are not identifiers', () => {
  assert.deepEqual(
    validateConfig(withVideo({ model: { 'embed dim': 3 } }), FILE).map((p) => p.path),
    ['$.model["embed dim"]'],
  );
});

test('cross-field checks', () => {
  assert.deepEqual(
    lines({
      data: { video: 'v.mp4', localCrops: 1, globalSize: 100, localSize: 96, precropSize: 90 },
      model: { embedDim: 100, numHeads: 6 },
      dora: { objects: 8 },
      training: { microBatch: 5, batchClips: 16, warmupEpochs: 200, freezeLastLayer: 100 },
    }),
    [
      'configs/venice.dora.json: $.model.embedDim: model.embedDim 100 is not divisible by model.numHeads 6; set ' +
        'model.embedDim to a multiple of 6, e.g. 96 or 102',
      'configs/venice.dora.json: $.data.globalSize: data.globalSize 100 is not a multiple of model.patchSize 16; set ' +
        'data.globalSize to 96 or 112',
      'configs/venice.dora.json: $.data.precropSize: data.precropSize 90 is smaller than data.globalSize 100; the ' +
        'global crop is cut from the pre-crop; set data.precropSize to at least 100 (official: 300 for 224)',
      'configs/venice.dora.json: $.dora.objects: dora.objects 8 exceeds model.numHeads 6; the tracker needs one ' +
        'distinct teacher head per object; set dora.objects to at most 6, or use a model with more heads',
      'configs/venice.dora.json: $.data.localCrops: data.localCrops 1 leaves the official loss no local crop (it ' +
        'skips crop 0) and divides by zero; set data.localCrops to 2 or more, or set dora.loss to "clean"',
      'configs/venice.dora.json: $.training.microBatch: training.batchClips 16 is not divisible by ' +
        'training.microBatch 5; set training.microBatch to a divisor of 16 (1, 2, 4, 8, 16) or "auto"',
      'configs/venice.dora.json: $.training.warmupEpochs: training.warmupEpochs 200 is longer than training.epochs ' +
        '100; set training.warmupEpochs to at most 100',
      "configs/venice.dora.json: $.training.freezeLastLayer: training.freezeLastLayer 100 freezes the head's last layer " +
        'for all 100 epochs; set training.freezeLastLayer below 100, e.g. 0',
    ],
  );
});

test('cross-field checks depend on the other field', () => {
  // One local crop is fine with the clean loss; more objects than heads is fine without the tracker.
  assert.deepEqual(lines({ data: { video: 'v.mp4', localCrops: 1 }, dora: { loss: 'clean', tracker: false, objects: 9 } }), []);
  assert.deepEqual(lines({ data: { video: 'v.mp4' }, training: { batchClips: 2 } }), [
    'configs/venice.dora.json: $.training.minLr: training.minLr 1e-5 is above the peak learning rate 3.90625e-6 (lr ' +
      '0.0005 × batchClips 2 / 256); set training.minLr to at most 3.90625e-6, or raise training.lr (or set ' +
      'training.lrScaling to "none")',
  ]);
  assert.deepEqual(lines({ data: { video: 'v.mp4', maxFrames: 480 } }), [
    'configs/venice.dora.json: $.data.maxFrames: data.maxFrames 480 leaves no clip: one clip spans framesPerClip × ' +
      'stride = 8 × 60 = 480 frames; set data.maxFrames above 480, or lower data.stride',
  ]);
  assert.deepEqual(lines({ data: { video: 'v.mp4', maxFrames: 481 } }), []);
});

test('cross-field checks see preset values: demo has 3 heads', () => {
  assert.deepEqual(lines({ preset: 'demo', data: { video: 'v.mp4' }, dora: { objects: 4 } }), [
    'configs/venice.dora.json: $.dora.objects: dora.objects 4 exceeds model.numHeads 3; the tracker needs one ' +
      'distinct teacher head per object; set dora.objects to at most 3, or use a model with more heads',
  ]);
});

test('resolveConfig: preset, then file values; paths relative to the config file', () => {
  const file = path.join('/projects', 'exp', 'venice.dora.json');
  const config = resolveConfig(
    {
      preset: 'cpu-small',
      data: { video: '../videos/venice.mp4', frameCache: { dir: 'cache' }, localCrops: 4 },
      runtime: { runsDir: '/data/runs' },
    },
    { file },
  );
  assert.equal(config.configFile, file);
  assert.equal(config.name, 'venice');
  assert.equal(config.preset, 'cpu-small');
  assert.equal(config.data.video, path.join('/projects', 'videos', 'venice.mp4'));
  assert.equal(config.data.frameCache.dir, path.join('/projects', 'exp', 'cache'));
  assert.equal(config.data.frameCache.shortSide, 128); // from the preset, not clobbered by the file's frameCache
  assert.equal(config.runtime.runsDir, '/data/runs');
  assert.equal(config.data.localCrops, 4); // file wins
  assert.equal(config.data.globalSize, 96); // preset
  assert.equal(config.training.momentumTeacher, 0.996); // official default
  assert.equal(OFFICIAL_DEFAULTS.data.localCrops, 6, 'resolution must not mutate the defaults');
});

test('a named arch sets the dims the file leaves out; other dims make it custom', () => {
  const base = { data: { video: 'v.mp4' } };
  const tiny = resolveConfig({ ...base, model: { arch: 'vit-tiny' } }, { file: FILE });
  assert.deepEqual([tiny.model.arch, tiny.model.embedDim, tiny.model.depth, tiny.model.numHeads], ['vit-tiny', 192, 12, 3]);
  const shallow = resolveConfig({ ...base, model: { arch: 'vit-tiny', depth: 6 } }, { file: FILE });
  assert.deepEqual([shallow.model.arch, shallow.model.embedDim, shallow.model.depth], ['custom', 192, 6]);
  const base768 = resolveConfig({ ...base, model: { arch: 'vit-base' } }, { file: FILE });
  assert.deepEqual([base768.model.embedDim, base768.model.numHeads], [768, 12]);
});

test('ConfigError lists every problem, one per line, naming the file', () => {
  assert.throws(
    () => resolveConfig({ data: { video: 3 }, training: { lr: -1 } }, { file: FILE }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 2);
      assert.equal(
        error.message,
        [
          'configs/venice.dora.json: invalid DoRA config (2 problems)',
          'configs/venice.dora.json: $.data.video: expected a non-empty string, got 3; set data.video to e.g. "videos/walk.mp4"',
          'configs/venice.dora.json: $.training.lr: expected a number > 0, got -1; set training.lr to e.g. 0.0005',
        ].join('\n'),
      );
      return true;
    },
  );
});

test('parseConfigText reports the line and column of a syntax error', () => {
  assert.throws(
    () => parseConfigText('{\n  "data": { "video": "v.mp4", }\n}', FILE),
    (error: unknown) =>
      error instanceof ConfigError &&
      /^configs\/venice\.dora\.json: \$: not valid JSON at line 2, column \d+: /m.test(error.message.split('\n')[1]),
  );
});

test('loadConfigFile reads, validates and resolves', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dora-config-'));
  const file = path.join(dir, 'walk.dora.json');
  await writeFile(file, JSON.stringify({ preset: 'demo', name: 'My walk', data: { video: 'walk.mp4' } }));
  const config = await loadConfigFile(file);
  assert.equal(config.name, 'My walk');
  assert.equal(config.data.video, path.join(dir, 'walk.mp4'));
  await writeFile(file, JSON.stringify({ preset: 'dmeo', data: { video: 'walk.mp4' } }));
  await assert.rejects(loadConfigFile(file), /\$\.preset: expected one of "paper", "cpu-small", "demo", got "dmeo"; did you mean "demo"\?/);
});

test('derived quantities follow the official formulas', () => {
  const config = resolveConfig({ preset: 'paper', data: { video: 'v.mp4' } }, { file: FILE });
  assert.equal(peakLr(config.training), (0.0005 * 16) / 256);
  // Official __len__ = total_frames - num_frames * step_between_clips.
  assert.equal(clipCount(config.data, 390_000), 390_000 - 8 * 60);
  assert.equal(stepsPerEpoch(config, 390_000), Math.floor((390_000 - 480) / 16));
  assert.equal(clipCount({ ...config.data, startFrame: 1000, maxFrames: 2000 }, 390_000), 2000 - 480);
  assert.equal(clipCount(config.data, 100), 0);
});

test('suggest: typos and transpositions, nothing for unrelated words', () => {
  assert.equal(editDistance('lcoal', 'local'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(suggest('epoch', ['epochs', 'seed']), 'epochs');
  assert.equal(suggest('learningRate', ['lr', 'minLr']), undefined);
  assert.equal(suggest('x', ['lr']), undefined);
});
