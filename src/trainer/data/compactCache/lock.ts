// One builder per cache folder (build.lock holds its pid; a lock of a dead process is taken over), and removal of
// caches of an older version of the same video file.
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VideoError } from '../ffmpeg';
import { LOCK_FILE, META_FILE, type SourceIdentity } from './format';

export function acquireBuildLock(dir: string, videoPath: string): () => void {
  const lockPath = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(lockPath, 'utf8'));
      if (owner && owner !== process.pid && processAlive(owner)) {
        throw new VideoError(
          'FFMPEG_FAILED',
          `The frame cache of "${videoPath}" is being built by another process (pid ${owner}) in ${dir}. ` +
            'Fix: wait for it to finish, or stop it; the cache is shared afterwards.',
        );
      }
      unlinkSync(lockPath); // stale lock of a crashed or killed build
    }
  }
  throw new Error(`Could not lock ${lockPath}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes compact caches of the same file path with another size or mtime (the file changed); never a locked one. */
export function removeStaleCachesOf(cacheRoot: string, current: SourceIdentity, keepDir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(cacheRoot);
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = join(cacheRoot, entry);
    if (dir === keepDir) continue;
    let source: SourceIdentity | undefined;
    try {
      source = (JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as { source?: SourceIdentity }).source;
    } catch {
      continue;
    }
    const stale = source?.path === current.path && (source.size !== current.size || source.mtimeMs !== current.mtimeMs);
    if (stale && !existsSync(join(dir, LOCK_FILE))) rmSync(dir, { recursive: true, force: true });
  }
}
