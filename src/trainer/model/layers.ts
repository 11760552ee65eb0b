/**
 * Differentiable building blocks with PyTorch semantics, written only with ops that have gradients on every
 * TF.js backend (no conv2d filter grad, gather, stridedSlice, einsum, pow or norm in the differentiated path).
 */
import * as tf from '@tensorflow/tfjs';

/** Looks a parameter up by its official PyTorch state_dict name (relative to a module prefix). */
export type ParamGetter = (name: string) => tf.Tensor;

export function scoped(get: ParamGetter, prefix: string): ParamGetter {
  return (name) => get(`${prefix}${name}`);
}

/** nn.Linear: y = x Wᵀ + b with W stored [out, in] as in PyTorch. Works on any leading batch shape. */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.shape.length - 1];
  const outDim = weight.shape[0];
  const lead = x.shape.slice(0, -1);
  const flat = x.reshape([-1, inDim]);
  const y = bias ? tf.add(tf.matMul(flat, weight, false, true), bias) : tf.matMul(flat, weight, false, true);
  return y.reshape([...lead, outDim]);
}

/** nn.LayerNorm over the last axis (biased variance, as PyTorch). */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), weight), bias);
}

/** nn.GELU() default: the exact erf form. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** Euclidean norm over the last axis, keeping it; written as sqrt(sum(x²)) because tf.norm uses the slow pow. */
export function rowNorm(x: tf.Tensor): tf.Tensor {
  return tf.sqrt(tf.sum(tf.square(x), -1, true));
}

/** F.normalize(x, dim=-1, p=2): x / max(‖x‖, 1e-12). */
export function l2Normalize(x: tf.Tensor, eps = 1e-12): tf.Tensor {
  return tf.div(x, tf.maximum(rowNorm(x), eps));
}
