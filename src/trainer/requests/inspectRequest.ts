// The `inspect` request (compare panel): each checkpoint's teacher and tracker on the same frames, written in the
// snapshot format (run/inspect.ts), answered by one `inspect-result`.
import type { FinishReason, InspectMessage } from '../../core/messages';
import { isBackendName } from '../backend';
import { inspectCheckpoints } from '../run/inspect';
import { finishRequest, type RequestContext } from './requestContext';

export function runInspectRequest(request: InspectMessage, ctx: RequestContext): Promise<FinishReason> {
  return finishRequest(ctx, async () => {
    const count = request.checkpoints.length;
    ctx.emit({ type: 'progress', phase: 'inspection', done: 0, total: count, message: 'running the trackers on the same frames' });
    const results = await inspectCheckpoints({
      checkpoints: request.checkpoints,
      outDir: request.outDir,
      video: request.video,
      clipStart: request.clipStart,
      backend: request.backend && isBackendName(request.backend) ? request.backend : undefined,
      ffmpegPath: request.ffmpegPath,
      cacheRoot: request.cacheRoot,
      signal: ctx.signal,
      onCheckpoint: (done) => ctx.emit({ type: 'progress', phase: 'inspection', done, total: count }),
    });
    ctx.emit({ type: 'inspect-result', results });
  });
}
