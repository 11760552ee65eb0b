// One engine process answers one request (src/core/messages.ts): this maps each request type to its handler.
import type { EngineRequest, FinishReason } from '../../core/messages';
import { isBackendName } from '../backend';
import { runTraining } from '../run/train';
import { runPrepareDemoRequest } from './demoRequest';
import { runEvaluateRequest } from './evaluateRequest';
import { runBuildFrameCacheRequest } from './frameCacheRequest';
import { runImportCheckpointRequest } from './importRequest';
import { runInspectRequest } from './inspectRequest';
import { runPrepareRunRequest } from './prepareRunRequest';
import type { RequestContext } from './requestContext';

export async function handleEngineRequest(request: EngineRequest, ctx: RequestContext): Promise<FinishReason> {
  switch (request.type) {
    case 'start': {
      const result = await runTraining({
        configPath: request.configPath,
        runDir: request.runDir,
        resume: request.resumeCheckpoint,
        backend: request.backend && isBackendName(request.backend) ? request.backend : undefined,
        ffmpegPath: request.ffmpegPath,
        cacheRoot: request.cacheRoot,
        maxSteps: request.maxSteps,
        snapshotEvery: request.snapshotEvery || undefined,
        overrides: request.overrides,
        signal: ctx.signal,
        emit: ctx.emit,
      });
      return result.reason;
    }
    case 'evaluate':
      return runEvaluateRequest(request, ctx);
    case 'inspect':
      return runInspectRequest(request, ctx);
    case 'build-frame-cache':
      return runBuildFrameCacheRequest(request, ctx);
    case 'prepare-demo':
      return runPrepareDemoRequest(request, ctx);
    case 'prepare-run':
      return runPrepareRunRequest(request, ctx);
    case 'import-checkpoint':
      return runImportCheckpointRequest(request, ctx);
  }
}
