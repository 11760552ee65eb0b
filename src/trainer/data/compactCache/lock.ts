// One builder per cache folder (build.lock holds its pid; the same lock as the raw cache's, ../frameCache/lock.ts), and
// removal of caches of an older version of the same video file.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_FILE, META_FILE, type SourceIdentity } from './format';

export { acquireBuildLock } from '../frameCache/lock';

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
