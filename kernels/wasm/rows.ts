// Row-wise and element-wise kernels: LayerNorm forward/backward, GELU forward/backward, bias/residual epilogues,
// column sums and the row softmax used by attention. Rows are contiguous; n need not be a multiple of 4.
import { erfv, expv, hmax, hsum, madd } from './math';

const SQRT1_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;

/** y = (x − mean)·rstd·w + b per row of n; also writes each row's mean and rstd (for the backward pass). */
export function layerNormForward(rows: i32, n: i32, x: usize, w: usize, b: usize, y: usize, mean: usize, rstd: usize, eps: f32): void {
  const n4 = n & ~3;
  const inv = <f32>1 / <f32>n;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>(r * n)) << 2);
    const yr = y + ((<usize>(r * n)) << 2);
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j < n4; j += 4) acc = f32x4.add(acc, v128.load(xr + ((<usize>j) << 2)));
    let s = hsum(acc);
    for (; j < n; j++) s += load<f32>(xr + ((<usize>j) << 2));
    const mu = s * inv;
    const muv = f32x4.splat(mu);
    acc = f32x4.splat(0);
    for (j = 0; j < n4; j += 4) {
      const d = f32x4.sub(v128.load(xr + ((<usize>j) << 2)), muv);
      acc = madd(d, d, acc);
    }
    let ss = hsum(acc);
    for (; j < n; j++) {
      const d = load<f32>(xr + ((<usize>j) << 2)) - mu;
      ss += d * d;
    }
    const rs = <f32>1 / Mathf.sqrt(ss * inv + eps);
    store<f32>(mean + ((<usize>r) << 2), mu);
    store<f32>(rstd + ((<usize>r) << 2), rs);
    const rsv = f32x4.splat(rs);
    for (j = 0; j < n4; j += 4) {
      const o = (<usize>j) << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + o), muv), rsv);
      v128.store(yr + o, madd(xh, v128.load(w + o), v128.load(b + o)));
    }
    for (; j < n; j++) {
      const o = (<usize>j) << 2;
      store<f32>(yr + o, (load<f32>(xr + o) - mu) * rs * load<f32>(w + o) + load<f32>(b + o));
    }
  }
}

/**
 * LayerNorm backward: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w, x̂ = (x − mean)·rstd;
 * dw = Σ_rows dy·x̂, db = Σ_rows dy (overwritten).
 */
export function layerNormBackward(
  rows: i32,
  n: i32,
  dy: usize,
  x: usize,
  w: usize,
  mean: usize,
  rstd: usize,
  dx: usize,
  dw: usize,
  db: usize,
): void {
  const n4 = n & ~3;
  const inv = <f32>1 / <f32>n;
  memory.fill(dw, 0, (<usize>n) << 2);
  memory.fill(db, 0, (<usize>n) << 2);
  for (let r = 0; r < rows; r++) {
    const off = (<usize>(r * n)) << 2;
    const xr = x + off;
    const dyr = dy + off;
    const dxr = dx + off;
    const mu = load<f32>(mean + ((<usize>r) << 2));
    const rs = load<f32>(rstd + ((<usize>r) << 2));
    const muv = f32x4.splat(mu);
    const rsv = f32x4.splat(rs);
    let sg = f32x4.splat(0);
    let sgx = f32x4.splat(0);
    let j = 0;
    for (; j < n4; j += 4) {
      const o = (<usize>j) << 2;
      const d = v128.load(dyr + o);
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + o), muv), rsv);
      const g = f32x4.mul(d, v128.load(w + o));
      sg = f32x4.add(sg, g);
      sgx = madd(g, xh, sgx);
      v128.store(dw + o, madd(d, xh, v128.load(dw + o)));
      v128.store(db + o, f32x4.add(v128.load(db + o), d));
    }
    let a = hsum(sg);
    let c = hsum(sgx);
    for (; j < n; j++) {
      const o = (<usize>j) << 2;
      const d = load<f32>(dyr + o);
      const xh = (load<f32>(xr + o) - mu) * rs;
      const g = d * load<f32>(w + o);
      a += g;
      c += g * xh;
      store<f32>(dw + o, load<f32>(dw + o) + d * xh);
      store<f32>(db + o, load<f32>(db + o) + d);
    }
    a *= inv;
    c *= inv;
    const av = f32x4.splat(a);
    const cv = f32x4.splat(c);
    for (j = 0; j < n4; j += 4) {
      const o = (<usize>j) << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + o), muv), rsv);
      const g = f32x4.mul(v128.load(dyr + o), v128.load(w + o));
      v128.store(dxr + o, f32x4.mul(rsv, f32x4.sub(f32x4.sub(g, av), f32x4.mul(xh, cv))));
    }
    for (; j < n; j++) {
      const o = (<usize>j) << 2;
      const xh = (load<f32>(xr + o) - mu) * rs;
      const g = load<f32>(dyr + o) * load<f32>(w + o);
      store<f32>(dxr + o, rs * (g - a - xh * c));
    }
  }
}

function geluv(u: v128): v128 {
  const half = f32x4.mul(u, f32x4.splat(0.5));
  return madd(half, erfv(f32x4.mul(u, f32x4.splat(SQRT1_2))), half);
}

function geluGradv(u: v128): v128 {
  const cdf = f32x4.mul(f32x4.add(erfv(f32x4.mul(u, f32x4.splat(SQRT1_2))), f32x4.splat(1)), f32x4.splat(0.5));
  const pdf = f32x4.mul(expv(f32x4.mul(f32x4.mul(u, u), f32x4.splat(-0.5))), f32x4.splat(INV_SQRT_2PI));
  return madd(u, pdf, cdf);
}

