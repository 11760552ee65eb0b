// The `build-frame-cache` request ("Build Frame Cache"): decodes a config's video into the frame cache the engine will
// train from, ahead of a run. In the engine process, so the extension host's thread never does the per-frame writes.
import type { BuildFrameCacheMessage, FinishReason } from '../../core/messages';
import { loadConfigFile } from '../../core/node/configFile';
import { resolveFfmpeg } from '../data/ffmpeg/tools';
import { buildFrameCache } from '../data/frameCache/build';
import { planFrameCache } from '../data/frameCache/plan';
import { finishRequest, type RequestContext } from './requestContext';

export function runBuildFrameCacheRequest(request: BuildFrameCacheMessage, ctx: RequestContext): Promise<FinishReason> {
  return finishRequest(ctx, async () => {
    const config = await loadConfigFile(request.configPath);
    const tools = resolveFfmpeg({ explicitPath: request.ffmpegPath || undefined });
    const plan = await planFrameCache(config.data.video, {
      shortSide: config.data.frameCache.shortSide,
      cacheRoot: config.data.frameCache.dir ?? request.cacheRoot,
      tools,
    });
    // The plan first (what caching will cost), as a progress message the host shows before any frame is written.
    ctx.emit({ type: 'progress', phase: 'frame-cache', done: plan.completedFrames, total: plan.expectedFrames, message: plan.summary });
    const ready = { cacheDir: plan.cacheDir, alreadyComplete: plan.alreadyComplete, summary: plan.summary };
    if (plan.alreadyComplete) {
      ctx.emit({ type: 'frame-cache-ready', ...ready, frameCount: plan.expectedFrames });
      return;
    }
    const cache = await buildFrameCache(plan, {
      tools,
      signal: ctx.signal,
      progressIntervalMs: 250,
      onProgress: (p) =>
        ctx.emit({
          type: 'progress',
          phase: 'frame-cache',
          done: p.framesDone,
          total: p.totalFrames,
          rate: p.framesPerSecond,
          eta: Number.isFinite(p.etaSeconds) ? p.etaSeconds : undefined,
        }),
    });
    try {
      ctx.emit({ type: 'frame-cache-ready', ...ready, frameCount: cache.frameCount });
    } finally {
      cache.close();
    }
  });
}
