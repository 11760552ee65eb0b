// What the status bar and notifications say about live runs. Pure, so the wording is unit-tested.

import { engineLabel } from '../../core/runRecords';
import { engineFromInfo, stateFromFiles, type LiveRunState } from './liveRun';
import type { RunView } from './runTree';
import { formatDuration, formatLoss, formatProgress, formatRate, joinParts } from '../shared/format';

/** `pytorch · cuda · bf16`, `tfjs · wasm`, or '' when not known yet. */
export function engineText(state: LiveRunState): string {
  const e = state.engine;
  return e ? engineLabel({ engine: e.name, device: e.device, precision: e.precision, backend: e.backend }) : '';
}

/** `$(sync~spin) demo 120/240 · loss 9.841 · 5.1 img/s · ETA 2m 03s · pytorch · cpu · fp32` */
export function statusBarText(state: LiveRunState): string {
  const base = progressText(state);
  const engine = state.phase === 'frame-cache' ? '' : engineText(state);
  return engine ? `${base} · ${engine}` : base;
}

function progressText(state: LiveRunState): string {
  if (state.phase === 'frame-cache' && state.frameCache) {
    const fc = state.frameCache;
    const pct = fc.total ? ` ${Math.floor((100 * fc.done) / fc.total)}%` : '';
    return `$(database) ${state.name}: caching frames${pct}`;
  }
  if (state.phase === 'starting' || state.phase === 'model-init')
    return `$(loading~spin) ${state.name}: ${state.phase === 'starting' ? 'starting' : 'building the model'}`;
  const loss = formatLoss(state.loss);
  const rate = formatRate(state.imgPerSec);
  const eta = formatDuration(state.eta);
  const progress = `${state.name} ${formatProgress(state.step, state.totalSteps)}`;
  return `$(sync~spin) ${joinParts([progress, loss && `loss ${loss}`, rate && `${rate} img/s`, eta && `ETA ${eta}`])}`;
}

/** Status-bar text when several runs are live: the first in full, then `+N`. */
export function statusBarTextForRuns(states: readonly LiveRunState[]): string | undefined {
  const live = states.filter((s) => !s.finished);
  if (live.length === 0) return undefined;
  return live.length === 1 ? statusBarText(live[0]) : `${statusBarText(live[0])}  (+${live.length - 1} more)`;
}

/**
 * The runs the status bar shows: those this window started and has not seen finish, then those training elsewhere
 * (CLI, another window, before a reload), from their files.
 */
export function liveRunsForStatusBar(started: readonly LiveRunState[], views: readonly RunView[]): LiveRunState[] {
  const attached = new Set(started.map((s) => s.runDir));
  const infoOf = new Map(views.map((v) => [v.summary.dir, v.summary.info]));
  const detached = views
    .filter((v) => !attached.has(v.summary.dir) && v.summary.status.status === 'running')
    .map((v) =>
      stateFromFiles(v.summary.dir, v.summary.info?.name ?? v.summary.id, {
        step: v.summary.status.step,
        totalSteps: v.summary.info?.totalSteps,
        lastMetrics: v.lastMetrics,
        info: v.summary.info ?? undefined,
      }),
    );
  // run.json fills in what the engine's `ready` could not know (the TF.js backend, chosen after it).
  const withFiles = started
    .filter((s) => !s.finished)
    .map((s) => {
      const info = infoOf.get(s.runDir);
      return info ? { ...s, engine: { ...engineFromInfo(info), ...definedOnly(s.engine) } } : s;
    });
  return [...withFiles, ...detached];
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Progress of a run's frame-cache phase: percent done and `120/795 frames · 31.2 frames/s · 14 s left · 40 MB → ≈ 160 MB
 * (RGB24 2.7 GB)` (the sizes are the engine's text); undefined outside it.
 */
export function frameCacheProgressOf(state: LiveRunState): { percent: number; message: string } | undefined {
  const fc = state.frameCache;
  if (!fc) return undefined;
  const percent = fc.total ? (100 * fc.done) / fc.total : 0;
  if (!fc.total && fc.done === 0 && fc.message) return { percent, message: fc.message }; // "Preparing <video>", the plan
  const parts = [
    `${fc.done}${fc.total ? `/${fc.total}` : ''} frames`,
    fc.rate ? `${fc.rate.toFixed(1)} frames/s` : '',
    fc.eta ? `${Math.round(fc.eta)} s left` : '',
    fc.message ?? '',
  ];
  return { percent, message: parts.filter(Boolean).join(' · ') };
}

/** The notification for a run that failed: its first error line and the fix. */
export function failureText(state: LiveRunState, runId: string): string | undefined {
  if (!state.finished || state.finished.reason !== 'failed' || !state.lastError) return undefined;
  const fix = state.lastError.fix ? ` Fix: ${state.lastError.fix}` : '';
  return `DoRA run ${runId} failed: ${state.lastError.message.split('\n')[0]}${fix}`;
}
