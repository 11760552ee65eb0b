// The IPC contract between the trainer child process and the extension host (Node `fork` IPC, JSON).
// Discriminated on `type`. The run directory stays the durable record; these messages are the live feed,
// so a host that attaches late (or restarts) loses nothing by reading the run folder instead.

import { EVAL_SUITES, type EvalSuite } from './evalResults';
import { isMetricsRecord, type MetricsRecord } from './runRecords';

/** Sent in `ready`; the host refuses a trainer that speaks another version. */
export const PROTOCOL_VERSION = 1;

export type ProgressPhase = 'starting' | 'frame-cache' | 'model-init' | 'training' | 'checkpoint' | 'snapshot' | 'evaluation';
export type FinishReason = 'completed' | 'stopped' | 'failed';

// Trainer → host ------------------------------------------------------------------------------

export interface ReadyMessage {
  type: 'ready';
  protocol: number;
  pid: number;
  versions: { node: string; tfjs?: string };
}
export interface ProgressMessage {
  type: 'progress';
  phase: ProgressPhase;
  done: number;
  /** null when the total is not known yet. */
  total: number | null;
  /** Units per second (frames for frame-cache, steps for training). */
  rate?: number;
  /** Seconds left at the current rate. */
  eta?: number;
  message?: string;
}
export interface MetricsMessage {
  type: 'metrics';
  record: MetricsRecord;
}
export interface SnapshotReadyMessage {
  type: 'snapshot-ready';
  step: number;
  /** Absolute path of the snapshot folder. */
  path: string;
}
export interface CheckpointSavedMessage {
  type: 'checkpoint-saved';
  step: number;
  /** Absolute path of the checkpoint's sidecar .json. */
  path: string;
}
export interface WarningMessage {
  type: 'warning';
  message: string;
  fix?: string;
}
export interface ErrorMessage {
  type: 'error';
  message: string;
  fix?: string;
  /** true: the trainer is about to exit (a `finished` with reason failed follows when it can). */
  fatal: boolean;
}
export interface FinishedMessage {
  type: 'finished';
  reason: FinishReason;
  step: number;
  message?: string;
}

/** One evaluation of an `evaluate` request is done (its record is in the eval sidecar). */
export interface EvalResultMessage {
  type: 'eval-result';
  suite: EvalSuite;
  dataset: string;
  /** true: the result was already in the sidecar and was not recomputed. */
  cached: boolean;
  seconds: number;
  /** Absolute path of the eval sidecar (checkpoints/step-NNNNNN.eval.json). */
  evalFile: string;
}

export type TrainerMessage =
  | ReadyMessage
  | EvalResultMessage
  | ProgressMessage
  | MetricsMessage
  | SnapshotReadyMessage
  | CheckpointSavedMessage
  | WarningMessage
  | ErrorMessage
  | FinishedMessage;

// Host → trainer ------------------------------------------------------------------------------

export interface StartMessage {
  type: 'start';
  /** Absolute path of the *.dora.json file. */
  configPath: string;
  /** The run folder to write into (created by the host with createRunDir, or an existing one to resume). */
  runDir: string;
  /** Sidecar .json of the checkpoint to resume from. */
  resumeCheckpoint?: string;
  /** Overrides of the config's runtime settings, from the extension's settings. */
  backend?: string;
  ffmpegPath?: string;
  /** Frame-cache root folder. */
  cacheRoot?: string;
  /** Stop (with a checkpoint) after this many steps in total. */
  maxSteps?: number;
  /** Overrides runtime.snapshotEvery (the dora.snapshotInterval setting). */
  snapshotEvery?: number;
  /** Config overrides `key=value` (as `dora train --set`): on resume, the changes of the .dora.json the user accepted. */
  overrides?: string[];
}
export interface StopMessage {
  type: 'stop';
  /** The trainer saves a checkpoint before it exits unless this is false. */
  checkpoint?: boolean;
}

/** One evaluation to run: a suite and, for k-NN, the dataset (`synthetic`, `fashion-mnist` or an image folder). */
export interface EvalJob {
  suite: EvalSuite;
  dataset?: string;
  /** The synthetic walking tour to use when the run's own video has no ground truth (k-NN on objects, tracking). */
  video?: string;
}

/**
 * Evaluate a checkpoint's teacher instead of training (the same child process, sent instead of `start`). The trainer
 * answers with `progress` (phase `evaluation`), one `eval-result` per job and a `finished` (`stopped` after `stop`).
 */
