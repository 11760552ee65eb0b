// "Build Frame Cache": decodes a config's video into the frame cache the trainer will use, ahead of a run
// (data.frameCache.format: the compact JPEG cache or raw RGB24). ffmpeg decodes, scales and encodes in its own
// process; this side only copies bytes into the cache files, so it can live in the host.

import { runCacheCommand, progressLine } from '../../trainer/data/cacheCli';
import type { FrameBuildProgress } from '../../trainer/data/prepareFrames';

export { progressLine };

export interface FrameCacheJobResult {
  cacheDir: string;
  frameCount: number;
  alreadyComplete: boolean;
  summary: string;
  format: 'jpeg' | 'rgb24';
  cacheBytes: number;
  rawBytes: number;
  /** Sizes before → after and throughput, for the user. */
  report: string;
}

export async function buildFrameCacheForConfig(
  configFile: string,
  options: {
    ffmpegPath?: string;
    /** The dora.cacheFolder setting; a config's data.frameCache.dir wins. */
    cacheRoot?: string;
    signal?: AbortSignal;
    onPlan?: (summary: string) => void;
    onLog?: (line: string) => void;
    onProgress?: (p: FrameBuildProgress) => void;
  },
): Promise<FrameCacheJobResult> {
  let summary = '';
  const result = await runCacheCommand({
    target: configFile,
    cacheRoot: options.cacheRoot,
    ffmpegPath: options.ffmpegPath,
    signal: options.signal,
    onPlan: (s) => {
      summary = s;
      options.onPlan?.(s);
    },
    log: options.onLog,
    onProgress: options.onProgress,
  });
  const { prepared } = result;
  return {
    cacheDir: prepared.cacheDir,
    frameCount: prepared.source.frameCount,
    alreadyComplete: prepared.alreadyComplete,
    summary,
    format: prepared.format,
    cacheBytes: prepared.cacheBytes,
    rawBytes: prepared.rawBytes,
    report: result.report,
  };
}
