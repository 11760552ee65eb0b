// The contract between the extension host and the DoRA Studio webviews (postMessage, JSON).
// The host pushes state as keyed partial updates (`setData`); a webview only asks. This file is
// imported by both sides, so it must stay free of Node and vscode imports (runRecords.ts is pure).
//
// Handshake, for every view: the webview posts {type:'ready'} once its script has loaded (also after
// a reload); the host answers with a full `setData`, then sends partial ones as things change.

import type { AttentionManifest, EvalMetric } from './evalResults';
import { isChartExport, isExportRequest, type ChartExport, type ExportMenuRequest, type ExportRequest } from './experimentMessages';
import { isMetricsRecord, isRunInfo, isSnapshotManifest } from './runRecords';
import type { MetricsRecord, RunInfo, RunStatusReport, SnapshotManifest } from './runRecords';

/**
 * A snapshot folder (or an inspection, which has the same format) as the webview can load it:
 * the manifest plus a webview URI (asWebviewUri) for every manifest-relative file path
 * (`clip-00/frame-00.png`, `clip-00/assignment.f32`, …).
 */
export interface SnapshotPayload {
  manifest: SnapshotManifest;
  uris: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Run dashboard (webview/dashboard)

/** Everything the run dashboard shows. `setData` replaces the keys it carries and leaves the others alone. */
export interface WebviewState {
  run: RunInfo | null;
  status: RunStatusReport | null;
  /**
   * Metrics records, ascending by step. When the same `setData` also carries `metricsAppend: true`
   * they are appended (a record whose step is not after the last one drops the tail from that step
   * on, as after a resume); otherwise they replace the series.
   */
  metrics: MetricsRecord[];
  metricsAppend: boolean;
  /** Steps that have a snapshot, ascending. */
  snapshotSteps: number[];
  /** The snapshot last requested (or the newest one), with webview-loadable URIs for its files. */
  snapshot: SnapshotPayload | null;
  /** `runtime.snapshotEvery` of the run's config, for the empty state; null when unknown. */
  snapshotEvery: number | null;
  /** Seconds left, from the trainer's progress messages; null when unknown (the view then estimates it). */
  etaSeconds: number | null;
  /** Shown as an error banner; null clears it. */
  error: string | null;
}
/** The dashboard's state under its own name; `WebviewState` stays for code written against it. */
export type DashboardState = WebviewState;

export const EMPTY_DASHBOARD_STATE: Readonly<DashboardState> = Object.freeze({
  run: null,
  status: null,
  metrics: [],
  metricsAppend: false,
  snapshotSteps: [],
  snapshot: null,
  snapshotEvery: null,
  etaSeconds: null,
  error: null,
});

export type HostToWebviewMessage = { type: 'setData'; data: Partial<WebviewState> };
export type WebviewToHostMessage = { type: 'ready' } | { type: 'requestSnapshot'; step: number };
/** The dashboard's messages: the session's (above) plus chart export (experimentMessages.ts), which the panel handles. */
export type HostToDashboardMessage = HostToWebviewMessage | ExportRequest;
export type DashboardToHostMessage = WebviewToHostMessage | ChartExport | ExportMenuRequest;

// ---------------------------------------------------------------------------------------------
// Checkpoint compare (webview/compare)

/** One checkpoint in a comparison. The compare view supports any number of them (2 or more). */
export interface CompareCheckpoint {
  /** Stable key, e.g. `<runId>@<step>`; used to keep UI state across updates. */
  id: string;
  /** What the user sees, e.g. `venice @ 120`. */
  label: string;
  step: number;
  /** The run's resolved config.json (DoraConfig), compared key by key. */
  config: Record<string, unknown>;
  /** The metrics record logged at (or nearest before) `step`; null when there is none. */
  metrics: MetricsRecord | null;
  /**
   * Output of the trainer's inspect mode on the shared frames (snapshot format), null while it is
   * still being computed. All checkpoints of one comparison are inspected on the same frames.
   */
  inspection: SnapshotPayload | null;
  /** Why the inspection failed, if it did. */
  inspectionError?: string | null;
  /** Stored evaluation results (checkpoints/step-NNNNNN.eval.json); [] when not evaluated. */
  evaluation?: EvalMetric[];
  /** The attention suite's maps with a webview URI for each file; null when not computed. */
  attentionMaps?: AttentionMapsPayload | null;
}

/** `<checkpoint>.attention/` as the webview loads it: the manifest and a webview URI per manifest-relative file. */
export interface AttentionMapsPayload {
  manifest: AttentionManifest;
  uris: Record<string, string>;
}

export interface CompareState {
  /** Panel heading; null gives a default. */
  title: string | null;
  checkpoints: CompareCheckpoint[];
  error: string | null;
}

export const EMPTY_COMPARE_STATE: Readonly<CompareState> = Object.freeze({ title: null, checkpoints: [], error: null });

export type HostToCompareMessage = { type: 'setData'; data: Partial<CompareState> };
/** `evaluate`: the user asked to evaluate the compared checkpoints (the host runs "DoRA: Evaluate Checkpoint"). */
export type CompareToHostMessage = { type: 'ready' } | { type: 'evaluate' };

// ---------------------------------------------------------------------------------------------
// Guards. The host checks what a webview posts; the webviews check what the host posts.

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStep = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isNullable =
  <T>(check: (v: unknown) => v is T) =>
  (v: unknown): v is T | null =>
    v === null || check(v);
const isStringOrNull = isNullable((v: unknown): v is string => typeof v === 'string');
const isPositiveOrNull = isNullable((v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0);

export function isSnapshotPayload(v: unknown): v is SnapshotPayload {
  return isObject(v) && isSnapshotManifest(v.manifest) && isObject(v.uris) && Object.values(v.uris).every((u) => typeof u === 'string');
}

/** Checks each key a dashboard `setData` carries; absent keys are fine (partial update). */
export function isDashboardUpdate(v: unknown): v is Partial<DashboardState> {
  if (!isObject(v)) return false;
  const checks: { [K in keyof DashboardState]: (x: unknown) => boolean } = {
    run: (x) => x === null || isRunInfo(x),
    status: (x) => x === null || (isObject(x) && typeof x.status === 'string' && isStep(x.step)),
    metrics: (x) => Array.isArray(x) && x.every(isMetricsRecord),
    metricsAppend: (x) => typeof x === 'boolean',
    snapshotSteps: (x) => Array.isArray(x) && x.every(isStep),
    snapshot: (x) => x === null || isSnapshotPayload(x),
    snapshotEvery: isPositiveOrNull,
    etaSeconds: isPositiveOrNull,
    error: isStringOrNull,
  };
  return Object.entries(v).every(
    ([key, value]) => !Object.hasOwn(checks, key) || value === undefined || checks[key as keyof DashboardState](value),
  );
}

function isEvalMetric(v: unknown): v is EvalMetric {
  return (
    isObject(v) &&
    typeof v.key === 'string' &&
    typeof v.group === 'string' &&
    typeof v.label === 'string' &&
    typeof v.value === 'number' &&
    (v.unit === '%' || v.unit === '') &&
    (v.direction === 'higher' || v.direction === 'lower')
  );
}

export function isAttentionMapsPayload(v: unknown): v is AttentionMapsPayload {
  if (!isObject(v) || !isObject(v.manifest) || !isObject(v.uris)) return false;
  const m = v.manifest;
  const shape = isObject(m.attention) ? m.attention.shape : undefined;
  return (
    Number.isInteger(m.grid) &&
    Number.isInteger(m.heads) &&
    Array.isArray(m.frames) &&
    m.frames.every((f) => isObject(f) && Number.isInteger(f.index) && typeof f.png === 'string') &&
    Array.isArray(shape) &&
    shape.length === 4 &&
    shape.every((x) => Number.isInteger(x)) &&
    Object.values(v.uris).every((u) => typeof u === 'string')
  );
}

export function isCompareCheckpoint(v: unknown): v is CompareCheckpoint {
  return (
    isObject(v) &&
    typeof v.id === 'string' &&
    typeof v.label === 'string' &&
    isStep(v.step) &&
    isObject(v.config) &&
    (v.metrics === null || isMetricsRecord(v.metrics)) &&
    (v.inspection === null || isSnapshotPayload(v.inspection)) &&
    (v.inspectionError === undefined || isStringOrNull(v.inspectionError)) &&
    (v.evaluation === undefined || (Array.isArray(v.evaluation) && v.evaluation.every(isEvalMetric))) &&
    (v.attentionMaps === undefined || v.attentionMaps === null || isAttentionMapsPayload(v.attentionMaps))
  );
}

/** Checks each key a compare `setData` carries; absent keys are fine (partial update). */
export function isCompareUpdate(v: unknown): v is Partial<CompareState> {
  if (!isObject(v)) return false;
  const checks: { [K in keyof CompareState]: (x: unknown) => boolean } = {
    title: isStringOrNull,
    checkpoints: (x) => Array.isArray(x) && x.every(isCompareCheckpoint),
    error: isStringOrNull,
  };
  return Object.entries(v).every(
    ([key, value]) => !Object.hasOwn(checks, key) || value === undefined || checks[key as keyof CompareState](value),
  );
}

export function isWebviewToHostMessage(value: unknown): value is WebviewToHostMessage {
  if (!isObject(value)) return false;
  if (value.type === 'ready') return true;
  return value.type === 'requestSnapshot' && isStep(value.step);
}

export function isHostToWebviewMessage(value: unknown): value is HostToWebviewMessage {
  return isObject(value) && value.type === 'setData' && isDashboardUpdate(value.data);
}

export function isHostToDashboardMessage(value: unknown): value is HostToDashboardMessage {
  return isHostToWebviewMessage(value) || isExportRequest(value);
}

export function isDashboardToHostMessage(value: unknown): value is DashboardToHostMessage {
  return isWebviewToHostMessage(value) || isChartExport(value) || (isObject(value) && value.type === 'exportMenu');
}

export function isCompareToHostMessage(value: unknown): value is CompareToHostMessage {
  return isObject(value) && (value.type === 'ready' || value.type === 'evaluate');
}

export function isHostToCompareMessage(value: unknown): value is HostToCompareMessage {
  return isObject(value) && value.type === 'setData' && isCompareUpdate(value.data);
}
