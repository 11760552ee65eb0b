// One front door for "make the frames of this video readable": chooses the cache format, builds (or resumes, or
// repairs) it, and opens it as a FrameSource. Used by training, the Build Frame Cache command and `dora cache`.
//   format 'jpeg'  → the compact cache (compactCache/): ≥ 10× smaller, decoded in worker threads;
//   format 'rgb24' → the raw cache (frameCache/): exact ffmpeg pixels, 3 bytes per pixel on disk;
//   format 'auto'  → a complete raw cache that already exists keeps being used; otherwise raw while it stays
//                    under AUTO_RAW_LIMIT_BYTES (small videos, the demo), else compact.
import type { DoraConfig } from '../../core/config';
import { buildCompactCache } from './compactCache/build';
import type { HwAccel } from './compactCache/encoder';
import { planCompactCache, planSummary } from './compactCache/plan';
import { openCompactCache } from './compactCache/reader';
import type { FfmpegTools } from './ffmpeg/tools';
import { buildFrameCache } from './frameCache/build';
import { formatBytes } from './frameCache/layout';
import { planFrameCache, type FrameCachePlan } from './frameCache/plan';
import type { FrameSource } from './frameCache/reader';

export type FrameCacheFormat = 'auto' | 'jpeg' | 'rgb24';
export const FRAME_CACHE_FORMATS: readonly FrameCacheFormat[] = ['auto', 'jpeg', 'rgb24'];
export const AUTO_RAW_LIMIT_BYTES = 2e9;

export interface FrameBuildProgress {
  phase: 'encode' | 'repair';
  framesDone: number;
  totalFrames: number;
  framesPerSecond: number;
  etaSeconds: number;
  /** Bytes on disk so far, and projected for the finished cache. */
  cacheBytes: number;
  projectedBytes: number;
  /** Size of the same frames as RGB24 (equal to projectedBytes for the raw cache). */
  rawBytes: number;
}

export interface PrepareFramesOptions {
  format?: FrameCacheFormat;
  shortSide: number;
  quality?: number;
  cacheRoot?: string;
  tools: FfmpegTools;
  signal?: AbortSignal;
  hwaccel?: HwAccel;
  verify?: 'quick' | 'full';
  /** 'auto' keeps RGB24 up to this size (default AUTO_RAW_LIMIT_BYTES). */
  autoRawLimitBytes?: number;
  /** Decode worker threads of the compact reader (0: decode on the calling thread). */
  workers?: number;
  onPlan?: (summary: string) => void;
  onProgress?: (progress: FrameBuildProgress) => void;
  log?: (line: string) => void;
}

/** What `data.frameCache` (and the cache folder the caller was given) say about a video's cache. */
export interface FrameCacheSettings {
  format?: FrameCacheFormat;
  shortSide: number;
  quality?: number;
  cacheRoot?: string;
}

/** The cache settings of a config: its data.frameCache, in a folder of its own (`dir`) or else in `cacheRoot`. */
export function frameCacheSettings(config: DoraConfig, cacheRoot?: string): FrameCacheSettings {
  const { format, shortSide, quality, dir } = config.data.frameCache;
  return { format, shortSide, quality, cacheRoot: dir ?? cacheRoot };
}

export interface PreparedFrames {
  source: FrameSource;
  format: 'jpeg' | 'rgb24';
  cacheDir: string;
  alreadyComplete: boolean;
  /** The plan's one-line summary (sizes before → after). */
  summary: string;
  /** Why this format (for 'auto'). */
  reason: string;
  cacheBytes: number;
  rawBytes: number;
}

