// Minimal contract between the extension host and a run webview (postMessage, JSON).
// The host pushes state as keyed partial updates; the webview only asks. Type-only imports keep
// this file free of Node modules, so the webview bundle can import it.

import type { MetricsRecord, RunInfo, RunStatusReport, SnapshotManifest } from './runRecords';

/** Everything a run view shows. `setData` replaces the keys it carries and leaves the others alone. */
export interface WebviewState {
  run: RunInfo | null;
  status: RunStatusReport | null;
  /** When a setData carries metrics, they are appended when `metricsAppend` is true, else they replace. */
  metrics: MetricsRecord[];
  metricsAppend: boolean;
  /** Steps that have a snapshot, ascending. */
  snapshotSteps: number[];
  /** The snapshot last requested, with webview-loadable URIs for its files (keyed by manifest-relative path). */
  snapshot: { manifest: SnapshotManifest; uris: Record<string, string> } | null;
  error: string | null;
}

export type HostToWebviewMessage = { type: 'setData'; data: Partial<WebviewState> };

export type WebviewToHostMessage = { type: 'ready' } | { type: 'requestSnapshot'; step: number };

export function isWebviewToHostMessage(value: unknown): value is WebviewToHostMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as { type?: unknown; step?: unknown };
  if (message.type === 'ready') return true;
  return message.type === 'requestSnapshot' && Number.isInteger(message.step) && (message.step as number) >= 0;
}

export function isHostToWebviewMessage(value: unknown): value is HostToWebviewMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as { type?: unknown; data?: unknown };
  return message.type === 'setData' && typeof message.data === 'object' && message.data !== null && !Array.isArray(message.data);
}
