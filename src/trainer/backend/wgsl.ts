// WGSL sources of the fused WebGPU kernels (webgpuFused.ts). Every kernel indexes its work item from a 2-D grid of
// workgroups (x ≤ 65535), so large tensors need no special casing. Same math as kernels/wasm (and the erf
// approximation TF.js uses, Abramowitz & Stegun 7.1.26).

const HEADER = /* wgsl */ `
fn flatGroup(wid: vec3<u32>, nw: vec3<u32>) -> u32 { return wid.y * nw.x + wid.x; }
`;

const ERF = /* wgsl */ `
fn erfApprox(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let p = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return sign(x) * (1.0 - p * exp(-ax * ax));
}
`;

/** Workgroup-wide sum over 64 invocations (call in uniform control flow). */
const REDUCE64 = /* wgsl */ `
var<workgroup> red: array<f32, 64>;
fn wgSum(li: u32, v: f32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (li < s) { red[li] = red[li] + red[li + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
`;

export const GELU_FORWARD = /* wgsl */ `${HEADER}${ERF}
struct P { count: u32 }
@group(0) @binding(0) var<storage, read> u: array<f32>;
@group(0) @binding(1) var<storage, read_write> g: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = flatGroup(wid, nw) * 256u + li;
  if (i >= p.count) { return; }
  let x = u[i];
  g[i] = 0.5 * x * (1.0 + erfApprox(x * 0.70710678));
}
`;

export const GELU_BACKWARD = /* wgsl */ `${HEADER}${ERF}
struct P { count: u32 }
@group(0) @binding(0) var<storage, read> u: array<f32>;
@group(0) @binding(1) var<storage, read> dg: array<f32>;
@group(0) @binding(2) var<storage, read_write> du: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = flatGroup(wid, nw) * 256u + li;
  if (i >= p.count) { return; }
  let x = u[i];
  let cdf = 0.5 * (1.0 + erfApprox(x * 0.70710678));
  let pdf = exp(-0.5 * x * x) * 0.39894228;
  du[i] = dg[i] * (cdf + x * pdf);
}
`;

export const LAYER_NORM_FORWARD = /* wgsl */ `${HEADER}${REDUCE64}
struct P { rows: u32, n: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> meanOut: array<f32>;
@group(0) @binding(5) var<storage, read_write> rstdOut: array<f32>;
@group(0) @binding(6) var<uniform> p: P;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let row = flatGroup(wid, nw);
  if (row >= p.rows) { return; }
  let base = row * p.n;
  var s = 0.0;
  for (var j = li; j < p.n; j = j + 64u) { s = s + x[base + j]; }
  let mean = wgSum(li, s) / f32(p.n);
  var v = 0.0;
  for (var j = li; j < p.n; j = j + 64u) { let d = x[base + j] - mean; v = v + d * d; }
  let rstd = inverseSqrt(wgSum(li, v) / f32(p.n) + p.eps);
  for (var j = li; j < p.n; j = j + 64u) { y[base + j] = (x[base + j] - mean) * rstd * w[j] + b[j]; }
  if (li == 0u) { meanOut[row] = mean; rstdOut[row] = rstd; }
}
`;

/** dx per row, and per-chunk partial Σdy·x̂ and Σdy (LN_CHUNK rows each) for dw and db; n ≤ 64·LN_COLS. */
export const LN_CHUNK = 32;
export const LN_COLS = 16;
export const LAYER_NORM_BACKWARD = /* wgsl */ `${HEADER}${REDUCE64}
struct P { rows: u32, n: u32, chunks: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> meanIn: array<f32>;
@group(0) @binding(4) var<storage, read> rstdIn: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> partial: array<f32>;
@group(0) @binding(7) var<uniform> p: P;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let chunk = flatGroup(wid, nw);
  if (chunk >= p.chunks) { return; }
  var accW: array<f32, ${LN_COLS}>;
  var accB: array<f32, ${LN_COLS}>;
  let r0 = chunk * ${LN_CHUNK}u;
  let r1 = min(p.rows, r0 + ${LN_CHUNK}u);
  let inv = 1.0 / f32(p.n);
  for (var r = r0; r < r1; r = r + 1u) {
    let base = r * p.n;
    let mean = meanIn[r];
    let rstd = rstdIn[r];
    var sg = 0.0;
    var sgx = 0.0;
    var c = 0u;
    for (var j = li; j < p.n; j = j + 64u) {
      let d = dy[base + j];
      let xh = (x[base + j] - mean) * rstd;
      let g = d * w[j];
      sg = sg + g;
      sgx = sgx + g * xh;
      accW[c] = accW[c] + d * xh;
      accB[c] = accB[c] + d;
      c = c + 1u;
    }
    let a = wgSum(li, sg) * inv;
    let cc = wgSum(li, sgx) * inv;
    for (var j = li; j < p.n; j = j + 64u) {
      let xh = (x[base + j] - mean) * rstd;
      dx[base + j] = rstd * (dy[base + j] * w[j] - a - xh * cc);
    }
  }
  var c = 0u;
  for (var j = li; j < p.n; j = j + 64u) {
    partial[chunk * 2u * p.n + j] = accW[c];
    partial[chunk * 2u * p.n + p.n + j] = accB[c];
    c = c + 1u;
  }
}
`;

/** dw[j] = Σ_chunks partial[c][0][j], db[j] = Σ_chunks partial[c][1][j]. */
export const LAYER_NORM_REDUCE = /* wgsl */ `
struct P { n: u32, chunks: u32 }
@group(0) @binding(0) var<storage, read> partial: array<f32>;
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= p.n) { return; }
  var sw = 0.0;
  var sb = 0.0;
  for (var c = 0u; c < p.chunks; c = c + 1u) {
    sw = sw + partial[c * 2u * p.n + j];
    sb = sb + partial[c * 2u * p.n + p.n + j];
  }
  dw[j] = sw;
  db[j] = sb;
}
`;
