/**
 * The engine's `evaluate` request (src/core/messages.ts): loads the checkpoint's teacher once, runs each job
 * (suite + dataset) through runEvaluation — cached in the checkpoint's eval sidecar — and reports progress, one
 * `eval-result` per job and a final `finished`. `stop` (the signal) cancels between batches; nothing half-done is stored.
 */
import { resolve } from 'node:path';
import type { EvalJob, EvaluateMessage, FinishReason } from '../../core/messages';
import { evalSidecarPath, stepOfCheckpoint } from '../../core/node/runPaths';
import { initBackend, isBackendName } from '../backend';
import { loadCheckpointEncoder, runConfigOfCheckpoint, type EvalEncoder } from '../eval/encoder';
import { jobsWithGroundTruth } from '../eval/groundTruthJobs';
import { runEvaluation } from '../eval/runEval';
import { ensureSyntheticTour } from './demoRequest';
import type { RequestContext } from './requestContext';

export async function runEvaluateRequest(request: EvaluateMessage, ctx: RequestContext): Promise<FinishReason> {
  const { emit, signal } = ctx;
  const checkpoint = resolve(request.checkpoint);
  const step = stepOfCheckpoint(checkpoint) ?? 0;
  try {
    const jobs = await resolveJobs(request, checkpoint, ctx);
    emit({ type: 'progress', phase: 'model-init', done: 0, total: null, message: `loading the teacher of ${checkpoint}` });
    // The run's own backend unless the host overrides it (the dora.backend setting).
    const backend =
      request.backend && isBackendName(request.backend) ? request.backend : (await runConfigOfCheckpoint(checkpoint)).runtime.backend;
    await initBackend(backend);
    const encoder = await loadCheckpointEncoder(checkpoint);
    try {
      for (const [index, job] of jobs.entries()) await runJob(encoder, request, job, index, jobs.length, checkpoint, ctx);
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

/** The request's jobs, with the synthetic tour (generated once, when `request.tour` says where) where they need ground truth. */
async function resolveJobs(request: EvaluateMessage, checkpoint: string, ctx: RequestContext): Promise<EvalJob[]> {
  const place = request.tour;
  if (!place) return request.jobs;
  return jobsWithGroundTruth(checkpoint, request.jobs, async () => {
    ctx.emit({
      type: 'progress',
      phase: 'evaluation',
      done: 0,
      total: null,
      message: 'generating the synthetic walking tour for the ground-truth evaluations (once, ≈20 s)…',
    });
    try {
      const tour = await ensureSyntheticTour(place.dir, { ffmpegPath: request.ffmpegPath, durationSeconds: place.durationSeconds });
      console.log(`the run trained on another video: k-NN on objects and tracking use the synthetic tour ${tour.video}`);
      return tour.video;
    } catch (error) {
      throw new Error(`could not prepare the synthetic walking tour: ${(error as Error).message}`);
    }
  });
}

async function runJob(
  encoder: EvalEncoder,
  request: EvaluateMessage,
  job: EvalJob,
  index: number,
  count: number,
  checkpoint: string,
  { emit, signal }: RequestContext,
): Promise<void> {
  await new Promise((r) => setImmediate(r));
  signal.throwIfAborted();
  const prefix = count > 1 ? `${index + 1}/${count} ` : '';
  const what = `${prefix}${job.suite}${job.dataset ? ` · ${job.dataset}` : ''}`;
  emit({ type: 'progress', phase: 'evaluation', done: 0, total: null, message: `${what}: preparing the frames and images` });
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
