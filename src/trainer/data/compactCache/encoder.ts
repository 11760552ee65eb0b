// One ffmpeg pass per build: decode (hardware decoding when ffmpeg offers it), scale to the cache size inside
// ffmpeg, then `split` into two outputs: JPEG files from ffmpeg's own mjpeg encoder on stdout, and a tiny grey
// thumbnail per frame on fd 3 whose mean is the frame's luminance (for blank-tail detection). Nothing
// full-size ever reaches Node.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { passthroughArgs, scaleFilter } from '../ffmpeg/decode';
import type { FfmpegTools } from '../ffmpeg/tools';
import { VideoError } from '../ffmpeg/videoError';
import { JpegStreamSplitter } from './jpegStream';

export type HwAccel = 'auto' | 'none';

export interface EncodeOptions {
  width: number;
  height: number;
  quality: number;
  /** First decoded frame to keep (exact: frames before it are decoded and dropped by the select filter). */
  skipFrames?: number;
  /** Accurate input seek in seconds. */
  seekSeconds?: number;
  hwaccel?: HwAccel;
  signal?: AbortSignal;
}

export interface EncodedFrame {
  jpeg: Buffer;
  /** Mean luminance 0..255 of the frame. */
  luma: number;
}

/** Luminance thumbnail: 1/8 of the frame, at least 2×2. */
export function lumaSize(width: number, height: number): { width: number; height: number } {
  return { width: Math.max(2, Math.round(width / 8)), height: Math.max(2, Math.round(height / 8)) };
}

export function compactFilterGraph(options: Pick<EncodeOptions, 'width' | 'height' | 'skipFrames'>): string {
  const luma = lumaSize(options.width, options.height);
  const select = options.skipFrames ? `select=gte(n\\,${options.skipFrames}),` : '';
  return (
    `[0:v:0]${select}${scaleFilter(options.width, options.height)},split=2[j][l];` +
    `[j]format=yuvj420p[jpeg];[l]scale=${luma.width}:${luma.height}:flags=area,format=gray[luma]`
  );
}

