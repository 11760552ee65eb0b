// Building a frame cache: decode once with ffmpeg (resuming an interrupted build where it stopped), write fixed-size
// RGB24 frames into chunk files plus one luminance value per frame, and make the index say so only after the bytes are
// on disk (fsync, then an atomic index rewrite). One builder per folder (lock.ts); a cancel keeps what is done.
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { scaleFilter } from '../ffmpeg/decode';
import { resolveFfmpeg, type FfmpegTools } from '../ffmpeg/tools';
import { zeroFramesError } from '../ffmpeg/videoError';
import { summarizeFfmpegDiagnostics } from '../videoIntegrity';
import { FrameCacheError } from './errors';
import {
  chunkPath,
  formatBytes,
  FRAME_CACHE_VERSION,
  INDEX_FILE,
  LOCK_FILE,
  LUMA_FILE,
  readIndex,
  sourceIdentity,
  writeIndexAtomically,
  type FrameCacheIndex,
} from './layout';
import { acquireBuildLock } from './lock';
import { planFrameCache, type FrameCacheOptions, type FrameCachePlan } from './plan';
import { openFrameCache, type FrameCache } from './reader';
import { resumeDecoder, type ResumeMethod, type ResumeOptions } from './resume';

export interface FrameCacheProgress {
  framesDone: number;
  totalFrames: number;
  /** Frames decoded per second in this run (excludes frames cached by earlier runs). */
  framesPerSecond: number;
  /** Seconds left at the current speed; NaN until the speed is known. */
  etaSeconds: number;
  resumedFrom: number;
  /** How this run started: from frame 0, by a verified seek, or by decoding and skipping cached frames. */
  resumeMethod: ResumeMethod;
}

export interface BuildFrameCacheOptions extends FrameCacheOptions {
  onProgress?: (progress: FrameCacheProgress) => void;
  /** Minimum time between progress callbacks (the last one always fires). */
  progressIntervalMs?: number;
  /** Stops the build; what is done stays cached and is resumed next time. */
  signal?: AbortSignal;
  /** How to continue an interrupted cache: 'auto' seeks when that is verifiably exact, else decodes and skips. */
  resumeStrategy?: ResumeOptions['resumeStrategy'];
  /** Delete other caches of the same video file (stale after the file changed). Default true. */
  removeStaleCaches?: boolean;
  /** Time between index flushes (fsync + atomic index rewrite). */
  flushIntervalMs?: number;
}

/** Mean Rec.601 luma (0..255) on a 2×2-subsampled grid: cheap, and plenty to tell black frames apart. */
export function meanLuminance(frame: Uint8Array, width: number, height: number): number {
  let sum = 0;
  let count = 0;
  const rowBytes = width * 3;
  for (let y = 0; y < height; y += 2) {
    let p = y * rowBytes;
    const rowEnd = p + rowBytes;
    for (; p < rowEnd; p += 6) {
      sum += 77 * frame[p] + 150 * frame[p + 1] + 29 * frame[p + 2];
      count++;
    }
  }
  return count ? sum / (256 * count) : 0;
}

/**
 * Builds (or resumes, or reuses) the frame cache of a video and opens it. Pass a plan from
 * planFrameCache() to show its summary first; otherwise the video is probed here.
 */
export async function buildFrameCache(videoPathOrPlan: string | FrameCachePlan, options: BuildFrameCacheOptions = {}): Promise<FrameCache> {
  const tools = options.tools ?? resolveFfmpeg();
  const plan = typeof videoPathOrPlan === 'string' ? await planFrameCache(videoPathOrPlan, { ...options, tools }) : videoPathOrPlan;
  if (plan.alreadyComplete) return openFrameCache(plan.cacheDir);

  const cacheRoot = join(plan.cacheDir, '..');
  mkdirSync(plan.cacheDir, { recursive: true });
  const source = sourceIdentity(plan.videoPath);
  if (options.removeStaleCaches ?? true) removeStaleCachesOf(cacheRoot, source, plan.cacheDir);
  const needed = plan.estimatedBytes - plan.completedFrames * (plan.frameBytes + 4);
  if (plan.freeBytes !== null && needed > plan.freeBytes) {
    throw new FrameCacheError(
      'DISK_FULL',
      `Not enough disk space for the frame cache of "${plan.videoPath}": it needs ${formatBytes(needed)} more, ` +
        `${formatBytes(plan.freeBytes)} are free in ${cacheRoot}. Fix: lower the cache's short side, or choose another cache folder.`,
    );
  }

  const releaseLock = acquireBuildLock(plan.cacheDir, plan.videoPath);
  try {
    await runBuild(plan, source, tools, options);
  } finally {
    releaseLock();
  }
  return openFrameCache(plan.cacheDir);
}

