// Pure transforms behind the compare view: flattened config diff and the metrics table with the
// best checkpoint per row. No DOM, so they are unit-tested in Node.

import type { CompareCheckpoint } from '../../src/core/webviewMessages';

export interface ConfigRow {
  /** Dotted path, e.g. `training.lr`. */
  key: string;
  /** JSON text of each checkpoint's value; undefined where the key is absent. */
  values: (string | undefined)[];
  differs: boolean;
}

/** `{a: {b: 1}, c: [1, 2]}` → `a.b = 1`, `c = [1,2]` (arrays are leaves: they are compared whole). */
export function flattenConfig(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, '{}');
    for (const [key, child] of entries) flattenConfig(child, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out.set(prefix, JSON.stringify(value) ?? 'undefined');
  }
  return out;
}

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
