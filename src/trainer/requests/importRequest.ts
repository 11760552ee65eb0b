// The `import-checkpoint` request ("DoRA: Import Checkpoint (.pth)…"): released weights → a run folder, through the
// PyTorch engine (the interpreter comes in the request, found by the host); the frame cache is built here first.
import type { FinishReason, ImportCheckpointMessage } from '../../core/messages';
import { importCheckpoint } from '../pytorch/importCheckpoint';
import { finishRequest, type RequestContext } from './requestContext';

export function runImportCheckpointRequest(request: ImportCheckpointMessage, ctx: RequestContext): Promise<FinishReason> {
  return finishRequest(ctx, async () => {
    const imported = await importCheckpoint({ ...request, signal: ctx.signal, emit: ctx.emit });
    ctx.emit({ type: 'checkpoint-imported', ...imported });
  });
}
