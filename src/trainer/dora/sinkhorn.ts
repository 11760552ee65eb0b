/**
 * Sinkhorn-Knopp (DoRA's sinkhorn_knopp.py, used by utils.MOT with 30 iterations and ε = 0.05).
 * Input: logits S = Z̃·Pᵀ, [B, N, K] (N patches, K prototypes). Output: the assignment M* [B, N, K] whose rows
 * (patches) sum to 1 and whose columns (prototypes) sum to N/K.
 *
 * The matrices are tiny (N ≤ a few hundred, K = 3), so this runs in plain JavaScript: identical on every backend.
 */
import type { SinkhornConfig } from '../../core/configDefaults';

/** The config's dora.sinkhorn section (one definition, src/core/configDefaults.ts). */
export type SinkhornOptions = SinkhornConfig;

export const OFFICIAL_SINKHORN: SinkhornOptions = { iterations: 30, epsilon: 0.05, variant: 'official' };

const f32 = Math.fround;

/**
 * The official algorithm in float32 arithmetic (the official run is fp16-autocast, where this runs in float32),
 * including its failure mode: when every prototype logit of some patch lies ≳ 104·ε below the sample's maximum,
 * exp() underflows to 0 for the whole patch column, the column normalisation computes 0/0 and the whole sample
 * becomes NaN (downstream, MOT then zeroes every mask of the batch). Reproduced on purpose; see the log-domain variant.
 */
export function sinkhornKnoppOfficial(
  logits: ArrayLike<number>,
  batch: number,
  n: number,
  k: number,
  iterations = 30,
  epsilon = 0.05,
): Float32Array {
  const out = new Float32Array(batch * n * k);
  const q = new Float32Array(k * n); // Q for one sample, [K, N] as the official code transposes it
  for (let s = 0; s < batch; s++) {
    const base = s * n * k;
    let max = -Infinity;
    for (let i = 0; i < n * k; i++) max = Math.max(max, f32(logits[base + i] / epsilon));
    for (let p = 0; p < n; p++) {
      for (let c = 0; c < k; c++) q[c * n + p] = f32(Math.exp(f32(f32(logits[base + p * k + c] / epsilon) - max)));
    }
    shootInfs(q);
    let total = 0;
    for (let i = 0; i < k * n; i++) total += q[i];
    total = f32(total);
    for (let i = 0; i < k * n; i++) q[i] = f32(q[i] / total);
    for (let it = 0; it < iterations; it++) {
      for (let c = 0; c < k; c++) {
        // each prototype's total mass → 1/K
        let rowSum = 0;
        for (let p = 0; p < n; p++) rowSum += q[c * n + p];
        rowSum = f32(rowSum);
        for (let p = 0; p < n; p++) q[c * n + p] = f32(f32(q[c * n + p] / rowSum) / k);
      }
      for (let p = 0; p < n; p++) {
        // each patch's total mass → 1/N
        let colSum = 0;
        for (let c = 0; c < k; c++) colSum += q[c * n + p];
        colSum = f32(colSum);
        for (let c = 0; c < k; c++) q[c * n + p] = f32(f32(q[c * n + p] / colSum) / n);
      }
    }
    for (let p = 0; p < n; p++) for (let c = 0; c < k; c++) out[base + p * k + c] = f32(q[c * n + p] * n);
  }
  return out;
}

/** shoot_infs: ±inf entries become the sample's largest finite value (only reachable with infinite logits). */
function shootInfs(q: Float32Array): void {
  let finiteMax = -Infinity;
  let anyInf = false;
  for (const v of q) {
    if (Number.isFinite(v)) finiteMax = Math.max(finiteMax, v);
    else if (!Number.isNaN(v)) anyInf = true;
  }
  if (!anyInf) return;
  for (let i = 0; i < q.length; i++) if (!Number.isFinite(q[i]) && !Number.isNaN(q[i])) q[i] = finiteMax;
}

/**
 * The same iteration in the log domain (float64): row and column normalisations become log-sum-exp subtractions,
 * so an underflowing patch cannot produce 0/0. Equal to the official result wherever that one is finite.
 */
export function sinkhornKnoppLogDomain(
  logits: ArrayLike<number>,
  batch: number,
  n: number,
  k: number,
  iterations = 30,
  epsilon = 0.05,
): Float32Array {
  const out = new Float32Array(batch * n * k);
  const logQ = new Float64Array(k * n);
  const logK = Math.log(k);
  const logN = Math.log(n);
  for (let s = 0; s < batch; s++) {
    const base = s * n * k;
    for (let p = 0; p < n; p++) for (let c = 0; c < k; c++) logQ[c * n + p] = logits[base + p * k + c] / epsilon;
    // The official global normalisation Q /= ΣQ is absorbed by the first row normalisation.
    for (let it = 0; it < iterations; it++) {
      for (let c = 0; c < k; c++) {
        const lse = logSumExp(logQ, c * n, 1, n);
        for (let p = 0; p < n; p++) logQ[c * n + p] -= lse + logK;
      }
      for (let p = 0; p < n; p++) {
        const lse = logSumExp(logQ, p, n, k);
        for (let c = 0; c < k; c++) logQ[c * n + p] -= lse + logN;
      }
    }
    for (let p = 0; p < n; p++) for (let c = 0; c < k; c++) out[base + p * k + c] = Math.exp(logQ[c * n + p] + logN);
  }
  return out;
}

function logSumExp(values: Float64Array, start: number, step: number, count: number): number {
  let max = -Infinity;
  for (let i = 0; i < count; i++) max = Math.max(max, values[start + i * step]);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += Math.exp(values[start + i * step] - max);
  return max + Math.log(sum);
}

export function sinkhornKnopp(
  logits: ArrayLike<number>,
  batch: number,
  n: number,
  k: number,
  options: SinkhornOptions = OFFICIAL_SINKHORN,
): Float32Array {
  return options.variant === 'log-domain'
    ? sinkhornKnoppLogDomain(logits, batch, n, k, options.iterations, options.epsilon)
    : sinkhornKnoppOfficial(logits, batch, n, k, options.iterations, options.epsilon);
}