/** g = gelu(u) = u·Φ(u) (exact erf form, nn.GELU()). */
export function geluForward(count: i32, u: usize, g: usize): void {
  const c4 = count & ~3;
  let i = 0;
  for (; i < c4; i += 4) v128.store(g + ((<usize>i) << 2), geluv(v128.load(u + ((<usize>i) << 2))));
  for (; i < count; i++) store<f32>(g + ((<usize>i) << 2), f32x4.extract_lane(geluv(f32x4.splat(load<f32>(u + ((<usize>i) << 2)))), 0));
}

/** du = dg·gelu′(u), gelu′(u) = Φ(u) + u·φ(u). */
export function geluBackward(count: i32, u: usize, dg: usize, du: usize): void {
  const c4 = count & ~3;
  let i = 0;
  for (; i < c4; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(du + o, f32x4.mul(v128.load(dg + o), geluGradv(v128.load(u + o))));
  }
  for (; i < count; i++) {
    const o = (<usize>i) << 2;
    store<f32>(du + o, load<f32>(dg + o) * f32x4.extract_lane(geluGradv(f32x4.splat(load<f32>(u + o))), 0));
  }
}

/** c[rows×n] = r (if r ≠ 0, same layout) + bias (if bias ≠ 0, broadcast over rows); 0 when neither. */
export function initRows(rows: i32, n: i32, c: usize, bias: usize, r: usize): void {
  const n4 = n & ~3;
  for (let i = 0; i < rows; i++) {
    const off = (<usize>(i * n)) << 2;
    const cr = c + off;
    if (r == 0 && bias == 0) {
      memory.fill(cr, 0, (<usize>n) << 2);
      continue;
    }
    if (r == 0) {
      memory.copy(cr, bias, (<usize>n) << 2);
      continue;
    }
    if (bias == 0) {
      memory.copy(cr, r + off, (<usize>n) << 2);
      continue;
    }
    let j = 0;
    for (; j < n4; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(cr + o, f32x4.add(v128.load(r + off + o), v128.load(bias + o)));
    }
    for (; j < n; j++) {
      const o = (<usize>j) << 2;
      store<f32>(cr + o, load<f32>(r + off + o) + load<f32>(bias + o));
    }
  }
}

/** out[n] = Σ over rows of x[rows×n] (overwritten). */
export function columnSums(rows: i32, n: i32, x: usize, out: usize): void {
  const n4 = n & ~3;
  memory.fill(out, 0, (<usize>n) << 2);
  for (let i = 0; i < rows; i++) {
    const xr = x + ((<usize>(i * n)) << 2);
    let j = 0;
    for (; j < n4; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(xr + o)));
    }
    for (; j < n; j++) {
      const o = (<usize>j) << 2;
      store<f32>(out + o, load<f32>(out + o) + load<f32>(xr + o));
    }
  }
}

/** In place, each of `rows` rows of length n (row stride ld): p = softmax(scale·s). */
export function softmaxRows(rows: i32, n: i32, s: usize, ld: i32, scale: f32): void {
  const n4 = n & ~3;
  const sv = f32x4.splat(scale);
  for (let i = 0; i < rows; i++) {
    const sr = s + ((<usize>(i * ld)) << 2);
    let mv = f32x4.splat(-Infinity);
    let j = 0;
    for (; j < n4; j += 4) mv = f32x4.max(mv, v128.load(sr + ((<usize>j) << 2)));
    let mx = hmax(mv);
    for (; j < n; j++) mx = max(mx, load<f32>(sr + ((<usize>j) << 2)));
    const shift = f32x4.splat(mx * scale);
    let acc = f32x4.splat(0);
    for (j = 0; j < n4; j += 4) {
      const o = (<usize>j) << 2;
      const e = expv(f32x4.sub(f32x4.mul(v128.load(sr + o), sv), shift));
      v128.store(sr + o, e);
      acc = f32x4.add(acc, e);
    }
    let sum = hsum(acc);
    for (; j < n; j++) {
      const o = (<usize>j) << 2;
      const e = f32x4.extract_lane(expv(f32x4.splat(load<f32>(sr + o) * scale - mx * scale)), 0);
      store<f32>(sr + o, e);
      sum += e;
    }
    const invv = f32x4.splat(<f32>1 / sum);
    for (j = 0; j < n4; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(sr + o, f32x4.mul(v128.load(sr + o), invv));
    }
    const inv = <f32>1 / sum;
    for (; j < n; j++) {
      const o = (<usize>j) << 2;
      store<f32>(sr + o, load<f32>(sr + o) * inv);
    }
  }
}

/** In place, per row: ds = p ⊙ (dp − Σ_j p·dp)·scale (softmax backward, with the score scale folded in). */
export function softmaxBackwardRows(rows: i32, n: i32, p: usize, dp: usize, ld: i32, scale: f32): void {
  const n4 = n & ~3;
  const sv = f32x4.splat(scale);
  for (let i = 0; i < rows; i++) {
    const pr = p + ((<usize>(i * ld)) << 2);
    const dr = dp + ((<usize>(i * ld)) << 2);
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j < n4; j += 4) acc = madd(v128.load(pr + ((<usize>j) << 2)), v128.load(dr + ((<usize>j) << 2)), acc);
    let dot = hsum(acc);
    for (; j < n; j++) dot += load<f32>(pr + ((<usize>j) << 2)) * load<f32>(dr + ((<usize>j) << 2));
    const dv = f32x4.splat(dot);
    for (j = 0; j < n4; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(dr + o, f32x4.mul(f32x4.mul(v128.load(pr + o), f32x4.sub(v128.load(dr + o), dv)), sv));
    }
    for (; j < n; j++) {
      const o = (<usize>j) << 2;
      store<f32>(dr + o, load<f32>(pr + o) * (load<f32>(dr + o) - dot) * scale);
    }
  }
}
