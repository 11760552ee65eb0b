// Deleting a run folder safely. A run folder is untrusted input and deleting is irreversible, so the folder must be
// a real directory (not a symlink) directly inside one of the runs folders the extension lists, after resolving
// every symlink on the way, and it must look like a run (run.json or events.jsonl). A live run is refused: its
// trainer is still writing (this window's trainer, a live run.lock judged as the trainers judge it, or a status of
// running/starting). Deleting needs a trusted workspace (the command checks; SECURITY.md).

import { existsSync } from 'node:fs';
import { lstat, realpath, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { readRunStatus } from '../../core/node/runDir';
import { readRunLockState, RUN_LOCK_FILE, runLockPath } from '../../core/node/runLock';
import { runPaths } from '../../core/node/runPaths';

export type DeleteCheck = { ok: true; realDir: string } | { ok: false; reason: string };

/** Whether `runDir` may be deleted; `isLiveHere` says whether this window's trainer holds it. */
export async function checkRunFolderForDelete(
  runDir: string,
  runsFolders: readonly string[],
  isLiveHere: (dir: string) => boolean,
): Promise<DeleteCheck> {
  const name = path.basename(runDir);
  let stats;
  try {
    stats = await lstat(runDir);
  } catch {
    return { ok: false, reason: `${runDir} does not exist (already deleted?)` };
  }
  if (stats.isSymbolicLink())
    return {
      ok: false,
      reason: `${runDir} is a symbolic link; DoRA Studio deletes only real run folders. Remove the link yourself if you mean to.`,
    };
  if (!stats.isDirectory() || name.startsWith('.')) return { ok: false, reason: `${runDir} is not a run folder` };
  const realDir = await realpath(runDir);
  const realFolders = await Promise.all(runsFolders.map((f) => realpath(f).catch(() => undefined)));
  if (!realFolders.some((f) => f !== undefined && path.dirname(realDir) === f))
    return {
      ok: false,
      reason: `${runDir} is not directly inside a runs folder DoRA Studio lists (${runsFolders.join(', ') || 'none'}); it is not deleted`,
    };
  const files = runPaths(realDir);
  if (!existsSync(files.info) && !existsSync(files.events))
    return { ok: false, reason: `${runDir} has neither run.json nor events.jsonl: it does not look like a run folder` };
  const live = await liveReason(realDir, isLiveHere);
  if (live) return { ok: false, reason: `${name} is ${live}. Stop it first (DoRA: Stop Run), then delete it.` };
  return { ok: true, realDir };
}

/** Why the run counts as live, or undefined. The run.lock is judged exactly as a trainer judges it (contract 5). */
async function liveReason(runDir: string, isLiveHere: (dir: string) => boolean): Promise<string | undefined> {
  if (isLiveHere(runDir)) return 'being trained by this window';
  let lock;
  try {
    lock = await readRunLockState(runDir);
  } catch (error) {
    const cause = (error as Error).message;
    return `locked by a ${RUN_LOCK_FILE} that cannot be read (${cause}); if no trainer uses the run, delete ${runLockPath(runDir)} by hand`;
  }
  if (lock.state === 'live') return `locked by pid ${lock.lock.pid} on ${lock.lock.hostname} (${RUN_LOCK_FILE}: ${lock.reason})`;
  const status = await readRunStatus(runDir).catch(() => undefined);
  if (status && (status.status === 'running' || status.status === 'starting')) return `still ${status.status} (its trainer is alive)`;
  return undefined;
}

/** Deletes a folder that passed checkRunFolderForDelete. rm does not follow symlinks inside it. */
export async function deleteRunFolder(realDir: string): Promise<void> {
  await rm(realDir, { recursive: true, force: false, maxRetries: 2 });
}
