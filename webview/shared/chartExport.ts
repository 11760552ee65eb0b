// Chart export without a DOM: the plotted data as CSV and JSON, and the chart itself as a standalone SVG (axes,
// ticks, curves, legend) built from the same pixel geometry the canvas is drawn with. The PNG is this SVG
// rasterised in the view (exportDom.ts), so both image formats show the same picture. Pure; unit-tested in Node.

import type { XAxisMode } from '../../src/core/experimentMessages';
import { X_AXIS_TITLES } from './xAxis';

/** One plotted series of one run, in data order. */
export interface DataSeries {
  /** Run label (legend text). */
  run: string;
  steps: ArrayLike<number>;
  /** ISO time of each record (empty string when unknown). */
  times: readonly string[];
  /** x in the chart's mode (equal to steps in step mode). */
  xs: ArrayLike<number>;
  values: ArrayLike<number>;
  /** EMA-smoothed values, when smoothing is on. */
  smoothed?: ArrayLike<number>;
}

export interface PlottedData {
  metric: string;
  xMode: XAxisMode;
  smoothing: number;
  logY: boolean;
  /** The visible x range (mode units); only points inside it are exported. */
  xRange: [number, number];
  series: DataSeries[];
}

const num = (v: number): string => (Number.isFinite(v) ? String(v) : '');

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function visible(series: DataSeries, range: [number, number]): number[] {
  const out: number[] = [];
  for (let i = 0; i < series.xs.length; i++) if (series.xs[i] >= range[0] && series.xs[i] <= range[1]) out.push(i);
  return out;
}

/** Long ("tidy") CSV: one line per run and record in view: run, step, time, [x,] value[, smoothed]. */
export function plottedCsv(data: PlottedData): string {
  const smoothed = data.smoothing > 0;
  const header = [
    'run',
    'step',
    'time',
    ...(data.xMode === 'step' ? [] : [data.xMode === 'wall' ? 'epoch_seconds' : 'seconds']),
    data.metric,
  ];
  if (smoothed) header.push(`${data.metric}_smoothed`);
  const lines = [header.map(csvField).join(',')];
  for (const s of data.series)
    for (const i of visible(s, data.xRange)) {
      const row = [csvField(s.run), num(s.steps[i]), csvField(s.times[i] ?? '')];
      if (data.xMode !== 'step') row.push(num(s.xs[i]));
      row.push(num(s.values[i]));
      if (smoothed) row.push(s.smoothed ? num(s.smoothed[i]) : '');
      lines.push(row.join(','));
    }
  return `${lines.join('\n')}\n`;
}

/** The same data as JSON, with the chart settings it was plotted with. NaN becomes null. */
export function plottedJson(data: PlottedData): string {
  const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
  return `${JSON.stringify(
    {
      metric: data.metric,
      xAxis: data.xMode,
      xRange: data.xRange,
      smoothing: data.smoothing,
      logY: data.logY,
      runs: data.series.map((s) => ({
        run: s.run,
        points: visible(s, data.xRange).map((i) => ({
          step: s.steps[i],
          time: s.times[i] || null,
          ...(data.xMode === 'step' ? {} : { x: finite(s.xs[i]) }),
          value: finite(s.values[i]),
          ...(s.smoothed ? { smoothed: finite(s.smoothed[i]) } : {}),
        })),
      })),
    },
    null,
    2,
  )}\n`;
}

// --- SVG ----------------------------------------------------------------------------------------

export interface SvgTick {
  /** Pixel position along the axis. */
  at: number;
  label: string;
}

export interface SvgLine {
  name: string;
  color: string;
  /** Interleaved pixel x, y; a NaN pair breaks the line. */
  points: ArrayLike<number>;
  count: number;
  width: number;
  opacity: number;
}

