// Evaluating a checkpoint from the extension: an `evaluate` request to an engine (src/host/engine), which loads the
// checkpoint's teacher in its own process, reports progress and one `eval-result` per job. Cancel = `stop`, then a kill
// after a grace period (label propagation checks for cancellation only between clips; results are written atomically,
// so a killed evaluation leaves nothing half-written). No vscode import.

import type { EvalSuite } from '../../core/evalResults';
import { datasetLabel } from '../../core/evalResults';
import type { EvalJob, EvalResultMessage } from '../../core/messages';
import type { EngineClient, EvaluateOutcome, EvaluateRequest } from '../engine/engineClient';

export interface EvalProgressUpdate {
  message: string;
  /** 0..1 of the current job, null when unknown. */
  fraction: number | null;
  /** Index of the current job. */
  job: number;
  jobs: number;
}

/** The `evaluate` request (one definition, src/core/messages.ts) plus how to follow it. */
export type EvaluateCheckpointOptions = EvaluateRequest & {
  signal?: AbortSignal;
  onProgress?: (update: EvalProgressUpdate) => void;
  onResult?: (result: EvalResultMessage) => void;
  log?: (line: string) => void;
  /** After cancel: time for the engine to stop on its own before it is killed. */
  killGraceMs?: number;
};

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
      'DINO weighted k-NN (T 0.07, k 10/20/100/200) on object crops of the synthetic walking tour (held-out frames; ' +
      'generated into dora-demo/ once when the run trained on another video)',
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

export function jobLabel(job: EvalJob): string {
  if (job.suite === 'knn') return `k-NN · ${datasetLabel(job.dataset ?? 'synthetic')}`;
  const names: Record<EvalSuite, string> = { knn: 'k-NN', tracking: 'tracking vs ground truth', attention: 'attention maps' };
  return names[job.suite];
}

/** Evaluates one checkpoint through an engine, turning its progress messages into per-job updates. */
export function evaluateCheckpoint(engines: EngineClient, options: EvaluateCheckpointOptions): Promise<EvaluateOutcome> {
  const { signal, onProgress, onResult, log, killGraceMs, ...request } = options;
  let job = 0;
  return engines.evaluate(request, {
    signal,
    cancelGraceMs: killGraceMs,
    log,
    onResult: (result) => {
      job++;
      onResult?.(result);
    },
    onMessage: (m) => {
      if (m.type !== 'progress') return;
      const fraction = m.total ? m.done / m.total : null;
      onProgress?.({ message: m.message ?? m.phase, fraction, job, jobs: request.jobs.length });
    },
  });
}
