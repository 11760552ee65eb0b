// The x axis of the metric charts: optimisation step, time since the run's first record, or wall-clock time.
// Pure (no DOM): x values, ticks and labels for each mode, unit-tested in Node.

import type { XAxisMode } from '../../src/core/experimentMessages';
import { formatStep } from './format';
import { niceTicks, stepTicks } from './ticks';

export type { XAxisMode } from '../../src/core/experimentMessages';

export const X_AXIS_LABELS: Record<XAxisMode, string> = {
  step: 'Step',
  relative: 'Relative time',
  wall: 'Wall time',
};

/** The axis title written under the chart (and into exports). */
export const X_AXIS_TITLES: Record<XAxisMode, string> = {
  step: 'step',
  relative: 'time since the first record',
  wall: 'wall-clock time',
};

/** ISO time of a metrics record → epoch milliseconds (NaN when unparsable). */
export function parseTime(iso: string): number {
  return Date.parse(iso);
}

/**
 * The x value of every record for `mode`: the step; seconds since the first record; or epoch seconds. Times are made
 * non-decreasing (a clock stepping back would otherwise fold the curve over itself) and an unparsable time takes the
 * previous one, so the x values are always ascending like the steps.
 */
export function xValues(steps: ArrayLike<number>, timesMs: ArrayLike<number>, mode: XAxisMode, originMs?: number): Float64Array {
  const out = new Float64Array(steps.length);
  if (mode === 'step') {
    for (let i = 0; i < steps.length; i++) out[i] = steps[i];
    return out;
  }
  let previous = Number.NEGATIVE_INFINITY;
  let first = Number.NaN;
  for (let i = 0; i < timesMs.length; i++)
    if (Number.isFinite(timesMs[i])) {
      first = timesMs[i];
      break;
    }
  const origin = mode === 'relative' ? (originMs ?? first) : 0;
  for (let i = 0; i < steps.length; i++) {
    const t = Number.isFinite(timesMs[i]) ? timesMs[i] : previous;
    const clamped = Math.max(t, previous);
    previous = clamped;
    out[i] = Number.isFinite(clamped) ? (clamped - origin) / 1000 : Number.NaN;
  }
  return out;
}

/** Nice time steps in seconds: 1 s … 30 min, 1 h … 12 h, days. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

function timeStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  return TIME_STEPS.find((s) => s >= raw) ?? Math.ceil(raw / 86400) * 86400;
}

/**
 * Tick values for [min, max] in the mode's units (steps, or seconds). Wall-clock ticks fall on round local times:
 * `tzOffsetMinutes` is `Date#getTimezoneOffset()` (positive west of UTC), injectable for tests.
 */
export function xTicks(
  min: number,
  max: number,
  mode: XAxisMode,
  target = 5,
  tzOffsetMinutes = new Date(min * 1000).getTimezoneOffset(),
): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) return [];
  if (mode === 'step') return stepTicks(min, max, target);
  if (max - min < 2) return niceTicks(min, max, target);
  const step = timeStep(max - min, target);
  const shift = mode === 'wall' && step >= 3600 ? -tzOffsetMinutes * 60 : 0; // local midnight/hours, not UTC's
  const ticks: number[] = [];
  for (let t = Math.ceil((min + shift) / step) * step - shift; t <= max + 1e-9; t += step) ticks.push(t);
  return ticks;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** A relative time as the axis shows it: 45s, 3m 05s, 1h 02m, 2d 03h. */
export function formatElapsed(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const sign = seconds < 0 ? '−' : '';
  const s = Math.round(Math.abs(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${sign}${d}d ${pad2(h)}h`;
  if (h > 0) return `${sign}${h}h ${pad2(m)}m`;
  if (m > 0) return `${sign}${m}m ${pad2(s % 60)}s`;
  return `${sign}${s}s`;
}

/** Local wall-clock time: HH:MM:SS within a day's span, else "Dec 04 19:30". */
export function formatWall(
  epochSeconds: number,
  spanSeconds: number,
  tzOffsetMinutes = new Date(epochSeconds * 1000).getTimezoneOffset(),
): string {
  if (!Number.isFinite(epochSeconds)) return '—';
  const local = new Date((epochSeconds - tzOffsetMinutes * 60) * 1000); // read with getUTC* = local fields
  const time = `${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}`;
  if (spanSeconds >= 86400) {
    const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][local.getUTCMonth()];
    return `${month} ${pad2(local.getUTCDate())} ${time}`;
  }
  return spanSeconds < 600 ? `${time}:${pad2(local.getUTCSeconds())}` : time;
}

/** A tick or hover label of an x value. `span` is the visible range (the wall clock shows dates only across days). */
export function formatX(value: number, mode: XAxisMode, span: number, tzOffsetMinutes?: number): string {
  if (mode === 'step') return formatStep(value);
  if (mode === 'relative') return formatElapsed(value);
  return formatWall(value, span, tzOffsetMinutes);
}
