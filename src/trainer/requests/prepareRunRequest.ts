// The `prepare-run` request: a PyTorch run's config.json and frame cache, made by this (TF.js) engine process before
// the extension starts the Python engine on the folder (src/host/engine/stagedEngine.ts). It never trains here.
import type { FinishReason, PrepareRunMessage } from '../../core/messages';
import { prepareRun } from '../pytorch/prepareRun';
import { finishRequest, type RequestContext } from './requestContext';

export function runPrepareRunRequest(request: PrepareRunMessage, ctx: RequestContext): Promise<FinishReason> {
  return finishRequest(ctx, async () => {
    const prepared = await prepareRun({
      runDir: request.runDir,
      configPath: request.configPath,
      resume: request.resumeCheckpoint !== undefined,
      ffmpegPath: request.ffmpegPath,
      cacheRoot: request.cacheRoot,
      overrides: request.overrides,
      signal: ctx.signal,
      emit: ctx.emit,
    });
    ctx.emit({ type: 'run-prepared', runDir: prepared.runDir, frameCacheDir: prepared.frameCacheDir, frameCount: prepared.frameCount });
  });
}
