// The runs table without a DOM: its columns (run facts, metrics, the config keys whose values differ), cell values,
// sorting, filtering, the best value per metric column, and the selection kept across live updates. Pure;
// unit-tested in Node.

import type { RunsTableMetric, RunsTableRow } from '../../src/core/experimentMessages';
import { formatStep, formatValue } from '../shared/format';

export type ColumnGroup = 'run' | 'metric' | 'config';

export interface Column {
  id: string;
  /** Metric columns: shown by default. */
  headline?: boolean;
  label: string;
  group: ColumnGroup;
  /** Tooltip: what the column holds. */
  title: string;
  numeric: boolean;
  /** Metric columns: which way is better. */
  direction?: 'higher' | 'lower';
}

export interface SortSpec {
  column: string;
  descending: boolean;
}

const RUN_COLUMNS: Column[] = [
  { id: 'starred', label: '★', group: 'run', title: 'Starred runs (star or unstar from the row)', numeric: false },
  { id: 'name', label: 'Run', group: 'run', title: 'Display name (rename: DoRA: Rename Run…), and the run folder', numeric: false },
  { id: 'status', label: 'Status', group: 'run', title: 'Status from events.jsonl', numeric: false },
  { id: 'step', label: 'Step', group: 'run', title: 'Last step / total steps', numeric: true },
  { id: 'created', label: 'Created', group: 'run', title: 'When the run folder was created', numeric: false },
  { id: 'preset', label: 'Preset', group: 'run', title: 'Config preset', numeric: false },
  { id: 'backend', label: 'Backend', group: 'run', title: 'TF.js backend in use', numeric: false },
];

/** Columns always shown unless the user hides them. */
export const DEFAULT_RUN_COLUMNS = ['starred', 'name', 'status', 'step', 'created'];
/** How many differing config keys are shown by default (the chooser lists them all). */
export const DEFAULT_CONFIG_COLUMNS = 8;

export const metricColumnId = (key: string): string => `metric:${key}`;
export const configColumnId = (key: string): string => `config:${key}`;

/** Config keys whose value is not the same in every row (a key missing from a row counts as a value). */
export function differingConfigKeys(rows: readonly RunsTableRow[]): string[] {
  const keys: string[] = [];
  for (const row of rows) for (const key of Object.keys(row.config)) if (!keys.includes(key)) keys.push(key);
  return keys.filter((key) => rows.some((row) => row.config[key] !== rows[0].config[key]));
}

/** Every column the rows can fill: run facts, each metric any row has (first-seen order), every config key. */
export function allColumns(rows: readonly RunsTableRow[]): Column[] {
  const metrics = new Map<string, RunsTableMetric>();
  for (const row of rows) for (const m of row.metrics) if (!metrics.has(m.key)) metrics.set(m.key, m);
  const differing = new Set(differingConfigKeys(rows));
  const configKeys: string[] = [];
  for (const row of rows) for (const key of Object.keys(row.config)) if (!configKeys.includes(key)) configKeys.push(key);
  configKeys.sort((a, b) => Number(differing.has(b)) - Number(differing.has(a)));
  return [
    ...RUN_COLUMNS,
    ...[...metrics.values()].map((m) => ({
      id: metricColumnId(m.key),
      label: m.label,
      group: 'metric' as const,
      title: `${m.group}: ${m.label} (${m.direction} is better)`,
      numeric: true,
      direction: m.direction,
      headline: m.headline === true,
    })),
    ...configKeys.map((key) => ({
      id: configColumnId(key),
      label: key,
      group: 'config' as const,
      title: differing.has(key) ? `config.json ${key} (differs between runs)` : `config.json ${key} (the same in every run)`,
      numeric: false,
    })),
  ];
}

/** Shown when the user has not chosen: run facts, the headline metrics, the first differing config keys. */
export function defaultVisibleColumns(rows: readonly RunsTableRow[]): string[] {
  const columns = allColumns(rows);
  return [
    ...DEFAULT_RUN_COLUMNS,
    ...columns.filter((c) => c.group === 'metric' && c.headline).map((c) => c.id),
    ...differingConfigKeys(rows).slice(0, DEFAULT_CONFIG_COLUMNS).map(configColumnId),
  ];
}

/** The caveat of a metric cell (EvalMetric.caveat), for its tooltip. */
export function cellCaveat(row: RunsTableRow, column: Column): string | undefined {
  if (column.group !== 'metric') return undefined;
  return row.metrics.find((m) => metricColumnId(m.key) === column.id)?.caveat;
}

/** A cell's sortable value: a number for numeric columns (undefined when empty), text otherwise. */
export function cellValue(row: RunsTableRow, column: Column): number | string | undefined {
  if (column.group === 'metric') return row.metrics.find((m) => metricColumnId(m.key) === column.id)?.value;
  if (column.group === 'config') {
    const text = row.config[column.id.slice('config:'.length)];
    if (text === undefined) return undefined;
    const n = Number(text);
    return text.trim() !== '' && Number.isFinite(n) ? n : text;
  }
  switch (column.id) {
    case 'starred':
      return row.starred ? 1 : 0;
    case 'name':
      return row.name.toLowerCase();
    case 'status':
      return row.status;
    case 'step':
      return row.step;
    case 'created':
      return row.created ?? undefined;
    case 'preset':
      return row.preset ?? undefined;
    case 'backend':
      return row.backend ?? undefined;
    default:
      return undefined;
  }
}

