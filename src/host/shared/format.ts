// Text shown in the status bar, tree descriptions and tooltips. Pure, so the wording is unit-tested.

import type { RunStatus } from '../../core/runRecords';

/** `42s`, `3m 05s`, `1h 02m`, `2d 03h`; '' for values that are not a finite duration. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d ${pad(Math.floor((s % 86400) / 3600))}h`;
}

/** Loss with four significant digits (9.841, 0.01234), '' when unknown. */
export function formatLoss(loss: number | undefined): string {
  if (loss === undefined || !Number.isFinite(loss)) return '';
  return Math.abs(loss) >= 1000 ? loss.toFixed(0) : Number(loss.toPrecision(4)).toString();
}

export function formatRate(imagesPerSecond: number | undefined): string {
  if (imagesPerSecond === undefined || !Number.isFinite(imagesPerSecond)) return '';
  return imagesPerSecond >= 10 ? imagesPerSecond.toFixed(0) : imagesPerSecond.toFixed(1);
}

/** `120/240` or `120` when the total is not known yet. */
export function formatProgress(step: number, total: number | null | undefined): string {
  return total ? `${step}/${total}` : String(step);
}

export const STATUS_LABELS: Record<RunStatus, string> = {
  queued: 'queued',
  starting: 'starting',
  running: 'running',
  finished: 'finished',
  failed: 'failed',
  stopped: 'stopped',
  crashed: 'crashed',
};

/** Codicon ids (with animation where it helps) per status. */
export const STATUS_ICONS: Record<RunStatus, { icon: string; color?: string }> = {
  queued: { icon: 'watch', color: 'charts.purple' },
  starting: { icon: 'loading~spin' },
  running: { icon: 'sync~spin', color: 'charts.blue' },
  finished: { icon: 'pass', color: 'testing.iconPassed' },
  failed: { icon: 'error', color: 'testing.iconFailed' },
  stopped: { icon: 'debug-stop', color: 'charts.yellow' },
  crashed: { icon: 'warning', color: 'testing.iconErrored' },
};

export function isActiveStatus(status: RunStatus): boolean {
  return status === 'running' || status === 'starting' || status === 'queued';
}

/** Joins the non-empty parts with a middle dot. */
export function joinParts(parts: ReadonlyArray<string | undefined | false>): string {
  return parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join(' · ');
}
