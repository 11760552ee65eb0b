// Streaming decoded frames out of an ffmpeg child process. Frames are always scaled inside ffmpeg: a 4K RGB frame is
// 25 MB, far too much to move through Node.
import { spawn, spawnSync } from 'node:child_process';
import { runTool, type FfmpegTools } from './tools';
import { ffmpegReason, unreadableVideo, VideoError } from './videoError';

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
   * "partial file" errors, so callers check this (data/videoIntegrity.ts).
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
      `ffmpeg returned a partial frame for "${file}" (${filled} of ${frameBytes} bytes): ` +
        `the output size does not match ${options.width}x${options.height}.`,
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
