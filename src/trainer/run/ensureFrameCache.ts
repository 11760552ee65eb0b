/**
 * The frame cache of one video, built (or resumed) when it is not complete, with `frame-cache` progress messages: the
 * plan first (what caching will cost), then frames. Shared by the `build-frame-cache` request, the preparation of a
 * PyTorch run (the PyTorch engine reads the cache, it never decodes video) and the import of released weights.
 */
import type { TrainerMessage } from '../../core/messages';
import { resolveFfmpeg } from '../data/ffmpeg/tools';
import { buildFrameCache } from '../data/frameCache/build';
import { planFrameCache } from '../data/frameCache/plan';

export interface EnsureFrameCacheOptions {
  /** The folder that holds caches: the config's `data.frameCache.dir`, else the caller's, else the default. */
  cacheRoot?: string;
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

export async function ensureFrameCache(video: string, shortSide: number, options: EnsureFrameCacheOptions): Promise<EnsuredFrameCache> {
  const { emit } = options;
  const tools = resolveFfmpeg({ explicitPath: options.ffmpegPath || undefined });
  const plan = await planFrameCache(video, { shortSide, cacheRoot: options.cacheRoot, tools });
  emit({ type: 'progress', phase: 'frame-cache', done: plan.completedFrames, total: plan.expectedFrames, message: plan.summary });
  const ready = { cacheDir: plan.cacheDir, alreadyComplete: plan.alreadyComplete, summary: plan.summary };
  if (plan.alreadyComplete) return { ...ready, frameCount: plan.expectedFrames };
  const cache = await buildFrameCache(plan, {
    tools,
    signal: options.signal,
    progressIntervalMs: 250,
    onProgress: (p) =>
      emit({
        type: 'progress',
        phase: 'frame-cache',
        done: p.framesDone,
        total: p.totalFrames,
        rate: p.framesPerSecond,
        eta: Number.isFinite(p.etaSeconds) ? p.etaSeconds : undefined,
      }),
  });
  try {
    return { ...ready, frameCount: cache.frameCount };
  } finally {
    cache.close();
  }
}
