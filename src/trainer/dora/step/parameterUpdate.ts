/**
 * Step stage 7, the update, in the official order: per-tensor gradient clipping (utils.clip_gradients), the last-layer
 * freeze (cancel_gradients_last_layer), AdamW over the two official parameter groups, the teacher's EMA, and the DINO
 * centre update.
 */
import * as tf from '@tensorflow/tfjs';
import { adamwStep, cancelLastLayerGradients, clipGradientsPerTensor, emaUpdateTeacher } from '../../optim/adamw';
import { updatedCenter } from '../loss';
import type { DoraState } from '../model';
import type { DiagnosticsCollector, StepDiagnostics } from './diagnostics';

export interface UpdateHyper {
  epoch: number;
  lr: number;
  weightDecay: number;
  /** Teacher EMA momentum m for this iteration. */
  momentum: number;
  freezeLastLayer: number;
  clipGrad: number;
  centerMomentum: number;
}

export interface UpdateResult {
  /** Raw per-tensor gradient norms in named_parameters order (utils.clip_gradients' return value). */
  gradNorms: Map<string, number>;
  diagnostics?: StepDiagnostics;
}

/** Consumes (disposes) `grads`, updates the student, the teacher and the centre of `state`. */
export async function updateParameters(
  state: DoraState,
  grads: Map<string, tf.Tensor>,
  teacherOut: tf.Tensor3D,
  hyper: UpdateHyper,
  collector?: DiagnosticsCollector,
): Promise<UpdateResult> {
  const { clipped, norms } = await clipGradientsPerTensor(grads, hyper.clipGrad);
  tf.dispose([...grads.values()]);
  const applied = cancelLastLayerGradients(clipped, hyper.epoch, hyper.freezeLastLayer);
  const diagnostics = collector ? await collector.finish(teacherOut, applied) : undefined;
  adamwStep(state.student, applied, state.optimizer, hyper.lr, hyper.weightDecay);
  tf.dispose([...applied.values()]);
  emaUpdateTeacher(state.teacher, state.student, hyper.momentum);
  const newCenter = tf.tidy(() => updatedCenter(state.center as tf.Tensor2D, teacherOut, hyper.centerMomentum));
  state.center.assign(newCenter);
  newCenter.dispose();
  return { gradNorms: norms, diagnostics };
}
