// Reading and writing studio.json, the one file of a run folder that belongs to the extension (docs/run-directory.md).
// Writes are atomic (temp file + rename in the run folder, which replaces a planted symlink instead of following
// it); a studio.json that is a symlink is not read, so a run folder cannot make the extension read elsewhere.

import { lstat, readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../../core/node/atomicWrite';
import { runPaths } from '../../core/node/runPaths';
import { parseStudioInfo, sanitizeDisplayName, STUDIO_FILE_VERSION, type StudioInfo } from '../../core/studioFile';

/** The run's studio.json, or undefined when it is missing, a symlink, not a regular file, or not JSON. */
export async function readStudioInfo(runDir: string): Promise<StudioInfo | undefined> {
  const file = runPaths(runDir).studio;
  try {
    const stats = await lstat(file);
    if (!stats.isFile() || stats.size > 64 * 1024) return undefined;
    return parseStudioInfo(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return undefined; // missing (the usual case), unreadable or not JSON: no studio info
  }
}

export interface StudioChange {
  /** A new display name; '' (or only whitespace) removes it. */
  displayName?: string;
  starred?: boolean;
}

/** Applies `change` to the run's studio.json (read, change, atomic rewrite) and returns what was written. */
export async function updateStudioInfo(runDir: string, change: StudioChange): Promise<StudioInfo> {
  const current = (await readStudioInfo(runDir)) ?? { formatVersion: STUDIO_FILE_VERSION };
  const next: StudioInfo = { ...current, formatVersion: STUDIO_FILE_VERSION };
  if (change.displayName !== undefined) {
    const name = sanitizeDisplayName(change.displayName);
    if (name) next.displayName = name;
    else delete next.displayName;
  }
  if (change.starred !== undefined) {
    if (change.starred) next.starred = true;
    else delete next.starred;
  }
  await writeJsonAtomic(runPaths(runDir).studio, next);
  return next;
}
