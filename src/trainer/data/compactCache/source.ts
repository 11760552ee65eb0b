// Starting ffmpeg at a given frame of the video, exactly, for resuming a build and re-building a chunk.
// A seek (-ss) is fast but only trusted when verified: ffmpeg is asked for frame `at - 1`, whose JPEG is already
// stored, and the bytes must match (ffmpeg's mjpeg encoder is deterministic for the same decoded frame) and
// differ from frame `at - 2` (so a still scene cannot fake a match). Otherwise every frame is decoded again and
// the first `at` are dropped by the select filter, which is exact for any video.
import type { FfmpegTools } from '../ffmpeg/tools';
import { VideoError } from '../ffmpeg/videoError';
import { encodeCompactFrames, type EncodedFrame, type HwAccel } from './encoder';
import { jpegCrc } from './format';
import type { FrameRecord } from './format';
import { readJpegBytes, readRecords } from './records';

export type ResumeMethod = 'start' | 'seek' | 'decode-skip';

export interface FrameSourceRequest {
  tools: FfmpegTools;
  videoPath: string;
  width: number;
  height: number;
  quality: number;
  fps: number;
  /** Seeking is only tried for constant-frame-rate videos. */
  constantFrameRate: boolean;
  hwaccel: HwAccel;
  signal?: AbortSignal;
  /** Where stored frames are read for the seek check. */
  cacheDir: string;
  /** Stored frames that can be trusted for the check (< this); frames in damaged chunks are excluded by the caller. */
  trustedFrames: (frame: number) => boolean;
}

export interface StartedEncoder {
  frames: AsyncGenerator<EncodedFrame>;
  method: ResumeMethod;
  /** The hardware-decoding setting that worked. */
  hwaccel: HwAccel;
}

/** ffmpeg positioned so that its next frame is frame `at` of the video. */
export async function startEncoderAt(request: FrameSourceRequest, at: number): Promise<StartedEncoder> {
  if (at >= 2 && request.constantFrameRate && request.trustedFrames(at - 1) && request.trustedFrames(at - 2)) {
    const seeked = await trySeek(request, at);
    if (seeked) return seeked;
  }
  const started = await withHwFallback(request, (hwaccel) =>
    encodeCompactFrames(request.tools, request.videoPath, { ...encodeOptions(request), hwaccel, skipFrames: at }),
  );
  return { ...started, method: at === 0 ? 'start' : 'decode-skip' };
}

function encodeOptions(request: FrameSourceRequest) {
  return { width: request.width, height: request.height, quality: request.quality, signal: request.signal };
}

async function trySeek(request: FrameSourceRequest, at: number): Promise<StartedEncoder | null> {
  const [before, overlap] = readRecords(request.cacheDir, at - 2, 2);
  const expected = storedJpeg(request.cacheDir, overlap);
  const previous = storedJpeg(request.cacheDir, before);
  if (!expected || !previous || expected.equals(previous)) return null;
  // Half a frame before the overlap frame: robust against timestamp rounding in a constant-rate stream.
  const seekSeconds = (at - 1 - 0.5) / request.fps;
  const started = await withHwFallback(request, (hwaccel) =>
    encodeCompactFrames(request.tools, request.videoPath, { ...encodeOptions(request), hwaccel, seekSeconds }),
  ).catch(() => null);
  if (!started) return null;
  const first = await started.frames.next();
  if (!first.done && first.value.jpeg.equals(expected)) return { ...started, method: 'seek' };
  await started.frames.return(undefined);
  return null;
}

function storedJpeg(dir: string, record: FrameRecord): Buffer | null {
  const bytes = readJpegBytes(dir, record);
  return bytes && jpegCrc(bytes) === record.crc ? bytes : null;
}

/**
 * Starts the encoder with hardware decoding when asked ('auto'), and again without it when ffmpeg fails before
 * its first frame (a hardware decoder that cannot handle this stream). The first frame is read here and replayed.
 */
async function withHwFallback(
  request: FrameSourceRequest,
  open: (hwaccel: HwAccel) => AsyncGenerator<EncodedFrame>,
): Promise<{ frames: AsyncGenerator<EncodedFrame>; hwaccel: HwAccel }> {
  const attempts: HwAccel[] = request.hwaccel === 'auto' ? ['auto', 'none'] : ['none'];
  let lastError: unknown;
  for (const hwaccel of attempts) {
    const frames = open(hwaccel);
    try {
      const first = await frames.next();
      return { frames: replayFirst(first, frames), hwaccel };
    } catch (err) {
      lastError = err;
      if (!(err instanceof VideoError) || err.code !== 'FFMPEG_FAILED') throw err;
    }
  }
  throw lastError;
}

async function* replayFirst(first: IteratorResult<EncodedFrame>, rest: AsyncGenerator<EncodedFrame>): AsyncGenerator<EncodedFrame> {
  if (first.done) return;
  try {
    yield first.value;
    yield* rest;
  } finally {
    await rest.return(undefined);
  }
}
