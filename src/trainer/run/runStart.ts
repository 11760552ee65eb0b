/**
 * Before a trainer writes anything into a run folder: the checks that a start can succeed at all (so a bad config or a
 * missing video creates no run folder), the run-folder lock (src/core/node/runLock.ts) with the check that the folder's
 * own files do not lead elsewhere, what a resumed run looked like before (so a failed resume leaves it as it was), and
 * the clean-up of what a killed writer left behind.
 */
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DoraConfig } from '../../core/config';
import { isTempFileName } from '../../core/node/atomicWrite';
import { isPidAlive } from '../../core/node/processIdentity';
import { checkRunFolderEntries, readEvents, readRunInfo } from '../../core/node/runDir';
import { acquireRunLock, type RunLockHandle } from '../../core/node/runLock';
import { isCheckpointSidecarName, runPaths, sidecarOfCheckpointFile } from '../../core/node/runPaths';
import type { RunInfo } from '../../core/runRecords';
import { resolveFfmpeg } from '../data/ffmpeg/tools';
import { assertReadableFile } from '../data/ffmpeg/videoError';

/**
 * What must hold before a run folder is created or touched: the video is a readable file and ffmpeg can be found.
 * Throws VideoError (it names the file and the fix).
 */
export function preflightTraining(config: DoraConfig, options: { ffmpegPath?: string }): void {
  assertReadableFile(config.data.video);
  resolveFfmpeg({ explicitPath: options.ffmpegPath });
}

/**
 * Removes a run folder that holds nothing but the empty checkpoints/ and snapshots/ folders: what createRunDir (or the
 * extension) made for a start that then failed before writing anything. Call it after releasing the run lock.
 */
export async function removeHollowRunDir(runDir: string): Promise<boolean> {
  const paths = runPaths(runDir);
  let names: string[];
  try {
    names = await readdir(runDir);
  } catch {
    return false;
  }
  const allowed = new Set(['checkpoints', 'snapshots']);
  if (!names.every((n) => allowed.has(n))) return false;
  for (const sub of [paths.checkpointsDir, paths.snapshotsDir]) if ((await readdir(sub).catch(() => [])).length > 0) return false;
  for (const sub of [paths.checkpointsDir, paths.snapshotsDir]) await rmdir(sub).catch(() => undefined);
  await rmdir(runDir).catch(() => undefined);
  return true;
}

/** The pid in an atomic-write temp name `.<name>.<pid>.<hex>.tmp`, if any. */
function tempFileOwner(name: string): number | undefined {
  const m = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Removes what killed writers left in a run folder: atomic-write temp files whose writer is gone, partial snapshot
 * folders, and checkpoint data files that never got their sidecar. Call it holding the run lock (no trainer is writing).
 * Returns the removed paths, relative to the run folder.
 */
export async function cleanLeftovers(runDir: string): Promise<string[]> {
  const paths = runPaths(runDir);
  const removed: string[] = [];
  const remove = async (dir: string, name: string, recursive = false) => {
    await rm(join(dir, name), { force: true, recursive });
    removed.push(join(dir, name).slice(runDir.length + 1));
  };
  for (const dir of [runDir, paths.checkpointsDir, paths.snapshotsDir]) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const owner = tempFileOwner(name);
      if (isTempFileName(name) && (owner === undefined || (owner !== process.pid && !isPidAlive(owner)))) await remove(dir, name);
    }
  }
  for (const name of await readdir(paths.snapshotsDir).catch(() => [] as string[]))
    if (/^\.step-\d+\.partial$/.test(name)) await remove(paths.snapshotsDir, name, true);
  const checkpointNames = await readdir(paths.checkpointsDir).catch(() => [] as string[]);
  const sidecars = new Set(checkpointNames.filter(isCheckpointSidecarName));
  for (const name of checkpointNames) {
    const sidecar = sidecarOfCheckpointFile(name);
    if (sidecar !== undefined && !sidecars.has(sidecar) && (await stat(join(paths.checkpointsDir, name))).isFile())
      await remove(paths.checkpointsDir, name);
  }
  return removed;
}

/** What a resumed run looked like before this process touched it: kept so that a failed resume can leave it as it was. */
export interface RunBaseline {
  info?: RunInfo;
  /** The last completed step according to the events. */
  step: number;
}

export async function readRunBaseline(runDir: string): Promise<RunBaseline> {
  const [info, events] = await Promise.all([readRunInfo(runDir), readEvents(runDir)]);
  return { info, step: events.records.reduce((s, e) => Math.max(s, e.step), 0) };
}

/**
 * Takes the run folder for this process: its lock (refusing a live one: "run R is being trained by pid P on host H
 * since T"), then the checks that its fixed files and folders do not lead outside it. Released by the caller
 * (handle.release()) when the run ends.
 */
export async function claimRunFolder(runDir: string, command: 'train' | 'resume'): Promise<RunLockHandle> {
  const lock = await acquireRunLock(runDir, { engine: 'tfjs', command });
  try {
    await checkRunFolderEntries(runDir);
  } catch (error) {
    await lock.release();
    throw error;
  }
  return lock;
}
