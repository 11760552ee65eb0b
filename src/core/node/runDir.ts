// Reading (and creating) run folders: the one on-disk contract between an engine (writer) and the extension (reader).
// Layout and ownership are documented in docs/run-directory.md; names and paths live in runPaths.ts, record types and
// their guards in ../runRecords.ts.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, stat, unlink } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { isTempFileName } from './atomicWrite';
import { isNotFound, readJsonl, type JsonlParseResult } from './jsonl';
import { isPidAlive, processStartOf } from './processIdentity';
import { resolveFileNameInRun, resolveInside, UnsafeRunPathError } from './runPathSafety';
import { isCheckpointSidecarName, makeRunId, parseStepLabel, RUN_FILES, runPaths, snapshotPaths, stepLabel } from './runPaths';
import {
  deriveRunStatus,
  isCheckpointSidecar,
  isMetricsRecord,
  isRunEvent,
  isRunInfo,
  isSnapshotManifest,
  type CheckpointSidecar,
  type LivenessProbe,
  type MetricsRecord,
  type RunEvent,
  type RunInfo,
  type RunStatusReport,
  type SnapshotManifest,
} from '../runRecords';

/** Creates a fresh, empty run folder (with checkpoints/ and snapshots/), adding -2, -3 … on a name clash. */
export async function createRunDir(runsDir: string, name: string, now: Date = new Date()): Promise<{ id: string; dir: string }> {
  await mkdir(runsDir, { recursive: true });
  const base = makeRunId(name, now);
  for (let attempt = 1; attempt < 1000; attempt++) {
    const id = attempt === 1 ? base : `${base}-${attempt}`;
    const dir = path.join(runsDir, id);
    try {
      await mkdir(dir); // not recursive: fails if it exists, which makes the claim atomic
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EEXIST') continue;
      throw error;
    }
    const paths = runPaths(dir);
    await mkdir(paths.checkpointsDir);
    await mkdir(paths.snapshotsDir);
    return { id, dir };
  }
  throw new Error(`could not create a run folder for "${name}" in ${runsDir}`);
}

/**
 * Checks that the run folder's own files and folders (run.json, events.jsonl, checkpoints/, …) are not symbolic links
 * leading outside it: a writer appends to and truncates these, so a crafted link would make it write elsewhere.
 * Throws UnsafeRunPathError naming the entry.
 */
export async function checkRunFolderEntries(runDir: string): Promise<void> {
  for (const name of Object.values(RUN_FILES)) {
    if (name === RUN_FILES.snapshotManifest) continue; // lives inside each snapshot folder
    await resolveInside(runDir, name, { file: runDir, field: 'entry' });
  }
}

/**
 * Removes a run folder that `createRunDir` made for a run that never started (its engine could not be prepared or
 * launched): only when it holds nothing but `config.json` and the empty `checkpoints/` and `snapshots/`. Anything else
 * (a run.json, an event, a file the user put there) keeps the folder. Returns whether it was removed.
 */
