// Continuing an interrupted build: where ffmpeg must start so that its first frame is the next one to cache.
import { closeSync, openSync, readSync } from 'node:fs';
import { decodeFrames, scaleFilter } from '../ffmpeg/decode';
import type { FfmpegTools } from '../ffmpeg/tools';
import { chunkPath, type FrameCacheIndex } from './layout';
import type { FrameCachePlan } from './plan';

export type ResumeMethod = 'start' | 'seek' | 'decode-skip';

export interface ResumeOptions {
  signal?: AbortSignal;
  /** 'auto' seeks when that is verifiably exact, else decodes and skips. */
  resumeStrategy?: 'auto' | 'seek' | 'decode-skip';
  /** ffmpeg's stderr of a decode that exited 0 (build.ts records it in the index: data/videoIntegrity.ts). */
  onDiagnostics?: (stderr: string) => void;
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
export async function resumeDecoder(
  plan: FrameCachePlan,
  tools: FfmpegTools,
  dir: string,
  resumeAt: number,
  options: ResumeOptions,
): Promise<{ frames: AsyncIterable<Buffer>; method: ResumeMethod }> {
  const vf = scaleFilter(plan.width, plan.height);
  const common = { width: plan.width, height: plan.height, signal: options.signal, onDiagnostics: options.onDiagnostics };
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
