// SIMD math shared by the kernels: multiply-add (fused when relaxed SIMD is on), exp and erf on f32x4.

/** a·b + c: one fused multiply-add with relaxed SIMD (the relaxed build), else a multiply then an add. */
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// exp: x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split of ln2), e^r by the classic degree-5 minimax polynomial
// for single precision (Cephes expf coefficients), 2^n assembled in the exponent bits. Max relative error ≈ 2 ulp.
const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.1219444e-4;
const EXP_MAX: f32 = 88.3762626647949;
const EXP_MIN: f32 = -87.3365447504;

export function expv(x0: v128): v128 {
  const x = f32x4.max(f32x4.min(x0, f32x4.splat(EXP_MAX)), f32x4.splat(EXP_MIN));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.98756915e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  const r2 = f32x4.mul(r, r);
  const y = f32x4.add(madd(p, r2, r), f32x4.splat(1));
  // n ∈ [−126, 127] after the clamp, so (n + 127) << 23 is a normal power of two.
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

export function expScalar(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}

// erf: Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7 (the same approximation as TF.js' Erf kernels).
const ERF_P: f32 = 0.3275911;
const ERF_A1: f32 = 0.254829592;
const ERF_A2: f32 = -0.284496736;
const ERF_A3: f32 = 1.421413741;
const ERF_A4: f32 = -1.453152027;
const ERF_A5: f32 = 1.061405429;

export function erfv(x: v128): v128 {
  const ax = f32x4.abs(x);
  const t = f32x4.div(f32x4.splat(1), madd(ax, f32x4.splat(ERF_P), f32x4.splat(1)));
  let p = f32x4.splat(ERF_A5);
  p = madd(p, t, f32x4.splat(ERF_A4));
  p = madd(p, t, f32x4.splat(ERF_A3));
  p = madd(p, t, f32x4.splat(ERF_A2));
  p = madd(p, t, f32x4.splat(ERF_A1));
  p = f32x4.mul(p, t);
  const e = expv(f32x4.neg(f32x4.mul(ax, ax)));
  const y = f32x4.sub(f32x4.splat(1), f32x4.mul(p, e));
  // copy the sign of x onto y
  return v128.or(v128.and(y, i32x4.splat(0x7fffffff)), v128.and(x, i32x4.splat(i32.MIN_VALUE)));
}

/** Horizontal sum of the 4 lanes. */
export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}
