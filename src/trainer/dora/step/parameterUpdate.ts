/**
 * Step stage 7, the update, in the official order: per-tensor gradient clipping (utils.clip_gradients), the last-layer
 * freeze (cancel_gradients_last_layer), AdamW over the two official parameter groups, the teacher's EMA, and the DINO
 * centre update. Where the fused kernels run, the norms are one launch and clipping + AdamW + EMA one more
 * (optim/adamw.ts adamwEmaUpdate).
 */
import * as tf from '@tensorflow/tfjs';
import { adamwEmaUpdate, cancelLastLayerGradients, clipFactor, gradientNorms } from '../../optim/adamw';
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
  const norms = await gradientNorms(grads);
  const applied = cancelLastLayerGradients(grads, hyper.epoch, hyper.freezeLastLayer);
  // Clipping is a per-tensor factor the fused update applies as it reads each gradient.
  const factors = new Map([...applied.keys()].map((n) => [n, clipFactor(norms.get(n)!, hyper.clipGrad)]));
  let diagnostics: StepDiagnostics | undefined;
  if (collector) {
    const clipped = new Map([...applied].map(([n, g]) => [n, tf.tidy(() => tf.mul(g, factors.get(n)!))]));
    diagnostics = await collector.finish(teacherOut, clipped);
    tf.dispose([...clipped.values()]);
  }
  const { student, teacher, optimizer } = state;
  adamwEmaUpdate({
    student,
    teacher,
    grads: applied,
    factors,
    state: optimizer,
    lr: hyper.lr,
    weightDecay: hyper.weightDecay,
    momentum: hyper.momentum,
  });
  tf.dispose([...applied.values()]);
  const newCenter = tf.tidy(() => updatedCenter(state.center as tf.Tensor2D, teacherOut, hyper.centerMomentum));
  state.center.assign(newCenter);
  newCenter.dispose();
  return { gradNorms: norms, diagnostics };
}
