// Locating ffmpeg/ffprobe, probing videos, and streaming decoded frames out of an ffmpeg child process.
// Frames are always scaled inside ffmpeg: a 4K RGB frame is 25 MB, far too much to move through Node.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, join, resolve } from 'node:path';

export type VideoErrorCode =
  'FFMPEG_NOT_FOUND' | 'FILE_NOT_FOUND' | 'FILE_NOT_READABLE' | 'UNREADABLE_VIDEO' | 'NO_VIDEO_STREAM' | 'ZERO_FRAMES' | 'FFMPEG_FAILED';

/** An error meant to be shown to the user as is: it names the file, the cause and the fix. */
export class VideoError extends Error {
  constructor(
    readonly code: VideoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VideoError';
  }
}

export interface FfmpegTools {
  ffmpeg: string;
  /** null when no ffprobe was found; probing then parses `ffmpeg -i` output instead. */
  ffprobe: string | null;
  /** Where ffmpeg came from, for logs and error messages. */
  source: 'explicit' | 'path' | 'npm';
}

export interface ResolveFfmpegOptions {
  /** From the `dora.ffmpegPath` setting or the CLI's `--ffmpeg`. Wins over everything else. */
  explicitPath?: string;
  /** Defaults to process.env.PATH; tests pass '' to simulate a machine without ffmpeg. */
  searchPath?: string;
  /** Loads an optional npm package; defaults to require(). Tests inject a loader that fails. */
  loadOptionalModule?: (id: string) => unknown;
}

const isWindows = process.platform === 'win32';
const exeSuffix = isWindows ? '.exe' : '';

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, isWindows ? fsConstants.F_OK : fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, searchPath: string): string | null {
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name + exeSuffix);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

// A require() that esbuild leaves alone (the id is not a literal), resolved next to the bundle
// (dist/*.js -> node_modules) or, under tsx/tests, next to this file.
function defaultOptionalLoader(id: string): unknown {
  const anchor = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');
  return createRequire(anchor)(id);
}

function npmBinaryPath(id: string, load: (id: string) => unknown): string | null {
  try {
    const mod = load(id) as { path?: unknown } | null;
    const path = mod && typeof mod.path === 'string' ? mod.path : null;
    return path && isExecutableFile(path) ? path : null;
  } catch {
    return null; // the optional package is not installed
  }
}

/**
 * Finds ffmpeg (and ffprobe if available) in this order: the explicit path, `ffmpeg` on PATH,
 * then the optional npm package `@ffmpeg-installer/ffmpeg`.
 */
export function resolveFfmpeg(options: ResolveFfmpegOptions = {}): FfmpegTools {
  const searchPath = options.searchPath ?? process.env.PATH ?? '';
  const load = options.loadOptionalModule ?? defaultOptionalLoader;

  if (options.explicitPath) {
    const explicit = resolve(options.explicitPath);
    if (!isExecutableFile(explicit)) {
      throw new VideoError(
        'FFMPEG_NOT_FOUND',
        `ffmpeg not found at "${explicit}" (set by the dora.ffmpegPath setting or --ffmpeg). ` +
          'Fix: point it to an ffmpeg executable, or clear it to use ffmpeg from PATH.',
      );
    }
    const siblingProbe = join(dirname(explicit), basename(explicit).replace(/ffmpeg/i, 'ffprobe'));
    const ffprobe = siblingProbe !== explicit && isExecutableFile(siblingProbe) ? siblingProbe : findOnPath('ffprobe', searchPath);
    return { ffmpeg: explicit, ffprobe, source: 'explicit' };
  }

  const onPath = findOnPath('ffmpeg', searchPath);
  if (onPath) {
    const siblingProbe = join(dirname(onPath), 'ffprobe' + exeSuffix);
    const ffprobe = isExecutableFile(siblingProbe) ? siblingProbe : findOnPath('ffprobe', searchPath);
    return { ffmpeg: onPath, ffprobe, source: 'path' };
  }

  const fromNpm = npmBinaryPath('@ffmpeg-installer/ffmpeg', load);
  if (fromNpm) {
    return { ffmpeg: fromNpm, ffprobe: npmBinaryPath('@ffprobe-installer/ffprobe', load), source: 'npm' };
  }

  throw new VideoError(
    'FFMPEG_NOT_FOUND',
    'ffmpeg not found. Tried: the dora.ffmpegPath setting / --ffmpeg (not set), "ffmpeg" on PATH ' +
      `(${searchPath ? 'not found' : 'PATH is empty'}), the npm package @ffmpeg-installer/ffmpeg (not installed). ` +
      'Fix: install ffmpeg (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg), ' +
      'or set dora.ffmpegPath (CLI: --ffmpeg /path/to/ffmpeg).',
  );
}

interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runTool(command: string, args: string[]): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (err) =>
      reject(
        new VideoError(
          'FFMPEG_NOT_FOUND',
          `Could not start "${command}": ${err.message}. Fix: check the ffmpeg installation or the dora.ffmpegPath setting.`,
        ),
      ),
    );
    child.once('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Fails early, before ffmpeg runs, with a message that names the file. */
export function assertReadableFile(file: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new VideoError('FILE_NOT_FOUND', `Video file not found: "${file}". Fix: check the video path in the run settings.`);
  }
  if (!isFile) throw new VideoError('FILE_NOT_FOUND', `Not a file: "${file}". Fix: choose a video file, not a folder.`);
  try {
    accessSync(file, fsConstants.R_OK);
  } catch {
    throw new VideoError('FILE_NOT_READABLE', `Video file "${file}" is not readable (permission denied). Fix: check its permissions.`);
  }
}

/** The line of ffmpeg/ffprobe stderr that explains a failure, without the "file: " prefix. */
function ffmpegReason(stderr: string, file: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const aboutFile = lines.filter((l) => l.startsWith(file + ':'));
  const line = aboutFile.at(-1) ?? lines.at(-1) ?? 'no error message';
  return line.startsWith(file + ':') ? line.slice(file.length + 1).trim() : line;
}

function unreadableVideo(file: string, stderr: string): VideoError {
  return new VideoError(
    'UNREADABLE_VIDEO',
    `Cannot read video "${file}": ffmpeg says "${ffmpegReason(stderr, file)}". ` +
      'The file is corrupt, truncated or not a video. Fix: re-download it, or re-encode it with ffmpeg -i IN -c:v libx264 OUT.mp4.',
  );
}

export function zeroFramesError(file: string): VideoError {
  return new VideoError(
    'ZERO_FRAMES',
    `Video "${file}" contains no frames: its video stream is empty. Fix: choose another video, or re-export this one.`,
  );
}

export interface VideoProbe {
  file: string;
  codec: string;
  /** Display size: already swapped for ±90° rotation metadata, because ffmpeg auto-rotates when decoding. */
  width: number;
  height: number;
  /** Average frame rate (frames / second). */
  fps: number;
  /** True when the container reports a constant frame rate (r_frame_rate == avg_frame_rate). */
  constantFrameRate: boolean;
  frameCount: number;
  /** 'container': from the header; 'counted': packets counted (demux only); 'estimated': duration × fps. */
  frameCountSource: 'container' | 'counted' | 'estimated';
  durationSeconds: number;
  rotation: number;
  /** Caveats worth showing to the user (e.g. an estimated frame count). */
  notes: string[];
}

function parseRate(rate: string | undefined): number {
  if (!rate) return NaN;
  const [num, den] = rate.split('/').map(Number);
  if (den === undefined) return Number(num);
  return den ? num / den : NaN;
}

