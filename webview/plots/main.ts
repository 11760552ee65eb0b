// "DoRA: Plot Runs" webview: one metric of several runs overlaid (overlayChart.ts), with a legend that toggles each
// run and reads out every run's value at the cursor, x by step / relative time / wall time, smoothing, log-y and
// export. The host streams each run's metrics.jsonl (setData with per-run appends); this view keeps only UI state.

import './plots.css';
import {
  EMPTY_PLOTS_STATE,
  isHostToPlotsMessage,
  X_AXIS_MODES,
  type HostToPlotsMessage,
  type PlotRun,
  type PlotsState,
  type PlotsToHostMessage,
} from '../../src/core/experimentMessages';
import { emaSmooth, MetricStore } from '../dashboard/series';
import { plottedCsv, plottedJson } from '../shared/chartExport';
import { assertNever, listenToHost } from '../shared/dispatch';
import { emptyState, h, rafThrottle, replaceChildren } from '../shared/dom';
import { buildExport, type ExportableChart } from '../shared/exportDom';
import { formatExact, formatStep, formatValue, metricLabel } from '../shared/format';
import { onThemeChange } from '../shared/theme';
import { createBridge } from '../shared/vscodeApi';
import { createChartToolbar } from '../shared/chartToolbar';
import { formatX } from '../shared/xAxis';
import { createBadge, createCheckbox, registerToolkit } from '../ui/toolkit';
import { OverlayChart } from './overlayChart';
import { metricKeys, nearestPerRun, plottedSeries, runColor, type OverlaySettings } from './overlayData';

const DEFAULTS: OverlaySettings = { metric: 'loss', xMode: 'step', smoothing: 0.6, logY: false, hidden: [] };

registerToolkit();
const bridge = createBridge<PlotsToHostMessage, { settings: OverlaySettings }>({ settings: DEFAULTS });
const restored = bridge.loadState().settings;
const settings: OverlaySettings = {
  metric: typeof restored?.metric === 'string' ? restored.metric : DEFAULTS.metric,
  xMode: (X_AXIS_MODES as readonly unknown[]).includes(restored?.xMode) ? restored.xMode : 'step',
  smoothing: Number.isFinite(restored?.smoothing) ? Math.min(0.99, Math.max(0, restored.smoothing)) : DEFAULTS.smoothing,
  logY: restored?.logY === true,
  hidden: Array.isArray(restored?.hidden) ? restored.hidden.filter((id) => typeof id === 'string') : [],
};
const save = (): void => bridge.saveState({ settings });

const model: PlotsState = { ...EMPTY_PLOTS_STATE, runs: [], metrics: {} };
const stores = new Map<string, MetricStore>();
let cursorX: number | null = null;

// --- layout -------------------------------------------------------------------------------------

const title = h('h1', { class: 'run-name' }, 'Runs');
const countBadge = createBadge('0 runs');
const errorBanner = h('div', { class: 'error-banner', role: 'alert', hidden: true });
const empty = h(
  'div',
  { class: 'plots-empty' },
  emptyState('No runs to plot', 'Select runs in the Runs view or the runs table, then “DoRA: Plot Runs”.'),
);
const chart = new OverlayChart((x) => {
  cursorX = x;
  renderHoverSoon();
});

const toolbar = createChartToolbar(settings, {
  change: (c) => change(c),
  reset: () => chart.resetZoom(),
  exportMenu: () => bridge.post({ type: 'exportMenu' }),
  resetTitle: 'Reset zoom (double-click the chart)',
});
const hoverTitle = h('span', { class: 'hover-title', id: 'hover-title' }, 'Hover the chart to read every run’s value');
const legendBody = h('tbody');
const legend = h(
  'table',
  { class: 'legend-table', id: 'legend', 'aria-label': 'Runs: toggle to show or hide, values at the cursor' },
  h(
    'thead',
    {},
    h(
      'tr',
      {},
      h('th', { scope: 'col' }, 'Run'),
      h('th', { scope: 'col' }, 'Status'),
      h('th', { scope: 'col', class: 'num' }, 'At cursor'),
      h('th', { scope: 'col', class: 'num' }, 'Last'),
    ),
  ),
  legendBody,
);
const chartSection = h(
  'section',
  { class: 'panel', id: 'plots-panel', 'aria-label': 'Overlaid runs' },
  toolbar.element,
  chart.element,
  h(
    'div',
    { class: 'chart-footer' },
    hoverTitle,
    h('div', { class: 'chart-hint' }, 'Drag: zoom x · double-click: reset · click a run to hide or show it'),
  ),
  legend,
);
document.body.append(
  h('main', { class: 'plots' }, h('header', { class: 'plots-header' }, title, countBadge), errorBanner, empty, chartSection),
);

// --- behaviour ----------------------------------------------------------------------------------

function change(next: Partial<OverlaySettings>): void {
  Object.assign(settings, next);
  toolbar.sync(settings);
  save();
  render();
}

function toggleRun(id: string, visible: boolean): void {
  settings.hidden = visible ? settings.hidden.filter((h) => h !== id) : [...new Set([...settings.hidden, id])];
  save();
  render();
}

