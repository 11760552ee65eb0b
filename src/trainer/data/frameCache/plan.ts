// What caching a video will cost (frames, size, folder, free space), found without writing anything.
import { existsSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { scaledSize } from '../ffmpeg/decode';
import { probeVideo, type VideoProbe } from '../ffmpeg/probe';
import { resolveFfmpeg, type FfmpegTools } from '../ffmpeg/tools';
import { DEFAULT_CHUNK_BYTES, DEFAULT_SHORT_SIDE, defaultCacheRoot, formatBytes, frameCacheKey, readIndex, sourceIdentity } from './layout';

export interface FrameCacheOptions {
  /** Folder holding all caches; defaults to defaultCacheRoot(). */
  cacheRoot?: string;
  /** Short side of the cached frames in pixels (never upscaled). DoRA's first crop is 300 px. */
  shortSide?: number;
  /** ffmpeg tools; defaults to resolveFfmpeg(). */
  tools?: FfmpegTools;
  /** Target size of one chunk file. */
  chunkBytes?: number;
}

export interface FrameCachePlan {
  videoPath: string;
  cacheDir: string;
  probe: VideoProbe;
  width: number;
  height: number;
  frameBytes: number;
  framesPerChunk: number;
  expectedFrames: number;
  /** Bytes the finished cache will take (frames + luminance). */
  estimatedBytes: number;
  /** Frames already cached by an earlier (possibly interrupted) run. */
  completedFrames: number;
  alreadyComplete: boolean;
  /** Free space on the cache's file system, or null when unknown. */
  freeBytes: number | null;
  shortSide: number;
  /** One line for the user, e.g. "Caching 795 frames at 426×320 RGB24: 325 MB in …". */
  summary: string;
}

function freeSpace(dir: string): number | null {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

/** Probes the video and says what caching it will cost, without writing anything. */
export async function planFrameCache(videoPath: string, options: FrameCacheOptions = {}): Promise<FrameCachePlan> {
  const shortSide = options.shortSide ?? DEFAULT_SHORT_SIDE;
  if (!Number.isInteger(shortSide) || shortSide < 16) throw new RangeError(`shortSide must be an integer ≥ 16, got ${shortSide}`);
  const cacheRoot = options.cacheRoot ?? defaultCacheRoot();
  const source = sourceIdentity(videoPath);
  const tools = options.tools ?? resolveFfmpeg();
  const probe = await probeVideo(videoPath, tools);
  const { width, height } = scaledSize(probe.width, probe.height, shortSide);
  const frameBytes = width * height * 3;
  const framesPerChunk = Math.max(1, Math.floor((options.chunkBytes ?? DEFAULT_CHUNK_BYTES) / frameBytes));
  const cacheDir = join(cacheRoot, frameCacheKey(source, shortSide));
  const existing = readIndex(cacheDir);
  const usable = existing !== null && existing.frameBytes === frameBytes && existing.framesPerChunk === framesPerChunk;
  const completedFrames = usable ? existing.completedFrames : 0;
  const alreadyComplete = usable && existing.complete;
  const expectedFrames = alreadyComplete ? existing.completedFrames : probe.frameCount;
  const estimatedBytes = expectedFrames * (frameBytes + 4);
  let probeRoot = cacheRoot;
  while (!existsSync(probeRoot) && probeRoot !== join(probeRoot, '..')) probeRoot = join(probeRoot, '..');
  const freeBytes = freeSpace(probeRoot);
  const approx = probe.frameCountSource === 'estimated' ? '≈' : '';
  const summary = alreadyComplete
    ? `Frame cache ready: ${expectedFrames} frames at ${width}×${height} (${formatBytes(estimatedBytes)}) in ${cacheDir}`
    : `Caching ${approx}${expectedFrames} frames of "${videoPath}" at ${width}×${height} RGB24 ` +
      `(${formatBytes(frameBytes)} per frame): ${approx}${formatBytes(estimatedBytes)} in ${cacheDir}` +
      (completedFrames > 0 ? `, resuming at frame ${completedFrames}` : '') +
      (freeBytes !== null ? ` (${formatBytes(freeBytes)} free)` : '');
  return {
    videoPath,
    cacheDir,
    probe,
    width,
    height,
    frameBytes,
    framesPerChunk,
    expectedFrames,
    estimatedBytes,
    completedFrames,
    alreadyComplete,
    freeBytes,
    shortSide,
    summary,
  };
}
