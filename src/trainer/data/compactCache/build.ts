// Builds (resumes, repairs or reuses) the compact JPEG cache of a video in one ffmpeg pass, with progress,
// cancel, a disk-space check against the size projected from the first frames, and atomic completion.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { scaleFilter } from '../ffmpeg/decode';
import { resolveFfmpeg, type FfmpegTools } from '../ffmpeg/tools';
import { zeroFramesError } from '../ffmpeg/videoError';
import { FrameCacheError } from '../frameCache/errors';
import { formatBytes } from '../frameCache/layout';
import { ffmpegVersion, type HwAccel } from './encoder';
import { COMPACT_CACHE_KIND, COMPACT_CACHE_VERSION, readMeta, type CompactCacheMeta } from './format';
import { acquireBuildLock, removeStaleCachesOf } from './lock';
import { freeSpaceOf, planCompactCache, sourceIdentity, type CompactCacheOptions, type CompactCachePlan } from './plan';
import { repairCompactCache } from './repair';
import { startEncoderAt, type ResumeMethod } from './source';
import { CompactWriter, type BeforeWrite } from './writer';

export interface CompactCacheProgress {
  phase: 'encode' | 'repair';
  framesDone: number;
  totalFrames: number;
  /** Frames encoded per second in this run (frames cached by earlier runs excluded). */
  framesPerSecond: number;
  /** Seconds left at the current speed; NaN until known. */
  etaSeconds: number;
  resumedFrom: number;
  resumeMethod: ResumeMethod;
  /** JPEG bytes written so far (all runs). */
  cacheBytes: number;
  /** Projected size of the finished cache from the bytes per frame so far. */
  projectedBytes: number;
  /** What RGB24 would take for the same frames. */
  rawBytes: number;
  hwaccel: HwAccel;
}

export interface BuildCompactCacheOptions extends CompactCacheOptions {
  onProgress?: (progress: CompactCacheProgress) => void;
  progressIntervalMs?: number;
  /** Stops the build; what is committed stays cached and is resumed next time. */
  signal?: AbortSignal;
  /** Time between commits (fsync + atomic index.json). */
  flushIntervalMs?: number;
  /** Frames after which the final size is projected and checked against the free space. */
  projectAfterFrames?: number;
  /** Free space kept on the disk: the build stops before it goes below. */
  reserveBytes?: number;
  hwaccel?: HwAccel;
  /** Also CRC-check every stored frame before resuming or reusing (reads the whole cache). */
  verify?: 'quick' | 'full';
  removeStaleCaches?: boolean;
  /** Test hook: throwing from it simulates a failing disk write. */
  beforeWrite?: BeforeWrite;
  log?: (line: string) => void;
}

export interface CompactBuildResult {
  plan: CompactCachePlan;
  meta: CompactCacheMeta;
  rebuiltChunks: number[];
}

const DEFAULT_RESERVE = 64 * 1024 * 1024;

/** Builds, resumes or repairs the compact cache; resolves with its final metadata. */
export async function buildCompactCache(
  videoPathOrPlan: string | CompactCachePlan,
  options: BuildCompactCacheOptions = {},
): Promise<CompactBuildResult> {
  const tools = options.tools ?? resolveFfmpeg();
  const plan = typeof videoPathOrPlan === 'string' ? await planCompactCache(videoPathOrPlan, { ...options, tools }) : videoPathOrPlan;
  mkdirSync(plan.cacheDir, { recursive: true });
  const source = sourceIdentity(plan.videoPath);
  if (options.removeStaleCaches ?? true) removeStaleCachesOf(join(plan.cacheDir, '..'), source, plan.cacheDir);
  const release = acquireBuildLock(plan.cacheDir, plan.videoPath);
  try {
    const meta = readMeta(plan.cacheDir) ?? newMeta(plan, tools);
    const rebuiltChunks = await repairCompactCache(plan.cacheDir, meta, {
      tools,
      hwaccel: options.hwaccel ?? 'auto',
      verify: options.verify ?? 'quick',
      signal: options.signal,
      log: options.log,
      onProgress: options.onProgress ? (done, total) => reportRepair(options, plan, meta, done, total) : undefined,
    });
    if (!meta.complete) await encodeRemaining(plan, meta, tools, options);
    return { plan, meta, rebuiltChunks };
  } finally {
    release();
  }
}