/** Removes caches of an older version of the same file (other size or mtime); other settings are kept. */
function removeStaleCachesOf(cacheRoot: string, current: FrameCacheIndex['source'], keepDir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(cacheRoot);
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = join(cacheRoot, entry);
    if (dir === keepDir) continue;
    let source: FrameCacheIndex['source'] | undefined;
    try {
      source = (JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8')) as Partial<FrameCacheIndex>).source;
    } catch {
      continue;
    }
    const stale = source?.path === current.path && (source.size !== current.size || source.mtimeMs !== current.mtimeMs);
    if (stale && !existsSync(join(dir, LOCK_FILE))) rmSync(dir, { recursive: true, force: true });
  }
}

/** The index to continue from: the folder's own when it matches the plan's layout, else a fresh one. */
function startingIndex(plan: FrameCachePlan, source: FrameCacheIndex['source']): FrameCacheIndex {
  const previous = readIndex(plan.cacheDir);
  if (previous && previous.frameBytes === plan.frameBytes && previous.framesPerChunk === plan.framesPerChunk) return previous;
  const now = new Date().toISOString();
  return {
    version: FRAME_CACHE_VERSION,
    format: 'rgb24',
    source,
    settings: { shortSide: plan.shortSide, scaleFilter: scaleFilter(plan.width, plan.height) },
    width: plan.width,
    height: plan.height,
    frameBytes: plan.frameBytes,
    framesPerChunk: plan.framesPerChunk,
    fps: plan.probe.fps,
    expectedFrames: plan.probe.frameCount,
    completedFrames: 0,
    complete: false,
    probe: plan.probe,
    createdAt: now,
    updatedAt: now,
  };
}

async function runBuild(plan: FrameCachePlan, source: FrameCacheIndex['source'], tools: FfmpegTools, options: BuildFrameCacheOptions) {
  const index = startingIndex(plan, source);
  const writer = new CacheWriter(plan.cacheDir, index);
  const progress = new ProgressReporter(index, options);
  try {
    const diagnostics: string[] = [];
    const decodeOptions = { ...options, onDiagnostics: (stderr: string) => diagnostics.push(stderr) };
    const { frames, method } = await resumeDecoder(plan, tools, plan.cacheDir, index.completedFrames, decodeOptions);
    progress.resumeMethod = method;
    for await (const frame of frames) {
      if (options.signal?.aborted) break;
      writer.append(frame);
      if (writer.msSinceFlush() >= (options.flushIntervalMs ?? 2000)) writer.flush(false);
      progress.report(false);
    }
    if (options.signal?.aborted) {
      writer.flush(false);
      throw new FrameCacheError(
        'CANCELLED',
        `Frame caching of "${plan.videoPath}" was cancelled at frame ${index.completedFrames}; it resumes from there next time.`,
      );
    }
    if (index.completedFrames === 0) throw zeroFramesError(plan.videoPath);
    index.expectedFrames = index.completedFrames;
    const summary = summarizeFfmpegDiagnostics(diagnostics.join('\n'));
    if (summary.length) index.decodeDiagnostics = summary;
    writer.flush(true);
    progress.report(true);
  } catch (err) {
    if (!index.complete && writer.hasPending()) keepWhatIsDone(writer);
    throw (err as { code?: unknown }).code === 'ENOSPC' ? diskFull(plan, index.completedFrames) : err;
  } finally {
    writer.close();
  }
}

/** After an error: record the frames already written, unless the disk refuses that too (the first error wins). */
function keepWhatIsDone(writer: CacheWriter): void {
  try {
    writer.flush(false);
  } catch {
    // the original error is the one to report
  }
}