export interface SvgChartSpec {
  width: number;
  height: number;
  plot: { left: number; top: number; width: number; height: number };
  title: string;
  xMode: XAxisMode;
  yTitle: string;
  xTicks: SvgTick[];
  yTicks: SvgTick[];
  lines: SvgLine[];
  legend: { name: string; color: string }[];
  colors: { background: string; foreground: string; grid: string; muted: string };
  fontFamily: string;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const f1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/** SVG path data of a polyline; NaN pairs start a new sub-path. */
export function pathData(points: ArrayLike<number>, count: number): string {
  let d = '';
  let pen = false;
  for (let i = 0; i < count; i++) {
    const x = points[i * 2];
    const y = points[i * 2 + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${f1(x)} ${f1(y)}`;
    pen = true;
  }
  return d;
}

/** Rows of the legend under the plot: items flow left to right and wrap at the chart width. */
export function legendLayout(names: readonly string[], width: number, left: number, charWidth = 6.6): { x: number; row: number }[] {
  const out: { x: number; row: number }[] = [];
  let x = left;
  let row = 0;
  for (const name of names) {
    const w = 22 + Math.min(name.length, 60) * charWidth + 16;
    if (x + w > width - 8 && x > left) {
      row++;
      x = left;
    }
    out.push({ x, row });
    x += w;
  }
  return out;
}

const LEGEND_ROW = 18;

/** The height an SVG needs for `plot` (with the x tick labels and title under it) and a legend of `names`. */
export function svgHeight(plot: SvgChartSpec['plot'], names: readonly string[], width: number): number {
  const bottom = plot.top + plot.height + 40;
  if (names.length === 0) return bottom;
  const rows = Math.max(...legendLayout(names, width, plot.left).map((p) => p.row)) + 1;
  return bottom + rows * LEGEND_ROW + 8;
}

/** A standalone SVG document of the chart. Every text is escaped; nothing is fetched. */
export function chartSvg(spec: SvgChartSpec): string {
  const { plot, colors } = spec;
  const bottom = plot.top + plot.height;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${spec.width}" height="${spec.height}" viewBox="0 0 ${spec.width} ${spec.height}" font-family="${escapeXml(spec.fontFamily)}" font-size="11">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<rect width="100%" height="100%" fill="${escapeXml(colors.background)}"/>`,
    `<g stroke="${escapeXml(colors.grid)}" stroke-opacity="0.45" stroke-width="1">`,
  );
  for (const t of spec.yTicks) out.push(`<line x1="${plot.left}" x2="${plot.left + plot.width}" y1="${f1(t.at)}" y2="${f1(t.at)}"/>`);
  for (const t of spec.xTicks) out.push(`<line x1="${f1(t.at)}" x2="${f1(t.at)}" y1="${plot.top}" y2="${bottom}"/>`);
  out.push('</g>', `<g fill="${escapeXml(colors.foreground)}">`);
  for (const t of spec.yTicks)
    out.push(`<text x="${plot.left - 6}" y="${f1(t.at)}" text-anchor="end" dominant-baseline="middle">${escapeXml(t.label)}</text>`);
  for (const t of spec.xTicks) out.push(`<text x="${f1(t.at)}" y="${bottom + 16}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  out.push(
    `<text x="${plot.left + plot.width / 2}" y="${bottom + 32}" text-anchor="middle" fill="${escapeXml(colors.muted)}">${escapeXml(X_AXIS_TITLES[spec.xMode])}</text>`,
    `<text transform="translate(12 ${plot.top + plot.height / 2}) rotate(-90)" text-anchor="middle" fill="${escapeXml(colors.muted)}">${escapeXml(spec.yTitle)}</text>`,
    '</g>',
    `<clipPath id="plot"><rect x="${plot.left}" y="${plot.top}" width="${plot.width}" height="${plot.height}"/></clipPath>`,
    '<g clip-path="url(#plot)" fill="none" stroke-linejoin="round" stroke-linecap="round">',
  );
  for (const line of spec.lines) {
    const d = pathData(line.points, line.count);
    if (!d) continue;
    out.push(
      `<path d="${d}" stroke="${escapeXml(line.color)}" stroke-width="${line.width}"${line.opacity < 1 ? ` stroke-opacity="${line.opacity}"` : ''}><title>${escapeXml(line.name)}</title></path>`,
    );
  }
  out.push('</g>');
  const legendTop = bottom + 44;
  const places = legendLayout(
    spec.legend.map((l) => l.name),
    spec.width,
    plot.left,
  );
  spec.legend.forEach((item, i) => {
    const { x, row } = places[i];
    const y = legendTop + row * LEGEND_ROW;
    out.push(
      `<line x1="${x}" x2="${x + 16}" y1="${y}" y2="${y}" stroke="${escapeXml(item.color)}" stroke-width="3"/>`,
      `<text x="${x + 22}" y="${y}" dominant-baseline="middle" fill="${escapeXml(colors.foreground)}">${escapeXml(item.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** A file name from a title: lower case, [a-z0-9-] only, with the extension. */
export function exportFileName(title: string, extension: string): string {
  const slug =
    title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'chart';
  return `${slug}.${extension}`;
}
