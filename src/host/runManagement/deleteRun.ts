// Deleting a run folder safely. A run folder is untrusted input and deleting is irreversible, so the folder must be
// a real directory (not a symlink) directly inside one of the runs folders the extension lists, after resolving
// every symlink on the way, and it must look like a run (run.json or events.jsonl). A live run is refused: its
// trainer is still writing (this window's trainer, a run.lock held by a live process, or a fresh heartbeat).

import { existsSync, readFileSync } from 'node:fs';
import { lstat, readFile, realpath, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { isPidAlive, readRunStatus } from '../../core/node/runDir';
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

/** Why the run counts as live, or undefined. */
async function liveReason(runDir: string, isLiveHere: (dir: string) => boolean): Promise<string | undefined> {
  if (isLiveHere(runDir)) return 'being trained by this window';
  const lock = await readFile(path.join(runDir, 'run.lock'), 'utf8').catch(() => undefined);
  if (lock !== undefined) {
    try {
      const { pid, hostname: host, processStart } = JSON.parse(lock) as { pid?: unknown; hostname?: unknown; processStart?: unknown };
      // Team contract 5: on this host a lock is live while its pid runs and (when recorded) started at the same tick.
      const sameProcess = typeof processStart !== 'string' || processStartOf(Number(pid)) === processStart;
      if (typeof pid === 'number' && (host !== hostname() || (isPidAlive(pid) && sameProcess)))
        return `locked by pid ${pid} on ${String(host)} (run.lock)`;
    } catch {
      /* an unreadable lock is judged by the status below */
    }
  }
  const status = await readRunStatus(runDir).catch(() => undefined);
  if (status && (status.status === 'running' || status.status === 'starting')) return `still ${status.status} (its trainer is alive)`;
  return undefined;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined off Linux / for a gone pid. */
function processStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Deletes a folder that passed checkRunFolderForDelete. rm does not follow symlinks inside it. */
export async function deleteRunFolder(realDir: string): Promise<void> {
  await rm(realDir, { recursive: true, force: false, maxRetries: 2 });
}
