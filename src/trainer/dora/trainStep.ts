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
import { adamwStep, cancelLastLayerGradients, clipGradientsPerTensor, emaUpdateTeacher } from '../optim/adamw';
import { doraLoss, updatedCenter, type LossVariant } from './loss';
import { networkForward, trainableParamNames, type DoraModelConfig, type DoraState, type ParamMap } from './model';
import type { SinkhornOptions } from './sinkhorn';
import { maskImages, runTracker, type TrackerResult } from './tracker';

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
  teacherOut: Float32Array;    // [F, B, out]
  studentMasked: Float32Array; // [k, F, B, out]
  studentLocal: Float32Array;  // [F, nl·B, out]
  /** The gradients AdamW consumed (after clipping and the last-layer freeze). */
  clippedGrads: Map<string, Float32Array>;
}

export interface StepOutcome {
  loss: number;
  /** Raw per-tensor gradient norms in named_parameters order (utils.clip_gradients' return value). */
  gradNorms: Map<string, number>;
  tracker?: TrackerResult;
  diagnostics?: StepDiagnostics;
}

/** Images [V, 3, H, W] through backbone + head. */
function headOutputs(params: ParamMap, cfg: DoraModelConfig, images: tf.Tensor): tf.Tensor2D {
  return networkForward(params, cfg, images as tf.Tensor4D).out;
}

interface TeacherPass {
  teacherOut: tf.Tensor3D;   // [F, B, out]
  anchorAttn: tf.Tensor4D;   // [B, h, T, T]
  anchorQuery: tf.Tensor4D;  // [B, h, T, dh]
  keys: tf.Tensor;           // [F, B, h, T, dh]
  anchorPatches: tf.Tensor3D; // [B, N, D]
}

/** Teacher forward on all frames' global crops (MultiCropWrapper with return_track=True); frame 0 is the anchor. */
export function teacherPass(state: DoraState, global: tf.Tensor): TeacherPass {
  const [b, f, c, h, w] = global.shape as [number, number, number, number, number];
  return tf.tidy(() => {
    const frames = global.transpose([1, 0, 2, 3, 4]).reshape([f * b, c, h, w]);
    const { backbone, out } = networkForward(state.teacher, state.cfg, frames as tf.Tensor4D);
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

export function doraTrainStep(state: DoraState, batch: DoraBatch, hyper: DoraStepHyper, opts: { collect?: boolean } = {}): StepOutcome {
  const { cfg } = state;
  const [b, f, c, h, w] = batch.global.shape as [number, number, number, number, number];
  const [nl, , , , lh, lw] = batch.local.shape as [number, number, number, number, number, number];

  const teacher = teacherPass(state, batch.global);
  let tracker: TrackerResult | undefined;
  let views: tf.Tensor; // [k, B, F, 3, H, W]
  if (hyper.tracker) {
    tracker = runTracker({ ...teacher, heads: batch.heads, sinkhorn: hyper.sinkhorn });
    views = maskImages(batch.global, tracker.maskPatch, batch.heads.length, cfg.vit.patchSize);
  } else {
    views = batch.global.reshape([1, b, f, c, h, w]);
  }
  const k = views.shape[0];

  const names = trainableParamNames(cfg);
  const varList = names.map((n) => state.student.get(n)!);
  const nameOfVariable = new Map(names.map((n) => [state.student.get(n)!.name, n]));
  let collected: Pick<StepDiagnostics, 'studentMasked' | 'studentLocal'> | undefined;

  const { value, grads } = tf.variableGrads(() => {
    const maskedIn = views.transpose([0, 2, 1, 3, 4, 5]).reshape([k * f * b, c, h, w]);
    const studentMasked = headOutputs(state.student, cfg, maskedIn).reshape([k, f, b, -1]) as tf.Tensor4D;
    const localIn = batch.local.transpose([2, 0, 1, 3, 4, 5]).reshape([f * nl * b, c, lh, lw]);
    const studentLocal = headOutputs(state.student, cfg, localIn).reshape([f, nl * b, -1]) as tf.Tensor3D;
    if (opts.collect) {
      collected = { studentMasked: studentMasked.dataSync() as Float32Array, studentLocal: studentLocal.dataSync() as Float32Array };
    }
    return doraLoss({
      teacherOut: teacher.teacherOut, studentMasked, studentLocal, center: state.center as tf.Tensor2D,
      teacherTemp: hyper.teacherTemp, studentTemp: hyper.studentTemp, variant: hyper.lossVariant,
    }).loss;
  }, varList);

  const loss = value.dataSync()[0];
  value.dispose();
  if (views !== batch.global) views.dispose();

  // named_parameters order, as utils.clip_gradients iterates.
  const rawGrads = new Map<string, tf.Tensor>();
  for (const n of names) {
    const g = Object.entries(grads).find(([varName]) => nameOfVariable.get(varName) === n)?.[1];
    if (g) rawGrads.set(n, g);
  }
  const { clipped, norms } = clipGradientsPerTensor(rawGrads, hyper.clipGrad);
  tf.dispose(Object.values(grads));
  const applied = cancelLastLayerGradients(clipped, hyper.epoch, hyper.freezeLastLayer);

  let diagnostics: StepDiagnostics | undefined;
  if (opts.collect && collected) {
    diagnostics = {
      teacherOut: teacher.teacherOut.dataSync() as Float32Array,
      ...collected,
      clippedGrads: new Map([...applied].map(([n, g]) => [n, g.dataSync() as Float32Array])),
    };
  }

  adamwStep(state.student, applied, state.optimizer, hyper.lr, hyper.weightDecay);
  tf.dispose([...applied.values()]);
  emaUpdateTeacher(state.teacher, state.student, hyper.momentum);
  const newCenter = tf.tidy(() => updatedCenter(state.center as tf.Tensor2D, teacher.teacherOut, hyper.centerMomentum));
  state.center.assign(newCenter);
  newCenter.dispose();
  tf.dispose([teacher.teacherOut, teacher.anchorAttn, teacher.anchorQuery, teacher.keys, teacher.anchorPatches]);
  return { loss, gradNorms: norms, tracker, diagnostics };
}
