// The numeric side of the overlay chart, without a DOM: run colours, the union of the runs' x values that uPlot
// needs (one x array, one y array per series with nulls where a run has no point), each run's value nearest to the
// cursor, and the plotted series for export. Unit-tested in Node.

import type { PlotRun, XAxisMode } from '../../src/core/experimentMessages';
import type { DataSeries } from '../shared/chartExport';
import { emaSmooth, MetricStore, nearestIndex } from '../dashboard/series';

/**
 * Ten colours that stay apart on dark and light backgrounds (Tableau 10). A run keeps its colour for the life of the
 * panel; runs past the tenth reuse the colours with a dashed line, so any number of runs can be told apart.
 */
export const RUN_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function runColor(index: number): string {
  return RUN_COLORS[((index % RUN_COLORS.length) + RUN_COLORS.length) % RUN_COLORS.length];
}

/** Dash pattern of a run's line: solid for the first ten, then dashed, dotted… */
export function runDash(index: number): number[] {
  const round = Math.floor(index / RUN_COLORS.length);
  return round === 0 ? [] : round === 1 ? [8, 4] : [2, 3];
}

/** `#rrggbb` with an alpha, as rgba(). */
export function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return hex;
  return `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${alpha})`;
}

export interface RunSeries {
  /** Ascending x values of the run's records. */
  xs: ArrayLike<number>;
  values: ArrayLike<number>;
}

/**
 * uPlot's data layout for several runs: the sorted union of their (finite) x values, and per run its value at each
 * of them (null where the run has no record there, or a non-finite value; also values ≤ 0 when `positiveOnly`, for a log axis).
 */
export function alignRuns(runs: readonly RunSeries[], positiveOnly = false): { x: Float64Array; ys: (number | null)[][] } {
  const cursors = runs.map(() => 0);
  const xs: number[] = [];
  const skipNonFinite = (r: number) => {
    while (cursors[r] < runs[r].xs.length && !Number.isFinite(runs[r].xs[cursors[r]])) cursors[r]++;
  };
  for (;;) {
    let next = Infinity;
    for (let r = 0; r < runs.length; r++) {
      skipNonFinite(r);
      if (cursors[r] < runs[r].xs.length) next = Math.min(next, runs[r].xs[cursors[r]]);
    }
    if (next === Infinity) break;
    xs.push(next);
    for (let r = 0; r < runs.length; r++) while (cursors[r] < runs[r].xs.length && runs[r].xs[cursors[r]] === next) cursors[r]++;
  }
  const x = Float64Array.from(xs);
  const ys = runs.map((run) => {
    const out: (number | null)[] = new Array(x.length).fill(null);
    let j = 0;
    for (let i = 0; i < run.xs.length; i++) {
      if (!Number.isFinite(run.xs[i])) continue;
      while (x[j] < run.xs[i]) j++;
      const v = run.values[i];
      // A run that logs the same x twice keeps its last value.
      out[j] = Number.isFinite(v) && (!positiveOnly || v > 0) ? v : out[j];
    }
    return out;
  });
  return { x, ys };
}

/** Each run's record nearest to x: its index, or -1 for a run without records. */
export function nearestPerRun(runs: readonly RunSeries[], x: number): number[] {
  return runs.map((run) => nearestIndex(run.xs, run.xs.length, x));
}

/** Union of the runs' metric keys, in the picker order of the first run that has each. */
export function metricKeys(stores: readonly MetricStore[]): string[] {
  const keys: string[] = [];
  for (const store of stores) for (const key of store.keys()) if (!keys.includes(key)) keys.push(key);
  const loss = keys.indexOf('loss');
  if (loss > 0) keys.unshift(...keys.splice(loss, 1));
  return keys;
}

export interface OverlaySettings {
  metric: string;
  xMode: XAxisMode;
  smoothing: number;
  logY: boolean;
  /** Run ids switched off in the legend. */
  hidden: string[];
}

/** The plotted data of the runs shown (hidden ones left out), for CSV/JSON export. */
export function plottedSeries(runs: readonly PlotRun[], stores: ReadonlyMap<string, MetricStore>, s: OverlaySettings): DataSeries[] {
  return runs
    .filter((run) => !s.hidden.includes(run.id) && stores.has(run.id))
    .map((run) => {
      const store = stores.get(run.id)!;
      const values = store.valuesView(s.metric);
      return {
        run: run.label,
        steps: store.stepsView(),
        times: store.isoTimes(),
        xs: store.xView(s.xMode),
        values,
        smoothed: s.smoothing > 0 ? emaSmooth(values, s.smoothing) : undefined,
      };
    });
}
