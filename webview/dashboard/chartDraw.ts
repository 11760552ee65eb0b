// Drawing the metric chart: tick positions and labels (shared by the canvas and the SVG export), and the canvas
// strokes. The tick maths is pure; the stroke functions only use the 2D context they are given.

import { themeColor } from '../shared/canvas';
import { chartSvg, svgHeight, type SvgLine } from '../shared/chartExport';
import { formatValue } from '../shared/format';
import { logTicks, niceTicks } from '../shared/ticks';
import { formatX, xTicks, type XAxisMode } from '../shared/xAxis';
import { toPixelX, toPixelY, type PlotRect, type Viewport } from './viewport';

export interface TickMark {
  /** Pixel position along its axis. */
  at: number;
  label: string;
}

/** x and y tick marks of a viewport. With log-y, the viewport's y is in log10 units. */
export function chartTicks(vp: Viewport, xMode: XAxisMode, logY: boolean): { x: TickMark[]; y: TickMark[] } {
  const { rect } = vp;
  const yValues = logY ? logTicks(vp.y[0], vp.y[1]) : niceTicks(vp.y[0], vp.y[1], Math.max(3, Math.floor(rect.height / 32)));
  const y = yValues
    .map((v) => ({ at: Math.round(toPixelY(vp, logY ? Math.log10(v) : v)) + 0.5, label: formatValue(v) }))
    .filter((t) => t.at >= rect.top - 1 && t.at <= rect.top + rect.height + 1);
  const span = vp.x[1] - vp.x[0];
  const x = xTicks(vp.x[0], vp.x[1], xMode, Math.max(2, Math.floor(rect.width / (xMode === 'wall' ? 110 : 90)))).map((v) => ({
    at: Math.round(toPixelX(vp, v)) + 0.5,
    label: formatX(v, xMode, span),
  }));
  return { x, y };
}

export interface ChartColors {
  foreground: string;
  grid: string;
  muted: string;
  background: string;
}

/** The chart colours of the current VS Code theme. */
export function chartColors(): ChartColors {
  return {
    foreground: themeColor('--vscode-foreground', '#cccccc'),
    grid: themeColor('--vscode-charts-lines', themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.5)')),
    muted: themeColor('--vscode-descriptionForeground', '#9d9d9d'),
    background: themeColor('--vscode-editor-background', '#1e1e1e'),
  };
}

export function drawAxes(
  context: CanvasRenderingContext2D,
  rect: PlotRect,
  ticks: { x: TickMark[]; y: TickMark[] },
  colors: ChartColors,
): void {
  context.lineWidth = 1;
  context.strokeStyle = colors.grid;
  context.fillStyle = colors.foreground;
  const grid = new Path2D();
  context.textAlign = 'right';
  context.textBaseline = 'middle';
  for (const t of ticks.y) {
    grid.moveTo(rect.left, t.at);
    grid.lineTo(rect.left + rect.width, t.at);
    context.fillText(t.label, rect.left - 6, t.at);
  }
  context.textAlign = 'center';
  context.textBaseline = 'top';
  for (const t of ticks.x) {
    grid.moveTo(t.at, rect.top);
    grid.lineTo(t.at, rect.top + rect.height);
    context.fillText(t.label, t.at, rect.top + rect.height + 6);
  }
  // Faint grid in every theme (high contrast's border colour is too loud at full strength).
  context.globalAlpha = 0.45;
  context.stroke(grid);
  context.strokeStyle = colors.foreground;
  context.globalAlpha = 0.4;
  context.strokeRect(rect.left + 0.5, rect.top + 0.5, rect.width, rect.height);
  context.globalAlpha = 1;
}

/** A decimated polyline (interleaved pixel x, y; NaN pairs break it); a single point is drawn as a dot. */
export function strokePoints(
  context: CanvasRenderingContext2D,
  points: ArrayLike<number>,
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

/** The drag rectangle of a box or y-only zoom. */
export function drawSelection(
  context: CanvasRenderingContext2D,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  fill: string,
  stroke: string,
): void {
  context.fillStyle = fill;
  context.strokeStyle = stroke;
  context.globalAlpha = 0.5;
  context.fillRect(x0, y0, x1 - x0, y1 - y0);
  context.globalAlpha = 1;
  context.strokeRect(x0 + 0.5, y0 + 0.5, x1 - x0, y1 - y0);
}

export function drawCrosshair(context: CanvasRenderingContext2D, x: number, rect: PlotRect, color: string): void {
  context.strokeStyle = color;
  context.globalAlpha = 0.5;
  context.setLineDash([3, 3]);
  context.beginPath();
  context.moveTo(Math.round(x) + 0.5, rect.top);
  context.lineTo(Math.round(x) + 0.5, rect.top + rect.height);
  context.stroke();
  context.setLineDash([]);
  context.globalAlpha = 1;
}

export function drawDot(context: CanvasRenderingContext2D, x: number, y: number, color: string): void {
  if (!Number.isFinite(y)) return;
  context.fillStyle = color;
  context.beginPath();
  context.arc(x, y, 3.5, 0, Math.PI * 2);
  context.fill();
}

/** The SVG of a chart drawn in `vp` with these lines; the legend lists `legend`. */
export function viewportSvg(o: {
  vp: Viewport;
  width: number;
  title: string;
  yTitle: string;
  xMode: XAxisMode;
  logY: boolean;
  lines: SvgLine[];
  legend: { name: string; color: string }[];
  colors: ChartColors;
  fontFamily: string;
}): { svg: string; width: number; height: number } {
  const ticks = chartTicks(o.vp, o.xMode, o.logY);
  const height = svgHeight(
    o.vp.rect,
    o.legend.map((l) => l.name),
    o.width,
  );
  const svg = chartSvg({
    width: o.width,
    height,
    plot: o.vp.rect,
    title: o.title,
    xMode: o.xMode,
    yTitle: o.yTitle,
    xTicks: ticks.x,
    yTicks: ticks.y,
    lines: o.lines,
    legend: o.legend,
    colors: o.colors,
    fontFamily: o.fontFamily,
  });
  return { svg, width: o.width, height };
}