function renderLegend(): void {
  replaceChildren(
    legendBody,
    ...model.runs.map((run) => {
      const swatch = h('span', { class: 'run-swatch' });
      swatch.style.background = runColor(run.colorIndex);
      const visible = !settings.hidden.includes(run.id);
      const toggle = createCheckbox({
        id: `toggle-${run.colorIndex}`,
        label: h('span', { class: 'run-label' }, swatch, run.label),
        ariaLabel: `Show ${run.label}`,
        checked: visible,
        onChange: (on) => toggleRun(run.id, on),
      });
      const last = stores.get(run.id)?.valuesView(settings.metric);
      const lastValue = last && last.length ? last[last.length - 1] : Number.NaN;
      return h(
        'tr',
        { 'data-run': run.id, class: visible ? '' : 'run-hidden' },
        h('td', {}, toggle.element),
        h('td', {}, h('span', { class: `status-pill status-${run.status}` }, run.status)),
        h('td', { class: 'num hover-value' }, '—'),
        h('td', { class: 'num' }, formatValue(lastValue)),
      );
    }),
  );
}

const renderHoverSoon = rafThrottle(renderHover);

/** Every shown run's value at the record nearest to the cursor (runs log different steps and times). */
function renderHover(): void {
  const rows = Array.from(legendBody.querySelectorAll<HTMLTableRowElement>('tr[data-run]'));
  const shown = model.runs.filter((r) => stores.has(r.id) && !settings.hidden.includes(r.id));
  const series = shown.map((r) => ({ xs: stores.get(r.id)!.xView(settings.xMode), values: stores.get(r.id)!.valuesView(settings.metric) }));
  const nearest = cursorX === null ? [] : nearestPerRun(series, cursorX);
  for (const row of rows) {
    const cell = row.querySelector<HTMLElement>('.hover-value')!;
    const at = shown.findIndex((r) => r.id === row.dataset.run);
    const index = at >= 0 ? nearest[at] : -1;
    if (cursorX === null || index === undefined || index < 0) {
      cell.textContent = '—';
      delete row.dataset.hoverValue;
      delete row.dataset.hoverStep;
      continue;
    }
    const store = stores.get(shown[at].id)!;
    const value = series[at].values[index];
    const smoothed = settings.smoothing > 0 ? emaSmooth(series[at].values, settings.smoothing)[index] : Number.NaN;
    const step = store.stepsView()[index];
    cell.textContent = `${Number.isFinite(value) ? formatExact(value) : 'no value'}${Number.isFinite(smoothed) ? ` (smoothed ${formatValue(smoothed)})` : ''} · step ${formatStep(step)}`;
    row.dataset.hoverValue = Number.isFinite(value) ? String(value) : '';
    row.dataset.hoverStep = String(step);
  }
  const span = chart.xRange()[1] - chart.xRange()[0];
  hoverTitle.textContent =
    cursorX === null
      ? 'Hover the chart to read every run’s value'
      : `${metricLabel(settings.metric)} at ${settings.xMode === 'step' ? `step ${formatStep(cursorX)}` : formatX(cursorX, settings.xMode, span)}`;
}

function render(rebuild = false): void {
  const hasRuns = model.runs.length > 0;
  empty.hidden = hasRuns;
  chartSection.hidden = !hasRuns;
  title.textContent = model.title ?? 'Runs';
  countBadge.textContent = `${model.runs.length} run${model.runs.length === 1 ? '' : 's'}`;
  const keys = metricKeys(model.runs.map((r) => stores.get(r.id)).filter((s): s is MetricStore => s !== undefined));
  if (keys.length > 0 && !keys.includes(settings.metric)) settings.metric = keys[0];
  toolbar.setMetrics(keys, settings.metric);
  renderLegend();
  if (hasRuns) chart.update({ runs: model.runs, stores, settings }, rebuild);
  renderHover();
  document.body.dataset.runs = String(model.runs.length);
}

function applyUpdate(data: Partial<PlotsState>): void {
  if (data.title !== undefined) model.title = data.title;
  if (data.runs !== undefined) {
    model.runs = data.runs;
    for (const id of [...stores.keys()]) if (!data.runs.some((r: PlotRun) => r.id === id)) stores.delete(id);
  }
  if (data.metrics !== undefined)
    for (const [id, records] of Object.entries(data.metrics)) {
      let store = stores.get(id);
      if (!store) stores.set(id, (store = new MetricStore()));
      if (data.metricsAppend === true) store.append(records);
      else store.replace(records);
    }
  if (data.error !== undefined) {
    model.error = data.error;
    errorBanner.hidden = !data.error;
    errorBanner.textContent = data.error ?? '';
  }
  render();
}

const exportable: ExportableChart = {
  exportTitle: () => `${settings.metric} of ${model.runs.length} runs`,
  toSvg: () =>
    chart.toSvg(settings, `${metricLabel(settings.metric)} of ${model.runs.filter((r) => !settings.hidden.includes(r.id)).length} runs`),
  toCsv: () =>
    plottedCsv({
      metric: settings.metric,
      xMode: settings.xMode,
      smoothing: settings.smoothing,
      logY: settings.logY,
      xRange: chart.xRange(),
      series: plottedSeries(model.runs, stores, settings),
    }),
  toJson: () =>
    plottedJson({
      metric: settings.metric,
      xMode: settings.xMode,
      smoothing: settings.smoothing,
      logY: settings.logY,
      xRange: chart.xRange(),
      series: plottedSeries(model.runs, stores, settings),
    }),
};

listenToHost(isHostToPlotsMessage, (message: HostToPlotsMessage) => {
  switch (message.type) {
    case 'setData':
      applyUpdate(message.data);
      break;
    case 'exportRequest':
      void buildExport(exportable, message.format, message.requestId).then((result) => bridge.post(result));
      break;
    default:
      assertNever(message, 'message');
  }
});

onThemeChange(() => render(true));
render();
bridge.post({ type: 'ready' });
