// Evaluate Checkpoint over several checkpoints: one engine request per checkpoint, in turn, with one overall progress
// (percent of all checkpoint × job units) and a short per-checkpoint status for the tree. Plain Node (no vscode).

import * as path from 'node:path';
import type { EvalJob, EvalResultMessage, EvaluateMessage } from '../../core/messages';
import { runDirOfCheckpoint, stepOfCheckpoint } from '../../core/node/runPaths';
import type { EngineClient, EvaluateOutcome } from '../engine/engineClient';
import { evaluateCheckpoint, jobLabel } from './evalJob';

export interface CheckpointEvaluation extends EvaluateOutcome {
  checkpoint: string;
}

export interface EvaluateManyOptions extends Pick<EvaluateMessage, 'backend' | 'ffmpegPath' | 'cacheRoot' | 'tour' | 'force'> {
  checkpoints: readonly string[];
  jobs: EvalJob[];
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Overall progress: percent (0..100) of all units, and a message. */
  onProgress?: (percent: number, message: string) => void;
  /** Per checkpoint: what it is doing now (at most once a second), or undefined when it is done. */
  onCheckpointStatus?: (checkpoint: string, status: string | undefined) => void;
  onResult?: (checkpoint: string, result: EvalResultMessage) => void;
}

const TREE_UPDATE_MS = 1000;

function label(sidecar: string): string {
  return `${path.basename(runDirOfCheckpoint(sidecar))} @ step ${stepOfCheckpoint(sidecar) ?? 0}`;
}

export async function evaluateCheckpoints(engines: EngineClient, o: EvaluateManyOptions): Promise<CheckpointEvaluation[]> {
  const outcomes: CheckpointEvaluation[] = [];
  const units = o.checkpoints.length * o.jobs.length;
  const log = o.log ?? (() => undefined);
  for (const [index, checkpoint] of o.checkpoints.entries()) {
    if (o.signal?.aborted) break;
    const name = label(checkpoint);
    log(`[evaluate] ${name}: ${o.jobs.map(jobLabel).join(', ')}${o.force ? ' (recompute)' : ''}`);
    let lastStatus = -Infinity;
    o.onCheckpointStatus?.(checkpoint, 'starting');
    const outcome = await evaluateCheckpoint(engines, {
      checkpoint,
      jobs: o.jobs,
      force: o.force,
      tour: o.tour,
      backend: o.backend,
      ffmpegPath: o.ffmpegPath,
      cacheRoot: o.cacheRoot,
      signal: o.signal,
      log: (line) => log(`[evaluate ${name}] ${line}`),
      onProgress: (update) => {
        const percent = update.fraction === null ? '' : ` ${Math.round(100 * update.fraction)}%`;
        const overall = (100 * (index * o.jobs.length + update.job + (update.fraction ?? 0))) / units;
        o.onProgress?.(overall, `${o.checkpoints.length > 1 ? `${name}: ` : ''}${update.message}${percent}`);
        if (performance.now() - lastStatus > TREE_UPDATE_MS) {
          lastStatus = performance.now();
          o.onCheckpointStatus?.(checkpoint, `${jobLabel(o.jobs[Math.min(update.job, o.jobs.length - 1)])}${percent}`);
        }
      },
      onResult: (result) => {
        const how = result.cached ? 'stored result reused' : `done in ${result.seconds.toFixed(1)} s`;
        log(`[evaluate ${name}] ${jobLabel({ suite: result.suite, dataset: result.dataset })}: ${how}`);
        o.onResult?.(checkpoint, result);
      },
    });
    o.onCheckpointStatus?.(checkpoint, undefined);
    outcomes.push({ checkpoint, ...outcome });
    if (outcome.reason === 'failed') log(`[evaluate ${name}] failed: ${outcome.error}`);
  }
  return outcomes;
}
