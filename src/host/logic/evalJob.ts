// Evaluating a checkpoint from the extension: forks the trainer (dist/trainer.js) and sends it an `evaluate`
// message (src/core/messages.ts). TF.js work never runs in the extension host. Cancel = `stop`, then SIGKILL after a
// grace period (label propagation checks for cancellation only between clips; results are written atomically, so a
// killed evaluation leaves nothing half-written). No vscode import.

import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import * as path from 'node:path';
import type { EvalSuite } from '../../core/evalResults';
import { datasetLabel } from '../../core/evalResults';
import {
  describeInvalidMessage,
  isTrainerMessage,
  type EvalJob,
  type EvalResultMessage,
  type EvaluateMessage,
  type HostMessage,
} from '../../core/messages';
import { readRunConfig } from '../../core/node/runDir';
import { readSyntheticOptions } from '../../trainer/data/syntheticVideo';
import { runDirOfCheckpoint } from '../../core/node/runPaths';

export interface EvalProgressUpdate {
  message: string;
  /** 0..1 of the current job, null when unknown. */
  fraction: number | null;
  /** Index of the current job. */
  job: number;
  jobs: number;
}

/** The `evaluate` request (one definition, src/core/messages.ts) plus how to run and follow the trainer. */
export type EvaluateCheckpointOptions = Omit<EvaluateMessage, 'type'> & {
  /** Absolute path of dist/trainer.js. */
  trainerPath: string;
  signal?: AbortSignal;
  onProgress?: (update: EvalProgressUpdate) => void;
  onResult?: (result: EvalResultMessage) => void;
  log?: (line: string) => void;
  /** After cancel: time for the trainer to stop on its own before SIGKILL. */
  killGraceMs?: number;
  /** Replaces child_process.fork (tests). */
  forkProcess?: (modulePath: string, args: string[], options: ForkOptions) => ChildProcess;
  env?: NodeJS.ProcessEnv;
};

export interface EvaluateOutcome {
  reason: 'completed' | 'stopped' | 'failed';
  results: EvalResultMessage[];
  /** The trainer's error message (or why it could not run). */
  error?: string;
}

/** The choices of the "Evaluate Checkpoint" quick pick: each is one or more jobs. */
export interface EvalChoice {
  id: string;
  label: string;
  detail: string;
  jobs: EvalJob[];
  /** Picked by default. */
  picked: boolean;
}

export const EVAL_CHOICES: readonly EvalChoice[] = [
  {
    id: 'knn-synthetic',
    label: 'k-NN · synthetic objects',
    detail:
      'DINO weighted k-NN (T 0.07, k 10/20/100/200) on object crops of the synthetic walking tour (held-out frames; generated into dora-demo/ once when the run trained on another video)',
    jobs: [{ suite: 'knn', dataset: 'synthetic' }],
    picked: true,
  },
  {
    id: 'tracking',
    label: 'Tracking vs ground truth',
    detail: "Label-propagation J&F and the DoRA tracker's IoU on held-out frames of the synthetic walking tour",
    jobs: [{ suite: 'tracking' }],
    picked: true,
  },
  {
    id: 'attention',
    label: 'Attention maps',
    detail: '[CLS]→patch attention of every head on 4 frames, shown side by side in the compare panel',
    jobs: [{ suite: 'attention' }],
    picked: true,
  },
  {
    id: 'knn-fashion-mnist',
    label: 'k-NN · Fashion-MNIST',
    detail: "2000 train / 500 test images from Debian's dataset-fashion-mnist (scripts/fetch-fashion-mnist.sh)",
    jobs: [{ suite: 'knn', dataset: 'fashion-mnist' }],
    picked: false,
  },
  {
    id: 'knn-folder',
    label: 'k-NN · image folder…',
    detail: 'Any folder with train/<class>/*.jpg and val/<class>/*.jpg (ImageNet layout)',
    jobs: [{ suite: 'knn', dataset: '<folder>' }],
    picked: false,
  },
];

/** Jobs that need a synthetic walking tour's ground truth. */
export function needsSyntheticTour(job: EvalJob): boolean {
  return job.suite === 'tracking' || (job.suite === 'knn' && (job.dataset ?? 'synthetic') === 'synthetic');
}

