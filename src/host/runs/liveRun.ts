// The live state of one run, folded from the trainer's IPC messages (or from tailed metrics.jsonl
// when there is no IPC channel, e.g. after a window reload). Pure reducer: no I/O, no vscode.

import type { FinishReason, ProgressPhase, TrainerMessage } from '../../core/messages';
import type { MetricsRecord, RunInfo } from '../../core/runRecords';
import type { EngineExit } from '../engine/engineProcess';
import { describeExit, stderrLines } from '../engine/exit';

export interface LiveRunState {
  runDir: string;
  /** Display name (run.json name or the folder name). */
  name: string;
  pid?: number;
  phase: ProgressPhase;
  /** Last completed optimisation step. */
  step: number;
  totalSteps: number | null;
  loss?: number;
  imgPerSec?: number;
  /** Seconds left at the current rate. */
  eta?: number;
  /** Frame-cache progress while phase is 'frame-cache'. */
  frameCache?: { done: number; total: number | null; eta?: number; rate?: number; message?: string };
  lastWarning?: string;
  /** The last error the trainer reported (or the exit that nobody explained), with its fix when known. */
  lastError?: { message: string; fix?: string };
  /** Set once the trainer said `finished`, or exited. */
  finished?: { reason: FinishReason; message?: string };
  /** Whether this host holds an IPC channel to the trainer. */
  attached: boolean;
  /** Which engine trains, and (from its `ready` or run.json) on which device/backend and in which precision. */
  engine?: { name: string; device?: string; precision?: string; backend?: string; python?: string };
}

export function initialLiveRun(runDir: string, name: string, attached: boolean): LiveRunState {
  return { runDir, name, phase: 'starting', step: 0, totalSteps: null, attached };
}

export function applyMetrics(state: LiveRunState, record: MetricsRecord): LiveRunState {
  return {
    ...state,
    step: Math.max(state.step, record.step),
    loss: record.loss,
    imgPerSec: record.imgPerSec,
    phase: state.phase === 'starting' ? 'training' : state.phase,
  };
}

export function applyTrainerMessage(state: LiveRunState, message: TrainerMessage): LiveRunState {
  switch (message.type) {
    case 'ready': {
      const v = message.versions;
      const engine = { ...state.engine, name: v.engine ?? state.engine?.name ?? 'tfjs', device: v.device, precision: v.precision };
      return { ...state, pid: message.pid, engine };
    }
    case 'progress': {
      const next: LiveRunState = { ...state, phase: message.phase };
      if (message.phase === 'frame-cache') {
        // message: the engine's text, e.g. the sizes so far → projected while it builds the cache
        next.frameCache = { done: message.done, total: message.total, eta: message.eta, rate: message.rate, message: message.message };
      } else if (message.phase === 'training') {
        next.step = Math.max(state.step, message.done);
        next.totalSteps = message.total ?? state.totalSteps;
        next.eta = message.eta;
      }
      return next;
    }
    case 'metrics':
      return applyMetrics(state, message.record);
    case 'eval-result':
    case 'inspect-result':
    case 'frame-cache-ready':
    case 'demo-ready':
    case 'run-prepared':
    case 'checkpoint-imported':
      return state; // answers to other requests, each in its own engine process (src/host/engine)
    case 'warning':
      return { ...state, lastWarning: message.message };
    case 'error':
      return { ...state, lastError: { message: message.message, fix: message.fix } };
    case 'finished':
      return { ...state, step: Math.max(state.step, message.step), finished: { reason: message.reason, message: message.message } };
    case 'checkpoint-saved':
    case 'snapshot-ready':
      return state;
  }
}

/**
 * The trainer process exited. An exit without a `finished` message, or with a non-zero code, is a crash:
 * keep the last error the trainer sent, else describe the exit and quote the end of its stderr.
 */
export function applyExit(state: LiveRunState, exit: EngineExit): LiveRunState {
  if (state.finished && state.finished.reason !== 'failed' && exit.code === 0) return { ...state, attached: false };
  if (state.finished?.reason === 'failed' && state.lastError) return { ...state, attached: false };
  const how = describeExit(exit);
  const tail = stderrLines(exit, 5).length ? `\n${stderrLines(exit, 5).join('\n')}` : '';
  const lastError = state.lastError ?? {
    message: `The trainer (pid ${state.pid ?? '?'}) ${how} before it finished.${tail}`,
    fix:
      'See the "DoRA Trainer" output channel and trainer.log in the run folder; resume from the last checkpoint ' +
      'once the cause is fixed.',
  };
  return { ...state, attached: false, lastError, finished: state.finished ?? { reason: 'failed', message: lastError.message } };
}

/**
 * The live state of a run this window did not start (another window, the CLI, or before a reload), from its files:
 * the last metrics record and run.json. ETA from the step time of that record.
 */
export function stateFromFiles(
  runDir: string,
  name: string,
  files: { step: number; totalSteps?: number | null; lastMetrics?: MetricsRecord; info?: RunInfo },
): LiveRunState {
  const m = files.lastMetrics;
  const step = Math.max(files.step, m?.step ?? 0);
  const totalSteps = files.totalSteps ?? null;
  const eta = totalSteps !== null && m && m.secPerStep > 0 ? Math.max(0, totalSteps - step) * m.secPerStep : undefined;
  const engine = files.info && engineFromInfo(files.info);
  return { runDir, name, phase: 'training', step, totalSteps, loss: m?.loss, imgPerSec: m?.imgPerSec, eta, attached: false, engine };
}

/** The engine of a run as its run.json records it (a TF.js run.json has no `engine`). */
export function engineFromInfo(info: RunInfo): NonNullable<LiveRunState['engine']> {
  const name = info.engine ?? (info.backend?.startsWith('pytorch-') ? 'pytorch' : 'tfjs');
  return { name, device: info.device, precision: info.precision, backend: info.backend ?? undefined };
}
