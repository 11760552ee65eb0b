// Live metric chart on a canvas: metric picker, x axis (step / relative time / wall time), EMA smoothing, log-y,
// wheel zoom, box zoom, y-only zoom, pan, double-click reset, hover crosshair, theme-change redraw and export
// (PNG/SVG of the chart, CSV/JSON of the plotted data). Drawing cost is bounded by the chart width (min/max
// decimation), so 100 000 points redraw as fast as 1 000. The viewport maths is in viewport.ts, the pointer in
// chartPointer.ts, the strokes in chartDraw.ts.

import { plottedCsv, plottedJson, type PlottedData } from '../shared/chartExport';
import { fitCanvas, themeColor, themeFont } from '../shared/canvas';
import { h, rafThrottle, replaceChildren } from '../shared/dom';
import type { ExportableChart } from '../shared/exportDom';
import { formatExact, formatStep, metricLabel } from '../shared/format';
import { onThemeChange } from '../shared/theme';
import { createChartToolbar, type ChartToolbar } from '../shared/chartToolbar';
import { formatX, type XAxisMode } from '../shared/xAxis';
import { X_AXIS_MODES } from '../../src/core/experimentMessages';
import { chartColors, chartTicks, drawAxes, drawCrosshair, drawDot, drawSelection, strokePoints, viewportSvg } from './chartDraw';
import { bindChartKeys, bindChartPointer, xAtPixel, type ChartTarget, type Drag } from './chartPointer';
import { decimateMinMax, emaSmooth, lowerBound, nearestIndex, type MetricStore } from './series';
import { fitYRange, fullXRange, isRange, toPixelX, toPixelY, type Range, type Viewport } from './viewport';

export interface ChartSettings {
  metric: string;
  /** EMA weight in [0, 0.999]. */
  smoothing: number;
  logY: boolean;
  xMode: XAxisMode;
  /** Zoomed x range in the x mode's units; null follows the data (live). */
  viewX: Range | null;
  /** Zoomed y range in data units; null fits the visible points. */
  viewY: Range | null;
}

export const DEFAULT_CHART_SETTINGS: ChartSettings = {
  metric: 'loss',
  smoothing: 0.6,
  logY: false,
  xMode: 'step',
  viewX: null,
  viewY: null,
};

const MARGIN = { left: 62, right: 16, top: 12, bottom: 28 };
const HEIGHT = 300;

/** Repairs settings restored from getState (an older build may have saved other shapes). */
export function sanitizeChartSettings(s: ChartSettings): ChartSettings {
  return {
    metric: typeof s.metric === 'string' ? s.metric : DEFAULT_CHART_SETTINGS.metric,
    smoothing: Number.isFinite(s.smoothing) ? Math.min(0.999, Math.max(0, s.smoothing)) : DEFAULT_CHART_SETTINGS.smoothing,
    logY: s.logY === true,
    xMode: (X_AXIS_MODES as readonly unknown[]).includes(s.xMode) ? s.xMode : 'step',
    viewX: isRange(s.viewX) ? s.viewX : null,
    viewY: isRange(s.viewY) ? s.viewY : null,
  };
}

export class LossChart implements ChartTarget, ExportableChart {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly tooltip: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly controls: ChartToolbar;
  private readonly body: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly toolbar: HTMLElement;
  private readonly footer: HTMLElement;
  private settings: ChartSettings;
  private width = 600;
  private hoverX: number | null = null;
  drag: Drag | null = null;
  private smoothedCache: { key: string; values: Float64Array } | null = null;
  private drawn: Viewport = { x: [0, 1], y: [0, 1], rect: { left: MARGIN.left, top: MARGIN.top, width: 1, height: 1 } };
  private renderCount = 0;
  readonly requestDraw: () => void;

