// Live metric chart on a canvas: metric picker, EMA smoothing, log-y, wheel zoom, box zoom, y-only
// zoom, pan, double-click reset and a hover crosshair. Drawing cost is bounded by the chart width
// (min/max decimation), so 100 000 points redraw as fast as 1 000.

import { fitCanvas, themeColor, themeFont } from '../shared/canvas';
import { h, rafThrottle, replaceChildren } from '../shared/dom';
import { formatExact, formatStep, formatValue, metricLabel } from '../shared/format';
import { createButton, createCheckbox, createDropdown, type CheckboxHandle, type DropdownHandle } from '../ui/toolkit';
import { decimateMinMax, emaSmooth, logTicks, lowerBound, nearestIndex, niceTicks, stepTicks, type MetricStore } from './series';

export interface ChartSettings {
  metric: string;
  /** EMA weight in [0, 0.999]. */
  smoothing: number;
  logY: boolean;
  /** Zoomed x range in steps; null follows the data (live). */
  viewX: [number, number] | null;
  /** Zoomed y range in data units; null fits the visible points. */
  viewY: [number, number] | null;
}

export const DEFAULT_CHART_SETTINGS: ChartSettings = { metric: 'loss', smoothing: 0.6, logY: false, viewX: null, viewY: null };

const MARGIN = { left: 62, right: 16, top: 12, bottom: 28 };
const HEIGHT = 300;
const isRange = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && v.every(Number.isFinite) && v[0] < v[1];

/** Repairs settings restored from getState (an older build may have saved other shapes). */
export function sanitizeChartSettings(s: ChartSettings): ChartSettings {
  return {
    metric: typeof s.metric === 'string' ? s.metric : DEFAULT_CHART_SETTINGS.metric,
    smoothing: Number.isFinite(s.smoothing) ? Math.min(0.999, Math.max(0, s.smoothing)) : DEFAULT_CHART_SETTINGS.smoothing,
    logY: s.logY === true,
    viewX: isRange(s.viewX) ? s.viewX : null,
    viewY: isRange(s.viewY) ? s.viewY : null,
  };
}

type Drag = {
  kind: 'box' | 'y-only' | 'pan';
  startX: number;
  startY: number;
  x: number;
  y: number;
  viewX: [number, number];
  viewY: [number, number];
};

export class LossChart {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly tooltip: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly picker: DropdownHandle;
  private readonly logToggle: CheckboxHandle;
  private readonly smoothingSlider: HTMLInputElement;
  private readonly smoothingValue: HTMLElement;
  private readonly body: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly toolbar: HTMLElement;
  private readonly footer: HTMLElement;
  private settings: ChartSettings;
  private width = 600;
  private hoverX: number | null = null;
  private drag: Drag | null = null;
  private smoothedCache: { key: string; values: Float64Array } | null = null;
  /** The ranges the last frame was drawn with (data units for x, transformed units for y). */
  private drawnX: [number, number] = [0, 1];
  private drawnY: [number, number] = [0, 1];
  private renderCount = 0;
  readonly requestDraw: () => void;

