// "Build Frame Cache": decodes a config's video into the frame cache the trainer will use, ahead of
// a run. It runs ffmpeg as a child process and only copies bytes here, so it can live in the host.

import { loadConfigFile } from '../../core/node/configFile';
import { resolveFfmpeg } from '../../trainer/data/ffmpeg';
import { buildFrameCache, planFrameCache, type FrameCacheProgress } from '../../trainer/data/frameCache';

export interface FrameCacheJobResult {
  cacheDir: string;
  frameCount: number;
  alreadyComplete: boolean;
  summary: string;
}

export async function buildFrameCacheForConfig(
  configFile: string,
  options: {
    ffmpegPath?: string;
    cacheRoot?: string;
    signal?: AbortSignal;
    onPlan?: (summary: string) => void;
    onProgress?: (p: FrameCacheProgress) => void;
  },
): Promise<FrameCacheJobResult> {
  const config = await loadConfigFile(configFile);
  const tools = resolveFfmpeg({ explicitPath: options.ffmpegPath || undefined });
  const plan = await planFrameCache(config.data.video, {
    shortSide: config.data.frameCache.shortSide,
    cacheRoot: config.data.frameCache.dir ?? options.cacheRoot,
    tools,
  });
  options.onPlan?.(plan.summary);
  if (plan.alreadyComplete)
    return { cacheDir: plan.cacheDir, frameCount: plan.expectedFrames, alreadyComplete: true, summary: plan.summary };
  const cache = await buildFrameCache(plan, { tools, signal: options.signal, onProgress: options.onProgress, progressIntervalMs: 250 });
  try {
    return { cacheDir: plan.cacheDir, frameCount: cache.frameCount, alreadyComplete: false, summary: plan.summary };
  } finally {
    cache.close();
  }
}
