/**
 * One DoRA optimisation step, equal to one iteration of the official main.train_one_epoch, as named stages (step/):
 *  1. teacherPass: teacher forward on the unmasked global crops of all F frames;
 *  2-3. maskedViews: the tracker (MOT) on the teacher's last-block attention → k masked views per frame;
 *  4. studentPass: student forward on the k masked views and on the local crops;
 *  5-6. accumulateGradients: DINO loss (official or clean) and its gradients, over micro-batches of clips;
 *  7. updateParameters: per-tensor clipping → last-layer freeze → AdamW (two official groups) → EMA teacher → centre.
 * Diagnostics (outputs and applied gradients) are an optional collector (step/diagnostics.ts).
 * The official code loops over frames; here all frames (and all objects) go through one batched forward,
 * which is row-for-row the same computation.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossVariant } from '../../core/configDefaults';
import type { DoraState } from './model';
import type { SinkhornOptions } from './sinkhorn';
import { DiagnosticsCollector, type StepDiagnostics } from './step/diagnostics';
import { accumulateGradients, type AccumulatedGradients } from './step/gradientAccumulation';
import { maskedViews } from './step/maskedViews';
import { updateParameters } from './step/parameterUpdate';
import { disposeTeacherPass, framesFirst, localCropsByFrame, teacherEntropies, teacherPass } from './step/teacherPass';
import type { TrackerResult } from './tracker';

export interface DoraStepHyper {
  /** Epoch index (freeze-last-layer and the teacher temperature are per epoch). */
  epoch: number;
  lr: number;
  weightDecay: number;
  /** Teacher EMA momentum m for this iteration. */
  momentum: number;
  teacherTemp: number;
  freezeLastLayer: number;
  clipGrad: number;
  studentTemp: number;
  centerMomentum: number;
  lossVariant: LossVariant;
  sinkhorn: SinkhornOptions;
  /** false = the DINO baseline on the same frames: the student sees the unmasked global crop (one view). */
  tracker: boolean;
}

export const OFFICIAL_STEP_DEFAULTS = { studentTemp: 0.1, centerMomentum: 0.9, clipGrad: 3, freezeLastLayer: 1 } as const;

export interface DoraBatch {
  /** [B, F, 3, H, W] normalised global crops (teacher input and tracker images). */
  global: tf.Tensor;
  /** [nl, B, F, 3, h, w] normalised local crops. */
  local: tf.Tensor;
  /** The k distinct teacher heads that seed the objects (drawn by the caller's seeded RNG). */
  heads: number[];
}

export interface StepOutcome {
  loss: number;
  /** Monitoring: mean CE of the masked-view and local-crop terms, and the teacher's entropies (collapse watch:
   *  a per-sample entropy near 0 with a batch-mean entropy near 0 is collapse to one prototype; both near log K is
   *  collapse to uniform). */
  parts: { lossMasked: number; lossLocal: number; teacherEntropy: number; teacherBatchEntropy: number };
  /** Raw per-tensor gradient norms in named_parameters order (utils.clip_gradients' return value). */
  gradNorms: Map<string, number>;
  tracker?: TrackerResult;
  diagnostics?: StepDiagnostics;
}

/** A step whose loss is NaN or ±Inf: nothing was updated (the official code exits before the backward pass). */
export class NonFiniteLossError extends Error {
  constructor(
    readonly loss: number,
    readonly hyper: DoraStepHyper,
  ) {
    super(
      `the loss is ${loss} at epoch ${hyper.epoch} (lr ${hyper.lr.toExponential(3)}, teacher ` +
        `temperature ${hyper.teacherTemp}); no parameter was updated`,
    );
    this.name = 'NonFiniteLossError';
  }
}

export interface StepOptions {
  /** Keep the outputs the golden cases and snapshots need (costs a few device→host reads). */
  collect?: boolean;
  /** Clips per forward/backward pass (gradient accumulation); default: the whole batch at once. */
  microBatch?: number;
}

/** One step through the named stages: teacher → tracker → masked views → student → loss → accumulation → update. */
export async function doraTrainStep(
  state: DoraState,
  batch: DoraBatch,
  hyper: DoraStepHyper,
  opts: StepOptions = {},
): Promise<StepOutcome> {
  const [b, f] = batch.global.shape;
  const nl = batch.local.shape[0];
  const globalFF = framesFirst(batch.global); // [F, B, 3, H, W]
  const localCrops = localCropsByFrame(batch.local); // [F, nl, B, 3, h, w]
  const teacher = teacherPass(state, globalFF);
  const { views, tracker } = await maskedViews(state, teacher, globalFF, batch.heads, hyper);
  const k = views.shape[0];
  const collector = opts.collect ? new DiagnosticsCollector({ k, f, b, nl, outDim: state.cfg.head.outDim }) : undefined;
  let accumulated: AccumulatedGradients;
  try {
    accumulated = await accumulateGradients(state, { views, localCrops }, teacher.teacherOut, hyper, {
      microBatch: opts.microBatch,
      collector,
    });
  } finally {
    tf.dispose([views, globalFF, localCrops]);
  }
  const { loss, lossMasked, lossLocal, grads } = accumulated;
  if (!Number.isFinite(loss)) {
    tf.dispose([...grads.values()]);
    disposeTeacherPass(teacher);
    throw new NonFiniteLossError(loss, hyper);
  }
  const entropies = await teacherEntropies(teacher.teacherOut, state.center as tf.Tensor2D, hyper.teacherTemp);
  const { gradNorms, diagnostics } = await updateParameters(state, grads, teacher.teacherOut, hyper, collector);
  disposeTeacherPass(teacher);
  return { loss, gradNorms, tracker, diagnostics, parts: { lossMasked, lossLocal, ...entropies } };
}
