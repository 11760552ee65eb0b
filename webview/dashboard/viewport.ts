// The metric chart's viewport maths, without a canvas: which x and y ranges are drawn, where a data point lands in
// pixels and back, and what wheel zoom, box zoom, y-only zoom and pan do to the ranges. Pure, unit-tested in Node;
// lossChart.ts draws and handles the pointer with it.

import { lowerBound } from './series';

export type Range = [number, number];

export interface PlotRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** What a frame was drawn with: x in data units, y in transformed units (log10 when log-y). */
export interface Viewport {
  x: Range;
  y: Range;
  rect: PlotRect;
}

export interface Point {
  px: number;
  py: number;
}

export const isRange = (v: unknown): v is Range => Array.isArray(v) && v.length === 2 && v.every(Number.isFinite) && v[0] < v[1];

export function toPixelX(vp: Viewport, x: number): number {
  return vp.rect.left + ((x - vp.x[0]) / (vp.x[1] - vp.x[0])) * vp.rect.width;
}

/** Pixel row of a transformed y value (NaN stays NaN). */
export function toPixelY(vp: Viewport, y: number): number {
  return Number.isFinite(y) ? vp.rect.top + (1 - (y - vp.y[0]) / (vp.y[1] - vp.y[0])) * vp.rect.height : Number.NaN;
}

/** Data coordinates (x, transformed y) under a pixel. */
export function toData(vp: Viewport, p: Point): { x: number; y: number } {
  return {
    x: vp.x[0] + ((p.px - vp.rect.left) / vp.rect.width) * (vp.x[1] - vp.x[0]),
    y: vp.y[0] + (1 - (p.py - vp.rect.top) / vp.rect.height) * (vp.y[1] - vp.y[0]),
  };
}

export function insidePlotX(vp: Viewport, px: number): boolean {
  return px >= vp.rect.left && px <= vp.rect.left + vp.rect.width;
}

/** The x range that shows every point: first to last, widened by 1 on each side when they coincide. */
export function fullXRange(xs: ArrayLike<number>, length = xs.length): Range {
  if (length === 0) return [0, 1];
  const first = xs[0];
  const last = xs[length - 1];
  return first === last ? [first - 1, last + 1] : [first, last];
}

/**
 * The y range (transformed units) that fits the points whose x is in `xRange` (plus one point either side, so a line
 * leaving the view is not clipped flat), padded by 5%. A flat series gets ±5% of its value (±0.5 around 0).
 */
export function fitYRange(
  xs: ArrayLike<number>,
  values: ArrayLike<number>,
  xRange: Range,
  transform: (v: number) => number = (v) => v,
): Range {
  const start = Math.max(0, lowerBound(xs, xs.length, xRange[0]) - 1);
  const end = Math.min(xs.length, lowerBound(xs, xs.length, xRange[1]) + 1);
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const v = transform(values[i]);
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min)) return [0, 1];
  if (min === max) return [min - (Math.abs(min) * 0.05 || 0.5), max + (Math.abs(max) * 0.05 || 0.5)];
  const pad = (max - min) * 0.05;
  return [min - pad, max + pad];
}

/** The union of several ranges (for a shared y axis over several series); [0, 1] when none is finite. */
export function unionRange(ranges: readonly Range[]): Range {
  const finite = ranges.filter(isRange);
  if (finite.length === 0) return [0, 1];
  return [Math.min(...finite.map((r) => r[0])), Math.max(...finite.map((r) => r[1]))];
}

/** Scales `range` by `factor` (< 1 zooms in) around `centre`; null when the result would be degenerate. */
export function zoomRange(range: Range, centre: number, factor: number, minSpan = 1e-6): Range | null {
  const next: Range = [centre - (centre - range[0]) * factor, centre + (range[1] - centre) * factor];
  return next[1] - next[0] < minSpan || !isRange(next) ? null : next;
}

/** Wheel/key zoom of x around the pixel column `px`. */
export function zoomXAt(vp: Viewport, px: number, factor: number): Range | null {
  return zoomRange(vp.x, toData(vp, { px, py: 0 }).x, factor);
}

/** Wheel/key zoom of y around the pixel row `py` (transformed units). */
export function zoomYAt(vp: Viewport, py: number, factor: number): Range | null {
  return zoomRange(vp.y, toData(vp, { px: 0, py }).y, factor, 0);
}

/** The ranges after dragging the viewport `start` by (dx, dy) pixels: the data follows the pointer. */
export function panBy(start: Viewport, dxPx: number, dyPx: number): { x: Range; y: Range } {
  const dx = (dxPx / start.rect.width) * (start.x[1] - start.x[0]);
  const dy = (dyPx / start.rect.height) * (start.y[1] - start.y[0]);
  return { x: [start.x[0] - dx, start.x[1] - dx], y: [start.y[0] + dy, start.y[1] + dy] };
}

/**
 * What a finished drag selects. `box`: a drag wider than `minPx` zooms x to it, and also y when taller than `minPx`
 * (a flat drag zooms steps only). `y-only` (a drag on the y axis): a drag taller than `minPx` zooms y. Anything
 * smaller is a click: null.
 */
export function dragZoom(vp: Viewport, kind: 'box' | 'y-only', from: Point, to: Point, minPx = 4): { x?: Range; y?: Range } | null {
  const a = toData(vp, from);
  const b = toData(vp, to);
  const tall = Math.abs(to.py - from.py) > minPx;
  const wide = Math.abs(to.px - from.px) > minPx;
  const y: Range = [Math.min(a.y, b.y), Math.max(a.y, b.y)];
  if (kind === 'y-only') return tall ? { y } : null;
  if (!wide) return null;
  const x: Range = [Math.min(a.x, b.x), Math.max(a.x, b.x)];
  return tall ? { x, y } : { x };
}

/** Shifts x by `fraction` of its span (arrow keys). */
export function shiftX(range: Range, fraction: number): Range {
  const shift = fraction * (range[1] - range[0]);
  return [range[0] + shift, range[1] + shift];
}
