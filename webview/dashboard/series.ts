// Metric series storage and the numeric work behind the loss chart: column store, EMA smoothing,
// min/max-per-pixel decimation and axis ticks. Pure (no DOM), so it is unit-tested in Node.

import type { MetricsRecord } from '../../src/core/runRecords';
import { xValues, type XAxisMode } from '../shared/xAxis';

/** Keys that are not plotted: the x axis and the wall-clock time. */
const NOT_PLOTTED = new Set(['step', 'time']);
/** Picker order for the well-known metrics; anything else follows alphabetically. */
const PREFERRED_ORDER = [
  'loss',
  'lossMasked',
  'lossLocal',
  'lr',
  'wd',
  'momentum',
  'teacherTemp',
  'teacherEntropy',
  'teacherBatchEntropy',
  'studentEntropy',
  'gradNorm',
  'imgPerSec',
  'secPerStep',
  'epoch',
];

/**
 * Column store of metrics by step. Steps ascend; a record whose step is not after the last one
 * (a resumed run re-logging) drops the stored tail from that step on. Missing values are NaN.
 */
export class MetricStore {
  private steps = new Float64Array(1024);
  /** Epoch milliseconds of each record (NaN when its time does not parse) and the ISO text, for exports. */
  private times = new Float64Array(1024);
  private iso: string[] = [];
  private xCache: { key: string; xs: Float64Array } | null = null;
  private readonly columns = new Map<string, Float64Array>();
  private count = 0;
  private latest: MetricsRecord | null = null;
  /** Bumped on every change, so views can cache derived data. */
  version = 0;

  get length(): number {
    return this.count;
  }

  last(): MetricsRecord | null {
    return this.latest;
  }

  replace(records: readonly MetricsRecord[]): void {
    this.count = 0;
    this.columns.clear();
    this.latest = null;
    this.append(records);
  }

  append(records: readonly MetricsRecord[]): void {
    for (const record of records) this.push(record);
    this.version++;
  }

  private push(record: MetricsRecord): void {
    if (this.count > 0 && record.step <= this.steps[this.count - 1]) this.count = lowerBound(this.steps, this.count, record.step);
    if (this.count === this.steps.length) this.grow();
    const row = this.count;
    this.steps[row] = record.step;
    this.times[row] = Date.parse(record.time);
    this.iso.length = row;
    this.iso.push(record.time);
    for (const column of this.columns.values()) column[row] = Number.NaN;
    for (const [key, value] of Object.entries(record)) {
      if (NOT_PLOTTED.has(key) || typeof value !== 'number' || !Number.isFinite(value)) continue;
      let column = this.columns.get(key);
      if (!column) {
        column = new Float64Array(this.steps.length).fill(Number.NaN);
        this.columns.set(key, column);
      }
      column[row] = value;
    }
    this.count++;
    this.latest = record;
  }

  private grow(): void {
    const capacity = this.steps.length * 2;
    const steps = new Float64Array(capacity);
    steps.set(this.steps);
    this.steps = steps;
    const times = new Float64Array(capacity);
    times.set(this.times);
    this.times = times;
    for (const [key, column] of this.columns) {
      const bigger = new Float64Array(capacity).fill(Number.NaN);
      bigger.set(column);
      this.columns.set(key, bigger);
    }
  }

  /** Plottable keys in picker order. */
  keys(): string[] {
    const present = [...this.columns.keys()];
    const preferred = PREFERRED_ORDER.filter((key) => this.columns.has(key));
    return [...preferred, ...present.filter((key) => !PREFERRED_ORDER.includes(key)).sort()];
  }

  stepsView(): Float64Array {
    return this.steps.subarray(0, this.count);
  }

  /** Epoch milliseconds of each record. */
  timesView(): Float64Array {
    return this.times.subarray(0, this.count);
  }

  /** ISO time of each record, as logged. */
  isoTimes(): readonly string[] {
    return this.iso.slice(0, this.count);
  }

