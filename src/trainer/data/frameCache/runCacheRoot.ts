// Where to read or build the frame cache of a video named by a run folder's config.json. The folder is untrusted input
// (docs/run-directory.md, "Paths inside a run folder"): its data.frameCache.dir is honoured only when it already holds a
// complete cache of this video at this size, because then using it only reads. Otherwise the caller's own cache root is
// used, so that inspecting or evaluating a checkpoint never writes where a run folder says.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_JPEG_QUALITY, readMeta } from '../compactCache/format';
import { compactCacheKey } from '../compactCache/plan';
import { frameCacheKey } from './layout';

/**
 * Whether `root` holds a complete frame cache of `video` at `shortSide`: the raw RGB24 cache (the key of layout.ts) or
 * the compact JPEG cache at `quality` (the key of compactCache/plan.ts).
 */
export function hasCompleteCache(root: string, video: string, shortSide: number, quality = DEFAULT_JPEG_QUALITY): boolean {
  try {
    const path = realpathSync(video);
    const stat = statSync(path);
    const source = { path, size: stat.size, mtimeMs: stat.mtimeMs };
    if (readMeta(join(root, compactCacheKey(source, shortSide, quality)))?.complete === true) return true;
    const index = JSON.parse(readFileSync(join(root, frameCacheKey(source, shortSide), 'index.json'), 'utf8')) as { complete?: unknown };
    return index.complete === true;
  } catch {
    return false;
  }
}

/** The cache root for a video named by a run folder: its own data.frameCache.dir only when reading it suffices. */
export function cacheRootForRunVideo(
  video: string,
  shortSide: number,
  runCacheDir: string | undefined,
  fallback: string | undefined,
  quality?: number,
): string | undefined {
  return runCacheDir !== undefined && hasCompleteCache(runCacheDir, video, shortSide, quality) ? runCacheDir : fallback;
}
