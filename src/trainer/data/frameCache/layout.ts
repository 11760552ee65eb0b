// On-disk frame cache: the video is decoded ONCE by ffmpeg (scaled inside ffmpeg so the short side is
// `shortSide`), and stored as fixed-size raw RGB24 frames in chunk files, so that any frame is one
// positioned read: frame i lives in chunk floor(i / framesPerChunk) at byte (i % framesPerChunk) * frameBytes.
//
// Why raw RGB24 and not JPEG: random clip sampling reads 8 frames per clip from anywhere in the video;
// raw frames cost one pread each and no CPU, and they are bit-identical to ffmpeg's own decode.
// Node has no built-in JPEG decoder and pure-JS decoders cost tens of ms per frame. The price is size:
// width × height × 3 bytes per frame (568×320 = 545 KB for 16:9 at shortSide 320), which is shown to the
// user by planFrameCache() before anything is written, and checked against the free disk space.
//
// Layout of a cache folder `<cacheRoot>/<video-name>-<key>/`:
//   index.json          metadata + completedFrames; replaced atomically (temp file + rename)
//   frames-00000.rgb    framesPerChunk frames each, the last chunk may be shorter
//   luma.f32            mean luminance per frame (float32 LE, 0..255), for blank-tail detection
//   build.lock          present while a builder runs (holds its pid; lock.ts)
// Frames below index.completedFrames are fully written and fsync'ed before the index says so, so a
// reader never sees a half-written frame, and an interrupted build resumes from completedFrames.
//
// This module: the layout (names, index format, cache key); plan.ts says what a build will cost, build.ts writes,
// reader.ts reads (a FrameSource), blankTail.ts finds a trailing run of black frames, errors.ts names what went wrong.
import { createHash } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import type { VideoProbe } from '../ffmpeg/probe';
import { assertReadableFile } from '../ffmpeg/videoError';

/** Bump when the on-disk layout changes: it is part of the cache key, so old caches are simply not used. */
export const FRAME_CACHE_VERSION = 1;
export const DEFAULT_SHORT_SIDE = 320;
export const DEFAULT_CHUNK_BYTES = 256 * 1024 * 1024;
export const INDEX_FILE = 'index.json';
export const LUMA_FILE = 'luma.f32';
export const LOCK_FILE = 'build.lock';

export interface FrameCacheIndex {
  version: number;
  format: 'rgb24';
  source: { path: string; size: number; mtimeMs: number };
  settings: { shortSide: number; scaleFilter: string };
  width: number;
  height: number;
  frameBytes: number;
  framesPerChunk: number;
  fps: number;
  /** Frame count reported by the probe; the real count is known when `complete`. */
  expectedFrames: number;
  completedFrames: number;
  complete: boolean;
  probe: VideoProbe;
  /** ffmpeg's diagnostics of the decode (summarised; e.g. "partial file" of a truncated video): data/videoIntegrity.ts. */
  decodeDiagnostics?: string[];
  createdAt: string;
  updatedAt: string;
}

export function defaultCacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'dora-studio', 'frames');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function sourceIdentity(videoPath: string): FrameCacheIndex['source'] {
  assertReadableFile(videoPath);
  const path = realpathSync(videoPath);
  const stat = statSync(path);
  return { path, size: stat.size, mtimeMs: stat.mtimeMs };
}

/** Cache folder name: readable video name + hash of (path, size, mtime, settings, layout version). */
export function frameCacheKey(source: FrameCacheIndex['source'], shortSide: number): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ v: FRAME_CACHE_VERSION, format: 'rgb24', ...source, shortSide }))
    .digest('hex')
    .slice(0, 16);
  const name = basename(source.path)
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 60);
  return `${name}-${hash}`;
}

export function readIndex(dir: string): FrameCacheIndex | null {
  try {
    const index = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8')) as FrameCacheIndex;
    return index.version === FRAME_CACHE_VERSION && index.format === 'rgb24' ? index : null; // compact caches say "jpeg"
  } catch {
    return null;
  }
}

export function writeIndexAtomically(dir: string, index: FrameCacheIndex): void {
  const tmp = join(dir, `${INDEX_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(index, null, 1));
  const fd = openSync(tmp, 'r+');
  try {
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, INDEX_FILE));
}

export function chunkPath(dir: string, chunk: number): string {
  return join(dir, `frames-${String(chunk).padStart(5, '0')}.rgb`);
}
