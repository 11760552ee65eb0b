// What every engine request handler gets from the engine process (childMain.ts): a cancel signal (the host's `stop`,
// SIGTERM, or the host going away) and the outgoing message channel (src/core/messages.ts).
import type { FinishReason, TrainerMessage } from '../../core/messages';

export interface RequestContext {
  signal: AbortSignal;
  emit: (message: TrainerMessage) => void;
}

/**
 * Runs a request whose only answer is the messages `work` emits, then ends it with `finished`: `completed`, `stopped`
 * when the signal fired, or `failed` after an `error` that carries the cause (and the fix when the error has one).
 */
export async function finishRequest(ctx: RequestContext, work: () => Promise<void>): Promise<FinishReason> {
  try {
    await work();
    ctx.emit({ type: 'finished', reason: 'completed', step: 0 });
    return 'completed';
  } catch (error) {
    if (ctx.signal.aborted) {
      ctx.emit({ type: 'finished', reason: 'stopped', step: 0, message: 'cancelled' });
      return 'stopped';
    }
    const message = (error as Error).message;
    const fix = (error as { fix?: unknown }).fix;
    ctx.emit({ type: 'error', message, ...(typeof fix === 'string' ? { fix } : {}), fatal: true });
    ctx.emit({ type: 'finished', reason: 'failed', step: 0, message });
    return 'failed';
  }
}