  /** The x value of each record for an x-axis mode (ascending; see xValues), cached until the data changes. */
  xView(mode: XAxisMode): Float64Array {
    if (mode === 'step') return this.stepsView();
    const key = `${mode}|${this.version}|${this.count}`;
    if (this.xCache?.key !== key) this.xCache = { key, xs: xValues(this.stepsView(), this.timesView(), mode) };
    return this.xCache.xs;
  }

  /** Values of `key` (NaN where a record lacks it); empty when the key is unknown. */
  valuesView(key: string): Float64Array {
    return this.columns.get(key)?.subarray(0, this.count) ?? new Float64Array(this.count).fill(Number.NaN);
  }
}

/** First index whose value is >= x in an ascending array. */
export function lowerBound(sorted: ArrayLike<number>, length: number, x: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the element nearest to x in an ascending array (-1 when empty). */
export function nearestIndex(sorted: ArrayLike<number>, length: number, x: number): number {
  if (length === 0) return -1;
  const i = lowerBound(sorted, length, x);
  if (i === 0) return 0;
  if (i === length) return length - 1;
  return x - sorted[i - 1] <= sorted[i] - x ? i - 1 : i;
}

/**
 * Exponential moving average with start-up bias correction (as TensorBoard does), so the first
 * points are not dragged towards zero. NaN values are skipped and stay NaN. weight in [0, 1).
 */
export function emaSmooth(values: ArrayLike<number>, weight: number): Float64Array {
  const out = new Float64Array(values.length);
  let accumulator = 0;
  let debias = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = Number.NaN;
      continue;
    }
    accumulator = accumulator * weight + (1 - weight) * v;
    debias = debias * weight + (1 - weight);
    out[i] = accumulator / debias;
  }
  return out;
}

export interface Decimated {
  /** Pixel coordinates, interleaved x0, y0, x1, y1 …; NaN pairs break the line. */
  points: Float64Array;
  /** Number of (x, y) pairs in `points`. */
  count: number;
}

/**
 * Reduces the points in [start, end) to at most 4 per pixel column (first, min, max, last, in
 * data order), which keeps every spike visible while bounding the drawing work by the chart width.
 * `toX`/`toY` map data to pixels; a non-finite y (NaN, or ≤ 0 in log scale) breaks the line.
 */
export function decimateMinMax(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  start: number,
  end: number,
  toX: (x: number) => number,
  toY: (y: number) => number,
): Decimated {
  const points = new Float64Array(Math.max(0, end - start) * 2 + 8);
  let count = 0;
  const emit = (x: number, y: number): void => {
    points[count * 2] = x;
    points[count * 2 + 1] = y;
    count++;
  };
  let column = Number.NaN;
  let firstI = -1;
  let lastI = -1;
  let minI = -1;
  let maxI = -1;
  let minY = 0;
  let maxY = 0;
  let broken = false;
  const flush = (): void => {
    if (firstI < 0) return;
    const order = [firstI, minI, maxI, lastI].sort((a, b) => a - b);
    let previous = -1;
    for (const i of order) {
      if (i === previous) continue;
      previous = i;
      emit(toX(xs[i]), toY(ys[i]));
    }
    firstI = -1;
  };
  for (let i = start; i < end; i++) {
    const py = toY(ys[i]);
    if (!Number.isFinite(py)) {
      if (!broken) {
        flush();
        emit(Number.NaN, Number.NaN);
        broken = true;
      }
      continue;
    }
    broken = false;
    const px = toX(xs[i]);
    const col = Math.floor(px);
    if (col !== column || firstI < 0) {
      flush();
      column = col;
      firstI = lastI = minI = maxI = i;
      minY = maxY = py;
      continue;
    }
    lastI = i;
    if (py < minY) {
      minY = py;
      minI = i;
    }
    if (py > maxY) {
      maxY = py;
      maxI = i;
    }
  }
  flush();
  return { points, count };
}

export { logTicks, niceTicks, stepTicks } from '../shared/ticks';
