/**
 * One DoRA optimisation step, equal to one iteration of the official main.train_one_epoch:
 *  1. teacher forward on the unmasked global crops of all F frames;
 *  2. the tracker (MOT) on the teacher's last-block attention → k masked views per frame;
 *  3. student forward on the k masked views and on the local crops;
 *  4. DINO loss (official or clean), 5. backward, 6. per-tensor clipping, 7. last-layer freeze,
 *  8. AdamW over the two official groups, 9. EMA teacher, 10. centre update.
 * The official code loops over frames; here all frames (and all objects) go through one batched forward,
 * which is row-for-row the same computation.
 */
import * as tf from '@tensorflow/tfjs';
import { accumulateGradients, adamwEmaUpdate, cancelLastLayerGradients, clipFactor, gradientNorms } from '../optim/adamw';
import { doraLoss, teacherTargets, updatedCenter, type LossVariant } from './loss';
import { networkForward, studentForward, trainableParamNames, type DoraState } from './model';
import type { SinkhornOptions } from './sinkhorn';
import { maskFrameMajorImages, runTracker, type TrackerResult } from './tracker';

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

export interface StepDiagnostics {
  teacherOut: Float32Array; // [F, B, out]
  studentMasked: Float32Array; // [k, F, B, out]
  studentLocal: Float32Array; // [F, nl·B, out]
  /** The gradients AdamW consumed (after clipping and the last-layer freeze). */
  clippedGrads: Map<string, Float32Array>;
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

interface TeacherPass {
  teacherOut: tf.Tensor3D; // [F, B, out]
  anchorAttn: tf.Tensor4D; // [B, h, T, T]
  anchorQuery: tf.Tensor4D; // [B, h, T, dh]
  keys: tf.Tensor; // [F, B, h, T, dh]
  anchorPatches: tf.Tensor3D; // [B, N, D]
}

/** [B, F, …] → [F, B, …] as a rank-3 transpose (tfjs-wasm's rank-5/6 transposes are slow). */
export function framesFirst(x: tf.Tensor): tf.Tensor {
  const [b, f, ...rest] = x.shape;
  return tf.tidy(() =>
    x
      .reshape([b, f, -1])
      .transpose([1, 0, 2])
      .reshape([f, b, ...rest]),
  );
}

/** Teacher forward on all frames' global crops (MultiCropWrapper with return_track=True); frame 0 is the anchor. */
export function teacherPass(state: DoraState, globalFramesFirst: tf.Tensor): TeacherPass {
  const [f, b, c, h, w] = globalFramesFirst.shape as [number, number, number, number, number];
  return tf.tidy(() => {
    const { backbone, out } = networkForward(state.teacher, state.cfg, globalFramesFirst.reshape([f * b, c, h, w]) as tf.Tensor4D);
    const [, heads, t, dh] = backbone.q.shape;
    const d = backbone.tokens.shape[2];
    return {
      teacherOut: out.reshape([f, b, -1]) as tf.Tensor3D,
      anchorAttn: tf.slice(backbone.attn, [0, 0, 0, 0], [b, heads, t, t]),
      anchorQuery: tf.slice(backbone.q, [0, 0, 0, 0], [b, heads, t, dh]),
      keys: backbone.k.reshape([f, b, heads, t, dh]),
      anchorPatches: tf.slice(backbone.tokens, [0, 1, 0], [b, t - 1, d]),
    };
  });
}

/** Mean per-row entropy of the teacher targets, and the entropy of their batch mean (DINO's collapse diagnostics). */
async function teacherEntropies(
  teacherOut: tf.Tensor3D,
  center: tf.Tensor2D,
  teacherTemp: number,
): Promise<{ teacherEntropy: number; teacherBatchEntropy: number }> {
  const values = tf.tidy(() => {
    const d = teacherOut.shape[2];
    const q = teacherTargets(teacherOut, center, teacherTemp).reshape([-1, d]);
    const entropy = (p: tf.Tensor) => tf.neg(tf.sum(tf.mul(p, tf.log(tf.add(p, 1e-12))), -1));
    return tf.stack([tf.mean(entropy(q)), entropy(tf.mean(q, 0))]);
  });
  const [teacherEntropy, teacherBatchEntropy] = await values.data();
  values.dispose();
  return { teacherEntropy, teacherBatchEntropy };
}

/** A step whose loss is NaN or ±Inf: nothing was updated (the official code exits before the backward pass). */
export class NonFiniteLossError extends Error {
  constructor(
    readonly loss: number,
    readonly hyper: DoraStepHyper,
  ) {
    super(
      `the loss is ${loss} at epoch ${hyper.epoch} (lr ${hyper.lr.toExponential(3)}, teacher temperature ${hyper.teacherTemp}); no parameter was updated`,
    );
    this.name = 'NonFiniteLossError';
  }
}

/** Copies [groups, bc, D] rows of a chunk into [groups, B, D] at clip offset b0. */
function scatterClips(chunk: Float32Array, full: Float32Array, groups: number, bc: number, b: number, b0: number, d: number): void {
  for (let g = 0; g < groups; g++) full.set(chunk.subarray(g * bc * d, (g + 1) * bc * d), (g * b + b0) * d);
}

export interface StepOptions {
  /** Keep the outputs the golden cases and snapshots need (costs a few device→host reads). */
  collect?: boolean;
  /** Clips per forward/backward pass (gradient accumulation); default: the whole batch at once. */
  microBatch?: number;
}

/**
 * One step in its own engine scope: whatever the step allocated is released when it ends, also when it throws (an
 * out-of-memory error is retried with a smaller micro-batch, run/microBatch.ts). The outcome holds plain arrays only.
 */
export async function doraTrainStep(
  state: DoraState,
  batch: DoraBatch,
  hyper: DoraStepHyper,
  opts: StepOptions = {},
): Promise<StepOutcome> {
  tf.engine().startScope();
  try {
    return await stepInScope(state, batch, hyper, opts);
  } finally {
    tf.engine().endScope();
  }
}

async function stepInScope(state: DoraState, batch: DoraBatch, hyper: DoraStepHyper, opts: StepOptions): Promise<StepOutcome> {
  const { cfg } = state;
  const [b, f, c, h, w] = batch.global.shape as [number, number, number, number, number];
  const [nl, , , , lh, lw] = batch.local.shape as [number, number, number, number, number, number];

  const globalFF = framesFirst(batch.global); // [F, B, 3, H, W]
  // Local crops [nl, B, F, …] → [F, nl·B, …]: rows v·B + b per frame, as MultiCropWrapper concatenates them.
  const localFF = tf.tidy(() =>
    batch.local
      .reshape([nl * b, f, -1])
      .transpose([1, 0, 2])
      .reshape([f * nl * b, c, lh, lw]),
  );
  const teacher = teacherPass(state, globalFF);
  let tracker: TrackerResult | undefined;
  let views: tf.Tensor; // [k, F, B, 3, H, W]
  if (hyper.tracker) {
    tracker = await runTracker({ ...teacher, heads: batch.heads, sinkhorn: hyper.sinkhorn });
    views = maskFrameMajorImages(globalFF, tracker.maskPatch, batch.heads.length, cfg.vit.patchSize);
  } else {
    views = globalFF.reshape([1, f, b, c, h, w]);
  }
  const k = views.shape[0];

  const names = trainableParamNames(cfg);
  const varList = names.map((n) => state.student.get(n)!);
  const nameOfVariable = new Map(names.map((n) => [state.student.get(n)!.name, n]));
  const outDim = cfg.head.outDim;
  const collectedMasked = opts.collect ? new Float32Array(k * f * b * outDim) : undefined;
  const collectedLocal = opts.collect ? new Float32Array(f * nl * b * outDim) : undefined;

  // Gradient accumulation over micro-batches of clips. The loss is a fixed linear combination of batch-mean
  // cross-entropies, so Σ (clips in chunk / B) · loss(chunk) is exactly the full-batch loss, and so are its gradients.
  // The tracker threshold and the centre already used the whole batch above.
  const chunkSize = opts.microBatch && opts.microBatch > 0 ? Math.min(opts.microBatch, b) : b;
  const localGrid = tf.tidy(() => localFF.reshape([f, nl, b, c, lh, lw]));
  let lossValue = 0;
  let lossMasked = 0;
  let lossLocal = 0;
  const summed = new Map<string, tf.Tensor>();
  for (let b0 = 0; b0 < b; b0 += chunkSize) {
    const bc = Math.min(chunkSize, b - b0);
    const weight = bc / b;
    // Reads inside the gradient closure must be synchronous, which webgpu cannot do in Node: keep the tensors instead.
    let kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const maskedIn = (bc === b ? views : tf.slice(views, [0, 0, b0, 0, 0, 0], [k, f, bc, c, h, w])).reshape([k * f * bc, c, h, w]);
      const localIn = (bc === b ? localGrid : tf.slice(localGrid, [0, 0, b0, 0, 0, 0], [f, nl, bc, c, lh, lw])).reshape([
        f * nl * bc,
        c,
        lh,
        lw,
      ]);
      const [maskedOut, localOut] = studentForward(state.student, cfg, maskedIn as tf.Tensor4D, localIn as tf.Tensor4D);
      const studentMasked = maskedOut.reshape([k, f, bc, outDim]) as tf.Tensor4D;
      const studentLocal = localOut.reshape([f, nl * bc, outDim]) as tf.Tensor3D;
      if (collectedMasked && collectedLocal) kept.push(tf.keep(studentMasked), tf.keep(studentLocal));
      const teacherOut = bc === b ? teacher.teacherOut : tf.slice(teacher.teacherOut, [0, b0, 0], [f, bc, outDim]);
      const parts = doraLoss({
        teacherOut,
        studentMasked,
        studentLocal,
        center: state.center as tf.Tensor2D,
        teacherTemp: hyper.teacherTemp,
        studentTemp: hyper.studentTemp,
        variant: hyper.lossVariant,
      });
      kept.push(tf.keep(tf.mean(parts.ceMasked)), tf.keep(tf.mean(parts.ceLocal)));
      const loss = parts.loss;
      return weight === 1 ? loss : (tf.mul(loss, weight) as tf.Scalar);
    }, varList);
    lossValue += (await value.data())[0];
    value.dispose();
    const keptData = (await Promise.all(kept.map((t) => t.data()))) as Float32Array[];
    if (collectedMasked && collectedLocal) {
      scatterClips(keptData[0], collectedMasked, k * f, bc, b, b0, outDim);
      scatterClips(keptData[1], collectedLocal, f * nl, bc, b, b0, outDim);
      keptData.splice(0, 2);
    }
    lossMasked += weight * keptData[0][0];
    lossLocal += weight * keptData[1][0];
    tf.dispose(kept);
    kept = [];
    accumulateGradients(summed, grads);
  }
  tf.dispose([views, globalFF, localFF, localGrid]);
  const loss = lossValue;
  if (!Number.isFinite(loss)) {
    tf.dispose([...summed.values(), teacher.teacherOut, teacher.anchorAttn, teacher.anchorQuery, teacher.keys, teacher.anchorPatches]);
    throw new NonFiniteLossError(loss, hyper);
  }
  const grads = Object.fromEntries(summed);
  const entropies = await teacherEntropies(teacher.teacherOut, state.center as tf.Tensor2D, hyper.teacherTemp);
  let collected: Pick<StepDiagnostics, 'studentMasked' | 'studentLocal'> | undefined;
  if (collectedMasked && collectedLocal) collected = { studentMasked: collectedMasked, studentLocal: collectedLocal };

  // named_parameters order, as utils.clip_gradients iterates.
  const rawGrads = new Map<string, tf.Tensor>();
  for (const n of names) {
    const g = Object.entries(grads).find(([varName]) => nameOfVariable.get(varName) === n)?.[1];
    if (g) rawGrads.set(n, g);
  }
  const norms = await gradientNorms(rawGrads);
  const applied = cancelLastLayerGradients(rawGrads, hyper.epoch, hyper.freezeLastLayer);
  const factors = new Map([...applied.keys()].map((n) => [n, clipFactor(norms.get(n)!, hyper.clipGrad)]));

  let diagnostics: StepDiagnostics | undefined;
  if (opts.collect && collected) {
    const clippedGrads = new Map<string, Float32Array>();
    for (const [n, g] of applied) {
      const c = tf.tidy(() => tf.mul(g, factors.get(n)!));
      clippedGrads.set(n, (await c.data()) as Float32Array);
      c.dispose();
    }
    diagnostics = { teacherOut: (await teacher.teacherOut.data()) as Float32Array, ...collected, clippedGrads };
  }

  adamwEmaUpdate({
    student: state.student,
    teacher: state.teacher,
    grads: applied,
    factors,
    state: state.optimizer,
    lr: hyper.lr,
    weightDecay: hyper.weightDecay,
    momentum: hyper.momentum,
  });
  tf.dispose([...applied.values()]);
  const newCenter = tf.tidy(() => updatedCenter(state.center as tf.Tensor2D, teacher.teacherOut, hyper.centerMomentum));
  state.center.assign(newCenter);
  newCenter.dispose();
  tf.dispose([teacher.teacherOut, teacher.anchorAttn, teacher.anchorQuery, teacher.keys, teacher.anchorPatches]);
  return { loss, gradNorms: norms, tracker, diagnostics, parts: { lossMasked, lossLocal, ...entropies } };
}
