/**
 * The frame cache of one video, built (or resumed, or repaired) when it is not complete, in the format the config's
 * data.frameCache selects (prepareFrames: compact JPEG or raw RGB24; the PyTorch engine reads both), with `frame-cache`
 * progress messages: the plan first (what caching will cost), then frames with their sizes. Shared by the preparation
 * of a PyTorch run (the PyTorch engine reads the cache, it never decodes video), its inspect and the import of
 * released weights.
 */
import type { TrainerMessage } from '../../core/messages';
import { frameCacheProgressMessage } from '../data/cacheJob';
import { resolveFfmpeg } from '../data/ffmpeg/tools';
import { prepareFrames, type FrameCacheSettings } from '../data/prepareFrames';

export interface EnsureFrameCacheOptions {
  ffmpegPath?: string;
  signal?: AbortSignal;
  emit: (message: TrainerMessage) => void;
}

export interface EnsuredFrameCache {
  cacheDir: string;
  frameCount: number;
  alreadyComplete: boolean;
  summary: string;
}

/** `settings.cacheRoot`: the folder that holds caches (the config's `data.frameCache.dir`, else the caller's, else the default). */
export async function ensureFrameCache(
  video: string,
  settings: FrameCacheSettings,
  options: EnsureFrameCacheOptions,
): Promise<EnsuredFrameCache> {
  const { emit } = options;
  const prepared = await prepareFrames(video, {
    ...settings,
    tools: resolveFfmpeg({ explicitPath: options.ffmpegPath || undefined }),
    signal: options.signal,
    workers: 0,
    onPlan: (summary) => emit({ type: 'progress', phase: 'frame-cache', done: 0, total: null, message: summary }),
    onProgress: (p) => emit(frameCacheProgressMessage(p)),
  });
  try {
    const { cacheDir, alreadyComplete, summary } = prepared;
    return { cacheDir, alreadyComplete, summary, frameCount: prepared.source.frameCount };
  } finally {
    prepared.source.close();
  }
}
