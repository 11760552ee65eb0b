// Records of the run-directory format (docs/run-directory.md) and their run-time guards.
// Pure: no I/O, so the webview bundle can import it. File access lives in runDir.ts.

/** Bump when a reader of the previous version could misread the new files. */
export const RUN_DIR_FORMAT_VERSION = 1;

export type RunStatusHint = 'starting' | 'running' | 'finished' | 'failed' | 'stopped';

/** run.json: written (atomically) by the trainer only: at start, then as a heartbeat, then at the end. */
export interface RunInfo {
  formatVersion: number;
  /** Folder name, e.g. `20250101-120000-venice`. */
  id: string;
  name: string;
  /** ISO time the run folder was created. */
  created: string;
  /** Absolute path of the *.dora.json the run was started from (config.json holds the resolved copy). */
  configFile: string;
  preset: string | null;
  /** The trainer's own view; events.jsonl is authoritative (see deriveRunStatus). */
  statusHint: RunStatusHint;
  /** Total optimisation steps, once the frame count is known; null before that. */
  totalSteps: number | null;
  stepsPerEpoch: number | null;
  /** The backend actually in use (after 'auto' was resolved), null before it is chosen. */
  backend: string | null;
  /** Trainer process and host, for the liveness check. */
  pid: number;
  /**
   * Start time of the trainer process (field 22 of /proc/<pid>/stat on Linux, else null; absent in older runs):
   * with `pid` it proves which process is the trainer before anything is signalled (src/core/processIdentity.ts).
   */
  processStart?: string | null;
  hostname: string;
  /** ISO time of the last heartbeat; written between steps and at least every HEARTBEAT_INTERVAL_MS while idle. */
  heartbeat: string;
  /** `node`/`tfjs` for the TF.js engine; `python`/`torch`/`cuda` for the PyTorch engine (no `node` there). */
  versions: { doraStudio: string; node?: string; tfjs?: string; [name: string]: string | undefined };
  /** The PyTorch engine's additions (docs/run-directory.md): absent in a TF.js run. */
  engine?: string;
  device?: string;
  precision?: string;
  /** Clips per forward/backward pass in use (training.microBatch; "auto" resolved from the backend's memory). */
  microBatch?: { clips: number; auto: boolean; reason: string };
  /** Processes of a multi-process (DDP) run and how they were started (`local`, `torchrun`, `slurm`). */
  worldSize?: number;
  launcher?: string;
}

/**
 * Which engine runs a run, in a few words: `pytorch · cuda · bf16`, `tfjs · wasm` (from run.json or a live `ready`).
 * A run.json without `engine` is the TF.js engine's.
 */
export function engineLabel(e: {
  engine?: string | null;
  backend?: string | null;
  device?: string | null;
  precision?: string | null;
  worldSize?: number | null;
  launcher?: string | null;
}): string {
  const engine = e.engine ?? (e.backend?.startsWith('pytorch-') ? 'pytorch' : 'tfjs');
  const world = e.worldSize && e.worldSize > 1 ? `${e.worldSize} processes${e.launcher ? ` (${e.launcher})` : ''}` : undefined;
  const parts = engine === 'pytorch' ? [engine, e.device ?? e.backend?.slice('pytorch-'.length), e.precision, world] : [engine, e.backend];
  return parts.filter((p): p is string => typeof p === 'string' && p !== '').join(' · ');
}

/** One line of metrics.jsonl. Extra numeric fields may be present; readers keep them. */
export interface MetricsRecord {
  step: number;
  /** Epoch index (0-based) of this step. */
  epoch: number;
  /** ISO time the step finished. */
  time: string;
  loss: number;
  lr: number;
  wd: number;
  momentum: number;
  teacherTemp: number;
  imgPerSec: number;
  secPerStep: number;
  /** Masked-view and local-crop parts of the loss. */
  lossMasked?: number;
  lossLocal?: number;
  /** Entropies of the teacher's and student's output distributions (collapse monitoring). */
  teacherEntropy?: number;
  studentEntropy?: number;
  gradNorm?: number;
  [extra: string]: number | string | undefined;
}

interface EventBase {
  /** ISO time. */
  time: string;
  /** Last completed optimisation step (0 before the first). */
  step: number;
}
export type RunEvent =
  | (EventBase & { type: 'started'; pid: number })
  | (EventBase & { type: 'resumed'; pid: number; checkpoint: string })
  | (EventBase & { type: 'checkpoint'; file: string })
  | (EventBase & { type: 'snapshot'; dir: string })
  | (EventBase & { type: 'warning'; message: string })
  | (EventBase & { type: 'stopped'; reason: string })
  | (EventBase & { type: 'finished' })
  | (EventBase & { type: 'failed'; reason: string; fix?: string });
export type RunEventType = RunEvent['type'];

