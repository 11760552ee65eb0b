// What a compact cache of a video will be (size, place, what is already done), before anything is written.
import { createHash } from 'node:crypto';
import { existsSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { scaledSize } from '../ffmpeg/decode';
import { probeVideo, type VideoProbe } from '../ffmpeg/probe';
import { resolveFfmpeg, type FfmpegTools } from '../ffmpeg/tools';
import { assertReadableFile } from '../ffmpeg/videoError';
import { DEFAULT_SHORT_SIDE, defaultCacheRoot, formatBytes } from '../frameCache/layout';
import {
  COMPACT_CACHE_VERSION,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_JPEG_QUALITY,
  readDamagedChunks,
  readMeta,
  type CompactCacheMeta,
  type SourceIdentity,
} from './format';

/**
 * Bytes per JPEG frame assumed before any frame is encoded, as a fraction of the RGB24 frame. Measured at quality 3,
 * 4:2:0 (docs/frame-cache.md): 1/11 (noisy MPEG-2 night street) to 1/44 (phone video); the plan says "≈" and the
 * build re-projects from its first frames.
 */
const PRIOR_JPEG_FRACTION = 1 / 10;

export interface CompactCacheOptions {
  /** Folder holding all caches (the `dora.cacheFolder` setting / `--cache-dir`); default defaultCacheRoot(). */
  cacheRoot?: string;
  shortSide?: number;
  /** ffmpeg's mjpeg quantiser scale, 2 (best) … 31. */
  quality?: number;
  tools?: FfmpegTools;
  chunkBytes?: number;
  /** Free bytes of the cache's file system; tests inject a full disk. */
  freeSpace?: (dir: string) => number | null;
}

export interface CompactCachePlan {
  videoPath: string;
  videoBytes: number;
  cacheDir: string;
  probe: VideoProbe;
  width: number;
  height: number;
  shortSide: number;
  quality: number;
  chunkBytes: number;
  expectedFrames: number;
  /** What an RGB24 cache of the same frames takes (the "before" size). */
  rawBytes: number;
  /** Projected size of the finished cache: measured bytes per frame when frames exist, else the prior. */
  estimatedBytes: number;
  estimateMeasured: boolean;
  completedFrames: number;
  cachedBytes: number;
  alreadyComplete: boolean;
  damagedChunks: number[];
  freeBytes: number | null;
  /** One line for the user. */
  summary: string;
}

export function sourceIdentity(videoPath: string): SourceIdentity {
  assertReadableFile(videoPath);
  const path = realpathSync(videoPath);
  const stat = statSync(path);
  return { path, size: stat.size, mtimeMs: stat.mtimeMs };
}

/** Folder name: readable video name + hash of (file identity, settings, layout version). */
export function compactCacheKey(source: SourceIdentity, shortSide: number, quality: number): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ v: COMPACT_CACHE_VERSION, format: 'jpeg', chroma: '420', ...source, shortSide, quality }))
    .digest('hex')
    .slice(0, 16);
  const name = basename(source.path)
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 60);
  return `${name}-j${hash}`;
}

export function freeSpaceOf(dir: string): number | null {
  let probe = dir;
  while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
  try {
    const stats = statfsSync(probe);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

export function validateQuality(quality: number): number {
  if (!Number.isInteger(quality) || quality < 2 || quality > 31)
    throw new RangeError(`frame cache quality must be an integer from 2 (best) to 31, got ${quality}`);
  return quality;
}

/** Probes the video and says what its compact cache will cost, without writing anything. */
export async function planCompactCache(videoPath: string, options: CompactCacheOptions = {}): Promise<CompactCachePlan> {
  const shortSide = options.shortSide ?? DEFAULT_SHORT_SIDE;
  if (!Number.isInteger(shortSide) || shortSide < 16) throw new RangeError(`shortSide must be an integer ≥ 16, got ${shortSide}`);
  const quality = validateQuality(options.quality ?? DEFAULT_JPEG_QUALITY);
  const cacheRoot = options.cacheRoot ?? defaultCacheRoot();
  const source = sourceIdentity(videoPath);
  const probe = await probeVideo(videoPath, options.tools ?? resolveFfmpeg());
  const { width, height } = scaledSize(probe.width, probe.height, shortSide);
  const cacheDir = join(cacheRoot, compactCacheKey(source, shortSide, quality));
  const meta = usableMeta(readMeta(cacheDir), width, height);
  const completedFrames = meta?.completedFrames ?? 0;
  const alreadyComplete = meta?.complete ?? false;
  const expectedFrames = alreadyComplete ? completedFrames : probe.frameCount;
  const frameBytes = width * height * 3;
  const perFrame = completedFrames > 0 ? meta!.jpegBytes / completedFrames : frameBytes * PRIOR_JPEG_FRACTION;
  const plan: CompactCachePlan = {
    videoPath,
    videoBytes: source.size,
    cacheDir,
    probe,
    width,
    height,
    shortSide,
    quality,
    chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    expectedFrames,
    rawBytes: expectedFrames * frameBytes,
    estimatedBytes: Math.round(perFrame * expectedFrames),
    estimateMeasured: completedFrames > 0,
    completedFrames,
    cachedBytes: meta?.jpegBytes ?? 0,
    alreadyComplete,
    damagedChunks: meta ? readDamagedChunks(cacheDir) : [],
    freeBytes: (options.freeSpace ?? freeSpaceOf)(cacheRoot),
    summary: '',
  };
  plan.summary = planSummary(plan);
  return plan;
}

function usableMeta(meta: CompactCacheMeta | null, width: number, height: number): CompactCacheMeta | null {
  return meta && meta.width === width && meta.height === height ? meta : null;
}

/** "before → after" sizes, e.g. "Caching 795 frames … : 325 MB as RGB24 → ≈ 23 MB as JPEG (14× smaller) in …". */
export function planSummary(plan: CompactCachePlan): string {
  const approx = plan.estimateMeasured && plan.probe.frameCountSource !== 'estimated' ? '' : '≈ ';
  const ratio = plan.estimatedBytes > 0 ? ` (${(plan.rawBytes / plan.estimatedBytes).toFixed(0)}× smaller)` : '';
  if (plan.alreadyComplete) {
    return (
      `Frame cache ready: ${plan.expectedFrames} frames at ${plan.width}×${plan.height} JPEG, ${formatBytes(plan.cachedBytes)} ` +
      `(RGB24 would take ${formatBytes(plan.rawBytes)}) in ${plan.cacheDir}`
    );
  }
  return (
    `Caching ${plan.probe.frameCountSource === 'estimated' ? '≈' : ''}${plan.expectedFrames} frames of "${plan.videoPath}" ` +
    `(${formatBytes(plan.videoBytes)}) at ${plan.width}×${plan.height}: ${formatBytes(plan.rawBytes)} as RGB24 → ` +
    `${approx}${formatBytes(plan.estimatedBytes)} as JPEG${ratio} in ${plan.cacheDir}` +
    (plan.completedFrames > 0 ? `, resuming at frame ${plan.completedFrames}` : '') +
    (plan.freeBytes !== null ? ` (${formatBytes(plan.freeBytes)} free)` : '')
  );
}
