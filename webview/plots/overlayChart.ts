// The overlay chart: one metric of N runs in one uPlot chart (canvas, decimates dense data per pixel column, so
// 10^5 points per run stay fluid), each run in its own colour, x by step / relative time / wall time, EMA smoothing
// (the raw curve faint behind it), log-y, drag to zoom x, double-click to reset. The legend with toggles and the
// per-run hover values live in main.ts; this module reports the cursor's x and draws. Export builds the SVG from the
// same scales uPlot draws with (chartDraw.ts), so PNG/SVG show what is on screen.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { PlotRun } from '../../src/core/experimentMessages';
import { chartColors, viewportSvg } from '../dashboard/chartDraw';
import { decimateMinMax, emaSmooth, lowerBound, type MetricStore } from '../dashboard/series';
import { toPixelX, toPixelY, type Viewport } from '../dashboard/viewport';
import { themeColor, themeFont } from '../shared/canvas';
import { formatValue, metricLabel } from '../shared/format';
import { formatX, xTicks } from '../shared/xAxis';
import { alignRuns, runColor, runDash, withAlpha, type OverlaySettings, type RunSeries } from './overlayData';

const HEIGHT = 340;

export interface OverlayInput {
  runs: readonly PlotRun[];
  stores: ReadonlyMap<string, MetricStore>;
  settings: OverlaySettings;
}

export class OverlayChart {
  readonly element: HTMLElement;
  private plot: uPlot | null = null;
  private signature = '';
  private width = 800;
  private zoomed = false;
  private drawCount = 0;
  /** Per shown run: its series (smoothed when smoothing is on) in the order of uPlot's series. */
  private shown: { run: PlotRun; series: RunSeries; raw: RunSeries }[] = [];

  constructor(private readonly onCursor: (x: number | null) => void) {
    this.element = document.createElement('div');
    this.element.className = 'overlay-chart';
    this.element.id = 'overlay-chart';
    new ResizeObserver(() => {
      const width = Math.floor(this.element.clientWidth);
      if (width > 0 && width !== this.width) {
        this.width = width;
        this.plot?.setSize({ width, height: HEIGHT });
      }
    }).observe(this.element);
  }

  /** Redraws for new data or settings; rebuilds the uPlot instance only when its options change. */
  update(input: OverlayInput, forceRebuild = false): void {
    const { settings } = input;
    this.shown = input.runs
      .filter((run) => input.stores.has(run.id) && !settings.hidden.includes(run.id))
      .map((run) => {
        const store = input.stores.get(run.id)!;
        const xs = store.xView(settings.xMode);
        const values = store.valuesView(settings.metric);
        const raw = { xs, values };
        return { run, raw, series: settings.smoothing > 0 ? { xs, values: emaSmooth(values, settings.smoothing) } : raw };
      });
    const smoothing = settings.smoothing > 0;
    const lines = this.shown.flatMap((s) => (smoothing ? [s.raw, s.series] : [s.series]));
    const aligned = alignRuns(lines, settings.logY);
    const data = [aligned.x, ...aligned.ys] as uPlot.AlignedData;
    const signature = JSON.stringify([
      settings.metric,
      settings.xMode,
      settings.logY,
      smoothing,
      this.shown.map((s) => [s.run.id, s.run.colorIndex, s.run.label]),
    ]);
    if (forceRebuild || !this.plot || signature !== this.signature) {
      this.signature = signature;
      this.plot?.destroy();
      this.zoomed = false;
      this.plot = new uPlot(this.options(settings), data, this.element);
    } else this.plot.setData(data, !this.zoomed);
    this.element.dataset.runs = String(this.shown.length);
    this.element.dataset.points = String(aligned.x.length);
    this.element.dataset.metric = settings.metric;
    this.element.dataset.xMode = settings.xMode;
  }

  resetZoom(): void {
    this.zoomed = false;
    const x = this.plot?.data[0];
    if (this.plot && x && x.length > 0) this.plot.setScale('x', { min: x[0], max: x[x.length - 1] });
  }