/** checkpoints/step-NNNNNN.json: written last, so its presence means the checkpoint is complete. */
export interface CheckpointSidecar {
  formatVersion: number;
  step: number;
  epoch: number;
  time: string;
  /** File names relative to the checkpoints folder. */
  weightsFile: string;
  weightsSha256: string;
  optimizerFile: string;
  optimizerSha256: string;
  /** Tensor name of the DINO loss centre inside the weights file. */
  centerTensor: string;
  /** Opaque random-generator state, restored verbatim on resume. */
  rng: { algorithm: string; state: unknown };
  /** Where the schedules stand: the next iteration to run. */
  schedule: { iteration: number; itersPerEpoch: number; totalIters: number };
  /** sha256 of config.json when saved; a resume with a different config warns. */
  configSha256: string;
}

/** A raw little-endian array file inside a snapshot folder. */
export interface BinaryArrayRef {
  file: string;
  dtype: 'float32' | 'uint8';
  shape: number[];
}

export interface SnapshotClip {
  /** Position of the clip in the batch. */
  index: number;
  /** Source-video frame numbers of the clip's frames. */
  frameIndices: number[];
  /** One PNG per frame: the global crop the teacher saw (before normalisation). */
  frames: string[];
  /** Sinkhorn assignment M* of the anchor frame's patches to the k prototypes: float32 [N, k], N = grid². */
  assignment: BinaryArrayRef;
  /** Per-object attention maps T (softmax over patches): float32 [k, F, grid, grid]. */
  attention: BinaryArrayRef;
  /** Binarised masks (T above mean): uint8 0/1 [k, F, grid, grid]; upsample ×patchSize (nearest) for pixels. */
  masks: BinaryArrayRef;
}

/** snapshots/step-NNNNNN/snapshot.json */
export interface SnapshotManifest {
  formatVersion: number;
  step: number;
  epoch: number;
  time: string;
  /** Side of the global crop in pixels, and of the patch grid. */
  imageSize: number;
  patchSize: number;
  grid: number;
  framesPerClip: number;
  /** The teacher heads (last block) used as the k object queries at this step. */
  heads: number[];
  clips: SnapshotClip[];
}

// ---------------------------------------------------------------------------------------------
// Guards. They check what readers rely on, not every optional field.

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isStep = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every(isNum);
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);

const METRIC_NUMBERS = ['epoch', 'loss', 'lr', 'wd', 'momentum', 'teacherTemp', 'imgPerSec', 'secPerStep'] as const;

export function isMetricsRecord(v: unknown): v is MetricsRecord {
  // NaN/Infinity cannot appear in JSON; a diverged loss is written as null and is not a valid record.
  return isObject(v) && isStep(v.step) && isStr(v.time) && METRIC_NUMBERS.every((k) => isNum(v[k]));
}

const EVENT_FIELDS: Record<RunEventType, (v: Record<string, unknown>) => boolean> = {
  started: (v) => isNum(v.pid),
  resumed: (v) => isNum(v.pid) && isStr(v.checkpoint),
  checkpoint: (v) => isStr(v.file),
  snapshot: (v) => isStr(v.dir),
  warning: (v) => isStr(v.message),
  stopped: (v) => isStr(v.reason),
  finished: () => true,
  failed: (v) => isStr(v.reason) && (v.fix === undefined || isStr(v.fix)),
};

export function isRunEvent(v: unknown): v is RunEvent {
  if (!isObject(v) || !isStr(v.type) || !isStr(v.time) || !isStep(v.step)) return false;
  const check = Object.hasOwn(EVENT_FIELDS, v.type) ? EVENT_FIELDS[v.type as RunEventType] : undefined;
  return check !== undefined && check(v);
}

export function isRunInfo(v: unknown): v is RunInfo {
  return (
    isObject(v) &&
    isNum(v.formatVersion) &&
    isStr(v.id) &&
    isStr(v.name) &&
    isStr(v.created) &&
    isStr(v.configFile) &&
    (v.preset === null || isStr(v.preset)) &&
    isStr(v.statusHint) &&
    (v.totalSteps === null || isNum(v.totalSteps)) &&
    (v.stepsPerEpoch === null || isNum(v.stepsPerEpoch)) &&
    (v.backend === null || isStr(v.backend)) &&
    isNum(v.pid) &&
    (v.processStart === undefined || v.processStart === null || isStr(v.processStart)) &&
    isStr(v.hostname) &&
    isStr(v.heartbeat) &&
    isObject(v.versions)
  );
}

export function isCheckpointSidecar(v: unknown): v is CheckpointSidecar {
  return (
    isObject(v) &&
    isNum(v.formatVersion) &&
    isStep(v.step) &&
    isNum(v.epoch) &&
    isStr(v.time) &&
    isStr(v.weightsFile) &&
    isStr(v.weightsSha256) &&
    isStr(v.optimizerFile) &&
    isStr(v.optimizerSha256) &&
    isStr(v.centerTensor) &&
    isObject(v.rng) &&
    isObject(v.schedule) &&
    isStr(v.configSha256)
  );
}

function isBinaryArrayRef(v: unknown): v is BinaryArrayRef {
  return isObject(v) && isStr(v.file) && (v.dtype === 'float32' || v.dtype === 'uint8') && isNumArray(v.shape);
}

