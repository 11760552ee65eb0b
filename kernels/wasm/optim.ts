// Optimiser kernels over flat float buffers: per-tensor sums of squares (gradient clipping) and one fused
// AdamW (torch 1.13 _single_tensor_adamw order) + EMA-teacher update, in place.
import { hsum, madd } from './math';

/** Σ x² over n floats, accumulated per 4096-float chunk and summed in f64. */
export function sumSquares(n: i32, x: usize): f64 {
  let total: f64 = 0;
  for (let c0 = 0; c0 < n; c0 += 4096) {
    const c1 = min(n, c0 + 4096);
    const c4 = c0 + ((c1 - c0) & ~3);
    let acc = f32x4.splat(0);
    let i = c0;
    for (; i < c4; i += 4) {
      const v = v128.load(x + ((<usize>i) << 2));
      acc = madd(v, v, acc);
    }
    let s = hsum(acc);
    for (; i < c1; i++) {
      const v = load<f32>(x + ((<usize>i) << 2));
      s += v * v;
    }
    total += <f64>s;
  }
  return total;
}

/**
 * The (1 − β) factors come from the caller, computed in double and rounded once, as torch does with Python floats.
 * In place over n floats: g′ = g·gradScale; p ← p·decay; m ← β1·m + (1−β1)·g′; v ← β2·v + (1−β2)·g′²;
 * p ← p − stepSize·m/(√v/bc2Sqrt + eps); then, when teacher ≠ 0, t ← ema·t + (1−ema)·p.
 */
export function adamwEma(
  n: i32,
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  teacher: usize,
  gradScale: f32,
  decay: f32,
  beta1: f32,
  oneMinusBeta1: f32,
  beta2: f32,
  oneMinusBeta2: f32,
  stepSize: f32,
  bc2Sqrt: f32,
  eps: f32,
  ema: f32,
  oneMinusEma: f32,
): void {
  const gs = f32x4.splat(gradScale);
  const dc = f32x4.splat(decay);
  const b1 = f32x4.splat(beta1);
  const c1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2);
  const c2 = f32x4.splat(oneMinusBeta2);
  const ss = f32x4.splat(stepSize);
  const bc = f32x4.splat(bc2Sqrt);
  const ep = f32x4.splat(eps);
  const em = f32x4.splat(ema);
  const ec = f32x4.splat(oneMinusEma);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const gi = f32x4.mul(v128.load(g + o), gs);
    const pi = f32x4.mul(v128.load(p + o), dc);
    const mi = f32x4.add(f32x4.mul(v128.load(m + o), b1), f32x4.mul(gi, c1));
    const vi = f32x4.add(f32x4.mul(v128.load(v + o), b2), f32x4.mul(f32x4.mul(gi, gi), c2));
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), bc), ep);
    const pn = f32x4.sub(pi, f32x4.mul(f32x4.div(mi, denom), ss));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    v128.store(p + o, pn);
    if (teacher != 0) v128.store(teacher + o, f32x4.add(f32x4.mul(v128.load(teacher + o), em), f32x4.mul(pn, ec)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const gi = load<f32>(g + o) * gradScale;
    const pi = load<f32>(p + o) * decay;
    const mi = load<f32>(m + o) * beta1 + gi * oneMinusBeta1;
    const vi = load<f32>(v + o) * beta2 + gi * gi * oneMinusBeta2;
    const pn = pi - (mi / (Mathf.sqrt(vi) / bc2Sqrt + eps)) * stepSize;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(p + o, pn);
    if (teacher != 0) store<f32>(teacher + o, load<f32>(teacher + o) * ema + pn * oneMinusEma);
  }
}

/** In place: t ← ema·t + (1−ema)·s (a teacher tensor the optimiser does not update, e.g. a frozen weight_g). */
export function emaOnly(n: i32, teacher: usize, student: usize, ema: f32, oneMinusEma: f32): void {
  const em = f32x4.splat(ema);
  const ec = f32x4.splat(oneMinusEma);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(teacher + o, f32x4.add(f32x4.mul(v128.load(teacher + o), em), f32x4.mul(v128.load(student + o), ec)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(teacher + o, load<f32>(teacher + o) * ema + load<f32>(student + o) * oneMinusEma);
  }
}

/** In place: s ← s + g over n floats (gradient accumulation). */
export function accumulate(n: i32, s: usize, g: usize): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(s + o, f32x4.add(v128.load(s + o), v128.load(g + o)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(s + o, load<f32>(s + o) + load<f32>(g + o));
  }
}
