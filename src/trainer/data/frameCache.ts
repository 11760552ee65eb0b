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
//   build.lock          present while a builder runs (holds its pid)
// Frames below index.completedFrames are fully written and fsync'ed before the index says so, so a
// reader never sees a half-written frame, and an interrupted build resumes from completedFrames.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import {
  assertReadableFile,
  decodeFrames,
  probeVideo,
  resolveFfmpeg,
  scaledSize,
  scaleFilter,
  VideoError,
  zeroFramesError,
  type FfmpegTools,
  type VideoProbe,
} from './ffmpeg';

/** Bump when the on-disk layout changes: it is part of the cache key, so old caches are simply not used. */
export const FRAME_CACHE_VERSION = 1;
export const DEFAULT_SHORT_SIDE = 320;
const DEFAULT_CHUNK_BYTES = 256 * 1024 * 1024;
const INDEX_FILE = 'index.json';
const LUMA_FILE = 'luma.f32';
const LOCK_FILE = 'build.lock';

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
  createdAt: string;
  updatedAt: string;
}

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

export type ResumeMethod = 'start' | 'seek' | 'decode-skip';

export interface BuildFrameCacheOptions extends FrameCacheOptions {
  onProgress?: (progress: FrameCacheProgress) => void;
  /** Minimum time between progress callbacks (the last one always fires). */
  progressIntervalMs?: number;
  /** Stops the build; what is done stays cached and is resumed next time. */
  signal?: AbortSignal;
  /** How to continue an interrupted cache: 'auto' seeks when that is verifiably exact, else decodes and skips. */
  resumeStrategy?: 'auto' | 'seek' | 'decode-skip';
  /** Delete other caches of the same video file (stale after the file changed). Default true. */
  removeStaleCaches?: boolean;
  /** Time between index flushes (fsync + atomic index rewrite). */
  flushIntervalMs?: number;
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

function sourceIdentity(videoPath: string): FrameCacheIndex['source'] {
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

function readIndex(dir: string): FrameCacheIndex | null {
  try {
    const index = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8')) as FrameCacheIndex;
    return index.version === FRAME_CACHE_VERSION && index.format === 'rgb24' ? index : null; // compact caches say "jpeg"
  } catch {
    return null;
  }
}

function writeIndexAtomically(dir: string, index: FrameCacheIndex): void {
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

function chunkPath(dir: string, chunk: number): string {
  return join(dir, `frames-${String(chunk).padStart(5, '0')}.rgb`);
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

/** Holds build.lock for the duration of a build; a lock of a dead process is taken over. */
function acquireBuildLock(dir: string, videoPath: string): () => void {
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
    throw new VideoError(
      'FFMPEG_FAILED',
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

async function runBuild(
  plan: FrameCachePlan,
  source: FrameCacheIndex['source'],
  tools: FfmpegTools,
  options: BuildFrameCacheOptions,
): Promise<void> {
  const { cacheDir, frameBytes, framesPerChunk, width, height } = plan;
  const now = new Date().toISOString();
  const previous = readIndex(cacheDir);
  const index: FrameCacheIndex =
    previous && previous.frameBytes === frameBytes && previous.framesPerChunk === framesPerChunk
      ? previous
      : {
          version: FRAME_CACHE_VERSION,
          format: 'rgb24',
          source,
          settings: { shortSide: plan.shortSide, scaleFilter: scaleFilter(width, height) },
          width,
          height,
          frameBytes,
          framesPerChunk,
          fps: plan.probe.fps,
          expectedFrames: plan.probe.frameCount,
          completedFrames: 0,
          complete: false,
          probe: plan.probe,
          createdAt: now,
          updatedAt: now,
        };
  const resumedFrom = index.completedFrames;

  // Drop whatever an interrupted run wrote past the last indexed frame.
  const lumaFd = openSync(join(cacheDir, LUMA_FILE), existsSync(join(cacheDir, LUMA_FILE)) ? 'r+' : 'w+');
  ftruncateSync(lumaFd, resumedFrom * 4);
  let chunk = Math.floor(resumedFrom / framesPerChunk);
  let chunkFd = openChunkForAppend(cacheDir, chunk, (resumedFrom % framesPerChunk) * frameBytes);
  let framesInChunk = resumedFrom % framesPerChunk;
  let pendingLuma: number[] = [];
  let lastFlush = Date.now();

  const flush = (complete: boolean) => {
    fdatasyncSync(chunkFd);
    const luma = Buffer.from(new Float32Array(pendingLuma).buffer);
    writeSync(lumaFd, luma, 0, luma.length, (index.completedFrames - pendingLuma.length) * 4);
    fdatasyncSync(lumaFd);
    pendingLuma = [];
    index.complete = complete;
    index.updatedAt = new Date().toISOString();
    writeIndexAtomically(cacheDir, index);
    lastFlush = Date.now();
  };

  const started = Date.now();
  let resumeMethod: ResumeMethod = 'start';
  let lastProgress = 0;
  const progressInterval = options.progressIntervalMs ?? 250;
  const report = (force: boolean) => {
    if (!options.onProgress) return;
    const t = Date.now();
    if (!force && t - lastProgress < progressInterval) return;
    lastProgress = t;
    const done = index.completedFrames;
    const elapsed = (t - started) / 1000;
    const framesPerSecond = elapsed > 0 ? (done - resumedFrom) / elapsed : 0;
    const total = Math.max(index.expectedFrames, done);
    options.onProgress({
      framesDone: done,
      totalFrames: total,
      framesPerSecond,
      resumedFrom,
      resumeMethod,
      etaSeconds: framesPerSecond > 0 ? (total - done) / framesPerSecond : NaN,
    });
  };

  try {
    const { frames, method } = await resumeDecoder(plan, tools, cacheDir, resumedFrom, options);
    resumeMethod = method;
    for await (const frame of frames) {
      if (options.signal?.aborted) break;
      if (framesInChunk === framesPerChunk) {
        fdatasyncSync(chunkFd);
        closeSync(chunkFd);
        chunk++;
        chunkFd = openChunkForAppend(cacheDir, chunk, 0);
        framesInChunk = 0;
      }
      writeSync(chunkFd, frame, 0, frameBytes, framesInChunk * frameBytes);
      framesInChunk++;
      pendingLuma.push(meanLuminance(frame, width, height));
      index.completedFrames++;
      if (Date.now() - lastFlush >= (options.flushIntervalMs ?? 2000)) flush(false);
      report(false);
    }
    if (options.signal?.aborted) {
      flush(false);
      throw new VideoError(
        'FFMPEG_FAILED',
        `Frame caching of "${plan.videoPath}" was cancelled at frame ${index.completedFrames}; it resumes from there next time.`,
      );
    }
    if (index.completedFrames === 0) throw zeroFramesError(plan.videoPath);
    index.expectedFrames = index.completedFrames;
    flush(true);
    report(true);
  } catch (err) {
    if (!index.complete && pendingLuma.length > 0) flush(false);
    throw err;
  } finally {
    closeSync(chunkFd);
    closeSync(lumaFd);
  }
}

function openChunkForAppend(dir: string, chunk: number, validBytes: number): number {
  const path = chunkPath(dir, chunk);
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
  ftruncateSync(fd, validBytes);
  return fd;
}

function readCachedFrame(dir: string, index: Pick<FrameCacheIndex, 'frameBytes' | 'framesPerChunk'>, frame: number): Buffer {
  const buffer = Buffer.allocUnsafe(index.frameBytes);
  const fd = openSync(chunkPath(dir, Math.floor(frame / index.framesPerChunk)), 'r');
  try {
    readSync(fd, buffer, 0, index.frameBytes, (frame % index.framesPerChunk) * index.frameBytes);
  } finally {
    closeSync(fd);
  }
  return buffer;
}

/**
 * Starts ffmpeg so that its first output frame is frame `resumeAt`.
 * Seeking (`-ss`) is fast but only trusted when verified: ffmpeg is asked for frame resumeAt-1, which
 * is already cached, and the bytes must match (and differ from frame resumeAt-2, so a still scene
 * cannot fake a match). Otherwise every frame is decoded again and the first resumeAt are dropped by
 * the select filter before scaling, which is exact for any video.
 */
async function resumeDecoder(
  plan: FrameCachePlan,
  tools: FfmpegTools,
  dir: string,
  resumeAt: number,
  options: BuildFrameCacheOptions,
): Promise<{ frames: AsyncIterable<Buffer>; method: ResumeMethod }> {
  const vf = scaleFilter(plan.width, plan.height);
  const common = { width: plan.width, height: plan.height, signal: options.signal };
  if (resumeAt === 0) return { frames: decodeFrames(tools, plan.videoPath, { ...common, videoFilter: vf }), method: 'start' };

  const strategy = options.resumeStrategy ?? 'auto';
  const canSeek = strategy === 'seek' || (strategy === 'auto' && plan.probe.constantFrameRate && resumeAt >= 2);
  if (canSeek && resumeAt >= 2) {
    const overlapFrame = resumeAt - 1;
    const expected = readCachedFrame(dir, plan, overlapFrame);
    const distinct = !expected.equals(readCachedFrame(dir, plan, overlapFrame - 1));
    // Half a frame before the overlap frame: robust against timestamp rounding in a constant-rate stream.
    const seekSeconds = (overlapFrame - 0.5) / plan.probe.fps;
    const stream = decodeFrames(tools, plan.videoPath, { ...common, videoFilter: vf, seekSeconds });
    const first = await stream.next();
    if (!first.done && first.value.equals(expected) && (distinct || strategy === 'seek')) {
      return { frames: stream, method: 'seek' }; // positioned exactly: the next frame is resumeAt
    }
    await stream.return(undefined);
  }
  const frames = decodeFrames(tools, plan.videoPath, { ...common, videoFilter: `select=gte(n\\,${resumeAt}),${vf}` });
  return { frames, method: 'decode-skip' };
}

/** Read access to a built (or partially built) frame cache. */
export interface FrameCache {
  readonly dir: string;
  readonly index: FrameCacheIndex;
  /** Frames readable now: all frames when `complete`, else those finished so far. */
  readonly frameCount: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly frameBytes: number;
  readonly complete: boolean;
  readonly sourcePath: string;
  /** One RGB24 frame, height × width × 3, row-major. */
  readFrame(frame: number): Uint8Array;
  /** Copies one frame into `target` at byte `offset` (no allocation). */
  readFrameInto(frame: number, target: Uint8Array, offset?: number): void;
  /** Frames stacked in one buffer: indices.length × height × width × 3, in the order given. */
  readFrames(indices: readonly number[]): Uint8Array;
  /** Mean luminance (0..255) per frame. */
  luminance(): Float32Array;
  close(): void;
}

export function openFrameCache(dir: string): FrameCache {
  const index = readIndex(dir);
  if (!index) {
    throw new VideoError(
      'FILE_NOT_FOUND',
      `No frame cache in "${dir}" (missing or outdated ${INDEX_FILE}). Fix: build it with buildFrameCache().`,
    );
  }
  const { frameBytes, framesPerChunk } = index;
  const frameCount = index.completedFrames;
  const chunkFds = new Map<number, number>();
  let closed = false;

  const fdFor = (chunk: number) => {
    if (closed) throw new Error(`Frame cache ${dir} is closed`);
    let fd = chunkFds.get(chunk);
    if (fd === undefined) {
      fd = openSync(chunkPath(dir, chunk), 'r');
      chunkFds.set(chunk, fd);
    }
    return fd;
  };

  const readFrameInto = (frame: number, target: Uint8Array, offset = 0) => {
    if (!Number.isInteger(frame) || frame < 0 || frame >= frameCount) {
      throw new RangeError(`Frame ${frame} is outside the cache of "${index.source.path}" (0..${frameCount - 1})`);
    }
    const fd = fdFor(Math.floor(frame / framesPerChunk));
    const position = (frame % framesPerChunk) * frameBytes;
    let done = 0;
    while (done < frameBytes) {
      const n = readSync(fd, target, offset + done, frameBytes - done, position + done);
      if (n === 0) throw new Error(`Frame cache ${dir} is truncated at frame ${frame}. Fix: delete the folder to rebuild it.`);
      done += n;
    }
  };

  return {
    dir,
    index,
    frameCount,
    frameBytes,
    width: index.width,
    height: index.height,
    fps: index.fps,
    complete: index.complete,
    sourcePath: index.source.path,
    readFrame(frame) {
      const out = new Uint8Array(frameBytes);
      readFrameInto(frame, out);
      return out;
    },
    readFrameInto,
    readFrames(indices) {
      const out = new Uint8Array(indices.length * frameBytes);
      indices.forEach((frame, k) => readFrameInto(frame, out, k * frameBytes));
      return out;
    },
    luminance() {
      const bytes = readFileSync(join(dir, LUMA_FILE)).subarray(0, frameCount * 4);
      const copy = new Uint8Array(bytes); // aligned copy for the Float32Array view
      return new Float32Array(copy.buffer, 0, frameCount);
    },
    close() {
      closed = true;
      for (const fd of chunkFds.values()) closeSync(fd);
      chunkFds.clear();
    },
  };
}

export interface BlankTail {
  /** First frame of the trailing near-black run; frames before it are usable. */
  firstBlankFrame: number;
  blankFrames: number;
  totalFrames: number;
  blankSeconds: number;
  /** A warning for the user that names the file. */
  message: string;
}

export interface BlankTailOptions {
  /** A frame is near-black when its mean luminance (0..255) is at most this. */
  maxLuminance?: number;
  /** Ignore shorter trailing runs (a fade-out is not a blank tail). */
  minSeconds?: number;
}

function formatClock(seconds: number): string {
  const s = Math.floor(seconds);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return `${hh}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}`;
}

/**
 * Finds a trailing run of near-black frames (the official Venice video ends with ~2 h of black),
 * so training can trim it. Returns null when the video does not end in such a run.
 */
export function detectBlankTail(
  cache: Pick<FrameCache, 'fps' | 'luminance' | 'sourcePath'>,
  options: BlankTailOptions = {},
): BlankTail | null {
  const maxLuminance = options.maxLuminance ?? 12;
  const minFrames = Math.max(1, Math.round((options.minSeconds ?? 1) * cache.fps));
  const luma = cache.luminance();
  let first = luma.length;
  while (first > 0 && luma[first - 1] <= maxLuminance) first--;
  const blankFrames = luma.length - first;
  if (blankFrames < minFrames) return null;
  const blankSeconds = blankFrames / cache.fps;
  const message =
    first === 0
      ? `"${cache.sourcePath}" is entirely near-black (mean luminance ≤ ${maxLuminance}/255 in all ${luma.length} frames). Fix: check the video.`
      : `"${cache.sourcePath}" ends with ${formatClock(blankSeconds)} of near-black frames (frames ${first}–${luma.length - 1}, ` +
        `from ${formatClock(first / cache.fps)}); training uses frames 0–${first - 1} only.`;
  return { firstBlankFrame: first, blankFrames, totalFrames: luma.length, blankSeconds, message };
}
