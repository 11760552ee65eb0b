// The webview state split from the DOM, in Node: the dashboard's snapshot-selection reducer, the chart viewport
// maths, the x-axis modes and chart export (CSV, JSON, SVG).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialSelection, reduceSelection, stepBarView, type SnapshotSelection } from '../../webview/dashboard/snapshotSelection';
import {
  dragZoom,
  fitYRange,
  fullXRange,
  panBy,
  toData,
  toPixelX,
  toPixelY,
  unionRange,
  zoomRange,
  zoomXAt,
  type Viewport,
} from '../../webview/dashboard/viewport';
import { chartTicks } from '../../webview/dashboard/chartDraw';
import {
  chartSvg,
  csvField,
  escapeXml,
  exportFileName,
  legendLayout,
  pathData,
  plottedCsv,
  plottedJson,
  svgHeight,
  type PlottedData,
} from '../../webview/shared/chartExport';
import { formatElapsed, formatWall, formatX, xTicks, xValues } from '../../webview/shared/xAxis';

// --- snapshot selection --------------------------------------------------------------------------

function run(
  state: SnapshotSelection,
  ...events: Parameters<typeof reduceSelection>[1][]
): { state: SnapshotSelection; requests: number[]; persisted: number } {
  const requests: number[] = [];
  let persisted = 0;
  for (const e of events) {
    const r = reduceSelection(state, e);
    state = r.state;
    if (r.request !== undefined) requests.push(r.request);
    if (r.persist) persisted++;
  }
  return { state, requests, persisted };
}

test('follow latest: a new newest step is requested once; a snapshot in the same update needs no request', () => {
  const s0 = initialSelection(null, true);
  const a = run(s0, { type: 'host', steps: [25, 50], snapshot: 50 });
  assert.deepEqual(a.requests, [], 'the full setData already carries the newest snapshot');
  assert.equal(a.state.displayed, 50);
  const b = run(a.state, { type: 'host', steps: [25, 50, 75] });
  assert.deepEqual(b.requests, [75]);
  assert.equal(b.state.requested, 75);
  assert.equal(stepBarView(b.state).loading, 75);
  const c = run(b.state, { type: 'host', steps: [25, 50, 75] }, { type: 'host', snapshot: 75 });
  assert.deepEqual(c.requests, [], 'no duplicate request while it loads');
  assert.equal(c.state.requested, null);
  assert.equal(stepBarView(c.state).loading, null);
  assert.equal(stepBarView(c.state).label, 'step 75 · 3 of 3');
});

test('picking an older step stops following; new steps then do not move the view; follow again jumps to the newest', () => {
  const shown = run(initialSelection(null, true), { type: 'host', steps: [25, 50, 75], snapshot: 75 }).state;
  const picked = run(shown, { type: 'slide', index: 0 });
  assert.equal(picked.state.picked, 25);
  assert.equal(picked.state.followLatest, false);
  assert.equal(picked.persisted, 1);
  assert.deepEqual(picked.requests, [], 'the slider itself does not request: the view debounces a request event');
  assert.equal(stepBarView(picked.state, 25).label, 'step 25 · 1 of 3');
  const asked = run(picked.state, { type: 'request', step: 25 }, { type: 'request', step: 25 });
  assert.deepEqual(asked.requests, [25], 'the same pending step is asked once');
  const later = run(asked.state, { type: 'host', snapshot: 25 }, { type: 'host', steps: [25, 50, 75, 100] });
  assert.deepEqual(later.requests, []);
  assert.equal(later.state.displayed, 25);
  const follow = run(later.state, { type: 'follow', on: true });
  assert.deepEqual(follow.requests, [100]);
  assert.equal(follow.state.picked, null);
  assert.equal(follow.persisted, 1);
});

test('after a reload the picked step is asked for again once the host shows its newest', () => {
  const restored = initialSelection(50, false);
  const r = run(restored, { type: 'host', steps: [25, 50, 75], snapshot: 75 });
  assert.deepEqual(r.requests, [50]);
  const gone = run(initialSelection(10, false), { type: 'host', steps: [25, 50], snapshot: 50 });
  assert.deepEqual(gone.requests, [], 'a pruned step is not requested');
  assert.equal(stepBarView(initialSelection(null, true)).label, 'no snapshots');
  assert.equal(stepBarView(gone.state).disabled, false);
});

// --- viewport ------------------------------------------------------------------------------------

const vp: Viewport = { x: [0, 100], y: [0, 10], rect: { left: 50, top: 10, width: 200, height: 100 } };

test('viewport maps data to pixels and back', () => {
  assert.equal(toPixelX(vp, 50), 150);
  assert.equal(toPixelY(vp, 10), 10);
  assert.equal(toPixelY(vp, 0), 110);
  assert.ok(Number.isNaN(toPixelY(vp, Number.NaN)));
  assert.deepEqual(toData(vp, { px: 150, py: 60 }), { x: 50, y: 5 });
});