function newMeta(plan: CompactCachePlan, tools: FfmpegTools): CompactCacheMeta {
  const now = new Date().toISOString();
  return {
    kind: COMPACT_CACHE_KIND,
    version: COMPACT_CACHE_VERSION,
    format: 'jpeg',
    source: sourceIdentity(plan.videoPath),
    settings: { shortSide: plan.shortSide, quality: plan.quality, chroma: '420', scaleFilter: scaleFilter(plan.width, plan.height) },
    width: plan.width,
    height: plan.height,
    fps: plan.probe.fps,
    expectedFrames: plan.probe.frameCount,
    completedFrames: 0,
    complete: false,
    nextChunk: 0,
    chunkTargetBytes: plan.chunkBytes,
    jpegBytes: 0,
    probe: plan.probe,
    encoder: ffmpegVersion(tools),
    createdAt: now,
    updatedAt: now,
  };
}

function reportRepair(options: BuildCompactCacheOptions, plan: CompactCachePlan, meta: CompactCacheMeta, done: number, total: number) {
  options.onProgress?.({
    phase: 'repair',
    framesDone: done,
    totalFrames: total,
    framesPerSecond: 0,
    etaSeconds: NaN,
    resumedFrom: meta.completedFrames,
    resumeMethod: 'start',
    cacheBytes: meta.jpegBytes,
    projectedBytes: meta.jpegBytes,
    rawBytes: plan.rawBytes,
    hwaccel: options.hwaccel ?? 'auto',
  });
}

/** Encodes frames completedFrames.. to the end, committing every flush interval. */
async function encodeRemaining(plan: CompactCachePlan, meta: CompactCacheMeta, tools: FfmpegTools, options: BuildCompactCacheOptions) {
  const writer = new CompactWriter(plan.cacheDir, meta, options.beforeWrite);
  const resumedFrom = meta.completedFrames;
  const space = new SpaceGuard(plan, meta, options);
  const started = await startEncoderAt(
    {
      ...plan.probe,
      tools,
      videoPath: plan.videoPath,
      width: plan.width,
      height: plan.height,
      quality: plan.quality,
      hwaccel: options.hwaccel ?? 'auto',
      signal: options.signal,
      cacheDir: plan.cacheDir,
      trustedFrames: (f) => f < resumedFrom,
    },
    resumedFrom,
  );
  const progress = new ProgressReporter(plan, meta, writer, resumedFrom, started.method, started.hwaccel, options);
  options.log?.(`frame cache: ${started.method === 'seek' ? 'seeked' : 'decoding'} to frame ${resumedFrom} (hwaccel ${started.hwaccel})`);
  let lastFlush = Date.now();
  try {
    for await (const frame of started.frames) {
      if (options.signal?.aborted) break;
      appendOrStop(writer, frame.jpeg, frame.luma, plan);
      if (Date.now() - lastFlush >= (options.flushIntervalMs ?? 2000) || space.projectionDue(writer)) {
        writer.commit(false);
        lastFlush = Date.now();
        space.check(writer);
      }
      progress.report(false);
    }
    if (options.signal?.aborted) {
      writer.commit(false);
      throw new FrameCacheError(
        'CANCELLED',
        `Frame caching of "${plan.videoPath}" was cancelled at frame ${meta.completedFrames}; it resumes from there next time.`,
      );
    }
    if (meta.completedFrames + writer.uncommitted === 0) throw zeroFramesError(plan.videoPath);
    writer.commit(true);
    progress.report(true);
  } catch (err) {
    if (!meta.complete && writer.uncommitted > 0 && !(err instanceof DiskFullError)) writer.commit(false);
    throw err;
  } finally {
    writer.close();
  }
}

class DiskFullError extends FrameCacheError {}

