// Pure parts of the webviews (no browser): series maths, decimation, config diff, formatting,
// persisted-state merging and the message contract's guards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configRows, flattenConfig, metricRows, metricDirection } from '../../webview/compare/compareModel';
import {
  decimateMinMax,
  emaSmooth,
  logTicks,
  lowerBound,
  MetricStore,
  nearestIndex,
  niceTicks,
  stepTicks,
} from '../../webview/dashboard/series';
import { formatDuration, formatValue } from '../../webview/shared/format';
import { mergePersisted } from '../../webview/shared/vscodeApi';
import { heatColor, objectColor } from '../../webview/shared/colormaps';
import {
  isCompareToHostMessage,
  isHostToCompareMessage,
  isHostToWebviewMessage,
  isSnapshotPayload,
  isWebviewToHostMessage,
  type CompareCheckpoint,
} from '../../src/core/webviewMessages';
import type { MetricsRecord } from '../../src/core/runRecords';

const record = (step: number, loss: number, extra: Record<string, number> = {}): MetricsRecord => ({
  step,
  epoch: 0,
  time: '2026-01-01T00:00:00Z',
  loss,
  lr: 1e-4,
  wd: 0.04,
  momentum: 0.996,
  teacherTemp: 0.04,
  imgPerSec: 40,
  secPerStep: 1.5,
  ...extra,
});

test('MetricStore keeps every numeric field, appends, and truncates on a resumed (non-increasing) step', () => {
  const store = new MetricStore();
  store.replace([record(1, 9), record(2, 8, { gradNorm: 3 }), record(3, 7)]);
  assert.equal(store.length, 3);
  assert.deepEqual(store.keys().slice(0, 2), ['loss', 'lr']);
  assert.ok(store.keys().includes('gradNorm'));
  assert.ok(!store.keys().includes('step') && !store.keys().includes('time'));
  assert.ok(Number.isNaN(store.valuesView('gradNorm')[0]));
  assert.equal(store.valuesView('gradNorm')[1], 3);
  store.append([record(2, 5), record(4, 4)]); // resume from step 2: the old 2 and 3 go
  assert.deepEqual([...store.stepsView()], [1, 2, 4]);
  assert.deepEqual([...store.valuesView('loss')], [9, 5, 4]);
  assert.equal(store.last()?.step, 4);
  const big = new MetricStore();
  big.append(Array.from({ length: 5000 }, (_, i) => record(i, i))); // grows past the initial capacity
  assert.equal(big.valuesView('loss')[4999], 4999);
});

test('binary searches', () => {
  const xs = [1, 3, 5, 7];
  assert.equal(lowerBound(xs, 4, 4), 2);
  assert.equal(lowerBound(xs, 4, 0), 0);
  assert.equal(lowerBound(xs, 4, 9), 4);
  assert.equal(nearestIndex(xs, 4, 5.9), 2);
  assert.equal(nearestIndex(xs, 4, 6.1), 3);
  assert.equal(nearestIndex(xs, 0, 1), -1);
});

test('EMA smoothing is debiased and skips gaps', () => {
  const smoothed = emaSmooth([10, 10, Number.NaN, 10], 0.9);
  assert.equal(smoothed[0], 10); // no pull towards 0 at the start
  assert.ok(Number.isNaN(smoothed[2]));
  assert.ok(Math.abs(smoothed[3] - 10) < 1e-12);
  assert.deepEqual([...emaSmooth([1, 2, 3], 0)], [1, 2, 3]);
});

test('min/max decimation bounds the point count by the width and keeps the extremes', () => {
  const n = 100_000;
  const xs = Float64Array.from({ length: n }, (_, i) => i);
  const ys = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 500) + (i === 54_321 ? 50 : 0));
  const width = 800;
  const { points, count } = decimateMinMax(
    xs,
    ys,
    0,
    n,
    (x) => (x / n) * width,
    (y) => -y,
  );
  assert.ok(count <= 4 * (width + 1), `count ${count}`);
  assert.ok(count >= width, 'every column has points');
  let minPy = Infinity;
  for (let i = 0; i < count; i++) minPy = Math.min(minPy, points[i * 2 + 1]);
  assert.equal(minPy, -ys[54_321], 'the spike survives');
  // x is non-decreasing (data order is kept)
  for (let i = 1; i < count; i++) assert.ok(points[i * 2] >= points[(i - 1) * 2]);
});

test('decimation breaks the line at NaN and at non-positive values in log scale', () => {
  const xs = [0, 1, 2, 3];
  const ys = [1, 0, 10, 100];
  const toY = (y: number): number => (y > 0 ? Math.log10(y) : Number.NaN);
  const { points, count } = decimateMinMax(xs, ys, 0, 4, (x) => x * 100, toY);
  const pairs = Array.from({ length: count }, (_, i) => [points[i * 2], points[i * 2 + 1]]);
  assert.equal(pairs.length, 4);
  assert.ok(Number.isNaN(pairs[1][1]));
});