/** The text a cell shows. */
export function cellText(row: RunsTableRow, column: Column): string {
  if (column.group === 'metric') {
    const m = row.metrics.find((x) => metricColumnId(x.key) === column.id);
    if (!m) return '';
    return `${m.unit === '%' ? `${m.value.toFixed(1)}%` : formatValue(m.value)}${m.caveat ? ' ⚠' : ''}`;
  }
  if (column.group === 'config') {
    const text = row.config[column.id.slice('config:'.length)];
    return text === undefined ? '' : text.replace(/^"(.*)"$/, '$1');
  }
  switch (column.id) {
    case 'starred':
      return row.starred ? '★' : '☆';
    case 'name':
      return row.name;
    case 'status':
      return row.status;
    case 'step':
      return row.totalSteps ? `${formatStep(row.step)} / ${formatStep(row.totalSteps)}` : formatStep(row.step);
    case 'created':
      return row.created ? row.created.replace('T', ' ').slice(0, 16) : '';
    default:
      return String(cellValue(row, column) ?? '');
  }
}

/** Ascending order of two cells; empty cells sort last in both directions (see sortRows). */
function compareValues(a: number | string | undefined, b: number | string | undefined): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** Rows sorted by `sort` (stable; empty cells last); unsorted: newest first. */
export function sortRows(rows: readonly RunsTableRow[], columns: readonly Column[], sort: SortSpec | null): RunsTableRow[] {
  const column = sort && columns.find((c) => c.id === sort.column);
  const keyed = rows.map((row, index) => ({ row, index, value: column ? cellValue(row, column) : (row.created ?? row.folder) }));
  const descending = column ? sort!.descending : true;
  keyed.sort((a, b) => {
    const emptyA = a.value === undefined;
    const emptyB = b.value === undefined;
    if (emptyA !== emptyB) return emptyA ? 1 : -1;
    const order = emptyA ? 0 : compareValues(a.value, b.value);
    return (descending ? -order : order) || a.index - b.index;
  });
  return keyed.map((k) => k.row);
}

/** Rows whose visible text contains every whitespace-separated term of `query` (case-insensitive). */
export function filterRows(rows: readonly RunsTableRow[], columns: readonly Column[], query: string): RunsTableRow[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return [...rows];
  return rows.filter((row) => {
    const text = [row.folder, ...columns.map((c) => (c.id === 'starred' ? (row.starred ? 'starred' : '') : cellText(row, c)))]
      .join(' ')
      .toLowerCase();
    return terms.every((t) => text.includes(t));
  });
}

/** For each metric column: the ids of the rows holding its best value (ties all count; needs two or more values). */
export function bestPerColumn(rows: readonly RunsTableRow[], columns: readonly Column[]): Map<string, Set<string>> {
  const best = new Map<string, Set<string>>();
  for (const column of columns) {
    if (column.group !== 'metric' || !column.direction) continue;
    const values = rows
      .map((row) => ({ id: row.id, v: cellValue(row, column) }))
      .filter((x): x is { id: string; v: number } => typeof x.v === 'number');
    if (values.length < 2) continue;
    const target = column.direction === 'lower' ? Math.min(...values.map((x) => x.v)) : Math.max(...values.map((x) => x.v));
    best.set(column.id, new Set(values.filter((x) => x.v === target).map((x) => x.id)));
  }
  return best;
}

/** The selection after an update: ids of runs that are gone are dropped, the order kept. */
export function keepSelection(selected: readonly string[], rows: readonly RunsTableRow[]): string[] {
  const ids = new Set(rows.map((r) => r.id));
  return selected.filter((id) => ids.has(id));
}

/** Which selection actions are possible: plot needs runs with metrics, compare needs two checkpoints, delete no live run. */
export function selectionActions(
  rows: readonly RunsTableRow[],
  selected: readonly string[],
): { plot: boolean; compare: boolean; delete: boolean; reason?: string } {
  const chosen = rows.filter((r) => selected.includes(r.id));
  const live = chosen.filter((r) => r.status === 'running' || r.status === 'starting');
  return {
    plot: chosen.length > 0,
    compare: chosen.filter((r) => r.hasCheckpoint).length >= 2,
    delete: chosen.length > 0 && live.length === 0,
    reason:
      live.length > 0
        ? `${live.map((r) => r.name).join(', ')} ${live.length === 1 ? 'is' : 'are'} training: stop ${live.length === 1 ? 'it' : 'them'} before deleting`
        : undefined,
  };
}

/** "3 of 12 runs · 2 selected". */
export function summaryText(shown: number, total: number, selected: number): string {
  return `${shown === total ? `${total}` : `${shown} of ${total}`} run${total === 1 ? '' : 's'}${selected ? ` · ${selected} selected` : ''}`;
}