export async function removeUnstartedRunDir(runDir: string): Promise<boolean> {
  const paths = runPaths(runDir);
  const allowed = new Set<string>([RUN_FILES.config, RUN_FILES.checkpoints, RUN_FILES.snapshots]);
  try {
    const names = await readdir(runDir);
    if (names.some((n) => !allowed.has(n))) return false;
    for (const dir of [paths.checkpointsDir, paths.snapshotsDir])
      if (names.includes(path.basename(dir)) && (await readdir(dir)).length > 0) return false; // never a recursive delete
    if (names.includes(RUN_FILES.config)) await unlink(paths.config);
    for (const dir of [paths.checkpointsDir, paths.snapshotsDir]) await rmdir(dir).catch(() => undefined);
    await rmdir(runDir);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Readers. None of them throws on partial or malformed content; they throw only on I/O errors other than "missing".

async function readJsonFile(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if (isNotFound(error) || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

export async function readRunInfo(runDir: string): Promise<RunInfo | undefined> {
  const value = await readJsonFile(runPaths(runDir).info);
  return isRunInfo(value) ? value : undefined;
}

/** The resolved config the run uses (config.json), unchecked: validate it with config.ts if needed. */
export async function readRunConfig(runDir: string): Promise<unknown> {
  return readJsonFile(runPaths(runDir).config);
}

export function readEvents(runDir: string): Promise<JsonlParseResult<RunEvent>> {
  return readJsonl(runPaths(runDir).events, isRunEvent);
}

export function readMetrics(runDir: string): Promise<JsonlParseResult<MetricsRecord>> {
  return readJsonl(runPaths(runDir).metrics, isMetricsRecord);
}

export { isPidAlive };

export function localLivenessProbe(): LivenessProbe {
  return { now: Date.now(), hostname: os.hostname(), isPidAlive, processStartOf };
}

export async function readRunStatus(runDir: string, probe: LivenessProbe = localLivenessProbe()): Promise<RunStatusReport> {
  const [events, info] = await Promise.all([readEvents(runDir), readRunInfo(runDir)]);
  return deriveRunStatus(events.records, info, probe);
}

export interface RunSummary {
  id: string;
  dir: string;
  info?: RunInfo;
  status: RunStatusReport;
  /** A run launched as a Slurm job: its current job (src/core/node/slurm.ts). */
  slurm?: { jobId: string; slurmState?: string; nodeList?: string; reason?: string };
}

/** Every run folder in `runsDir` (a folder with a run.json or events.jsonl), newest id first. */
export async function listRuns(runsDir: string, probe: LivenessProbe = localLivenessProbe()): Promise<RunSummary[]> {
  let names: string[];
  try {
    names = await readdir(runsDir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  const runs: RunSummary[] = [];
  for (const id of names) {
    if (id.startsWith('.')) continue;
    const dir = path.join(runsDir, id);
    const paths = runPaths(dir);
    if (!(await exists(paths.info)) && !(await exists(paths.events))) continue;
    const [events, info] = await Promise.all([readEvents(dir), readRunInfo(dir)]);
    runs.push({ id, dir, info, status: deriveRunStatus(events.records, info, probe) });
  }
  return runs.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    // ENOTDIR: a stray file in the runs folder (e.g. a README) is not a run, not an error.
    if (isNotFound(error) || (error as { code?: unknown }).code === 'ENOTDIR') return false;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoints and snapshots

export interface CheckpointEntry {
  step: number;
  sidecarFile: string;
  weightsFile: string;
  optimizerFile: string;
  sidecar: CheckpointSidecar;
}

/**
 * The data files a sidecar names, checked: plain file names in the checkpoints folder, not leading outside the run
 * folder through a symbolic link (docs/run-directory.md, "Paths inside a run folder"). Throws UnsafeRunPathError.
 */
export async function checkpointDataFiles(
  sidecarFile: string,
  sidecar: Pick<CheckpointSidecar, 'weightsFile' | 'optimizerFile'>,
): Promise<{ weightsFile: string; optimizerFile: string }> {
  const dir = path.dirname(sidecarFile);
  const runDir = path.dirname(dir);
  return {
    weightsFile: await resolveFileNameInRun(runDir, dir, sidecar.weightsFile, { file: sidecarFile, field: 'weightsFile' }),
    optimizerFile: await resolveFileNameInRun(runDir, dir, sidecar.optimizerFile, { file: sidecarFile, field: 'optimizerFile' }),
  };
}

/**
 * Complete checkpoints (those with a valid sidecar), ascending by step. A sidecar whose file names are unsafe is left
 * out and reported to `onRefused` (it is never used, pruned or deleted through).
 */
export async function listCheckpoints(runDir: string, onRefused?: (error: UnsafeRunPathError) => void): Promise<CheckpointEntry[]> {
  const dir = runPaths(runDir).checkpointsDir;
  const names = await readdirOrEmpty(dir);
  const entries: CheckpointEntry[] = [];
  for (const name of names) {
    const step = parseStepLabel(name);
    if (step === undefined || !isCheckpointSidecarName(name)) continue;
    const sidecarFile = path.join(dir, name);
    const sidecar = await readJsonFile(sidecarFile);
    if (!isCheckpointSidecar(sidecar) || sidecar.step !== step) continue;
    try {
      entries.push({ step, sidecarFile, ...(await checkpointDataFiles(sidecarFile, sidecar)), sidecar });
    } catch (error) {
      if (!(error instanceof UnsafeRunPathError)) throw error;
      onRefused?.(error);
    }
  }
  return entries.sort((a, b) => a.step - b.step);
}

/** The checkpoints to delete so that the newest `keep` remain (keep 0 = keep all). */
export function checkpointsToPrune<T extends { step: number }>(entries: readonly T[], keep: number): T[] {
  if (keep <= 0) return [];
  const sorted = [...entries].sort((a, b) => a.step - b.step);
  return sorted.slice(0, Math.max(0, sorted.length - keep));
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Checks the checksums in the sidecar; returns the problems found ([] when intact). */
export async function verifyCheckpoint(entry: CheckpointEntry): Promise<string[]> {
  const problems: string[] = [];
  for (const [file, expected] of [
    [entry.weightsFile, entry.sidecar.weightsSha256],
    [entry.optimizerFile, entry.sidecar.optimizerSha256],
  ] as const) {
    try {
      const actual = await sha256File(file);
      if (actual !== expected)
        problems.push(`${path.basename(file)}: sha256 ${actual} does not match ${expected} in ${path.basename(entry.sidecarFile)}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      problems.push(`${path.basename(file)} is missing`);
    }
  }
  return problems;
}

export interface SnapshotEntry {
  step: number;
  dir: string;
  manifestFile: string;
}

/** Complete snapshots (renamed into place, with a snapshot.json), ascending by step. */
export async function listSnapshots(runDir: string): Promise<SnapshotEntry[]> {
  const dir = runPaths(runDir).snapshotsDir;
  const entries: SnapshotEntry[] = [];
  for (const name of await readdirOrEmpty(dir)) {
    const step = parseStepLabel(name);
    if (step === undefined || name !== stepLabel(step)) continue;
    const manifestFile = path.join(dir, name, RUN_FILES.snapshotManifest);
    if (await exists(manifestFile)) entries.push({ step, dir: path.join(dir, name), manifestFile });
  }
  return entries.sort((a, b) => a.step - b.step);
}

export async function readSnapshotManifest(runDir: string, step: number): Promise<SnapshotManifest | undefined> {
  const value = await readJsonFile(snapshotPaths(runDir, step).manifest);
  return isSnapshotManifest(value) ? value : undefined;
}

/**
 * Reads one raw array of a snapshot. Paths in a manifest are relative to the snapshot folder and
 * may not escape it (a crafted manifest must not make the extension read arbitrary files).
 */
export async function readSnapshotArray(
  snapshotDir: string,
  ref: { file: string; dtype: 'float32' | 'uint8'; shape: number[] },
): Promise<Float32Array | Uint8Array> {
  if (path.isAbsolute(ref.file))
    throw new UnsafeRunPathError(
      { file: path.join(snapshotDir, RUN_FILES.snapshotManifest), field: 'file' },
      ref.file,
      'is an absolute path',
    );
  const file = await resolveInside(snapshotDir, ref.file, { file: path.join(snapshotDir, RUN_FILES.snapshotManifest), field: 'file' });
  const bytes = await readFile(file);
  const count = ref.shape.reduce((a, b) => a * b, 1);
  const width = ref.dtype === 'float32' ? 4 : 1;
  if (bytes.length !== count * width)
    throw new Error(`${ref.file}: expected ${count * width} bytes for ${ref.dtype}[${ref.shape.join(', ')}], found ${bytes.length}`);
  if (ref.dtype === 'uint8') return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  // Copy: the Buffer may not be 4-byte aligned. The format is little-endian, as are all supported hosts.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => !isTempFileName(name) && !name.startsWith('.'));
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}
