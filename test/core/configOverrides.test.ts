// `--set key=value` overrides: parsing, keys a resume may not change, and diffs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOverrides, diffConfigs, formatChange, parseOverride, resumeLockReason } from '../../src/core/configOverrides';

test('values are JSON when they parse as JSON, else strings', () => {
  assert.deepEqual(parseOverride('training.lr=1e-4'), { key: 'training.lr', value: 1e-4, text: 'training.lr=1e-4' });
  assert.equal(parseOverride('runtime.backend=wasm').value, 'wasm');
  assert.equal(parseOverride('dora.tracker=false').value, false);
  assert.deepEqual(parseOverride('data.globalScale=[0.4,1]').value, [0.4, 1]);
  assert.equal(parseOverride('data.video=a=b.mp4').value, 'a=b.mp4');
});

test('malformed overrides and prototype keys are refused with a fix', () => {
  assert.throws(() => parseOverride('training.lr'), /expected key=value/);
  assert.throws(() => parseOverride('=3'), /expected key=value/);
  assert.throws(() => parseOverride('training.lr='), /no value given for training\.lr/);
  for (const key of ['__proto__.polluted', 'training.constructor', 'a..b', 'x-y'])
    assert.throws(() => parseOverride(`${key}=1`), /is not a config key/, key);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('overrides set nested keys on a copy; on resume the model and the frames cannot change', () => {
  const raw = { training: { lr: 0.001 }, runtime: {} };
  const out = applyOverrides(raw, [parseOverride('training.lr=1e-4'), parseOverride('dora.sinkhorn.variant=log-domain')], {
    resume: true,
  });
  assert.deepEqual(out, { training: { lr: 1e-4 }, runtime: {}, dora: { sinkhorn: { variant: 'log-domain' } } });
  assert.equal(raw.training.lr, 0.001);
  assert.throws(
    () => applyOverrides(raw, [parseOverride('model.depth=3')], { resume: true }),
    /model\.depth cannot change when a run resumes/,
  );
  assert.throws(() => applyOverrides(raw, [parseOverride('data.stride=2')], { resume: true }), /step count/);
  assert.doesNotThrow(() => applyOverrides(raw, [parseOverride('model.depth=3')], { resume: false }));
  assert.throws(() => applyOverrides({ training: 3 }, [parseOverride('training.lr=1')], { resume: false }), /not a section/);
  assert.equal(resumeLockReason('runtime.keepCheckpoints'), undefined);
  assert.ok(resumeLockReason('model'));
});

test('diffs list changed leaves by dotted key', () => {
  const changes = diffConfigs({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { b: 2, c: [1, 2] }, d: 'x', e: true });
  assert.deepEqual(changes, [
    { key: 'a.b', from: 1, to: 2 },
    { key: 'e', from: undefined, to: true },
  ]);
  assert.equal(formatChange({ key: 'training.lr', from: 0.0005, to: 0.00005 }), 'training.lr: 0.0005 → 5e-5');
});