export interface EvaluateMessage {
  type: 'evaluate';
  /** Absolute path of the checkpoint sidecar (checkpoints/step-NNNNNN.json). */
  checkpoint: string;
  jobs: EvalJob[];
  backend?: string;
  ffmpegPath?: string;
  cacheRoot?: string;
  /** Recompute results that are already stored. */
  force?: boolean;
}

export type HostMessage = StartMessage | StopMessage | EvaluateMessage;

// Guards ----------------------------------------------------------------------------------------

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isStep = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
const optional = (check: (v: unknown) => boolean) => (v: unknown) => v === undefined || check(v);
const oneOf =
  (...values: string[]) =>
  (v: unknown) =>
    isStr(v) && values.includes(v);

const TRAINER_CHECKS: Record<TrainerMessage['type'], (m: Fields) => boolean> = {
  ready: (m) => isNum(m.protocol) && isNum(m.pid) && isObject(m.versions) && isStr(m.versions.node),
  progress: (m) =>
    oneOf('starting', 'frame-cache', 'model-init', 'training', 'checkpoint', 'snapshot', 'evaluation')(m.phase) &&
    isNum(m.done) &&
    (m.total === null || isNum(m.total)) &&
    optional(isNum)(m.rate) &&
    optional(isNum)(m.eta) &&
    optional(isStr)(m.message),
  metrics: (m) => isMetricsRecord(m.record),
  'eval-result': (m) =>
    oneOf(...EVAL_SUITES)(m.suite) && isStr(m.dataset) && typeof m.cached === 'boolean' && isNum(m.seconds) && isStr(m.evalFile),
  'snapshot-ready': (m) => isStep(m.step) && isStr(m.path),
  'checkpoint-saved': (m) => isStep(m.step) && isStr(m.path),
  warning: (m) => isStr(m.message) && optional(isStr)(m.fix),
  error: (m) => isStr(m.message) && optional(isStr)(m.fix) && typeof m.fatal === 'boolean',
  finished: (m) => oneOf('completed', 'stopped', 'failed')(m.reason) && isStep(m.step) && optional(isStr)(m.message),
};

const HOST_CHECKS: Record<HostMessage['type'], (m: Fields) => boolean> = {
  start: (m) =>
    isStr(m.configPath) &&
    isStr(m.runDir) &&
    optional(isStr)(m.resumeCheckpoint) &&
    optional(isStr)(m.backend) &&
    optional(isStr)(m.ffmpegPath) &&
    optional(isStr)(m.cacheRoot) &&
    optional(isStep)(m.maxSteps) &&
    optional(isStep)(m.snapshotEvery) &&
    optional((v) => Array.isArray(v) && v.every(isStr))(m.overrides),
  stop: (m) => optional((v) => typeof v === 'boolean')(m.checkpoint),
  evaluate: (m) =>
    isStr(m.checkpoint) &&
    Array.isArray(m.jobs) &&
    m.jobs.length > 0 &&
    m.jobs.every((j) => isObject(j) && oneOf(...EVAL_SUITES)(j.suite) && optional(isStr)(j.dataset) && optional(isStr)(j.video)) &&
    optional(isStr)(m.backend) &&
    optional(isStr)(m.ffmpegPath) &&
    optional(isStr)(m.cacheRoot) &&
    optional((v) => typeof v === 'boolean')(m.force),
};

function matches<T extends string>(checks: Record<T, (m: Fields) => boolean>, value: unknown): boolean {
  if (!isObject(value) || !isStr(value.type) || !Object.hasOwn(checks, value.type)) return false;
  return checks[value.type as T](value);
}

export function isTrainerMessage(value: unknown): value is TrainerMessage {
  return matches(TRAINER_CHECKS, value);
}

export function isHostMessage(value: unknown): value is HostMessage {
  return matches(HOST_CHECKS, value);
}

/** A short description of why a value is not a message, for logs ("unknown type \"foo\"", …). */
export function describeInvalidMessage(value: unknown): string {
  if (!isObject(value)) return 'not an object';
  if (!isStr(value.type)) return 'no string "type" field';
  if (!Object.hasOwn(TRAINER_CHECKS, value.type) && !Object.hasOwn(HOST_CHECKS, value.type))
    return `unknown type ${JSON.stringify(value.type)}`;
  return `fields of a ${JSON.stringify(value.type)} message are missing or have the wrong type`;
}