  constructor(
    private readonly store: MetricStore,
    initial: ChartSettings,
    private readonly onSettingsChange: (settings: ChartSettings) => void,
    /** The run's name, for export titles. */
    private readonly runName: () => string,
    onExport: () => void,
  ) {
    this.settings = sanitizeChartSettings(initial);
    this.requestDraw = rafThrottle(() => this.draw());
    this.controls = createChartToolbar(this.settings, {
      change: (c) =>
        this.update({
          ...c,
          ...(c.metric !== undefined || c.logY !== undefined ? { viewY: null } : {}),
          ...(c.xMode !== undefined ? { viewX: null } : {}),
        }),
      reset: () => this.update({ viewX: null, viewY: null }),
      exportMenu: onExport,
      resetTitle: 'Reset zoom (double-click, 0)',
    });
    this.canvas = h('canvas', {
      id: 'loss-canvas',
      class: 'chart-canvas',
      tabindex: 0,
      role: 'img',
      'aria-label': 'Metric chart. Arrow keys pan, plus and minus zoom x, Page Up and Page Down zoom the y axis, 0 resets.',
    });
    this.tooltip = h('div', { class: 'chart-tooltip', role: 'status', hidden: true });
    this.summary = h('div', { class: 'chart-summary', 'aria-live': 'off' });
    this.empty = h(
      'div',
      { class: 'empty-state', role: 'status' },
      h('div', { class: 'empty-title' }, 'No metrics yet'),
      h(
        'div',
        { class: 'empty-detail' },
        'The trainer appends a record to metrics.jsonl every runtime.logEvery steps; the curve grows live.',
      ),
    );
    this.body = h('div', { class: 'chart-body' }, this.canvas, this.tooltip);
    this.toolbar = this.controls.element;
    this.footer = h(
      'div',
      { class: 'chart-footer' },
      this.summary,
      h(
        'div',
        { class: 'chart-hint' },
        'Wheel: zoom x · wheel on y axis or Shift+wheel: zoom y · drag: box zoom · drag on y axis: zoom y only · Shift+drag: pan · double-click: reset',
      ),
    );
    this.element = h('div', { class: 'loss-chart' }, this.toolbar, this.empty, this.body, this.footer);
    bindChartPointer(this);
    bindChartKeys(this);
    onThemeChange(() => this.draw());
    new ResizeObserver(() => {
      const width = Math.floor(this.body.clientWidth);
      if (width > 0 && width !== this.width) {
        this.width = width;
        this.draw();
      }
    }).observe(this.body);
  }

  getSettings(): ChartSettings {
    return { ...this.settings };
  }

  viewport(): Viewport {
    return this.drawn;
  }

  setHover(px: number | null): void {
    this.hoverX = px;
    this.requestDraw();
  }

  /** Zoom/pan from the pointer: x in mode units, y transformed (log10 with log-y); null resets that axis. */
  zoom(change: { x?: Range | null; y?: Range | null }): void {
    const next: Partial<ChartSettings> = {};
    if (change.x !== undefined) next.viewX = change.x;
    if (change.y !== undefined) next.viewY = change.y && [this.untransform(change.y[0]), this.untransform(change.y[1])];
    this.update(next);
  }

  /** Called when the store changed (replace or live append). */
  dataChanged(): void {
    const keys = this.store.keys();
    const metric = keys.includes(this.settings.metric) ? this.settings.metric : (keys[0] ?? this.settings.metric);
    this.controls.setMetrics(keys, metric);
    if (metric !== this.settings.metric && keys.length > 0) this.settings = { ...this.settings, metric };
    this.requestDraw();
  }

  private update(change: Partial<ChartSettings>): void {
    this.settings = sanitizeChartSettings({ ...this.settings, ...change });
    this.controls.sync(this.settings);
    this.onSettingsChange(this.getSettings());
    this.requestDraw();
  }

  private transform(v: number): number {
    if (!this.settings.logY) return v;
    return v > 0 ? Math.log10(v) : Number.NaN;
  }

  private untransform(v: number): number {
    return this.settings.logY ? 10 ** v : v;
  }

  private smoothed(values: Float64Array): Float64Array {
    const key = `${this.settings.metric}|${this.settings.smoothing}|${this.store.version}|${this.store.length}`;
    if (this.smoothedCache?.key !== key) this.smoothedCache = { key, values: emaSmooth(values, this.settings.smoothing) };
    return this.smoothedCache.values;
  }

  /** The viewport for the current data and settings at `width` pixels. */
  private viewportFor(xs: Float64Array, values: Float64Array, width: number): Viewport {
    const rect = {
      left: MARGIN.left,
      top: MARGIN.top,
      width: Math.max(10, width - MARGIN.left - MARGIN.right),
      height: HEIGHT - MARGIN.top - MARGIN.bottom,
    };
    const x = this.settings.viewX ?? fullXRange(xs);
    let y = fitYRange(xs, values, x, (v) => this.transform(v));
    if (this.settings.viewY) {
      const zoomed: Range = [this.transform(this.settings.viewY[0]), this.transform(this.settings.viewY[1])];
      if (isRange(zoomed)) y = zoomed;
    }
    return { x, y, rect };
  }