  private options(s: OverlaySettings): uPlot.Options {
    const colors = chartColors();
    const font = themeFont(11);
    const axis = (values: uPlot.Axis['values'], splits?: uPlot.Axis['splits']): uPlot.Axis => ({
      stroke: colors.foreground,
      font,
      grid: { stroke: withAlpha(toHex(colors.grid), 0.45), width: 1 },
      ticks: { stroke: withAlpha(toHex(colors.grid), 0.45), width: 1, size: 4 },
      values,
      ...(splits ? { splits } : {}),
    });
    const smoothing = s.smoothing > 0;
    const series: uPlot.Series[] = [{}];
    for (const { run } of this.shown) {
      const color = runColor(run.colorIndex);
      const dash = runDash(run.colorIndex);
      if (smoothing)
        series.push({
          label: `${run.label} (raw)`,
          stroke: withAlpha(color, 0.3),
          width: 1,
          dash,
          spanGaps: true,
          points: { show: false },
        });
      series.push({ label: run.label, stroke: color, width: smoothing ? 2 : 1.5, dash, spanGaps: true, points: { show: false } });
    }
    return {
      width: this.width,
      height: HEIGHT,
      legend: { show: false },
      scales: { x: { time: false }, y: s.logY ? { distr: 3, log: 10 } : {} },
      axes: [
        axis(
          (u, splits) => splits.map((v) => formatX(v, s.xMode, (u.scales.x.max ?? 1) - (u.scales.x.min ?? 0))),
          (u, _axis, min, max) =>
            xTicks(min, max, s.xMode, Math.max(2, Math.floor(u.bbox.width / devicePixelRatio / (s.xMode === 'wall' ? 110 : 90)))),
        ),
        { ...axis((_u, splits) => splits.map((v) => formatValue(v))), size: 60 },
      ],
      series,
      cursor: { drag: { x: true, y: false, setScale: true }, points: { show: false }, focus: { prox: 16 } },
      hooks: {
        setCursor: [(u) => this.onCursor(u.cursor.left === undefined || u.cursor.left < 0 ? null : u.posToVal(u.cursor.left, 'x'))],
        setSelect: [() => (this.zoomed = true)],
        draw: [() => (this.element.dataset.drawCount = String(++this.drawCount))],
      },
    };
  }

  // --- export ---------------------------------------------------------------------------------

  /** The viewport uPlot drew with (CSS pixels; y in log10 units with log-y). */
  private viewport(logY: boolean): Viewport {
    const u = this.plot!;
    const ratio = devicePixelRatio || 1;
    const t = (v: number) => (logY ? Math.log10(v) : v);
    return {
      x: [u.scales.x.min ?? 0, u.scales.x.max ?? 1],
      y: [t(u.scales.y.min ?? 0), t(u.scales.y.max ?? 1)],
      rect: { left: u.bbox.left / ratio, top: u.bbox.top / ratio, width: u.bbox.width / ratio, height: u.bbox.height / ratio },
    };
  }

  xRange(): [number, number] {
    return this.plot ? [this.plot.scales.x.min ?? 0, this.plot.scales.x.max ?? 1] : [0, 1];
  }

  toSvg(settings: OverlaySettings, title: string): { svg: string; width: number; height: number } {
    if (!this.plot) throw new Error('nothing is plotted yet');
    const vp = this.viewport(settings.logY);
    const t = (v: number) => (settings.logY ? (v > 0 ? Math.log10(v) : Number.NaN) : v);
    const smoothing = settings.smoothing > 0;
    const lines = this.shown.flatMap(({ run, series, raw }) => {
      const color = runColor(run.colorIndex);
      const line = (s: RunSeries, name: string, width: number, opacity: number) => {
        const start = Math.max(0, lowerBound(s.xs, s.xs.length, vp.x[0]) - 1);
        const end = Math.min(s.xs.length, lowerBound(s.xs, s.xs.length, vp.x[1]) + 1);
        const d = decimateMinMax(
          s.xs,
          s.values,
          start,
          end,
          (x) => toPixelX(vp, x),
          (v) => toPixelY(vp, t(v)),
        );
        return { name, color, points: d.points, count: d.count, width, opacity };
      };
      return smoothing ? [line(raw, `${run.label} (raw)`, 1, 0.3), line(series, run.label, 2, 1)] : [line(series, run.label, 1.5, 1)];
    });
    const label = metricLabel(settings.metric);
    return viewportSvg({
      vp,
      width: this.width,
      title,
      yTitle: settings.logY ? `${label} (log scale)` : label,
      xMode: settings.xMode,
      logY: settings.logY,
      lines,
      legend: this.shown.map(({ run }) => ({ name: run.label, color: runColor(run.colorIndex) })),
      colors: chartColors(),
      fontFamily: themeColor('--vscode-font-family', 'system-ui, sans-serif'),
    });
  }
}

/** Theme colours may be rgba() or #rgb; withAlpha needs #rrggbb (anything else is passed through). */
function toHex(color: string): string {
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(color);
  return short ? `#${short[1]}${short[1]}${short[2]}${short[2]}${short[3]}${short[3]}` : color;
}