  constructor(
    private readonly store: MetricStore,
    initial: ChartSettings,
    private readonly onSettingsChange: (settings: ChartSettings) => void,
  ) {
    this.settings = sanitizeChartSettings(initial);
    this.requestDraw = rafThrottle(() => this.draw());
    this.picker = createDropdown({
      id: 'metric-picker',
      ariaLabel: 'Metric to plot',
      options: [],
      value: this.settings.metric,
      onChange: (metric) => this.update({ metric, viewY: null }),
    });
    this.smoothingSlider = h('input', {
      id: 'smoothing',
      type: 'range',
      min: 0,
      max: 0.99,
      step: 0.01,
      value: this.settings.smoothing,
      'aria-label': 'EMA smoothing weight',
    });
    this.smoothingValue = h('output', { for: 'smoothing', class: 'slider-value' }, this.settings.smoothing.toFixed(2));
    this.smoothingSlider.addEventListener('input', () => this.update({ smoothing: Number(this.smoothingSlider.value) }));
    this.logToggle = createCheckbox({
      id: 'log-y',
      label: 'Log y',
      ariaLabel: 'Logarithmic y axis',
      checked: this.settings.logY,
      onChange: (logY) => this.update({ logY, viewY: null }),
    });
    const reset = createButton({
      id: 'reset-zoom',
      label: 'Reset zoom',
      title: 'Reset zoom (double-click, 0)',
      onClick: () => this.update({ viewX: null, viewY: null }),
    });

    this.canvas = h('canvas', {
      id: 'loss-canvas',
      class: 'chart-canvas',
      tabindex: 0,
      role: 'img',
      'aria-label': 'Metric chart. Arrow keys pan, plus and minus zoom steps, Page Up and Page Down zoom the y axis, 0 resets.',
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
    this.toolbar = h(
      'div',
      { class: 'toolbar', role: 'toolbar', 'aria-label': 'Chart controls' },
      h('div', { class: 'control' }, h('span', { class: 'control-label' }, 'Metric'), this.picker.element),
      h('div', { class: 'control' }, h('span', { class: 'control-label' }, 'Smoothing'), this.smoothingSlider, this.smoothingValue),
      this.logToggle.element,
      reset.element,
    );
    this.footer = h(
      'div',
      { class: 'chart-footer' },
      this.summary,
      h(
        'div',
        { class: 'chart-hint' },
        'Wheel: zoom steps · wheel on y axis or Shift+wheel: zoom y · drag: box zoom · drag on y axis: zoom y only · Shift+drag: pan · double-click: reset',
      ),
    );
    this.element = h('div', { class: 'loss-chart' }, this.toolbar, this.empty, this.body, this.footer);
    this.bindPointer();
    this.bindKeys();
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

  /** Called when the store changed (replace or live append). */
  dataChanged(): void {
    const keys = this.store.keys();
    const metric = keys.includes(this.settings.metric) ? this.settings.metric : (keys[0] ?? this.settings.metric);
    this.picker.setOptions(
      keys.map((key) => ({ value: key, label: metricLabel(key) === key ? key : `${metricLabel(key)} (${key})` })),
      metric,
    );
    if (metric !== this.settings.metric && keys.length > 0) this.settings = { ...this.settings, metric };
    this.requestDraw();
  }

  private update(change: Partial<ChartSettings>): void {
    this.settings = sanitizeChartSettings({ ...this.settings, ...change });
    this.picker.setValue(this.settings.metric);
    this.logToggle.setChecked(this.settings.logY);
    this.smoothingSlider.value = String(this.settings.smoothing);
    this.smoothingValue.textContent = this.settings.smoothing.toFixed(2);
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

  private plotWidth(): number {
    return Math.max(10, this.width - MARGIN.left - MARGIN.right);
  }

  private plotHeight(): number {
    return HEIGHT - MARGIN.top - MARGIN.bottom;
  }

  /** The x range to draw: the zoom, or all steps. */
  private xRange(steps: Float64Array): [number, number] {
    if (this.settings.viewX) return this.settings.viewX;
    const first = steps[0];
    const last = steps[steps.length - 1];
    return first === last ? [first - 1, last + 1] : [first, last];
  }

  /** The y range (transformed units): the zoom, or the visible points' extent plus 5%. */
  private yRange(steps: Float64Array, values: Float64Array, x: [number, number]): [number, number] {
    if (this.settings.viewY) {
      const [a, b] = this.settings.viewY.map((v) => this.transform(v));
      if (Number.isFinite(a) && Number.isFinite(b) && a < b) return [a, b];
    }
    const start = Math.max(0, lowerBound(steps, steps.length, x[0]) - 1);
    const end = Math.min(steps.length, lowerBound(steps, steps.length, x[1]) + 1);
    let min = Infinity;
    let max = -Infinity;
    for (let i = start; i < end; i++) {
      const v = this.transform(values[i]);
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (!Number.isFinite(min)) return [0, 1];
    if (min === max) return [min - (Math.abs(min) * 0.05 || 0.5), max + (Math.abs(max) * 0.05 || 0.5)];
    const pad = (max - min) * 0.05;
    return [min - pad, max + pad];
  }

  draw(): void {
    const total = this.store.length;
    this.empty.hidden = total > 0;
    this.body.hidden = total === 0;
    this.toolbar.hidden = total === 0;
    this.footer.hidden = total === 0;
    if (total === 0) {
      this.summary.textContent = '';
      return;
    }
    const context = fitCanvas(this.canvas, this.width, HEIGHT);
    const steps = this.store.stepsView();
    const values = this.store.valuesView(this.settings.metric);
    const xRange = this.xRange(steps);
    const yRange = this.yRange(steps, values, xRange);
    this.drawnX = xRange;
    this.drawnY = yRange;
    const plotW = this.plotWidth();
    const plotH = this.plotHeight();
    const toX = (x: number): number => MARGIN.left + ((x - xRange[0]) / (xRange[1] - xRange[0])) * plotW;
    const toY = (v: number): number => {
      const t = this.transform(v);
      return Number.isFinite(t) ? MARGIN.top + (1 - (t - yRange[0]) / (yRange[1] - yRange[0])) * plotH : Number.NaN;
    };

    const foreground = themeColor('--vscode-foreground', '#cccccc');
    const gridColor = themeColor('--vscode-charts-lines', themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.5)'));
    const lineColor = themeColor('--vscode-charts-blue', '#3794ff');
    const smoothColor = themeColor('--vscode-charts-orange', '#d18616');
    context.clearRect(0, 0, this.width, HEIGHT);
    context.font = themeFont(11);
    this.drawAxes(context, xRange, yRange, toX, foreground, gridColor);

    const start = Math.max(0, lowerBound(steps, total, xRange[0]) - 1);
    const end = Math.min(total, lowerBound(steps, total, xRange[1]) + 1);
    context.save();
    context.beginPath();
    context.rect(MARGIN.left, MARGIN.top, plotW, plotH);
    context.clip();
    const smoothing = this.settings.smoothing > 0;
    const raw = decimateMinMax(steps, values, start, end, toX, toY);
    this.strokePoints(context, raw.points, raw.count, lineColor, smoothing ? 0.35 : 1, 1.25);
    let drawn = raw.count;
    if (smoothing) {
      const smooth = decimateMinMax(steps, this.smoothed(values), start, end, toX, toY);
      this.strokePoints(context, smooth.points, smooth.count, smoothColor, 1, 2);
      drawn += smooth.count;
    }
    context.restore();
    this.drawOverlay(context, steps, values, toX, toY, foreground);

    this.renderCount++;
    this.canvas.dataset.renderCount = String(this.renderCount);
    this.canvas.dataset.totalPoints = String(total);
    this.canvas.dataset.visiblePoints = String(end - start);
    this.canvas.dataset.drawnPoints = String(drawn);
    this.canvas.dataset.metric = this.settings.metric;
    this.canvas.dataset.plotLeft = String(MARGIN.left);
    this.canvas.dataset.plotWidth = String(plotW);
    this.canvas.dataset.xMin = String(xRange[0]);
    this.canvas.dataset.xMax = String(xRange[1]);
    const decimated = end - start > drawn ? ` · ${formatStep(drawn)} drawn after decimation` : '';
    this.summary.textContent = `${metricLabel(this.settings.metric)}: ${formatStep(end - start)} of ${formatStep(total)} points in view${decimated}${this.settings.viewX || this.settings.viewY ? ' · zoomed' : ''}`;
  }

  private strokePoints(
    context: CanvasRenderingContext2D,
    points: Float64Array,
    count: number,
    color: string,
    alpha: number,
    width: number,
  ): void {
    context.strokeStyle = color;
    context.globalAlpha = alpha;
    context.lineWidth = width;
    context.lineJoin = 'round';
    context.beginPath();
    let pen = false;
    for (let i = 0; i < count; i++) {
      const x = points[i * 2];
      const y = points[i * 2 + 1];
      if (!Number.isFinite(y)) {
        pen = false;
        continue;
      }
      if (pen) context.lineTo(x, y);
      else context.moveTo(x, y);
      pen = true;
    }
    if (count === 1) context.arc(points[0], points[1], 1.5, 0, Math.PI * 2);
    context.stroke();
    context.globalAlpha = 1;
  }

  private drawAxes(
    context: CanvasRenderingContext2D,
    xRange: [number, number],
    yRange: [number, number],
    toX: (x: number) => number,
    foreground: string,
    gridColor: string,
  ): void {
    const plotW = this.plotWidth();
    const plotH = this.plotHeight();
    const yTicks = this.settings.logY
      ? logTicks(yRange[0], yRange[1])
      : niceTicks(yRange[0], yRange[1], Math.max(3, Math.floor(plotH / 32)));
    const xTicks = stepTicks(xRange[0], xRange[1], Math.max(2, Math.floor(plotW / 90)));
    context.lineWidth = 1;
    context.strokeStyle = gridColor;
    context.fillStyle = foreground;
    context.textAlign = 'right';
    context.textBaseline = 'middle';
    const grid = new Path2D();
    for (const tick of yTicks) {
      const t = this.transform(tick);
      const y = Math.round(MARGIN.top + (1 - (t - yRange[0]) / (yRange[1] - yRange[0])) * plotH) + 0.5;
      if (y < MARGIN.top - 1 || y > MARGIN.top + plotH + 1) continue;
      grid.moveTo(MARGIN.left, y);
      grid.lineTo(MARGIN.left + plotW, y);
      context.fillText(formatValue(tick), MARGIN.left - 6, y);
    }
    context.textAlign = 'center';
    context.textBaseline = 'top';
    for (const tick of xTicks) {
      const x = Math.round(toX(tick)) + 0.5;
      grid.moveTo(x, MARGIN.top);
      grid.lineTo(x, MARGIN.top + plotH);
      context.fillText(formatStep(tick), x, MARGIN.top + plotH + 6);
    }
    // Faint grid in every theme (high contrast's border colour is too loud at full strength).
    context.globalAlpha = 0.45;
    context.stroke(grid);
    context.globalAlpha = 1;
    context.strokeStyle = foreground;
    context.globalAlpha = 0.4;
    context.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, plotW, plotH);
    context.globalAlpha = 1;
  }

  /** Crosshair, hover points and the drag rectangle. */
  private drawOverlay(
    context: CanvasRenderingContext2D,
    steps: Float64Array,
    values: Float64Array,
    toX: (x: number) => number,
    toY: (v: number) => number,
    foreground: string,
  ): void {
    const plotW = this.plotWidth();
    const plotH = this.plotHeight();
    if (this.drag && this.drag.kind !== 'pan') {
      context.fillStyle = themeColor('--vscode-editor-selectionBackground', 'rgba(38,79,120,0.45)');
      context.strokeStyle = themeColor('--vscode-focusBorder', '#007fd4');
      const x0 = this.drag.kind === 'y-only' ? MARGIN.left : Math.min(this.drag.startX, this.drag.x);
      const x1 = this.drag.kind === 'y-only' ? MARGIN.left + plotW : Math.max(this.drag.startX, this.drag.x);
      const y0 = Math.min(this.drag.startY, this.drag.y);
      const y1 = Math.max(this.drag.startY, this.drag.y);
      context.globalAlpha = 0.5;
      context.fillRect(x0, y0, x1 - x0, y1 - y0);
      context.globalAlpha = 1;
      context.strokeRect(x0 + 0.5, y0 + 0.5, x1 - x0, y1 - y0);
    }
    this.tooltip.hidden = true;
    if (this.hoverX === null || this.drag) return;
    const step = this.drawnX[0] + ((this.hoverX - MARGIN.left) / plotW) * (this.drawnX[1] - this.drawnX[0]);
    const index = nearestIndex(steps, steps.length, step);
    if (index < 0) return;
    const x = toX(steps[index]);
    if (x < MARGIN.left - 1 || x > MARGIN.left + plotW + 1) return;
    context.strokeStyle = foreground;
    context.globalAlpha = 0.5;
    context.setLineDash([3, 3]);
    context.beginPath();
    context.moveTo(Math.round(x) + 0.5, MARGIN.top);
    context.lineTo(Math.round(x) + 0.5, MARGIN.top + plotH);
    context.stroke();
    context.setLineDash([]);
    context.globalAlpha = 1;
    const value = values[index];
    const smoothedValue = this.settings.smoothing > 0 ? this.smoothed(values)[index] : Number.NaN;
    const dot = (v: number, color: string): void => {
      const y = toY(v);
      if (!Number.isFinite(y)) return;
      context.fillStyle = color;
      context.beginPath();
      context.arc(x, y, 3.5, 0, Math.PI * 2);
      context.fill();
    };
    dot(value, themeColor('--vscode-charts-blue', '#3794ff'));
    if (Number.isFinite(smoothedValue)) dot(smoothedValue, themeColor('--vscode-charts-orange', '#d18616'));

    replaceChildren(
      this.tooltip,
      h('div', { class: 'tooltip-title' }, `step ${formatStep(steps[index])}`),
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

  // --- interaction ------------------------------------------------------------------------

  private dataAt(px: number, py: number): { x: number; y: number } {
    const x = this.drawnX[0] + ((px - MARGIN.left) / this.plotWidth()) * (this.drawnX[1] - this.drawnX[0]);
    const y = this.drawnY[0] + (1 - (py - MARGIN.top) / this.plotHeight()) * (this.drawnY[1] - this.drawnY[0]);
    return { x, y };
  }

  private setYRangeTransformed(a: number, b: number): { viewY: [number, number] } {
    return { viewY: [this.untransform(Math.min(a, b)), this.untransform(Math.max(a, b))] };
  }

  /** Zooms x by `factor` (<1 zooms in) around the step at pixel px. */
  private zoomX(factor: number, px: number): void {
    const [x0, x1] = this.drawnX;
    const centre = this.dataAt(px, 0).x;
    const next: [number, number] = [centre - (centre - x0) * factor, centre + (x1 - centre) * factor];
    if (next[1] - next[0] < 1e-6) return;
    this.update({ viewX: next });
  }

  private zoomY(factor: number, py: number): void {
    const [y0, y1] = this.drawnY;
    const centre = this.dataAt(0, py).y;
    this.update(this.setYRangeTransformed(centre - (centre - y0) * factor, centre + (y1 - centre) * factor));
  }

  private bindPointer(): void {
    const local = (event: MouseEvent): { x: number; y: number } => {
      const rect = this.canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    };
    this.canvas.addEventListener('mousemove', (event) => {
      const p = local(event);
      if (this.drag) {
        this.drag.x = p.x;
        this.drag.y = p.y;
        if (this.drag.kind === 'pan') this.applyPan();
        this.requestDraw();
        return;
      }
      this.hoverX = p.x >= MARGIN.left && p.x <= MARGIN.left + this.plotWidth() ? p.x : null;
      this.canvas.style.cursor = p.x < MARGIN.left ? 'ns-resize' : 'crosshair';
      this.requestDraw();
    });
    this.canvas.addEventListener('mouseleave', () => {
      this.hoverX = null;
      this.requestDraw();
    });
    this.canvas.addEventListener('mousedown', (event) => {
      if (event.button !== 0) return;
      const p = local(event);
      const kind: Drag['kind'] = event.shiftKey ? 'pan' : p.x < MARGIN.left ? 'y-only' : 'box';
      this.drag = { kind, startX: p.x, startY: p.y, x: p.x, y: p.y, viewX: [...this.drawnX], viewY: [...this.drawnY] };
      event.preventDefault();
    });
    window.addEventListener('mouseup', () => {
      const drag = this.drag;
      if (!drag) return;
      this.drag = null;
      if (drag.kind === 'pan') return this.requestDraw();
      const a = this.dataAt(drag.startX, drag.startY);
      const b = this.dataAt(drag.x, drag.y);
      const tallEnough = Math.abs(drag.y - drag.startY) > 4;
      const wideEnough = Math.abs(drag.x - drag.startX) > 4;
      if (drag.kind === 'y-only' && tallEnough) this.update(this.setYRangeTransformed(a.y, b.y));
      else if (drag.kind === 'box' && wideEnough) {
        const change: Partial<ChartSettings> = { viewX: [Math.min(a.x, b.x), Math.max(a.x, b.x)] };
        // A flat drag zooms steps only; a box also zooms y.
        this.update(tallEnough ? { ...change, ...this.setYRangeTransformed(a.y, b.y) } : change);
      } else this.requestDraw();
    });
    this.canvas.addEventListener('dblclick', () => this.update({ viewX: null, viewY: null }));
    this.canvas.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        const p = local(event);
        const delta = event.deltaY || event.deltaX;
        const factor = Math.exp(Math.sign(delta) * Math.min(0.5, Math.abs(delta) / 400));
        if (event.shiftKey || p.x < MARGIN.left) this.zoomY(factor, p.y);
        else this.zoomX(factor, p.x);
      },
      { passive: false },
    );
  }

  private applyPan(): void {
    const drag = this.drag;
    if (!drag) return;
    const dx = ((drag.x - drag.startX) / this.plotWidth()) * (drag.viewX[1] - drag.viewX[0]);
    const dy = ((drag.y - drag.startY) / this.plotHeight()) * (drag.viewY[1] - drag.viewY[0]);
    this.update({ viewX: [drag.viewX[0] - dx, drag.viewX[1] - dx], ...this.setYRangeTransformed(drag.viewY[0] + dy, drag.viewY[1] + dy) });
  }

  private bindKeys(): void {
    this.canvas.addEventListener('keydown', (event) => {
      const centreX = MARGIN.left + this.plotWidth() / 2;
      const centreY = MARGIN.top + this.plotHeight() / 2;
      const span = this.drawnX[1] - this.drawnX[0];
      switch (event.key) {
        case 'ArrowLeft':
        case 'ArrowRight': {
          const shift = (event.key === 'ArrowLeft' ? -0.1 : 0.1) * span;
          this.update({ viewX: [this.drawnX[0] + shift, this.drawnX[1] + shift] });
          break;
        }
        case '+':
        case '=':
          this.zoomX(0.8, centreX);
          break;
        case '-':
          this.zoomX(1.25, centreX);
          break;
        case 'PageUp':
          this.zoomY(0.8, centreY);
          break;
        case 'PageDown':
          this.zoomY(1.25, centreY);
          break;
        case '0':
        case 'Escape':
          this.update({ viewX: null, viewY: null });
          break;
        default:
          return;
      }
      event.preventDefault();
    });
  }
}