test('axis ticks', () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(7.2, 7.4, 2), [7.2, 7.3, 7.4]);
  assert.deepEqual(stepTicks(1, 4, 9), [1, 2, 3, 4], 'a 4-step run: whole steps, no repeated labels');
  assert.deepEqual(stepTicks(0, 240, 5), [0, 50, 100, 150, 200]);
  assert.deepEqual(niceTicks(-1, 1, 2), [-1, 0, 1]);
  assert.deepEqual(logTicks(-5, -3), [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3]);
});

test('formatting', () => {
  assert.equal(formatValue(7.373170375823975), '7.373');
  assert.equal(formatValue(0.00002173913043478261), '2.17e-5');
  assert.equal(formatValue(0), '0');
  assert.equal(formatValue(5e-4), '5e-4');
  assert.equal(formatValue(1.5e-5), '1.5e-5');
  assert.equal(formatValue(null), '—');
  assert.equal(formatDuration(3725), '1h 02m');
  assert.equal(formatDuration(185), '3m 05s');
  assert.equal(formatDuration(null), '—');
});

test('colour maps', () => {
  assert.deepEqual(heatColor(0), [0x44, 0x01, 0x54]);
  assert.deepEqual(heatColor(1), [0xfd, 0xe7, 0x25]);
  const colours = new Set(Array.from({ length: 16 }, (_, i) => objectColor(i)));
  assert.equal(colours.size, 16, 'objects beyond the palette still get distinct colours');
});

test('mergePersisted keeps well-typed keys and drops the rest', () => {
  const defaults = { metric: 'loss', smoothing: 0.6, hidden: [] as number[], view: null as [number, number] | null };
  assert.deepEqual(mergePersisted(defaults, undefined), defaults);
  assert.deepEqual(mergePersisted(defaults, { metric: 'lr', smoothing: 'x', hidden: [1], view: [1, 2], junk: 1 }), {
    metric: 'lr',
    smoothing: 0.6,
    hidden: [1],
    view: [1, 2],
  });
});

test('config diff flattens nested objects and marks differing keys', () => {
  assert.deepEqual(
    [...flattenConfig({ a: { b: 1, c: [1, 2] }, d: 'x' })],
    [
      ['a.b', '1'],
      ['a.c', '[1,2]'],
      ['d', '"x"'],
    ],
  );
  const rows = configRows([
    { training: { lr: 1e-3, epochs: 1 }, name: 'a' },
    { training: { lr: 5e-4, epochs: 1 }, name: 'a', extra: true },
  ]);
  assert.deepEqual(
    rows.filter((r) => r.differs).map((r) => r.key),
    ['training.lr', 'extra'],
  );
  assert.equal(rows.find((r) => r.key === 'extra')?.values[0], undefined);
});

test('metrics table marks the best checkpoint per row by direction', () => {
  const checkpoint = (id: string, metrics: MetricsRecord | null): CompareCheckpoint => ({
    id,
    label: id,
    step: metrics?.step ?? 0,
    config: {},
    metrics,
    inspection: null,
  });
  const rows = metricRows([checkpoint('a', record(100, 7.5, { imgPerSec: 30 })), checkpoint('b', record(200, 7.1)), checkpoint('c', null)]);
  const loss = rows.find((r) => r.key === 'loss');
  assert.deepEqual(loss?.best, [1]);
  assert.deepEqual(rows.find((r) => r.key === 'imgPerSec')?.best, [1], 'b logged 40 img/s (the default)');
  assert.deepEqual(rows.find((r) => r.key === 'lr')?.best, [], 'schedules have no best');
  assert.equal(rows[0].key, 'loss');
  assert.equal(metricDirection('lossMasked'), 'lower');
});

test('contract guards', () => {
  assert.ok(isWebviewToHostMessage({ type: 'requestSnapshot', step: 25 }));
  assert.ok(!isWebviewToHostMessage({ type: 'requestSnapshot', step: -1 }));
  assert.ok(isHostToWebviewMessage({ type: 'setData', data: { snapshotEvery: 25, etaSeconds: null, error: 'x' } }));
  assert.ok(!isHostToWebviewMessage({ type: 'setData', data: { metrics: [{ step: 1 }] } }), 'invalid metrics records are refused');
  assert.ok(!isHostToWebviewMessage({ type: 'setData', data: { snapshot: { manifest: {}, uris: {} } } }));
  assert.ok(!isSnapshotPayload({ manifest: null, uris: {} }));
  assert.ok(isCompareToHostMessage({ type: 'ready' }));
  const checkpoint = { id: 'r@1', label: 'r @ 1', step: 1, config: {}, metrics: null, inspection: null };
  assert.ok(isHostToCompareMessage({ type: 'setData', data: { checkpoints: [checkpoint], title: null } }));
  assert.ok(!isHostToCompareMessage({ type: 'setData', data: { checkpoints: [{ ...checkpoint, step: 'x' }] } }));
  assert.ok(!isHostToCompareMessage({ type: 'setData', data: { error: 3 } }));
});
