// Pure transforms behind the compare view: flattened config diff and the metrics table with the
// best checkpoint per row. No DOM, so they are unit-tested in Node.

import { flattenConfig } from '../../src/core/configFlatten';
import type { CompareCheckpoint } from '../../src/core/webviewMessages';

export interface ConfigRow {
  /** Dotted path, e.g. `training.lr`. */
  key: string;
  /** JSON text of each checkpoint's value; undefined where the key is absent. */
  values: (string | undefined)[];
  differs: boolean;
}

export { flattenConfig };

/** One row per key of any config, in first-seen order; `differs` when not every checkpoint has the same value. */
export function configRows(configs: readonly Record<string, unknown>[]): ConfigRow[] {
  const flat = configs.map((config) => flattenConfig(config));
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const map of flat)
    for (const key of map.keys())
      if (!seen.has(key)) {
        seen.add(key);
        keys.push(key);
      }
  return keys.map((key) => {
    const values = flat.map((map) => map.get(key));
    return { key, values, differs: values.some((v) => v !== values[0]) };
  });
}

export type Direction = 'lower' | 'higher' | 'none';

/** Which way is better for a metric. Schedules (lr, wd, momentum, temperatures) and entropies have no "better". */
export function metricDirection(key: string): Direction {
  if (/loss/i.test(key) || key === 'secPerStep' || key === 'gradNorm') return 'lower';
  if (key === 'imgPerSec') return 'higher';
  return 'none';
}

export interface MetricRow {
  key: string;
  values: (number | undefined)[];
  direction: Direction;
  /** Indices of the best checkpoint(s) (ties all count); empty when there is no direction or fewer than 2 values. */
  best: number[];
}

const NOT_COMPARED = new Set(['step', 'time']);

export function metricRows(checkpoints: readonly CompareCheckpoint[]): MetricRow[] {
  const keys: string[] = [];
  for (const checkpoint of checkpoints) {
    for (const [key, value] of Object.entries(checkpoint.metrics ?? {})) {
      if (!NOT_COMPARED.has(key) && typeof value === 'number' && !keys.includes(key)) keys.push(key);
    }
  }
  const order = (key: string): number => (key === 'loss' ? 0 : metricDirection(key) !== 'none' ? 1 : 2);
  keys.sort((a, b) => order(a) - order(b));
  return keys.map((key) => {
    const values = checkpoints.map((c) => {
      const v = c.metrics?.[key];
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    });
    const direction = metricDirection(key);
    const present = values.filter((v): v is number => v !== undefined);
    let best: number[] = [];
    if (direction !== 'none' && present.length >= 2) {
      const target = direction === 'lower' ? Math.min(...present) : Math.max(...present);
      best = values.flatMap((v, i) => (v === target ? [i] : []));
    }
    return { key, values, direction, best };
  });
}

export interface EvaluationRow {
  key: string;
  group: string;
  label: string;
  unit: '%' | '';
  direction: 'higher' | 'lower';
  /** undefined where that checkpoint has no such result. */
  values: (number | undefined)[];
  /** Each checkpoint's standard error and caveat for this metric (EvalMetric.stdErr / .caveat). */
  stdErrs: (number | undefined)[];
  caveats: (string | undefined)[];
  /** Indices of the best checkpoint(s) (ties all count); empty with fewer than 2 values. */
  best: number[];
}

/** One row per evaluation metric of any checkpoint (first-seen order, so groups stay together), best marked. */
export function evaluationRows(checkpoints: readonly CompareCheckpoint[]): EvaluationRow[] {
  const rows = new Map<string, EvaluationRow>();
  checkpoints.forEach((checkpoint, index) => {
    for (const metric of checkpoint.evaluation ?? []) {
      let row = rows.get(metric.key);
      if (!row) {
        row = {
          key: metric.key,
          group: metric.group,
          label: metric.label,
          unit: metric.unit,
          direction: metric.direction,
          values: checkpoints.map(() => undefined),
          stdErrs: checkpoints.map(() => undefined),
          caveats: checkpoints.map(() => undefined),
          best: [],
        };
        rows.set(metric.key, row);
      }
      row.values[index] = Number.isFinite(metric.value) ? metric.value : undefined;
      row.stdErrs[index] = metric.stdErr;
      row.caveats[index] = metric.caveat;
    }
  });
  for (const row of rows.values()) {
    const present = row.values.filter((v): v is number => v !== undefined);
    if (present.length < 2) continue;
    const target = row.direction === 'higher' ? Math.max(...present) : Math.min(...present);
    row.best = row.values.flatMap((v, i) => (v === target ? [i] : []));
  }
  // Rows of one group together, in the order the groups first appear.
  const groups = [...new Set([...rows.values()].map((r) => r.group))];
  return [...rows.values()].sort((a, b) => groups.indexOf(a.group) - groups.indexOf(b.group));
}

/**
 * One attention map for display: head `head` (or the mean over heads when `head` is 'mean') of frame `frame` from
 * `attention` [frames, heads, grid, grid], stretched to [0, 1] (softmax maps have small, uneven ranges).
 */
export function attentionMap(attention: Float32Array, shape: readonly number[], frame: number, head: number | 'mean'): Float32Array {
  const [, heads, rows, cols] = shape;
  const cells = rows * cols;
  const out = new Float32Array(cells);
  const chosen = head === 'mean' ? Array.from({ length: heads }, (_, i) => i) : [head];
  for (const h of chosen) {
    const offset = (frame * heads + h) * cells;
    for (let c = 0; c < cells; c++) out[c] += attention[offset + c] / chosen.length;
  }
  let low = Infinity;
  let peak = -Infinity;
  for (const v of out) {
    low = Math.min(low, v);
    peak = Math.max(peak, v);
  }
  const span = peak - low;
  for (let c = 0; c < cells; c++) out[c] = span > 0 ? (out[c] - low) / span : 0;
  return out;
}