interface FfprobeStream {
  codec_name?: string;
  codec_type?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  nb_read_packets?: string;
  duration?: string;
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

async function probeWithFfprobe(
  ffprobe: string,
  file: string,
): Promise<Omit<VideoProbe, 'frameCount' | 'frameCountSource' | 'notes'> & { nbFrames: number }> {
  const result = await runTool(ffprobe, [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_type,codec_name,width,height,r_frame_rate,avg_frame_rate,nb_frames,duration:stream_tags=rotate:stream_side_data=rotation:format=duration',
    '-of',
    'json',
    file,
  ]);
  if (result.code !== 0) throw unreadableVideo(file, result.stderr);
  const parsed = JSON.parse(result.stdout) as { streams?: FfprobeStream[]; format?: { duration?: string } };
  const streams = parsed.streams ?? [];
  const video =
    streams.find((s) => s.codec_type === 'video' && s.codec_name !== 'mjpeg' && s.codec_name !== 'png') ??
    streams.find((s) => s.codec_type === 'video');
  if (!video)
    throw noVideoStream(
      file,
      streams.map((s) => s.codec_type ?? '?'),
    );
  const rotation = Number(video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? video.tags?.rotate ?? 0);
  const avg = parseRate(video.avg_frame_rate);
  const real = parseRate(video.r_frame_rate);
  const fps = Number.isFinite(avg) && avg > 0 ? avg : real;
  const streamDuration = Number(video.duration);
  const durationSeconds = Number.isFinite(streamDuration) ? streamDuration : Number(parsed.format?.duration ?? NaN);
  return {
    file,
    codec: video.codec_name ?? 'unknown',
    ...displaySize(video.width ?? 0, video.height ?? 0, rotation),
    fps,
    constantFrameRate: Number.isFinite(avg) && Number.isFinite(real) && Math.abs(avg - real) < 1e-9 * Math.max(1, real),
    durationSeconds,
    rotation,
    nbFrames: Number(video.nb_frames ?? NaN),
  };
}

function noVideoStream(file: string, streamTypes: string[]): VideoError {
  const found = streamTypes.length ? `it has only ${streamTypes.join(', ')} streams` : 'it has no streams at all';
  return new VideoError('NO_VIDEO_STREAM', `"${file}" has no video stream (${found}). Fix: choose a video file.`);
}

function displaySize(width: number, height: number, rotation: number): { width: number; height: number } {
  const quarterTurns = Math.round(rotation / 90);
  return quarterTurns % 2 !== 0 ? { width: height, height: width } : { width, height };
}

async function countPackets(tools: FfmpegTools, file: string): Promise<number | null> {
  if (tools.ffprobe) {
    const r = await runTool(tools.ffprobe, [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-count_packets',
      '-show_entries',
      'stream=nb_read_packets',
      '-of',
      'csv=p=0',
      file,
    ]);
    const n = Number.parseInt(r.stdout.trim(), 10);
    if (r.code === 0) return Number.isFinite(n) ? n : 0; // ffprobe omits the field for an empty stream
    return null;
  }
  // Demux-only copy to the null muxer: fast even for hours of 4K; the last "frame=" is the count.
  const r = await runTool(tools.ffmpeg, ['-hide_banner', '-nostdin', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-']);
  if (r.code !== 0) return null;
  const counts = [...r.stderr.matchAll(/frame=\s*(\d+)/g)];
  return counts.length ? Number(counts[counts.length - 1][1]) : 0; // no progress line: nothing was copied
}

/** Fallback when there is no ffprobe: `ffmpeg -i FILE` prints the stream summary to stderr and exits 1. */
async function probeWithFfmpeg(
  ffmpeg: string,
  file: string,
): Promise<Omit<VideoProbe, 'frameCount' | 'frameCountSource' | 'notes'> & { nbFrames: number }> {
  const { stderr } = await runTool(ffmpeg, ['-hide_banner', '-nostdin', '-i', file]);
  if (!/^\s*Input #0/m.test(stderr)) throw unreadableVideo(file, stderr);
  const videoLine = stderr.split(/\r?\n/).find((l) => /Stream #0:\d+.*: Video: /.test(l));
  if (!videoLine) {
    const types = [...stderr.matchAll(/Stream #0:\d+.*?: (\w+):/g)].map((m) => m[1].toLowerCase());
    throw noVideoStream(file, types);
  }
  const codec = /Video: (\w+)/.exec(videoLine)?.[1] ?? 'unknown';
  const size = /, (\d{2,5})x(\d{2,5})/.exec(videoLine);
  const fpsMatch = /, ([\d.]+)(k?) fps/.exec(videoLine) ?? /, ([\d.]+)(k?) tbr/.exec(videoLine);
  const fps = fpsMatch ? Number(fpsMatch[1]) * (fpsMatch[2] ? 1000 : 1) : NaN;
  const tbr = /, ([\d.]+)(k?) tbr/.exec(videoLine);
  const duration = /Duration: (\d+):(\d+):([\d.]+)/.exec(stderr);
  const rotationMatch = /rotation of (-?[\d.]+) degrees/.exec(stderr);
  const rotation = rotationMatch ? Number(rotationMatch[1]) : 0;
  return {
    file,
    codec,
    ...displaySize(Number(size?.[1] ?? 0), Number(size?.[2] ?? 0), rotation),
    fps,
    constantFrameRate: tbr !== null && Math.abs(Number(tbr[1]) * (tbr[2] ? 1000 : 1) - fps) < 1e-6,
    durationSeconds: duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : NaN,
    rotation,
    nbFrames: NaN, // `ffmpeg -i` does not print the frame count
  };
}

/** Reads size, frame rate, frame count, codec and duration of the first video stream. */
export async function probeVideo(file: string, tools: FfmpegTools = resolveFfmpeg()): Promise<VideoProbe> {
  assertReadableFile(file);
  const base = tools.ffprobe ? await probeWithFfprobe(tools.ffprobe, file) : await probeWithFfmpeg(tools.ffmpeg, file);
  const { nbFrames, ...info } = base;
  const notes: string[] = [];
  let frameCount: number;
  let frameCountSource: VideoProbe['frameCountSource'];
  if (Number.isFinite(nbFrames) && nbFrames > 0) {
    frameCount = nbFrames;
    frameCountSource = 'container';
  } else {
    const counted = await countPackets(tools, file);
    if (counted !== null) {
      frameCount = counted;
      frameCountSource = 'counted';
    } else {
      frameCount = Math.round(info.durationSeconds * info.fps);
      frameCountSource = 'estimated';
      notes.push(
        `Frame count estimated from duration × fps (${info.durationSeconds.toFixed(2)} s × ${info.fps.toFixed(3)}); the real count is known after decoding.`,
      );
    }
  }
  if (!Number.isFinite(frameCount) || frameCount <= 0) throw zeroFramesError(file);
  if (!(info.width > 0 && info.height > 0)) throw unreadableVideo(file, 'the video stream has no frame size');
  if (!(info.fps > 0)) notes.push('The frame rate is unknown; timings assume 30 fps.');
  if (!info.constantFrameRate) notes.push('Variable frame rate: frame indices follow decoded frames, not wall-clock time.');
  return { ...info, fps: info.fps > 0 ? info.fps : 30, frameCount, frameCountSource, notes };
}

/** Output size with the SHORT side equal to `shortSide` (never upscaled), both sides even, aspect kept. */
export function scaledSize(width: number, height: number, shortSide: number): { width: number; height: number } {
  const short = Math.min(width, height);
  const target = Math.min(shortSide, short - (short % 2));
  const long = Math.max(width, height);
  const scaledLong = 2 * Math.round((target * long) / short / 2);
  return width >= height ? { width: scaledLong, height: target } : { width: target, height: scaledLong };
}

/** The scale filter used by the cache; `area` averages pixels, which avoids aliasing on 4K → 320 reductions. */
export function scaleFilter(width: number, height: number): string {
  return `scale=${width}:${height}:flags=area`;
}

const passthroughByBinary = new Map<string, string[]>();

/**
 * `-fps_mode passthrough` (ffmpeg ≥ 5.1) or its older spelling `-vsync passthrough` (the 2018 static build inside
 * @ffmpeg-installer/ffmpeg is 4.x and rejects -fps_mode). Decided once per binary from `ffmpeg -version`.
 */
export function passthroughArgs(tools: FfmpegTools): string[] {
  let args = passthroughByBinary.get(tools.ffmpeg);
  if (!args) {
    const out = spawnSync(tools.ffmpeg, ['-hide_banner', '-version'], { encoding: 'utf8' }).stdout ?? '';
    const m = /ffmpeg version n?(\d+)\.(\d+)/i.exec(out);
    const modern = m !== null && (Number(m[1]) > 5 || (Number(m[1]) === 5 && Number(m[2]) >= 1));
    args = modern ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough'];
    passthroughByBinary.set(tools.ffmpeg, args);
  }
  return args;
}

export interface DecodeOptions {
  /** Output frame size after the filters; every frame must be exactly this size. */
  width: number;
  height: number;
  pixelFormat?: 'rgb24' | 'gray';
  /** Video filter chain (e.g. from scaleFilter); ends with the output size. */
  videoFilter?: string;
  /** Accurate input seek in seconds (ffmpeg decodes from the previous keyframe and drops earlier frames). */
  seekSeconds?: number;
  /** Stop after this many output frames. */
  maxFrames?: number;
  signal?: AbortSignal;
  /**
   * ffmpeg's stderr (at `-v error`) when it exited 0 but said something: a truncated file decodes "successfully" with
   * "partial file" errors, so callers check this (videoIntegrity.ts).
   */
  onDiagnostics?: (stderr: string) => void;
}

/**
 * Streams decoded frames of exactly width×height×channels bytes. One frame object per yield; a frame
 * is only valid until the next iteration unless copied (the buffer is reused to avoid allocation).
 * `-fps_mode passthrough` keeps one output frame per decoded frame: the rawvideo muxer would
 * otherwise duplicate or drop frames of variable-frame-rate videos to a constant rate.
 */
export async function* decodeFrames(tools: FfmpegTools, file: string, options: DecodeOptions): AsyncGenerator<Buffer> {
  const channels = options.pixelFormat === 'gray' ? 1 : 3;
  const frameBytes = options.width * options.height * channels;
  const args = ['-hide_banner', '-nostdin', '-v', 'error'];
  if (options.seekSeconds !== undefined && options.seekSeconds > 0) args.push('-ss', options.seekSeconds.toFixed(6));
  args.push('-i', file, '-map', '0:v:0', '-an', '-sn', '-dn');
  if (options.videoFilter) args.push('-vf', options.videoFilter);
  if (options.maxFrames !== undefined) args.push('-frames:v', String(options.maxFrames));
  args.push(...passthroughArgs(tools), '-f', 'rawvideo', '-pix_fmt', options.pixelFormat ?? 'rgb24', 'pipe:1');

  const child = spawn(tools.ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 64_000) stderr += d;
  });
  let spawnError: Error | null = null;
  child.once('error', (err) => (spawnError = err));
  const closed = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const onAbort = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const frame = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  let finished = false;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          filled = 0;
          yield frame;
        }
      }
    }
    finished = true;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (!finished && child.exitCode === null) child.kill('SIGKILL');
  }
  const code = await closed;
  if (spawnError) throw new VideoError('FFMPEG_NOT_FOUND', `Could not start "${tools.ffmpeg}": ${(spawnError as Error).message}`);
  if (options.signal?.aborted) return;
  if (code !== 0) {
    if (/Invalid data found|could not find codec parameters|moov atom not found|End of file/i.test(stderr))
      throw unreadableVideo(file, stderr);
    throw new VideoError('FFMPEG_FAILED', `ffmpeg failed on "${file}" (exit code ${code}): ${ffmpegReason(stderr, file)}`);
  }
  if (stderr.trim()) options.onDiagnostics?.(stderr);
  if (filled !== 0) {
    throw new VideoError(
      'FFMPEG_FAILED',
      `ffmpeg returned a partial frame for "${file}" (${filled} of ${frameBytes} bytes): the output size does not match ${options.width}x${options.height}.`,
    );
  }
}

/** Runs ffmpeg to completion (for encoders such as the synthetic video generator). */
export async function runFfmpeg(tools: FfmpegTools, args: string[]): Promise<void> {
  const result = await runTool(tools.ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', ...args]);
  if (result.code !== 0) {
    throw new VideoError(
      'FFMPEG_FAILED',
      `ffmpeg failed (exit code ${result.code}): ${result.stderr.trim().split(/\r?\n/).slice(-3).join(' | ')}`,
    );
  }
}
