// The contract between the extension host and the experiment views: the overlay chart of N runs (webview/plots),
// the runs table (webview/runsTable), and chart export, which every chart view (dashboard, plots) speaks.
// Pure (no Node or vscode imports): both sides import it. Same handshake as webviewMessages.ts: the view posts
// `ready`, the host answers with a full `setData`, then partial ones.

import { isMetricsRecord, type MetricsRecord, type RunStatus } from './runRecords';

// ---------------------------------------------------------------------------------------------
// Chart export (any chart view → host)

export const EXPORT_FORMATS = ['png', 'svg', 'csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The x axis of a chart: optimisation step, seconds since the run's first record, or wall-clock time. */
export const X_AXIS_MODES = ['step', 'relative', 'wall'] as const;
export type XAxisMode = (typeof X_AXIS_MODES)[number];

/**
 * A chart's export, posted by the view (after an `exportRequest` or its own Export button). `data` is the file's text;
 * for `png` it is base64. `suggestedName` is a plain file name (no folders), e.g. `loss-3-runs.svg`.
 */
export interface ChartExport {
  type: 'chartExport';
  /** Echoes `exportRequest.requestId`; absent when the user pressed the view's own button. */
  requestId?: number;
  format: ExportFormat;
  suggestedName: string;
  data: string;
  /** Set when the view could not build the export (then `data` is empty). */
  error?: string;
}

/** Host → chart view: produce an export of what is plotted now. */
export interface ExportRequest {
  type: 'exportRequest';
  requestId: number;
  format: ExportFormat;
}

/** Chart view → host: the user pressed "Export…" in the view (the host asks for the format). */
export interface ExportMenuRequest {
  type: 'exportMenu';
}

// ---------------------------------------------------------------------------------------------
// Overlay chart of N runs (webview/plots)

export interface PlotRun {
  /** Stable key: the run folder's absolute path. */
  id: string;
  /** Display name (studio.json's, else run.json's), with the folder id when they differ. */
  label: string;
  status: RunStatus;
  /** Index into the view's palette, stable for the run while the panel lives. */
  colorIndex: number;
}

export interface PlotsState {
  title: string | null;
  runs: PlotRun[];
  /**
   * Metrics per run id. With `metricsAppend: true` in the same `setData` the records are appended to each run's
   * series (a record whose step is not after the last one drops the tail from that step, as after a resume);
   * otherwise they replace the series of the runs they name.
   */
  metrics: Record<string, MetricsRecord[]>;
  metricsAppend: boolean;
  error: string | null;
}

export const EMPTY_PLOTS_STATE: Readonly<PlotsState> = Object.freeze({
  title: null,
  runs: [],
  metrics: {},
  metricsAppend: false,
  error: null,
});

export type HostToPlotsMessage = { type: 'setData'; data: Partial<PlotsState> } | ExportRequest;
export type PlotsToHostMessage = { type: 'ready' } | ChartExport | ExportMenuRequest;

// ---------------------------------------------------------------------------------------------
// Runs table (webview/runsTable)

/** One numeric column value of a run (metrics and evaluation results). */
export interface RunsTableMetric {
  key: string;
  label: string;
  /** Tooltip/group, e.g. `k-NN · synthetic objects`. */
  group: string;
  value: number;
  unit: '%' | '';
  direction: 'higher' | 'lower';
  /** The step the value belongs to (best loss: where it was reached; evaluation: the checkpoint). */
  step?: number;
  /** Shown by default (last and best loss, the evaluation headline); the others are in the column chooser. */
  headline?: boolean;
  /** Why the value says less than it seems (EvalMetric.caveat): the cell is marked ⚠ and its tooltip says why. */
  caveat?: string;
}

export interface RunsTableRow {
  /** The run folder's absolute path. */
  id: string;
  /** Folder name, e.g. `20250101-120000-venice`. */
  folder: string;
  /** studio.json's display name, else run.json's name, else the folder name. */
  name: string;
  starred: boolean;
  status: RunStatus;
  step: number;
  totalSteps: number | null;
  /** ISO time the run was created. */
  created: string | null;
  preset: string | null;
  backend: string | null;
  /** Last loss, best loss, evaluation results of the newest evaluated checkpoint. */
  metrics: RunsTableMetric[];
  /** The flattened resolved config (`training.lr` → `0.0005`, values as JSON text). */
  config: Record<string, string>;
  /** Whether the run has a complete checkpoint (compare needs one). */
  hasCheckpoint: boolean;
}

export interface RunsTableState {
  rows: RunsTableRow[];
  /** The runs folders listed, for the empty state. */
  folders: string[];
  error: string | null;
}

export const EMPTY_RUNS_TABLE_STATE: Readonly<RunsTableState> = Object.freeze({ rows: [], folders: [], error: null });

export type RunsTableAction = 'plot' | 'compare' | 'delete' | 'open' | 'star' | 'unstar' | 'rename';
export const RUNS_TABLE_ACTIONS: readonly RunsTableAction[] = ['plot', 'compare', 'delete', 'open', 'star', 'unstar', 'rename'];

export type HostToRunsTableMessage = { type: 'setData'; data: Partial<RunsTableState> };
/** `action` on the selected runs (`open`, `rename`: the first one). */
export type RunsTableToHostMessage = { type: 'ready' } | { type: 'action'; action: RunsTableAction; runs: string[] };

// ---------------------------------------------------------------------------------------------
// Guards: the host checks what a view posts, a view checks what the host posts.

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStepNumber = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const RUN_STATUSES: readonly string[] = ['starting', 'running', 'finished', 'failed', 'stopped', 'crashed'];
const isStatus = (v: unknown): v is RunStatus => isStr(v) && RUN_STATUSES.includes(v);

/** A plain file name: no folder separators, no leading dot, no control characters. */
export function isPlainFileName(v: unknown): v is string {
  // eslint-disable-next-line no-control-regex
  return isStr(v) && v.length > 0 && v.length <= 200 && !/[/\\\u0000-\u001f]/.test(v) && !v.startsWith('.');
}

export function isChartExport(v: unknown): v is ChartExport {
  return (
    isObject(v) &&
    v.type === 'chartExport' &&
    (v.requestId === undefined || Number.isInteger(v.requestId)) &&
    (EXPORT_FORMATS as readonly unknown[]).includes(v.format) &&
    isPlainFileName(v.suggestedName) &&
    isStr(v.data) &&
    (v.error === undefined || isStr(v.error))
  );
}

export function isExportRequest(v: unknown): v is ExportRequest {
  return (
    isObject(v) && v.type === 'exportRequest' && Number.isInteger(v.requestId) && (EXPORT_FORMATS as readonly unknown[]).includes(v.format)
  );
}

function isPlotRun(v: unknown): v is PlotRun {
  return isObject(v) && isStr(v.id) && isStr(v.label) && isStatus(v.status) && isStepNumber(v.colorIndex);
}

export function isPlotsUpdate(v: unknown): v is Partial<PlotsState> {
  if (!isObject(v)) return false;
  const checks: { [K in keyof PlotsState]: (x: unknown) => boolean } = {
    title: (x) => x === null || isStr(x),
    runs: (x) => Array.isArray(x) && x.every(isPlotRun),
    metrics: (x) => isObject(x) && Object.values(x).every((list) => Array.isArray(list) && list.every(isMetricsRecord)),
    metricsAppend: (x) => typeof x === 'boolean',
    error: (x) => x === null || isStr(x),
  };
  return Object.entries(v).every(
    ([key, value]) => !Object.hasOwn(checks, key) || value === undefined || checks[key as keyof PlotsState](value),
  );
}

export function isHostToPlotsMessage(v: unknown): v is HostToPlotsMessage {
  return (isObject(v) && v.type === 'setData' && isPlotsUpdate(v.data)) || isExportRequest(v);
}

export function isPlotsToHostMessage(v: unknown): v is PlotsToHostMessage {
  return isObject(v) && (v.type === 'ready' || v.type === 'exportMenu' || isChartExport(v));
}

function isRunsTableMetric(v: unknown): v is RunsTableMetric {
  return (
    isObject(v) &&
    isStr(v.key) &&
    isStr(v.label) &&
    isStr(v.group) &&
    isNum(v.value) &&
    (v.unit === '%' || v.unit === '') &&
    (v.direction === 'higher' || v.direction === 'lower') &&
    (v.step === undefined || isStepNumber(v.step)) &&
    (v.headline === undefined || typeof v.headline === 'boolean')
  );
}

export function isRunsTableRow(v: unknown): v is RunsTableRow {
  return (
    isObject(v) &&
    isStr(v.id) &&
    isStr(v.folder) &&
    isStr(v.name) &&
    typeof v.starred === 'boolean' &&
    isStatus(v.status) &&
    isStepNumber(v.step) &&
    (v.totalSteps === null || isStepNumber(v.totalSteps)) &&
    (v.created === null || isStr(v.created)) &&
    (v.preset === null || isStr(v.preset)) &&
    (v.backend === null || isStr(v.backend)) &&
    Array.isArray(v.metrics) &&
    v.metrics.every(isRunsTableMetric) &&
    isObject(v.config) &&
    Object.values(v.config).every(isStr) &&
    typeof v.hasCheckpoint === 'boolean'
  );
}

export function isHostToRunsTableMessage(v: unknown): v is HostToRunsTableMessage {
  if (!isObject(v) || v.type !== 'setData' || !isObject(v.data)) return false;
  const d = v.data;
  return (
    (d.rows === undefined || (Array.isArray(d.rows) && d.rows.every(isRunsTableRow))) &&
    (d.folders === undefined || (Array.isArray(d.folders) && d.folders.every(isStr))) &&
    (d.error === undefined || d.error === null || isStr(d.error))
  );
}

export function isRunsTableToHostMessage(v: unknown): v is RunsTableToHostMessage {
  if (!isObject(v)) return false;
  if (v.type === 'ready') return true;
  return (
    v.type === 'action' &&
    (RUNS_TABLE_ACTIONS as readonly unknown[]).includes(v.action) &&
    Array.isArray(v.runs) &&
    v.runs.length > 0 &&
    v.runs.every(isStr)
  );
}