/** The training video recorded in a checkpoint's run (config.json), if readable. */
export async function runVideoOf(checkpoint: string): Promise<string | undefined> {
  const config = (await readRunConfig(runDirOfCheckpoint(checkpoint)).catch(() => undefined)) as { data?: { video?: unknown } } | undefined;
  return typeof config?.data?.video === 'string' ? config.data.video : undefined;
}

/**
 * A run trained on the user's own video has no ground truth to score objects against: its k-NN-on-objects and
 * tracking jobs use the synthetic walking tour instead (frames it never trained on). `tour()` provides (generates) it.
 */
export async function jobsForCheckpoint(checkpoint: string, jobs: readonly EvalJob[], tour: () => Promise<string>): Promise<EvalJob[]> {
  if (!jobs.some(needsSyntheticTour)) return [...jobs];
  const video = await runVideoOf(checkpoint);
  if (video && readSyntheticOptions(video)) return [...jobs];
  const synthetic = await tour();
  return jobs.map((job) => (needsSyntheticTour(job) && !job.video ? { ...job, video: synthetic } : job));
}

export function jobLabel(job: EvalJob): string {
  if (job.suite === 'knn') return `k-NN · ${datasetLabel(job.dataset ?? 'synthetic')}`;
  const names: Record<EvalSuite, string> = { knn: 'k-NN', tracking: 'tracking vs ground truth', attention: 'attention maps' };
  return names[job.suite];
}

export function evaluateCheckpoint(options: EvaluateCheckpointOptions): Promise<EvaluateOutcome> {
  const forkProcess = options.forkProcess ?? fork;
  const results: EvalResultMessage[] = [];
  let error: string | undefined;
  let finished: EvaluateOutcome['reason'] | undefined;
  let stderrTail = '';
  let job = 0;
  return new Promise<EvaluateOutcome>((resolve) => {
    let child: ChildProcess;
    try {
      child = forkProcess(options.trainerPath, [], {
        cwd: path.dirname(options.checkpoint),
        execArgv: [],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...(options.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' },
      });
    } catch (e) {
      resolve({ reason: 'failed', results, error: `could not start ${options.trainerPath}: ${(e as Error).message}` });
      return;
    }
    const log = (line: string) => options.log?.(line);
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderrTail = (stderrTail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log(line);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const cancel = () => {
      send({ type: 'stop' });
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.killGraceMs ?? 3000);
    };
    const send = (message: HostMessage) => {
      if (child.connected) child.send(message);
    };
    if (options.signal?.aborted) cancel();
    options.signal?.addEventListener('abort', cancel, { once: true });
    child.on('message', (raw: unknown) => {
      if (!isTrainerMessage(raw)) {
        log(`ignored a message from the trainer: ${describeInvalidMessage(raw)}`);
        return;
      }
      switch (raw.type) {
        case 'progress':
          options.onProgress?.({
            message: raw.message ?? raw.phase,
            fraction: raw.total ? raw.done / raw.total : null,
            job,
            jobs: options.jobs.length,
          });
          break;
        case 'eval-result':
          results.push(raw);
          job = results.length;
          options.onResult?.(raw);
          break;
        case 'error':
          error = raw.fix ? `${raw.message} Fix: ${raw.fix}` : raw.message;
          log(`error: ${error}`);
          break;
        case 'warning':
          log(`warning: ${raw.message}`);
          break;
        case 'finished':
          finished = raw.reason;
          break;
        default:
          break;
      }
    });
    child.on('error', (e) => {
      error ??= e.message;
    });
    child.on('exit', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', cancel);
      const cancelled = options.signal?.aborted === true;
      let reason: EvaluateOutcome['reason'] = finished ?? (cancelled ? 'stopped' : code === 0 ? 'completed' : 'failed');
      if (reason === 'completed' && results.length < options.jobs.length) reason = cancelled ? 'stopped' : 'failed';
      if (reason === 'failed' && !error) {
        const last = stderrTail.trim().split('\n').filter(Boolean).pop();
        error = `the trainer exited with ${signal ?? `code ${code}`}${last ? `: ${last}` : ''}`;
      }
      resolve({ reason, results, error: reason === 'failed' ? error : undefined });
    });
    const request: EvaluateMessage = {
      type: 'evaluate',
      checkpoint: options.checkpoint,
      jobs: options.jobs,
      backend: options.backend,
      ffmpegPath: options.ffmpegPath,
      cacheRoot: options.cacheRoot,
      force: options.force,
    };
    send(request);
  });
}
