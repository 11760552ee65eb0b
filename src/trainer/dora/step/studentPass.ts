/**
 * Step stage 4, the student: its forward (backbone + head) on the k masked views and on the local crops of the clips
 * [b0, b0 + bc), all frames and objects in one batched forward (the official code loops over frames; row for row the
 * same computation).
 */
import * as tf from '@tensorflow/tfjs';
import { networkForward, type DoraState } from '../model';

export interface StudentInputs {
  /** [k, F, B, 3, H, W] masked views. */
  views: tf.Tensor;
  /** [F, nl, B, 3, h, w] local crops. */
  localCrops: tf.Tensor;
}

export interface StudentOutputs {
  studentMasked: tf.Tensor4D; // [k, F, bc, out]
  studentLocal: tf.Tensor3D; // [F, nl·bc, out]
}

export function studentPass(state: DoraState, inputs: StudentInputs, b0: number, bc: number): StudentOutputs {
  const [k, f, b, c, h, w] = inputs.views.shape as [number, number, number, number, number, number];
  const [, nl, , , lh, lw] = inputs.localCrops.shape as [number, number, number, number, number, number];
  const whole = bc === b;
  const masked = (whole ? inputs.views : tf.slice(inputs.views, [0, 0, b0, 0, 0, 0], [k, f, bc, c, h, w])).reshape([k * f * bc, c, h, w]);
  const local = (whole ? inputs.localCrops : tf.slice(inputs.localCrops, [0, 0, b0, 0, 0, 0], [f, nl, bc, c, lh, lw])).reshape([
    f * nl * bc,
    c,
    lh,
    lw,
  ]);
  const outDim = state.cfg.head.outDim;
  return {
    studentMasked: networkForward(state.student, state.cfg, masked as tf.Tensor4D).out.reshape([k, f, bc, outDim]) as tf.Tensor4D,
    studentLocal: networkForward(state.student, state.cfg, local as tf.Tensor4D).out.reshape([f, nl * bc, outDim]) as tf.Tensor3D,
  };
}
