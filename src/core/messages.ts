// The one message contract between the extension host and an engine process (docs/architecture.md, "Engine boundary").
// The TF.js engine (dist/trainer.js) speaks it over Node `fork` IPC; a spawned engine (the PyTorch engine) speaks the same
// messages as JSON lines: host → engine on its stdin, engine → host on fd 3 (env DORA_MESSAGE_FD=3), stdout/stderr are
// free-text log. Discriminated on `type`. Every engine process sends `ready` first, then answers ONE request (`start`,
// `evaluate`, `inspect`, `build-frame-cache`, `prepare-demo`, `prepare-run` or `import-checkpoint`) and ends with
// `finished`. The run directory stays the durable record; these messages are the live feed, so a host that attaches late
// loses nothing by reading the files.

import { EVAL_SUITES, type EvalSuite } from './evalResults';
import type {
  BuildFrameCacheMessage,
  EvaluateMessage,
  ImportCheckpointMessage,
  InspectMessage,
  PrepareDemoMessage,
  PrepareRunMessage,
} from './requestMessages';
import { isMetricsRecord, type MetricsRecord } from './runRecords';

export { DEMO_FOLDER } from './requestMessages';
export type {
  BuildFrameCacheMessage,
  EvalJob,
  EvaluateMessage,
  ImportCheckpointMessage,
  InspectMessage,
  PrepareDemoMessage,
  PrepareRunMessage,
} from './requestMessages';

/** Sent in `ready`; the host logs a mismatch (new message types are additive, so an older engine still trains). */
export const PROTOCOL_VERSION = 1;

export const PROGRESS_PHASES = [
  'starting',
  'frame-cache',
  'model-init',
  'training',
  'checkpoint',
  'snapshot',
  'evaluation',
  'inspection',
  'demo',
  'import',
] as const;
export type ProgressPhase = (typeof PROGRESS_PHASES)[number];
export type FinishReason = 'completed' | 'stopped' | 'failed';

// Trainer → host ------------------------------------------------------------------------------

export interface ReadyMessage {
  type: 'ready';
  protocol: number;
  pid: number;
  /** Free-form versions: `engine` ("tfjs" | "pytorch"), `node`, `tfjs`, `python`, `torch`, `cuda`, `device`, `precision` … */
  versions: { [name: string]: string | undefined; engine?: string; node?: string; tfjs?: string };
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

/** The answer to `inspect`: one snapshot-format folder per checkpoint, in the order asked. */
export interface InspectResultMessage {
  type: 'inspect-result';
  results: InspectedCheckpoint[];
}
export interface InspectedCheckpoint {
  /** Absolute path of the checkpoint sidecar. */
  checkpoint: string;
  label: string;
  step: number;
  /** Absolute path of the snapshot folder (snapshot.json inside). */
  dir: string;
}

/** The answer to `build-frame-cache`. */
export interface FrameCacheReadyMessage {
  type: 'frame-cache-ready';
  cacheDir: string;
  frameCount: number;
  /** true: nothing was decoded, the cache was complete already. */
  alreadyComplete: boolean;
  /** One line for the user (frames, size, folder). */
  summary: string;
}

/** The answer to `prepare-run`: the run folder holds its config.json and the video's frame cache is complete. */
export interface RunPreparedMessage {
  type: 'run-prepared';
  runDir: string;
  /** The complete frame cache of the run's video. */
  frameCacheDir: string;
  frameCount: number;
}

/** The answer to `import-checkpoint`: a new run folder holding the imported weights as checkpoint step 0. */
export interface CheckpointImportedMessage {
  type: 'checkpoint-imported';
  runDir: string;
  /** Absolute path of the checkpoint sidecar. */
  checkpoint: string;
  /** `official checkpoint` or `ViT state dict`. */
  kind: string;
  /** The step-0 snapshot of the tracker on the video (masks, attention, assignments); null without a video. */
  snapshot: string | null;
  /** One line for the user (architecture, where). */
  summary: string;
}

/** The answer to `prepare-demo`. */
export interface DemoReadyMessage {
  type: 'demo-ready';
  /** The synthetic walking tour (with its ground-truth masks beside it). */
  video: string;
  frameCount: number;
  /** target "workspace" only: the demo folder, its config and its frame-cache folder. */
  demo?: { dir: string; configFile: string; cacheRoot: string; createdConfig: boolean };
}

export type TrainerMessage =
  | ReadyMessage
  | RunPreparedMessage
  | CheckpointImportedMessage
  | EvalResultMessage
  | InspectResultMessage
  | FrameCacheReadyMessage
  | DemoReadyMessage
  | ProgressMessage
  | MetricsMessage
  | SnapshotReadyMessage
  | CheckpointSavedMessage
  | WarningMessage
  | ErrorMessage
  | FinishedMessage;

// Host → trainer ------------------------------------------------------------------------------
// (the short requests are declared in requestMessages.ts)

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
  /** PyTorch engine: overrides runtime.device / runtime.precision (the dora.device setting). */
  device?: string;
  precision?: string;
}
export interface StopMessage {
  type: 'stop';
  /** The trainer saves a checkpoint before it exits unless this is false. */
  checkpoint?: boolean;
}

