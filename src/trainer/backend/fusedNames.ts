// Names and contracts of the fused kernels this project registers (wasm: kernels/wasm SIMD; webgpu: WGSL). A backend
// without them (cpu, tfjs-node) runs the same math as separate TF.js ops (model/fused.ts), which is also the test oracle.
// Every kernel takes any leading shape as rows (no Reshape launches around them).

/**
 * y = x·wᵀ (+ bias) (+ residual); with `gelu`, outputs [u, gelu(u)] (u is kept for the backward pass).
 * inputs: x [rows, in], w [out, in], bias? [out], residual? [rows, out]. attrs: { gelu: boolean }.
 */
export const DORA_LINEAR = 'DoraLinear';
/** inputs: dy [rows, out], x, w, u? (the pre-GELU value); attrs { gelu, bias } → [dx, dw, db?]. */
export const DORA_LINEAR_GRAD = 'DoraLinearGrad';
/** inputs: x → [gelu(x)] (exact erf form; recomputes a saved pre-activation in a backward pass). */
export const DORA_GELU = 'DoraGelu';
/** inputs: x [rows, n], w [n], b [n]; attrs { eps } → [y, mean [rows], rstd [rows]]. */
export const DORA_LAYER_NORM = 'DoraLayerNorm';
/** inputs: dy, x, w, mean, rstd → [dx, dw, db]. */
export const DORA_LAYER_NORM_GRAD = 'DoraLayerNormGrad';
/**
 * inputs: qkv [B, T, 3D] (q | k | v, heads contiguous); attrs { heads, scale, segments? } → [out [B, T, D]] (heads
 * merged). With `segments` = [b0, t0, b1, t1, …], qkv is [Σ b·t, 3D]: groups of rows with their own token counts
 * (the student's masked views and local crops go through the blocks as one set of rows).
 */
export const DORA_ATTENTION = 'DoraAttention';
/** inputs: qkv, dout [B, T, D]; attrs { heads, scale, segments? } → [dqkv [B, T, 3D]] (probabilities recomputed). */
export const DORA_ATTENTION_GRAD = 'DoraAttentionGrad';
/** inputs: t0 … t{n−1} (any shapes) → [sums [n]]: Σx² of each tensor. */
export const DORA_SUM_SQUARES = 'DoraSumSquares';
/**
 * In place, for tensor i: p_i, g_i, m_i, v_i and optionally t_i (teacher). attrs: { count, teacher: boolean[],
 * gradScale[], decay[], stepSize[], bc2Sqrt[], beta1, beta2, eps, ema } → [] (AdamW then EMA, torch 1.13 order).
 */
export const DORA_ADAMW_EMA = 'DoraAdamWEma';
/** In place t_i ← ema·t_i + (1 − ema)·s_i; inputs t0, s0, …; attrs { count, ema } → []. */
export const DORA_EMA = 'DoraEma';

/** In place s_i ← s_i + g_i (gradient accumulation over micro-batches); inputs s0, g0, …; attrs { count } → []. */
export const DORA_ACCUMULATE = 'DoraAccumulate';

export const FUSED_KERNEL_NAMES = [
  DORA_ACCUMULATE,
  DORA_LINEAR,
  DORA_GELU,
  DORA_LINEAR_GRAD,
  DORA_LAYER_NORM,
  DORA_LAYER_NORM_GRAD,
  DORA_ATTENTION,
  DORA_ATTENTION_GRAD,
  DORA_SUM_SQUARES,
  DORA_ADAMW_EMA,
  DORA_EMA,
] as const;

/** Kernels that move no data on wasm and webgpu (a new shape or a shared buffer): not counted as launches. */
export const VIEW_KERNELS = new Set(['Reshape', 'Identity', 'ExpandDims', 'Squeeze']);

/** [batch, tokens] groups of rows in order: attrs.segments, or the [B, T] of a rank-3 input. */
export function attentionSegments(qkv: { shape: number[] }, attrs: unknown): [number, number][] {
  const flat = (attrs as { segments?: number[] }).segments;
  if (flat === undefined || flat.length === 0) return [[qkv.shape[0], qkv.shape[1]]];
  const out: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}