export function compactFfmpegArgs(tools: FfmpegTools, file: string, options: EncodeOptions): string[] {
  const args = ['-hide_banner', '-nostdin', '-v', 'error'];
  if ((options.hwaccel ?? 'auto') === 'auto') args.push('-hwaccel', 'auto');
  if (options.seekSeconds !== undefined && options.seekSeconds > 0) args.push('-ss', options.seekSeconds.toFixed(6));
  args.push('-i', file, '-filter_complex', compactFilterGraph(options));
  const vsync = passthroughArgs(tools);
  args.push('-map', '[jpeg]', ...vsync, '-c:v', 'mjpeg', '-q:v', String(options.quality), '-f', 'image2pipe', 'pipe:1');
  args.push('-map', '[luma]', ...vsync, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:3');
  return args;
}

const versionByBinary = new Map<string, string>();

/** First line of `ffmpeg -version`, recorded in index.json. */
export function ffmpegVersion(tools: FfmpegTools): string {
  let version = versionByBinary.get(tools.ffmpeg);
  if (version === undefined) {
    const out = spawnSync(tools.ffmpeg, ['-hide_banner', '-version'], { encoding: 'utf8' }).stdout ?? '';
    version = out.split('\n')[0]?.trim() || 'unknown';
    versionByBinary.set(tools.ffmpeg, version);
  }
  return version;
}

/** Lines of ffmpeg's stderr that explain a failure (hardware-decoder probing noise removed). */
export function meaningfulStderr(stderr: string): string {
  const noise = /AVHWDeviceContext|Device creation failed|libcuda|CUDA|X11 display|vaapi|vdpau|hwaccel/i;
  return stderr
    .split(/\r?\n/)
    .filter((l) => l.trim() && !noise.test(l))
    .slice(-3)
    .join(' | ');
}

/**
 * Streams the frames of `file` as (JPEG, luminance) pairs, in decode order. The consumer's pace throttles
 * ffmpeg (the pipes are paused while frames wait). Stopping the iteration kills ffmpeg.
 */
export async function* encodeCompactFrames(tools: FfmpegTools, file: string, options: EncodeOptions): AsyncGenerator<EncodedFrame> {
  const child = spawn(tools.ffmpeg, compactFfmpegArgs(tools, file, options), { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const pairs = new FramePairing(child, options.width, options.height);
  const onAbort = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let finished = false;
  try {
    for (;;) {
      const frame = await pairs.next();
      if (frame === null) break;
      yield frame;
    }
    finished = true;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (!finished && child.exitCode === null) child.kill('SIGKILL');
  }
  const { code, stderr, spawnError } = await pairs.closed;
  if (spawnError) throw new VideoError('FFMPEG_NOT_FOUND', `Could not start "${tools.ffmpeg}": ${spawnError.message}`);
  if (options.signal?.aborted) return;
  if (code !== 0) throw new VideoError('FFMPEG_FAILED', `ffmpeg failed on "${file}" (exit code ${code}): ${meaningfulStderr(stderr)}`);
  if (pairs.unpaired) throw new VideoError('FFMPEG_FAILED', `ffmpeg's JPEG and luminance outputs of "${file}" differ in length.`);
}

/** Pairs the JPEG stream (stdout) with the luminance stream (fd 3), with back-pressure on both pipes. */
class FramePairing {
  private readonly jpegs: Buffer[] = [];
  private readonly lumas: number[] = [];
  private lumaPending: Buffer = Buffer.alloc(0);
  private readonly lumaBytes: number;
  private wake: (() => void) | null = null;
  private ended = 0;
  private failure: Error | null = null;
  readonly closed: Promise<{ code: number | null; stderr: string; spawnError: Error | null }>;
  private readonly stdout: Readable;
  private readonly fd3: Readable;

  constructor(child: ChildProcess, width: number, height: number) {
    const size = lumaSize(width, height);
    this.lumaBytes = size.width * size.height;
    this.stdout = child.stdout!;
    this.fd3 = child.stdio[3] as Readable;
    const splitter = new JpegStreamSplitter();
    let stderr = '';
    let spawnError: Error | null = null;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64_000) stderr += d;
    });
    child.once('error', (err) => (spawnError = err));
    this.closed = new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr, spawnError })));
    void this.closed.then(() => this.notify());
    this.stdout.on('data', (chunk: Buffer) => {
      try {
        this.jpegs.push(...splitter.push(chunk));
      } catch (err) {
        this.failure = err as Error;
        child.kill('SIGKILL');
      }
      this.throttle();
    });
    this.fd3.on('data', (chunk: Buffer) => {
      this.takeLuma(chunk);
      this.throttle();
    });
    for (const stream of [this.stdout, this.fd3]) stream.once('end', () => (this.ended++, this.notify()));
  }

  get unpaired(): boolean {
    return this.jpegs.length !== this.lumas.length || this.lumaPending.length !== 0;
  }

  private takeLuma(chunk: Buffer): void {
    let bytes = this.lumaPending.length ? Buffer.concat([this.lumaPending, chunk]) : chunk;
    while (bytes.length >= this.lumaBytes) {
      let sum = 0;
      for (let i = 0; i < this.lumaBytes; i++) sum += bytes[i];
      this.lumas.push(sum / this.lumaBytes);
      bytes = bytes.subarray(this.lumaBytes);
    }
    this.lumaPending = Buffer.from(bytes);
  }

  private throttle(): void {
    if (this.jpegs.length > 64) this.stdout.pause();
    if (this.lumas.length > 64) this.fd3.pause();
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** The next pair, or null at the end of both streams. */
  async next(): Promise<EncodedFrame | null> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.jpegs.length > 0 && this.lumas.length > 0) {
        const frame = { jpeg: this.jpegs.shift()!, luma: this.lumas.shift()! };
        if (this.jpegs.length <= 16) this.stdout.resume();
        if (this.lumas.length <= 16) this.fd3.resume();
        return frame;
      }
      if (this.ended >= 2) return null;
      // One stream may be ahead of the other: ffmpeg blocks on a full pipe, so both flow until a pair is complete.
      this.stdout.resume();
      this.fd3.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
