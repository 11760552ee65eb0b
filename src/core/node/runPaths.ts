// Every name and path inside a run folder (docs/run-directory.md), in one place: the trainer writes with these,
// the extension and the evaluations read with them. Pure path arithmetic: nothing here touches the disk.

import * as path from 'node:path';

export const RUN_FILES = {
  info: 'run.json',
  config: 'config.json',
  metrics: 'metrics.jsonl',
  events: 'events.jsonl',
  log: 'trainer.log',
  /** Owned by the extension (labels, notes); the trainer never touches it. */
  studio: 'studio.json',
  checkpoints: 'checkpoints',
  snapshots: 'snapshots',
  snapshotManifest: 'snapshot.json',
} as const;

export interface RunPaths {
  dir: string;
  info: string;
  config: string;
  metrics: string;
  events: string;
  log: string;
  studio: string;
  checkpointsDir: string;
  snapshotsDir: string;
}

export function runPaths(runDir: string): RunPaths {
  const at = (name: string) => path.join(runDir, name);
  return {
    dir: runDir,
    info: at(RUN_FILES.info),
    config: at(RUN_FILES.config),
    metrics: at(RUN_FILES.metrics),
    events: at(RUN_FILES.events),
    log: at(RUN_FILES.log),
    studio: at(RUN_FILES.studio),
    checkpointsDir: at(RUN_FILES.checkpoints),
    snapshotsDir: at(RUN_FILES.snapshots),
  };
}

/** `step-000120`: zero-padded so names sort like numbers up to 999 999 (listings sort numerically anyway). */
export function stepLabel(step: number): string {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`step must be an integer >= 0, got ${step}`);
  return `step-${String(step).padStart(6, '0')}`;
}

/** The step in `step-000120`, `step-000120.json`, …; undefined for other names. */
export function parseStepLabel(name: string): number | undefined {
  const match = /^step-(\d{6,})(?:\.|$)/.exec(name);
  return match ? Number(match[1]) : undefined;
}

const SIDECAR_NAME = /^step-(\d+)\.json$/;
const CHECKPOINT_TENSORS_NAME = /^(step-\d+)(?:\.optim)?\.safetensors$/;

/** Whether a file name is a checkpoint sidecar (`step-NNNNNN.json`, not `.eval.json`). */
export function isCheckpointSidecarName(name: string): boolean {
  return SIDECAR_NAME.test(name);
}

/** The step of a checkpoint sidecar path (`…/checkpoints/step-000120.json` → 120); undefined for other files. */
export function stepOfCheckpoint(sidecarFile: string): number | undefined {
  const match = SIDECAR_NAME.exec(path.basename(sidecarFile));
  return match ? Number(match[1]) : undefined;
}

/** The sidecar of a checkpoint's weights or optimizer file (`step-N.safetensors` → `step-N.json`); undefined otherwise. */
export function sidecarOfCheckpointFile(file: string): string | undefined {
  const match = CHECKPOINT_TENSORS_NAME.exec(path.basename(file));
  return match ? path.join(path.dirname(file), `${match[1]}.json`) : undefined;
}

/** The run folder a checkpoint sidecar belongs to (`<run>/checkpoints/step-N.json` → `<run>`). */
export function runDirOfCheckpoint(sidecarFile: string): string {
  return path.dirname(path.dirname(path.resolve(sidecarFile)));
}

/**
 * The run folder of a path inside one: a run file (`<run>/run.json` …) or anything in `<run>/checkpoints/`.
 * Undefined when the path names neither (it may be the run folder itself).
 */
export function runDirOfRunFile(file: string): string | undefined {
  const base = path.basename(file);
  if ((Object.values(RUN_FILES) as string[]).includes(base)) return path.dirname(file);
  if (path.basename(path.dirname(file)) === RUN_FILES.checkpoints) return path.dirname(path.dirname(file));
  return undefined;
}

export function checkpointPaths(runDir: string, step: number): { weights: string; optimizer: string; sidecar: string } {
  const base = path.join(runPaths(runDir).checkpointsDir, stepLabel(step));
  return { weights: `${base}.safetensors`, optimizer: `${base}.optim.safetensors`, sidecar: `${base}.json` };
}

/** The evaluation results stored beside a checkpoint (`step-N.json` → `step-N.eval.json`). */
export function evalSidecarPath(checkpointSidecar: string): string {
  if (!/\.json$/.test(checkpointSidecar)) throw new Error(`${checkpointSidecar}: not a checkpoint sidecar (.json)`);
  return checkpointSidecar.replace(/\.json$/, '.eval.json');
}

/** Where the attention suite writes its maps for a checkpoint (`step-N.json` → `step-N.attention/`). */
export function attentionDirOf(checkpointSidecar: string): string {
  return checkpointSidecar.replace(/\.json$/, '.attention');
}

/**
 * A snapshot is written into `tempDir` and renamed to `dir` when complete, so a folder named
 * step-NNNNNN is always whole. Names starting with '.' are ignored by listings.
 */
export function snapshotPaths(runDir: string, step: number): { dir: string; manifest: string; tempDir: string } {
  const snapshots = runPaths(runDir).snapshotsDir;
  const dir = path.join(snapshots, stepLabel(step));
  return { dir, manifest: path.join(dir, RUN_FILES.snapshotManifest), tempDir: path.join(snapshots, `.${stepLabel(step)}.partial`) };
}

/** Folder-name-safe form of a run name. */
export function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return slug || 'run';
}

/** `20250102-030405-venice`: UTC time first so ids sort chronologically. */
export function makeRunId(name: string, date: Date): string {
  const iso = date.toISOString(); // 2025-01-02T03:04:05.678Z
  const stamp = `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
  return `${stamp}-${slugify(name)}`;
}