test('zoom, pan and drag zoom', () => {
  assert.deepEqual(zoomRange([0, 100], 50, 0.5), [25, 75]);
  assert.deepEqual(zoomXAt(vp, 50, 0.5), [0, 50], 'zooming at the left edge keeps the left edge');
  assert.equal(zoomRange([0, 1e-7], 0, 0.5), null, 'too small');
  assert.deepEqual(panBy(vp, 20, -10), { x: [-10, 90], y: [-1, 9] }, 'the data follows the pointer');
  assert.deepEqual(dragZoom(vp, 'box', { px: 50, py: 10 }, { px: 150, py: 12 }), { x: [0, 50] }, 'a flat drag zooms x only');
  assert.deepEqual(dragZoom(vp, 'box', { px: 50, py: 10 }, { px: 150, py: 60 }), { x: [0, 50], y: [5, 10] });
  assert.deepEqual(dragZoom(vp, 'y-only', { px: 10, py: 60 }, { px: 10, py: 110 }), { y: [0, 5] });
  assert.equal(dragZoom(vp, 'box', { px: 50, py: 10 }, { px: 52, py: 11 }), null, 'a click is not a zoom');
});

test('ranges: full x, fitted y (padded, log-transformed, flat), union', () => {
  const xs = [0, 1, 2, 3, 4];
  assert.deepEqual(fullXRange(xs), [0, 4]);
  assert.deepEqual(fullXRange([7]), [6, 8]);
  assert.deepEqual(fitYRange(xs, [1, 3, 2, 100, 5], [0, 2]), [0.9, 3.1], 'the points with x in [0, 2], padded by 5%');
  assert.deepEqual(fitYRange(xs, [1, 3, 2, 100, 5], [0, 2.5]), [-3.95, 104.95], 'and one point beyond the view (x = 3)');
  const log = fitYRange(xs, [1, 10, 100, 1000, 0], [0, 4], (v) => (v > 0 ? Math.log10(v) : Number.NaN));
  assert.ok(Math.abs(log[0] + 0.15) < 1e-12 && Math.abs(log[1] - 3.15) < 1e-12, `log range ${log}`);
  assert.deepEqual(fitYRange(xs, [2, 2, 2, 2, 2], [0, 4]), [1.9, 2.1]);
  assert.deepEqual(
    unionRange([
      [0, 1],
      [-1, 0.5],
      [Number.NaN, 2],
    ]),
    [-1, 1],
  );
});

// --- x axis --------------------------------------------------------------------------------------

test('x values per mode: steps, seconds since the first record, epoch seconds; times made non-decreasing', () => {
  const steps = [2, 4, 6, 8];
  const t0 = Date.parse('2026-11-26T11:49:10Z');
  const times = [t0, t0 + 1500, t0 + 1000 /* clock stepped back */, Number.NaN];
  assert.deepEqual([...xValues(steps, times, 'step')], steps);
  assert.deepEqual([...xValues(steps, times, 'relative')], [0, 1.5, 1.5, 1.5]);
  assert.deepEqual([...xValues(steps, times, 'wall')], [t0 / 1000, t0 / 1000 + 1.5, t0 / 1000 + 1.5, t0 / 1000 + 1.5]);
});

test('x ticks and labels: whole steps, round durations, round local wall-clock times', () => {
  assert.deepEqual(xTicks(1, 4, 'step', 5), [1, 2, 3, 4]);
  assert.deepEqual(xTicks(0, 330, 'relative', 6), [0, 60, 120, 180, 240, 300]);
  assert.deepEqual(xTicks(0, 330, 'relative', 3), [0, 120, 240]);
  const start = Date.parse('2026-11-26T11:49:10Z') / 1000;
  const hourly = xTicks(start, start + 5 * 3600, 'wall', 5, -60); // UTC+1: ticks on local hours
  assert.ok(hourly.every((t) => (t + 3600) % 3600 === 0));
  assert.equal(formatWall(hourly[0], 5 * 3600, -60), '13:00');
  assert.equal(formatWall(start, 120, 0), '11:49:10');
  assert.equal(formatWall(start, 3 * 86400, 0), 'Nov 26 11:49');
  assert.equal(formatElapsed(185), '3m 05s');
  assert.equal(formatElapsed(3725), '1h 02m');
  assert.equal(formatElapsed(9.4), '9s');
  assert.equal(formatX(1234, 'step', 10), '1,234');
  assert.equal(formatX(90000, 'relative', 1e5), '1d 01h');
  const ticks = chartTicks({ x: [0, 240], y: [0, 10], rect: { left: 62, top: 12, width: 600, height: 260 } }, 'step', false);
  assert.ok(ticks.x.every((t) => Number.isInteger(Number(t.label.replace(/,/g, '')))));
  assert.ok(ticks.y.length >= 3 && ticks.y.every((t) => t.at >= 11 && t.at <= 273));
  const logTicks = chartTicks({ x: [0, 1], y: [-3, 1], rect: { left: 0, top: 0, width: 100, height: 100 } }, 'step', true);
  assert.deepEqual(
    logTicks.y.map((t) => t.label),
    ['0.001', '0.01', '0.1', '1', '10'],
  );
});

