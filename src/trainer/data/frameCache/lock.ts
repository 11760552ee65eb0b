// build.lock: one builder per cache folder. The lock holds the builder's pid; a lock whose process is gone is stale and
// taken over.
import { readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrameCacheError } from './errors';
import { LOCK_FILE } from './layout';

/** Holds build.lock for the duration of a build; a lock of a dead process is taken over. */
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
        throw new FrameCacheError(
          'CACHE_LOCKED',
          `The frame cache of "${videoPath}" is being built by another process (pid ${owner}) in ${dir}. ` +
            'Fix: wait for it to finish, or stop it; the cache is shared afterwards.',
        );
      }
      unlinkSync(lockPath); // stale lock from a crashed build
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
