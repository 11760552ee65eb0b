// The `build-frame-cache` request ("Build Frame Cache"): builds (resumes, repairs) the frame cache of a config's video in
// the format the config selects (data.frameCache.format: compact JPEG or raw RGB24), ahead of a run. In the engine
// process, so the extension host's thread never encodes, decodes or writes a frame. Progress messages carry the sizes
// (so far → projected, and RGB24's) as text; the answer's summary is the before → after report.
import type { BuildFrameCacheMessage, FinishReason } from '../../core/messages';
import { frameCacheProgressMessage, runCacheCommand } from '../data/cacheJob';
import { finishRequest, type RequestContext } from './requestContext';

export function runBuildFrameCacheRequest(request: BuildFrameCacheMessage, ctx: RequestContext): Promise<FinishReason> {
  return finishRequest(ctx, async () => {
    const result = await runCacheCommand({
      target: request.configPath,
      cacheRoot: request.cacheRoot,
      ffmpegPath: request.ffmpegPath,
      signal: ctx.signal,
      // The plan first (what caching will cost), as a progress message the host shows before any frame is written.
      onPlan: (summary) => ctx.emit({ type: 'progress', phase: 'frame-cache', done: 0, total: null, message: summary }),
      log: (line) => console.log(line),
      onProgress: (p) => ctx.emit(frameCacheProgressMessage(p)),
    });
    const { prepared } = result;
    ctx.emit({
      type: 'frame-cache-ready',
      cacheDir: prepared.cacheDir,
      frameCount: prepared.source.frameCount,
      alreadyComplete: prepared.alreadyComplete,
      summary: result.report,
    });
  });
}