// --- export --------------------------------------------------------------------------------------

const data: PlottedData = {
  metric: 'loss',
  xMode: 'relative',
  smoothing: 0.5,
  logY: false,
  xRange: [0, 2],
  series: [
    {
      run: 'demo, "a"',
      steps: [2, 4, 6],
      times: ['2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', '2026-01-01T00:00:03Z'],
      xs: [0, 1, 3],
      values: [5, Number.NaN, 4],
      smoothed: [5, 5, 4.4],
    },
    { run: 'lr-x4', steps: [2], times: ['2026-01-01T00:00:00Z'], xs: [0], values: [6] },
  ],
};

test('CSV: one line per run and point in view, quoted names, empty cells for NaN and missing smoothing', () => {
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(
    plottedCsv(data),
    [
      'run,step,time,seconds,loss,loss_smoothed',
      '"demo, ""a""",2,2026-01-01T00:00:00Z,0,5,5',
      '"demo, ""a""",4,2026-01-01T00:00:01Z,1,,5',
      'lr-x4,2,2026-01-01T00:00:00Z,0,6,',
      '',
    ].join('\n'),
  );
  const step = plottedCsv({ ...data, smoothing: 0, xMode: 'step', xRange: [0, 10], series: [{ ...data.series[1] }] });
  assert.equal(step, 'run,step,time,loss\nlr-x4,2,2026-01-01T00:00:00Z,6\n');
});

test('JSON: the settings plus each run’s points in view, NaN as null', () => {
  const parsed = JSON.parse(plottedJson(data));
  assert.equal(parsed.metric, 'loss');
  assert.equal(parsed.xAxis, 'relative');
  assert.deepEqual(parsed.runs[0].points[1], { step: 4, time: '2026-01-01T00:00:01Z', x: 1, value: null, smoothed: 5 });
  assert.equal(parsed.runs[0].points.length, 2, 'x = 3 is outside the view');
  assert.deepEqual(parsed.runs[1].points, [{ step: 2, time: '2026-01-01T00:00:00Z', x: 0, value: 6 }]);
});

test('SVG: a well-formed standalone document with escaped text, broken paths at NaN, legend rows inside its height', () => {
  assert.equal(pathData([0, 0, 10.04, 5, Number.NaN, Number.NaN, 20, 1, 30, 2], 5), 'M0 0L10 5M20 1L30 2');
  assert.equal(escapeXml(`<a & "b">`), '&lt;a &amp; &quot;b&quot;&gt;');
  const names = ['run one', 'a much longer run name that takes space', 'three', 'four <x>'];
  const rows = legendLayout(names, 300, 60);
  assert.ok(
    rows.some((r) => r.row > 0),
    'wraps at the width',
  );
  const plot = { left: 60, top: 10, width: 230, height: 200 };
  const height = svgHeight(plot, names, 300);
  const svg = chartSvg({
    width: 300,
    height,
    plot,
    title: 'loss of <demo>',
    xMode: 'step',
    yTitle: 'loss',
    xTicks: [{ at: 60.5, label: '0' }],
    yTicks: [{ at: 100.5, label: '1' }],
    lines: names.map((name, i) => ({ name, color: `#00${i}`, points: [60, 100, 200, 50 + i], count: 2, width: 2, opacity: 1 })),
    legend: names.map((name, i) => ({ name, color: `#00${i}` })),
    colors: { background: '#fff', foreground: '#000', grid: '#ccc', muted: '#666' },
    fontFamily: 'Segoe "UI"',
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="300" height="\d+"/);
  assert.ok(svg.trim().endsWith('</svg>'));
  assert.ok(svg.includes('<title>loss of &lt;demo&gt;</title>'));
  assert.ok(svg.includes('four &lt;x&gt;'));
  assert.ok(!svg.includes('<x>'));
  assert.equal((svg.match(/<path /g) ?? []).length, 4);
  const legendY = [...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" dominant-baseline="middle" fill="#000">/g)].map((m) => Number(m[1]));
  assert.equal(legendY.length, 4);
  assert.ok(Math.max(...legendY) + 9 <= height, 'the last legend row fits');
  assert.equal(exportFileName('Loss of demo run (3)', 'svg'), 'loss-of-demo-run-3.svg');
  assert.equal(exportFileName('///', 'csv'), 'chart.csv');
});