  /** The visible index range [start, end), one point beyond each side so lines leave the view. */
  private visibleSpan(xs: Float64Array, vp: Viewport): [number, number] {
    return [Math.max(0, lowerBound(xs, xs.length, vp.x[0]) - 1), Math.min(xs.length, lowerBound(xs, xs.length, vp.x[1]) + 1)];
  }

  /** Decimated raw (and smoothed) lines of the current metric in `vp`. */
  private lines(xs: Float64Array, values: Float64Array, vp: Viewport) {
    const [start, end] = this.visibleSpan(xs, vp);
    const toX = (x: number) => toPixelX(vp, x);
    const toY = (v: number) => toPixelY(vp, this.transform(v));
    const raw = decimateMinMax(xs, values, start, end, toX, toY);
    const smooth = this.settings.smoothing > 0 ? decimateMinMax(xs, this.smoothed(values), start, end, toX, toY) : null;
    return { raw, smooth, start, end };
  }

  draw(): void {
    const total = this.store.length;
    this.empty.hidden = total > 0;
    this.body.hidden = this.toolbar.hidden = this.footer.hidden = total === 0;
    if (total === 0) {
      this.summary.textContent = '';
      return;
    }
    const context = fitCanvas(this.canvas, this.width, HEIGHT);
    const xs = this.store.xView(this.settings.xMode);
    const values = this.store.valuesView(this.settings.metric);
    const vp = this.viewportFor(xs, values, this.width);
    this.drawn = vp;
    const colors = chartColors();
    context.clearRect(0, 0, this.width, HEIGHT);
    context.font = themeFont(11);
    drawAxes(context, vp.rect, chartTicks(vp, this.settings.xMode, this.settings.logY), colors);
    const { raw, smooth, start, end } = this.lines(xs, values, vp);
    context.save();
    context.beginPath();
    context.rect(vp.rect.left, vp.rect.top, vp.rect.width, vp.rect.height);
    context.clip();
    strokePoints(context, raw.points, raw.count, themeColor('--vscode-charts-blue', '#3794ff'), smooth ? 0.35 : 1, 1.25);
    if (smooth) strokePoints(context, smooth.points, smooth.count, themeColor('--vscode-charts-orange', '#d18616'), 1, 2);
    context.restore();
    this.drawOverlay(context, xs, values, colors.foreground);
    const drawn = raw.count + (smooth?.count ?? 0);
    this.renderCount++;
    Object.assign(this.canvas.dataset, {
      renderCount: String(this.renderCount),
      totalPoints: String(total),
      visiblePoints: String(end - start),
      drawnPoints: String(drawn),
      metric: this.settings.metric,
      xMode: this.settings.xMode,
      plotLeft: String(vp.rect.left),
      plotWidth: String(vp.rect.width),
      xMin: String(vp.x[0]),
      xMax: String(vp.x[1]),
      gridColor: colors.grid,
      foregroundColor: colors.foreground,
    });
    const decimated = end - start > drawn ? ` · ${formatStep(drawn)} drawn after decimation` : '';
    this.summary.textContent = `${metricLabel(this.settings.metric)}: ${formatStep(end - start)} of ${formatStep(total)} points in view${decimated}${this.settings.viewX || this.settings.viewY ? ' · zoomed' : ''}`;
  }

  /** Drag rectangle, crosshair, hover dots and tooltip. */
  private drawOverlay(context: CanvasRenderingContext2D, xs: Float64Array, values: Float64Array, foreground: string): void {
    const { rect } = this.drawn;
    const drag = this.drag;
    if (drag && drag.kind !== 'pan') {
      const x0 = drag.kind === 'y-only' ? rect.left : Math.min(drag.startX, drag.x);
      const x1 = drag.kind === 'y-only' ? rect.left + rect.width : Math.max(drag.startX, drag.x);
      drawSelection(
        context,
        x0,
        Math.min(drag.startY, drag.y),
        x1,
        Math.max(drag.startY, drag.y),
        themeColor('--vscode-editor-selectionBackground', 'rgba(38,79,120,0.45)'),
        themeColor('--vscode-focusBorder', '#007fd4'),
      );
    }
    this.tooltip.hidden = true;
    if (this.hoverX === null || drag) return;
    const index = nearestIndex(xs, xs.length, xAtPixel(this.drawn, this.hoverX));
    if (index < 0) return;
    const x = toPixelX(this.drawn, xs[index]);
    if (x < rect.left - 1 || x > rect.left + rect.width + 1) return;
    drawCrosshair(context, x, rect, foreground);
    const value = values[index];
    const smoothedValue = this.settings.smoothing > 0 ? this.smoothed(values)[index] : Number.NaN;
    drawDot(context, x, toPixelY(this.drawn, this.transform(value)), themeColor('--vscode-charts-blue', '#3794ff'));
    if (Number.isFinite(smoothedValue))
      drawDot(context, x, toPixelY(this.drawn, this.transform(smoothedValue)), themeColor('--vscode-charts-orange', '#d18616'));
    this.showTooltip(index, x, value, smoothedValue);
  }