export function isSnapshotManifest(v: unknown): v is SnapshotManifest {
  return (
    isObject(v) &&
    isNum(v.formatVersion) &&
    isStep(v.step) &&
    isNum(v.imageSize) &&
    isNum(v.grid) &&
    isNumArray(v.heads) &&
    Array.isArray(v.clips) &&
    v.clips.every(
      (c) =>
        isObject(c) &&
        isNumArray(c.frameIndices) &&
        isStrArray(c.frames) &&
        isBinaryArrayRef(c.assignment) &&
        isBinaryArrayRef(c.attention) &&
        isBinaryArrayRef(c.masks),
    )
  );
}

// ---------------------------------------------------------------------------------------------
// Status

/** `queued`: a launched run (a Slurm job) waiting for its resources; the trainer has not started. */
export type RunStatus = 'queued' | 'starting' | 'running' | 'finished' | 'failed' | 'stopped' | 'crashed';

export interface RunStatusReport {
  status: RunStatus;
  /** Human-readable cause for failed / stopped / crashed. */
  reason?: string;
  /** Last completed step according to the events. */
  step: number;
  /** Age of the last heartbeat in ms, when run.json was readable. */
  heartbeatAgeMs?: number;
}

export interface LivenessProbe {
  /** Milliseconds since the epoch. */
  now: number;
  /** This machine's host name, compared with RunInfo.hostname before trusting a pid check. */
  hostname: string;
  /** Whether a process with this pid exists on this machine. */
  isPidAlive: (pid: number) => boolean;
  /** The start time of a live process on this machine (null when unknown); compared with RunInfo.processStart. */
  processStartOf?: (pid: number) => string | null;
  /** A live run with an older heartbeat than this counts as crashed. Default STALE_HEARTBEAT_MS. */
  staleAfterMs?: number;
}

/** The trainer refreshes the heartbeat at least this often when it is not inside a step. */
export const HEARTBEAT_INTERVAL_MS = 10_000;
/**
 * A heartbeat older than this means the trainer is gone or hung. Generous, because one step on a
 * slow backend can block the trainer's event loop for minutes and the heartbeat is written between steps.
 */
export const STALE_HEARTBEAT_MS = 15 * 60_000;
/** A heartbeat further in the future than this is not believed (a crafted run.json must not look alive forever). */
export const FUTURE_HEARTBEAT_MS = 2 * 60_000;

/**
 * The status of a run from its events (authoritative for how it ended) and, while it claims to run,
 * a liveness check: on the same host a dead pid means crashed at once; elsewhere (or when the pid
 * lives but may have been reused) a heartbeat older than staleAfterMs means crashed.
 */
export function deriveRunStatus(events: readonly RunEvent[], info: RunInfo | undefined, probe: LivenessProbe): RunStatusReport {
  let status: RunStatus = 'starting';
  let reason: string | undefined;
  let step = 0;
  for (const event of events) {
    step = Math.max(step, event.step);
    switch (event.type) {
      case 'started':
      case 'resumed':
        status = 'running';
        reason = undefined;
        break;
      case 'finished':
        status = 'finished';
        reason = undefined;
        break;
      case 'stopped':
        status = 'stopped';
        reason = event.reason;
        break;
      case 'failed':
        status = 'failed';
        reason = event.reason;
        break;
      default:
        break; // checkpoint / snapshot / warning do not change the state
    }
  }
  if (status !== 'running' && status !== 'starting') return { status, reason, step };

  if (!info) {
    // Events say running but there is no readable run.json to check liveness against.
    return status === 'running'
      ? { status: 'crashed', reason: 'run.json is missing or unreadable, so the trainer cannot be checked', step }
      : { status, step };
  }
  const heartbeatTime = Date.parse(info.heartbeat);
  const rawAgeMs = Number.isNaN(heartbeatTime) ? Infinity : probe.now - heartbeatTime;
  const heartbeatAgeMs = Math.max(0, rawAgeMs);
  const staleAfter = probe.staleAfterMs ?? STALE_HEARTBEAT_MS;
  if (info.hostname === probe.hostname && !probe.isPidAlive(info.pid)) {
    return { status: 'crashed', reason: `trainer process ${info.pid} is gone without writing a final event`, step, heartbeatAgeMs };
  }
  if (info.hostname === probe.hostname && typeof info.processStart === 'string' && probe.processStartOf) {
    const actual = probe.processStartOf(info.pid);
    if (actual !== null && actual !== info.processStart)
      return {
        status: 'crashed',
        reason: `trainer process ${info.pid} is gone (the pid now belongs to another process)`,
        step,
        heartbeatAgeMs,
      };
  }
  if (rawAgeMs < -FUTURE_HEARTBEAT_MS) {
    return {
      status: 'crashed',
      reason: `run.json's heartbeat ${info.heartbeat} is in the future, so it proves nothing`,
      step,
      heartbeatAgeMs,
    };
  }
  if (heartbeatAgeMs > staleAfter) {
    const why = Number.isFinite(heartbeatAgeMs)
      ? `no heartbeat from the trainer for ${Math.round(heartbeatAgeMs / 1000)} s`
      : 'run.json has no valid heartbeat time';
    return { status: 'crashed', reason: why, step, heartbeatAgeMs };
  }
  return { status, step, heartbeatAgeMs };
}