/** The requests an engine process answers (one per process). */
export type EngineRequest =
  | StartMessage
  | EvaluateMessage
  | InspectMessage
  | BuildFrameCacheMessage
  | PrepareDemoMessage
  | PrepareRunMessage
  | ImportCheckpointMessage;
export type HostMessage = EngineRequest | StopMessage;

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
  ready: (m) => isNum(m.protocol) && isNum(m.pid) && isObject(m.versions) && Object.values(m.versions).every(optional(isStr)),
  progress: (m) =>
    oneOf(...PROGRESS_PHASES)(m.phase) &&
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
  'inspect-result': (m) =>
    Array.isArray(m.results) &&
    m.results.every((r) => isObject(r) && isStr(r.checkpoint) && isStr(r.label) && isStep(r.step) && isStr(r.dir)),
  'frame-cache-ready': (m) => isStr(m.cacheDir) && isStep(m.frameCount) && typeof m.alreadyComplete === 'boolean' && isStr(m.summary),
  'run-prepared': (m) => isStr(m.runDir) && isStr(m.frameCacheDir) && isStep(m.frameCount),
  'checkpoint-imported': (m) =>
    isStr(m.runDir) && isStr(m.checkpoint) && isStr(m.kind) && (m.snapshot === null || isStr(m.snapshot)) && isStr(m.summary),
  'demo-ready': (m) =>
    isStr(m.video) &&
    isStep(m.frameCount) &&
    optional((d) => isObject(d) && isStr(d.dir) && isStr(d.configFile) && isStr(d.cacheRoot) && typeof d.createdConfig === 'boolean')(
      m.demo,
    ),
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
    optional((v) => Array.isArray(v) && v.every(isStr))(m.overrides) &&
    optional(isStr)(m.device) &&
    optional(isStr)(m.precision),
  stop: (m) => optional((v) => typeof v === 'boolean')(m.checkpoint),
  evaluate: (m) =>
    isStr(m.checkpoint) &&
    Array.isArray(m.jobs) &&
    m.jobs.length > 0 &&
    m.jobs.every((j) => isObject(j) && oneOf(...EVAL_SUITES)(j.suite) && optional(isStr)(j.dataset) && optional(isStr)(j.video)) &&
    optional(isStr)(m.backend) &&
    optional(isStr)(m.ffmpegPath) &&
    optional(isStr)(m.cacheRoot) &&
    optional((v) => typeof v === 'boolean')(m.force) &&
    optional((t) => isObject(t) && isStr(t.dir) && optional(isStep)(t.durationSeconds))(m.tour),
  inspect: (m) =>
    Array.isArray(m.checkpoints) &&
    m.checkpoints.length > 0 &&
    m.checkpoints.every(isStr) &&
    isStr(m.outDir) &&
    optional(isStr)(m.video) &&
    optional(isStep)(m.clipStart) &&
    optional(isStr)(m.backend) &&
    optional(isStr)(m.ffmpegPath) &&
    optional(isStr)(m.cacheRoot),
  'build-frame-cache': (m) => isStr(m.configPath) && optional(isStr)(m.ffmpegPath) && optional(isStr)(m.cacheRoot),
  'prepare-demo': (m) =>
    oneOf('workspace', 'tour')(m.target) && isStr(m.workspaceRoot) && optional(isStr)(m.ffmpegPath) && optional(isStep)(m.durationSeconds),
  'prepare-run': (m) =>
    isStr(m.runDir) &&
    optional(isStr)(m.configPath) &&
    optional(isStr)(m.resumeCheckpoint) &&
    (isStr(m.configPath) || isStr(m.resumeCheckpoint)) &&
    optional(isStr)(m.ffmpegPath) &&
    optional(isStr)(m.cacheRoot) &&
    optional((v) => Array.isArray(v) && v.every(isStr))(m.overrides),
  'import-checkpoint': (m) =>
    isStr(m.file) &&
    isStr(m.runsDir) &&
    isStr(m.python) &&
    optional(isStr)(m.video) &&
    optional(isStr)(m.name) &&
    optional(isStr)(m.ffmpegPath) &&
    optional(isStr)(m.cacheRoot),
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