  private showTooltip(index: number, x: number, value: number, smoothedValue: number): void {
    const steps = this.store.stepsView();
    const mode = this.settings.xMode;
    const where =
      mode === 'step'
        ? `step ${formatStep(steps[index])}`
        : `${formatX(this.store.xView(mode)[index], mode, this.drawn.x[1] - this.drawn.x[0])} · step ${formatStep(steps[index])}`;
    replaceChildren(
      this.tooltip,
      h('div', { class: 'tooltip-title' }, where),
      h(
        'div',
        {},
        h('span', { class: 'swatch raw' }),
        `${metricLabel(this.settings.metric)}: `,
        h('b', {}, Number.isFinite(value) ? formatExact(value) : 'no value'),
      ),
      Number.isFinite(smoothedValue)
        ? h('div', {}, h('span', { class: 'swatch smooth' }), 'smoothed: ', h('b', {}, formatExact(smoothedValue)))
        : null,
    );
    this.tooltip.dataset.step = String(steps[index]);
    this.tooltip.dataset.value = Number.isFinite(value) ? String(value) : '';
    this.tooltip.hidden = false;
    const left = x + 12 + 180 > this.width ? x - 12 - this.tooltip.offsetWidth : x + 12;
    this.tooltip.style.left = `${Math.max(0, left)}px`;
    this.tooltip.style.top = `${MARGIN.top + 4}px`;
  }

  // --- export ---------------------------------------------------------------------------------

  exportTitle(): string {
    return `${this.settings.metric} of ${this.runName()}`;
  }

  private plotted(): PlottedData {
    const xs = this.store.xView(this.settings.xMode);
    const values = this.store.valuesView(this.settings.metric);
    return {
      metric: this.settings.metric,
      xMode: this.settings.xMode,
      smoothing: this.settings.smoothing,
      logY: this.settings.logY,
      xRange: this.viewportFor(xs, values, this.width).x,
      series: [
        {
          run: this.runName(),
          steps: this.store.stepsView(),
          times: this.store.isoTimes(),
          xs,
          values,
          smoothed: this.settings.smoothing > 0 ? this.smoothed(values) : undefined,
        },
      ],
    };
  }

  toCsv(): string {
    return plottedCsv(this.plotted());
  }

  toJson(): string {
    return plottedJson(this.plotted());
  }

  toSvg(): { svg: string; width: number; height: number } {
    const xs = this.store.xView(this.settings.xMode);
    const values = this.store.valuesView(this.settings.metric);
    const vp = this.viewportFor(xs, values, this.width);
    const { raw, smooth } = this.lines(xs, values, vp);
    const blue = themeColor('--vscode-charts-blue', '#3794ff');
    const orange = themeColor('--vscode-charts-orange', '#d18616');
    const label = metricLabel(this.settings.metric);
    const lines = [{ name: label, color: blue, points: raw.points, count: raw.count, width: 1.25, opacity: smooth ? 0.35 : 1 }];
    const legend = [{ name: `${label} (${this.runName()})`, color: blue }];
    if (smooth) {
      lines.push({ name: `${label}, smoothed`, color: orange, points: smooth.points, count: smooth.count, width: 2, opacity: 1 });
      legend.push({ name: `smoothed (EMA ${this.settings.smoothing.toFixed(2)})`, color: orange });
    }
    return viewportSvg({
      vp,
      width: this.width,
      title: this.exportTitle(),
      yTitle: this.settings.logY ? `${label} (log scale)` : label,
      xMode: this.settings.xMode,
      logY: this.settings.logY,
      lines,
      legend,
      colors: chartColors(),
      fontFamily: themeColor('--vscode-font-family', 'system-ui, sans-serif'),
    });
  }
}
