/**
 * DoRA's DINO loss (official main.py DINOLoss) with centring and the teacher-temperature schedule.
 *
 * With q_t = softmax((teacher_t − c)/τ_t) (a constant for the gradient) and CE(q, s) = mean_b Σ_d −q·log_softmax(s/τ_s):
 *  - 'official' keeps both quirks of the released code: local crop v = 0 is never used (`if v == iq: continue` with
 *    iq ≡ 0), and `frame_loss` is not reset between objects: FL_j = (FL_{j−1} + Σ_t x_jt)/F, loss = Σ_j FL_j / k,
 *    x_jt = ½(CE(q_t, masked_j,t) + mean_{v≥1} CE(q_t, local_t,v)).
 *  - 'clean': mean_t ½(mean_j CE(q_t, masked_j,t) + mean_{v≥0} CE(q_t, local_t,v)) — the loss the paper describes.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossVariant } from '../../core/configDefaults';

export interface DoraLossInputs {
  /** [F, B, D] teacher head outputs on the unmasked global crops. */
  teacherOut: tf.Tensor3D;
  /** [k, F, B, D] student head outputs on the k masked views (k = 1 with the tracker off: the unmasked crop). */
  studentMasked: tf.Tensor4D;
  /** [F, nl·B, D] student head outputs on the local crops, row v·B + b (MultiCropWrapper order). */
  studentLocal: tf.Tensor3D;
  /** [1, D] centre. */
  center: tf.Tensor2D;
  teacherTemp: number;
  studentTemp: number;
  variant: LossVariant;
}

export interface DoraLossOutput {
  loss: tf.Scalar;
  /** [k, F] CE(q_t, masked_j,t), and [F, nl] CE(q_t, local_t,v): diagnostics. */
  ceMasked: tf.Tensor2D;
  ceLocal: tf.Tensor2D;
}

/** q_t = softmax((teacher − centre)/τ): the centred, sharpened teacher targets, [F, B, D]. */
export function teacherTargets(teacherOut: tf.Tensor3D, center: tf.Tensor2D, teacherTemp: number): tf.Tensor3D {
  return tf.softmax(tf.div(tf.sub(teacherOut, center), teacherTemp)) as tf.Tensor3D;
}

/** Batch-mean cross-entropy between targets [F, 1, B, D] and student logits [F, V, B, D] → [F, V]. */
function crossEntropy(targets: tf.Tensor, studentLogits: tf.Tensor, studentTemp: number): tf.Tensor2D {
  const logProbs = tf.logSoftmax(tf.div(studentLogits, studentTemp));
  return tf.mean(tf.sum(tf.mul(tf.neg(targets), logProbs), -1), -1) as tf.Tensor2D;
}

export function doraLoss(inp: DoraLossInputs): DoraLossOutput {
  const [f, b, d] = inp.teacherOut.shape;
  const k = inp.studentMasked.shape[0];
  const nl = inp.studentLocal.shape[1] / b;
  if (!Number.isInteger(nl)) throw new Error(`doraLoss: ${inp.studentLocal.shape[1]} local rows are not a multiple of batch ${b}`);
  const q = teacherTargets(inp.teacherOut, inp.center, inp.teacherTemp).reshape([f, 1, b, d]);
  const ceMasked = crossEntropy(q, inp.studentMasked.transpose([1, 0, 2, 3]), inp.studentTemp).transpose() as tf.Tensor2D; // [k, F]
  const ceLocal = crossEntropy(q, inp.studentLocal.reshape([f, nl, b, d]), inp.studentTemp); // [F, nl]

  let loss: tf.Scalar;
  if (inp.variant === 'official') {
    if (nl < 2)
      throw new Error(
        'doraLoss: the official loss skips local crop 0, so it needs at least 2 local crops (use the clean variant otherwise)',
      );
    const localTerm = tf.mean(tf.slice(ceLocal, [0, 1], [f, nl - 1]), 1); // [F]: crops 1..nl−1
    const perObjectFrame = tf.mul(tf.add(ceMasked, localTerm.reshape([1, f])), 0.5); // x_jt, [k, F]
    const perObjectSum = tf.sum(perObjectFrame, 1); // Σ_t x_jt, [k]
    let frameLoss: tf.Tensor = tf.scalar(0);
    let total: tf.Tensor = tf.scalar(0);
    for (let j = 0; j < k; j++) {
      frameLoss = tf.div(tf.add(frameLoss, tf.slice(perObjectSum, [j], [1]).reshape([])), f); // not reset: official quirk
      total = tf.add(total, frameLoss);
    }
    loss = tf.div(total, k) as tf.Scalar;
  } else {
    const perFrame = tf.mul(tf.add(tf.mean(ceMasked, 0), tf.mean(ceLocal, 1)), 0.5); // [F]
    loss = tf.mean(perFrame) as tf.Scalar;
  }
  return { loss, ceMasked, ceLocal };
}

/** update_center: c ← m·c + (1 − m)·mean over all F·B teacher rows. */
export function updatedCenter(center: tf.Tensor2D, teacherOut: tf.Tensor3D, momentum = 0.9): tf.Tensor2D {
  const d = teacherOut.shape[2];
  const batchCenter = tf.mean(teacherOut.reshape([-1, d]), 0, true);
  return tf.add(tf.mul(center, momentum), tf.mul(batchCenter, 1 - momentum)) as tf.Tensor2D;
}