/** Resolves 'auto' to a concrete format; the raw plan is returned for reuse. */
export async function chooseFrameCacheFormat(
  video: string,
  options: PrepareFramesOptions,
): Promise<{ format: 'jpeg' | 'rgb24'; reason: string; rawPlan: FrameCachePlan }> {
  const rawPlan = await planFrameCache(video, { shortSide: options.shortSide, cacheRoot: options.cacheRoot, tools: options.tools });
  const format = options.format ?? 'auto';
  const rawSize = formatBytes(rawPlan.estimatedBytes);
  if (format === 'rgb24') return { format, reason: 'data.frameCache.format is "rgb24"', rawPlan };
  if (format === 'jpeg') {
    const old = rawPlan.completedFrames > 0 ? `; the RGB24 cache in ${rawPlan.cacheDir} is no longer used (delete it to free space)` : '';
    return { format, reason: `data.frameCache.format is "jpeg"${old}`, rawPlan };
  }
  if (rawPlan.alreadyComplete)
    return {
      format: 'rgb24',
      reason: `an RGB24 cache of this video exists (${rawSize}); set data.frameCache.format to "jpeg" for a ≥ 10× smaller one`,
      rawPlan,
    };
  if (rawPlan.estimatedBytes <= (options.autoRawLimitBytes ?? AUTO_RAW_LIMIT_BYTES))
    return { format: 'rgb24', reason: `RGB24 takes only ${rawSize}`, rawPlan };
  return { format: 'jpeg', reason: `RGB24 would take ${rawSize}`, rawPlan };
}

export async function prepareFrames(video: string, options: PrepareFramesOptions): Promise<PreparedFrames> {
  const { format, reason, rawPlan } = await chooseFrameCacheFormat(video, options);
  options.log?.(`frame cache format ${format}: ${reason}`);
  return format === 'rgb24' ? prepareRaw(rawPlan, reason, options) : prepareCompact(video, reason, options);
}

async function prepareRaw(plan: FrameCachePlan, reason: string, options: PrepareFramesOptions): Promise<PreparedFrames> {
  options.onPlan?.(plan.summary);
  const cache = await buildFrameCache(plan, {
    tools: options.tools,
    signal: options.signal,
    onProgress: (p) =>
      options.onProgress?.({
        phase: 'encode',
        framesDone: p.framesDone,
        totalFrames: p.totalFrames,
        framesPerSecond: p.framesPerSecond,
        etaSeconds: p.etaSeconds,
        cacheBytes: p.framesDone * plan.frameBytes,
        projectedBytes: p.totalFrames * plan.frameBytes,
        rawBytes: p.totalFrames * plan.frameBytes,
      }),
  });
  const bytes = cache.frameCount * plan.frameBytes;
  return {
    source: cache,
    format: 'rgb24',
    cacheDir: plan.cacheDir,
    alreadyComplete: plan.alreadyComplete,
    summary: plan.summary,
    reason,
    cacheBytes: bytes,
    rawBytes: bytes,
  };
}

async function prepareCompact(video: string, reason: string, options: PrepareFramesOptions): Promise<PreparedFrames> {
  const plan = await planCompactCache(video, {
    shortSide: options.shortSide,
    quality: options.quality,
    cacheRoot: options.cacheRoot,
    tools: options.tools,
  });
  options.onPlan?.(plan.summary);
  const { meta, rebuiltChunks } = await buildCompactCache(plan, {
    tools: options.tools,
    signal: options.signal,
    hwaccel: options.hwaccel,
    verify: options.verify,
    log: options.log,
    onProgress: options.onProgress,
  });
  if (rebuiltChunks.length > 0) options.log?.(`frame cache: re-built ${rebuiltChunks.length} corrupt chunk(s)`);
  const source = await openCompactCache(plan.cacheDir, { workers: options.workers });
  const done = { ...plan, alreadyComplete: true, completedFrames: meta.completedFrames, cachedBytes: meta.jpegBytes };
  return {
    source,
    format: 'jpeg',
    cacheDir: plan.cacheDir,
    alreadyComplete: plan.alreadyComplete && rebuiltChunks.length === 0,
    summary: plan.alreadyComplete ? plan.summary : planSummary({ ...done, expectedFrames: meta.completedFrames }),
    reason,
    cacheBytes: meta.jpegBytes,
    rawBytes: meta.completedFrames * meta.width * meta.height * 3,
  };
}
