// Multi-head self-attention on the packed qkv activations [B, T, 3·D] (q | k | v, heads contiguous inside each):
// softmax(scale·Q·Kᵀ)·V per (batch, head) without materialising transposes or the [B, H, T, T] probabilities
// (the backward pass recomputes them). Output rows are written straight into [B, T, D] (heads merged).
import { gemm1, GEMM_SCRATCH_FLOATS } from './gemm';
import { softmaxBackwardRows, softmaxRows } from './rows';

/** Scratch floats attentionForward/attentionBackward need for sequence length t. */
export function attentionScratchFloats(t: i32): i32 {
  return GEMM_SCRATCH_FLOATS + 2 * ((t * t + 3) & ~3);
}

/** out[B,T,D] = heads-merged softmax(scale·QKᵀ)·V; probs[B,H,T,T] also written when probs ≠ 0. */
export function attentionForward(
  batch: i32,
  t: i32,
  heads: i32,
  dh: i32,
  qkv: usize,
  out: usize,
  probs: usize,
  scale: f32,
  scratch: usize,
): void {
  const d = heads * dh;
  const d3 = 3 * d;
  const s = scratch + ((<usize>GEMM_SCRATCH_FLOATS) << 2);
  const tt = (<usize>(t * t)) << 2;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const q = qkv + ((<usize>(b * t * d3 + h * dh)) << 2);
      const k = q + ((<usize>d) << 2);
      const v = k + ((<usize>d) << 2);
      // S = Q·Kᵀ: B operand element (p, j) = K[j][p] → row stride 1, column stride 3D.
      gemm1(t, t, dh, q, d3, 1, k, 1, d3, s, t, false, scratch);
      softmaxRows(t, t, s, t, scale);
      if (probs != 0) memory.copy(probs + <usize>(b * heads + h) * tt, s, tt);
      const o = out + ((<usize>(b * t * d + h * dh)) << 2);
      gemm1(t, dh, t, s, t, 1, v, d3, 1, o, d, false, scratch);
    }
  }
}

/**
 * dqkv[B,T,3D] from qkv and dout[B,T,D]: with P recomputed, dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(P⊙dP))·scale,
 * dQ = dS·K, dK = dSᵀ·Q.
 */
export function attentionBackward(
  batch: i32,
  t: i32,
  heads: i32,
  dh: i32,
  qkv: usize,
  dout: usize,
  dqkv: usize,
  scale: f32,
  scratch: usize,
): void {
  const d = heads * dh;
  const d3 = 3 * d;
  const p = scratch + ((<usize>GEMM_SCRATCH_FLOATS) << 2);
  const ds = p + ((<usize>((t * t + 3) & ~3)) << 2);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const off = (<usize>(b * t * d3 + h * dh)) << 2;
      const q = qkv + off;
      const k = q + ((<usize>d) << 2);
      const v = k + ((<usize>d) << 2);
      const dq = dqkv + off;
      const dk = dq + ((<usize>d) << 2);
      const dv = dk + ((<usize>d) << 2);
      const dO = dout + ((<usize>(b * t * d + h * dh)) << 2);
      gemm1(t, t, dh, q, d3, 1, k, 1, d3, p, t, false, scratch);
      softmaxRows(t, t, p, t, scale);
      // dV[t×dh] = Pᵀ·dO: A element (i, j) = P[j][i].
      gemm1(t, dh, t, p, 1, t, dO, d, 1, dv, d3, false, scratch);
      // dP[t×t] = dO·Vᵀ.
      gemm1(t, t, dh, dO, d, 1, v, 1, d3, ds, t, false, scratch);
      softmaxBackwardRows(t, t, p, ds, t, scale);
      gemm1(t, dh, t, ds, t, 1, k, d3, 1, dq, d3, false, scratch);
      gemm1(t, dh, t, ds, 1, t, q, d3, 1, dk, d3, false, scratch);
    }
  }
}
