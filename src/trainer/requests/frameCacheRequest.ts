// The `build-frame-cache` request ("Build Frame Cache"): decodes a config's video into the frame cache the engine will
// train from, ahead of a run. In the engine process, so the extension host's thread never does the per-frame writes.
import type { BuildFrameCacheMessage, FinishReason } from '../../core/messages';
import { loadConfigFile } from '../../core/node/configFile';
import { ensureFrameCache } from '../run/ensureFrameCache';
import { finishRequest, type RequestContext } from './requestContext';

export function runBuildFrameCacheRequest(request: BuildFrameCacheMessage, ctx: RequestContext): Promise<FinishReason> {
  return finishRequest(ctx, async () => {
    const config = await loadConfigFile(request.configPath);
    const cache = await ensureFrameCache(config.data.video, config.data.frameCache.shortSide, {
      cacheRoot: config.data.frameCache.dir ?? request.cacheRoot,
      ffmpegPath: request.ffmpegPath,
      signal: ctx.signal,
      emit: ctx.emit,
    });
    ctx.emit({ type: 'frame-cache-ready', ...cache });
  });
}
