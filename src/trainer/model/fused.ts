/**
 * The model's hot paths as single fused kernels where the backend has them (wasm: the project's SIMD kernels; webgpu:
 * WGSL), each with its own fused backward through tf.customGrad; elsewhere (cpu, or DORA_FUSED_OPS=0) the same math
 * as separate TF.js ops (layers.ts), which is also what the tests compare the fused kernels against.
 */
import * as tf from '@tensorflow/tfjs';
import {
  DORA_ATTENTION,
  DORA_ATTENTION_GRAD,
  DORA_LAYER_NORM,
  DORA_LAYER_NORM_GRAD,
  DORA_LINEAR,
  DORA_LINEAR_GRAD,
  fusedOpsActive,
} from '../backend';
import { gelu, layerNorm, linear, rowNorm } from './layers';

export { fusedOpsActive, setFusedOps } from '../backend';

function run(name: string, inputs: tf.NamedTensorMap, attrs: object = {}): tf.Tensor[] {
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as unknown as tf.Tensor[];
}

export interface LinearOptions {
  /** Added to the output (a residual connection), same shape as the output. */
  residual?: tf.Tensor;
  /** Apply the exact GELU after the bias (never together with a residual). */
  gelu?: boolean;
  /** false: the input needs no gradient (e.g. image patches); its gradient is not computed. */
  inputGrad?: boolean;
}

/** residual + act(x·wᵀ + bias) with w [out, in] (nn.Linear), on any leading shape (the kernels take it as rows). */
export function fusedLinear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | undefined, opts: LinearOptions = {}): tf.Tensor {
  if (opts.gelu && opts.residual) throw new Error('fusedLinear: gelu and residual together are not supported');
  if (!fusedOpsActive()) {
    const y = linear(x, weight, bias);
    if (opts.gelu) return gelu(y);
    return opts.residual ? tf.add(opts.residual, y) : y;
  }
  const gelu_ = opts.gelu === true;
  const inputs: tf.Tensor[] = [x, weight];
  if (bias) inputs.push(bias);
  if (opts.residual) inputs.push(opts.residual);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [x2, w, ...rest] = args as tf.Tensor[];
    const kernelInputs: tf.NamedTensorMap = { x: x2, w };
    if (bias) kernelInputs.bias = rest.shift()!;
    if (opts.residual) kernelInputs.residual = rest.shift()!;
    const outs = run(DORA_LINEAR, kernelInputs, { gelu: gelu_ });
    save(gelu_ ? [x2, w, outs[0]] : [x2, w]);
    return {
      value: gelu_ ? outs[1] : outs[0],
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const gradInputs: tf.NamedTensorMap = { dy, x: saved[0], w: saved[1] };
        if (gelu_) gradInputs.u = saved[2];
        const [dx, dw, db] = run(DORA_LINEAR_GRAD, gradInputs, { gelu: gelu_, bias: bias !== undefined });
        const grads = [opts.inputGrad === false ? tf.scalar(0) : dx, dw];
        if (opts.inputGrad === false) dx.dispose();
        if (bias) grads.push(db);
        if (opts.residual) grads.push(dy.clone());
        return grads;
      },
    };
  });
  return op(...inputs) as tf.Tensor;
}

/** nn.LayerNorm over the last axis. */
export function fusedLayerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  if (!fusedOpsActive()) return layerNorm(x, weight, bias, eps);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x2, w, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, mean, rstd] = run(DORA_LAYER_NORM, { x: x2, w, b }, { eps });
    save([x2, w, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [sx, sw, sm, sr]: tf.Tensor[]) => run(DORA_LAYER_NORM_GRAD, { dy, x: sx, w: sw, mean: sm, rstd: sr }),
    };
  });
  return op(x, weight, bias) as tf.Tensor;
}