function appendOrStop(writer: CompactWriter, jpeg: Buffer, luma: number, plan: CompactCachePlan): void {
  try {
    writer.append(jpeg, luma);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    writer.discardUncommitted();
    try {
      writer.commit(false); // nothing pending: only re-confirms the last commit
    } catch {
      /* the disk is full: index.json keeps the last committed state */
    }
    throw diskFull(plan, writer.meta, 'the disk is full');
  }
}

function diskFull(plan: CompactCachePlan, meta: CompactCacheMeta, cause: string): DiskFullError {
  return new DiskFullError(
    'DISK_FULL',
    `Frame caching of "${plan.videoPath}" stopped: ${cause}. ${meta.completedFrames} of ≈${meta.expectedFrames} frames ` +
      `(${formatBytes(meta.jpegBytes)}) are cached in ${plan.cacheDir} and stay usable. ` +
      'Fix: free disk space, or choose a cache folder on a larger disk (setting dora.cacheFolder, CLI --cache-dir, ' +
      'or data.frameCache.dir), then build again: it resumes where it stopped.',
  );
}

/** Projects the final size after the first frames and stops the build before the disk runs full. */
class SpaceGuard {
  private projected = false;
  private readonly freeSpace: (dir: string) => number | null;
  private readonly projectAfter: number;
  private readonly reserve: number;

  constructor(
    private readonly plan: CompactCachePlan,
    private readonly meta: CompactCacheMeta,
    options: BuildCompactCacheOptions,
  ) {
    this.freeSpace = options.freeSpace ?? freeSpaceOf;
    this.projectAfter = options.projectAfterFrames ?? 120;
    this.reserve = options.reserveBytes ?? DEFAULT_RESERVE;
  }

  projectionDue(writer: CompactWriter): boolean {
    return !this.projected && this.meta.completedFrames + writer.uncommitted >= this.projectAfter;
  }

  check(writer: CompactWriter): void {
    const free = this.freeSpace(this.plan.cacheDir);
    if (free === null) return;
    const done = this.meta.completedFrames + writer.uncommitted;
    if (!this.projected && done >= this.projectAfter) {
      this.projected = true;
      const remaining = (this.meta.jpegBytes / Math.max(1, this.meta.completedFrames)) * Math.max(0, this.meta.expectedFrames - done);
      if (remaining + this.reserve > free) {
        throw diskFull(
          this.plan,
          this.meta,
          `the remaining frames need ≈${formatBytes(remaining)} (projected from the first ${done} frames), ` +
            `only ${formatBytes(free)} are free in ${this.plan.cacheDir}`,
        );
      }
    }
    if (free < this.reserve) throw diskFull(this.plan, this.meta, `only ${formatBytes(free)} are left on the disk`);
  }
}

class ProgressReporter {
  private readonly started = Date.now();
  private last = 0;

  constructor(
    private readonly plan: CompactCachePlan,
    private readonly meta: CompactCacheMeta,
    private readonly writer: CompactWriter,
    private readonly resumedFrom: number,
    private readonly method: ResumeMethod,
    private readonly hwaccel: HwAccel,
    private readonly options: BuildCompactCacheOptions,
  ) {}

  report(force: boolean): void {
    const onProgress = this.options.onProgress;
    const now = Date.now();
    if (!onProgress || (!force && now - this.last < (this.options.progressIntervalMs ?? 250))) return;
    this.last = now;
    const done = this.meta.completedFrames + this.writer.uncommitted;
    const total = Math.max(this.meta.expectedFrames, done);
    const elapsed = (now - this.started) / 1000;
    const fps = elapsed > 0 ? (done - this.resumedFrom) / elapsed : 0;
    const bytes = this.meta.jpegBytes;
    const perFrame = this.meta.completedFrames > 0 ? bytes / this.meta.completedFrames : 0;
    onProgress({
      phase: 'encode',
      framesDone: done,
      totalFrames: total,
      framesPerSecond: fps,
      etaSeconds: fps > 0 ? (total - done) / fps : NaN,
      resumedFrom: this.resumedFrom,
      resumeMethod: this.method,
      cacheBytes: bytes,
      projectedBytes: Math.round(perFrame * total),
      rawBytes: total * this.plan.width * this.plan.height * 3,
      hwaccel: this.hwaccel,
    });
  }
}