function diskFull(plan: FrameCachePlan, framesDone: number): FrameCacheError {
  return new FrameCacheError(
    'DISK_FULL',
    `The disk of the frame cache ${plan.cacheDir} is full after ${framesDone} frames of "${plan.videoPath}"; the frames ` +
      'written so far are kept. Fix: free disk space (or choose another cache folder), then build again: it resumes.',
  );
}

/** Appends frames to the chunk files and luminances to luma.f32; `flush` makes the index say what is on disk. */
class CacheWriter {
  private chunk: number;
  private chunkFd: number;
  private framesInChunk: number;
  private readonly lumaFd: number;
  private pendingLuma: number[] = [];
  private lastFlush = Date.now();

  constructor(
    private readonly dir: string,
    private readonly index: FrameCacheIndex,
  ) {
    const resumedFrom = index.completedFrames;
    // Drop whatever an interrupted run wrote past the last indexed frame.
    const luma = join(dir, LUMA_FILE);
    this.lumaFd = openSync(luma, existsSync(luma) ? 'r+' : 'w+');
    ftruncateSync(this.lumaFd, resumedFrom * 4);
    this.chunk = Math.floor(resumedFrom / index.framesPerChunk);
    this.framesInChunk = resumedFrom % index.framesPerChunk;
    this.chunkFd = openChunkForAppend(dir, this.chunk, this.framesInChunk * index.frameBytes);
  }

  append(frame: Uint8Array): void {
    const { frameBytes, framesPerChunk, width, height } = this.index;
    if (this.framesInChunk === framesPerChunk) {
      fdatasyncSync(this.chunkFd);
      closeSync(this.chunkFd);
      this.chunk++;
      this.chunkFd = openChunkForAppend(this.dir, this.chunk, 0);
      this.framesInChunk = 0;
    }
    writeSync(this.chunkFd, frame, 0, frameBytes, this.framesInChunk * frameBytes);
    this.framesInChunk++;
    this.pendingLuma.push(meanLuminance(frame, width, height));
    this.index.completedFrames++;
  }

  hasPending(): boolean {
    return this.pendingLuma.length > 0;
  }

  msSinceFlush(): number {
    return Date.now() - this.lastFlush;
  }

  /** fsync the frames and luminances written so far, then rewrite the index atomically. */
  flush(complete: boolean): void {
    fdatasyncSync(this.chunkFd);
    const luma = Buffer.from(new Float32Array(this.pendingLuma).buffer);
    writeSync(this.lumaFd, luma, 0, luma.length, (this.index.completedFrames - this.pendingLuma.length) * 4);
    fdatasyncSync(this.lumaFd);
    this.pendingLuma = [];
    this.index.complete = complete;
    this.index.updatedAt = new Date().toISOString();
    writeIndexAtomically(this.dir, this.index);
    this.lastFlush = Date.now();
  }

  close(): void {
    closeSync(this.chunkFd);
    closeSync(this.lumaFd);
  }
}

function openChunkForAppend(dir: string, chunk: number, validBytes: number): number {
  const path = chunkPath(dir, chunk);
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
  ftruncateSync(fd, validBytes);
  return fd;
}

/** Progress callbacks at most every progressIntervalMs (the last one always), with the speed of this run. */
class ProgressReporter {
  resumeMethod: ResumeMethod = 'start';
  private readonly started = Date.now();
  private readonly resumedFrom: number;
  private last = 0;

  constructor(
    private readonly index: FrameCacheIndex,
    private readonly options: BuildFrameCacheOptions,
  ) {
    this.resumedFrom = index.completedFrames;
  }

  report(force: boolean): void {
    if (!this.options.onProgress) return;
    const t = Date.now();
    if (!force && t - this.last < (this.options.progressIntervalMs ?? 250)) return;
    this.last = t;
    const done = this.index.completedFrames;
    const elapsed = (t - this.started) / 1000;
    const framesPerSecond = elapsed > 0 ? (done - this.resumedFrom) / elapsed : 0;
    const total = Math.max(this.index.expectedFrames, done);
    this.options.onProgress({
      framesDone: done,
      totalFrames: total,
      framesPerSecond,
      resumedFrom: this.resumedFrom,
      resumeMethod: this.resumeMethod,
      etaSeconds: framesPerSecond > 0 ? (total - done) / framesPerSecond : NaN,
    });
  }
}
