/**
 * Step stage 1, the teacher: its forward on the unmasked global crops of all F frames (MultiCropWrapper with
 * return_track=True), keeping what the tracker needs from the last block. Frame 0 is the anchor. Plus the layout moves
 * that put frames first, and the teacher's entropies (DINO's collapse diagnostics).
 */
import * as tf from '@tensorflow/tfjs';
import { teacherTargets } from '../loss';
import { networkForward, type DoraState } from '../model';

export interface TeacherPass {
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

/** Local crops [nl, B, F, 3, h, w] → [F, nl, B, 3, h, w]: per frame, rows v·B + b as MultiCropWrapper concatenates them. */
export function localCropsByFrame(local: tf.Tensor): tf.Tensor {
  const [nl, b, f, c, h, w] = local.shape as [number, number, number, number, number, number];
  return tf.tidy(() =>
    local
      .reshape([nl * b, f, -1])
      .transpose([1, 0, 2])
      .reshape([f, nl, b, c, h, w]),
  );
}

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

export function disposeTeacherPass(teacher: TeacherPass): void {
  tf.dispose([teacher.teacherOut, teacher.anchorAttn, teacher.anchorQuery, teacher.keys, teacher.anchorPatches]);
}

/** Mean per-row entropy of the teacher targets, and the entropy of their batch mean (DINO's collapse diagnostics). */
export async function teacherEntropies(
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