/** The composite attention (also the oracle): qkv [B, T, 3D] → heads-merged softmax(scale·QKᵀ)·V [B, T, D]. */
export function splitHeads(qkv: tf.Tensor3D, heads: number): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  const [b, t, d3] = qkv.shape;
  const d = d3 / 3;
  // Split first, then a rank-4 transpose per tensor: [B, T, D] → [B, heads, T, head_dim].
  return tf.split(qkv, 3, 2).map((part) => part.reshape([b, t, heads, d / heads]).transpose([0, 2, 1, 3]) as tf.Tensor4D) as [
    tf.Tensor4D,
    tf.Tensor4D,
    tf.Tensor4D,
  ];
}

export function attentionProbs(q: tf.Tensor4D, k: tf.Tensor4D): tf.Tensor4D {
  return tf.softmax(tf.mul(tf.matMul(q, k, false, true), q.shape[3] ** -0.5)) as tf.Tensor4D;
}

function compositeAttention(qkv: tf.Tensor3D, heads: number): tf.Tensor3D {
  const [b, t, d3] = qkv.shape;
  const [q, k, v] = splitHeads(qkv, heads);
  return tf
    .matMul(attentionProbs(q, k), v)
    .transpose([0, 2, 1, 3])
    .reshape([b, t, d3 / 3]);
}

/** Multi-head self-attention on packed qkv [B, T, 3D] (timm layout) → [B, T, D]; probabilities never stored. */
export function fusedAttention(qkv: tf.Tensor3D, heads: number): tf.Tensor3D {
  if (!fusedOpsActive()) return compositeAttention(qkv, heads);
  const scale = (qkv.shape[2] / 3 / heads) ** -0.5;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([x]);
    return {
      value: run(DORA_ATTENTION, { qkv: x }, { heads, scale })[0],
      gradFunc: (dy: tf.Tensor, [sx]: tf.Tensor[]) => run(DORA_ATTENTION_GRAD, { qkv: sx, dout: dy }, { heads, scale })[0],
    };
  });
  return op(qkv) as tf.Tensor3D;
}

/**
 * The DINO head's weight-normed last layer, y = x·Wᵀ with W = g·v/‖v‖ (rows), without building W: y = s ⊙ (x·vᵀ)
 * with s = g/‖v‖. The backward keeps x, v, g, z = x·vᵀ and the row norms, so neither W [out, in] nor its gradient
 * chain (four more [out, in] tensors on TF.js' tape: 65536 × 256 floats each in the paper config) is ever stored.
 */
export function fusedWeightNormLinear(x: tf.Tensor2D, g: tf.Tensor, v: tf.Tensor): tf.Tensor2D {
  if (!fusedOpsActive()) return fusedLinear(x, tf.mul(g, tf.div(v, rowNorm(v))), undefined) as tf.Tensor2D;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, gg, vv, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const n = rowNorm(vv).reshape([-1]); // [out]
    const s = tf.div(gg.reshape([-1]), n);
    const [z] = run(DORA_LINEAR, { x: xx, w: vv }, { gelu: false });
    save([xx, vv, z, s, n]);
    return {
      value: tf.mul(z, s),
      gradFunc: (dy: tf.Tensor, [sx, sv, sz, ss, sn]: tf.Tensor[]) =>
        tf.tidy(() => {
          const [dx, dvz] = run(DORA_LINEAR_GRAD, { dy: tf.mul(dy, ss), x: sx, w: sv }, { gelu: false, bias: false });
          const ds = tf.sum(tf.mul(dy, sz), 0); // ∂L/∂s, [out]
          const dg = tf.div(ds, sn).reshape(g.shape);
          // s = g/n: ∂L/∂n = −ds·s/n, and ∂n/∂v = v/n, so dv gains −(ds·s/n²)·v.
          const coef = tf.neg(tf.div(tf.mul(ds, ss), tf.square(sn))).reshape([-1, 1]);
          return [dx, dg, tf.add(dvz, tf.mul(coef, sv))];
        }),
    };
  });
  return op(x, g, v) as tf.Tensor2D;
}
