/**
 * The trainer child's `evaluate` request (src/core/messages.ts): loads the checkpoint's teacher once, runs each job
 * (suite + dataset) through runEvaluation — cached in the checkpoint's eval sidecar — and reports progress, one
 * `eval-result` per job and a final `finished`. `stop` (the signal) cancels between batches; nothing half-done is stored.
 */
import { resolve } from 'node:path';
import { evalSidecarPath, stepOfCheckpoint } from '../../core/node/runPaths';
import type { EvaluateMessage, TrainerMessage } from '../../core/messages';
import { initBackend, isBackendName } from '../backend';
import { loadCheckpointEncoder, runConfigOfCheckpoint } from './encoder';
import { runEvaluation } from './runEval';

export async function runEvaluateRequest(
  request: EvaluateMessage,
  options: { signal: AbortSignal; emit: (message: TrainerMessage) => void },
): Promise<'completed' | 'stopped' | 'failed'> {
  const { emit, signal } = options;
  const checkpoint = resolve(request.checkpoint);
  const step = stepOfCheckpoint(checkpoint) ?? 0;
  try {
    emit({ type: 'progress', phase: 'model-init', done: 0, total: null, message: `loading the teacher of ${checkpoint}` });
    // The run's own backend unless the host overrides it (the dora.backend setting).
    const backend =
      request.backend && isBackendName(request.backend) ? request.backend : (await runConfigOfCheckpoint(checkpoint)).runtime.backend;
    await initBackend(backend);
    const encoder = await loadCheckpointEncoder(checkpoint);
    try {
      for (const [index, job] of request.jobs.entries()) {
        await new Promise((r) => setImmediate(r));
        signal.throwIfAborted();
        const prefix = request.jobs.length > 1 ? `${index + 1}/${request.jobs.length} ` : '';
        emit({
          type: 'progress',
          phase: 'evaluation',
          done: 0,
          total: null,
          message: `${prefix}${job.suite}${job.dataset ? ` · ${job.dataset}` : ''}: preparing the frames and images`,
        });
        const outcome = await runEvaluation(encoder, {
          suite: job.suite,
          dataset: job.dataset,
          video: job.video,
          cacheRoot: request.cacheRoot,
          ffmpegPath: request.ffmpegPath,
          force: request.force,
          signal,
          onProgress: (p) => emit({ type: 'progress', phase: 'evaluation', done: p.done, total: p.total, message: `${prefix}${p.stage}` }),
        });
        emit({
          type: 'eval-result',
          suite: job.suite,
          dataset: outcome.record.dataset,
          cached: outcome.cached,
          seconds: outcome.record.seconds,
          evalFile: evalSidecarPath(checkpoint),
        });
      }
    } finally {
      encoder.dispose();
    }
    emit({ type: 'finished', reason: 'completed', step });
    return 'completed';
  } catch (error) {
    if (signal.aborted) {
      emit({ type: 'finished', reason: 'stopped', step, message: 'evaluation cancelled' });
      return 'stopped';
    }
    const message = (error as Error).message;
    emit({ type: 'error', message, fatal: true });
    emit({ type: 'finished', reason: 'failed', step, message });
    return 'failed';
  }
}
