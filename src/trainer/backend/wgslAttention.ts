// WGSL for fused multi-head attention on packed qkv rows [B·T, 3D] (from row `base`: one dispatch per segment) and for
// the optimiser (webgpuFused.ts).
// A workgroup takes one (batch, head) and a block of BQ queries: the block's queries and its scores live in workgroup
// memory (BQ is chosen so that they fit in 16 KB, WebGPU's default). The backward pass recomputes the probabilities;
// a first kernel writes P and dS = P ⊙ (dP − rowsum(P ⊙ dP))·scale per query row and dQ, a second one reduces over
// queries for dK = dSᵀ·Q and dV = Pᵀ·dO.

/** Queries per workgroup so that `arrays` float arrays of BQ·(T or DH) fit in ~16 KB. */
export function queryBlock(t: number, dh: number, arrays: 1 | 2): number {
  return Math.max(1, Math.min(16, Math.floor(4000 / (arrays * (t + dh)))));
}

const common = (t: number, dh: number, bq: number) => /* wgsl */ `
const T: u32 = ${t}u;
const DH: u32 = ${dh}u;
const BQ: u32 = ${bq}u;
struct P { bh: u32, heads: u32, d: u32, blocks: u32, scale: f32, base: u32 }
fn qkvAt(b: u32, t: u32, part: u32, h: u32, e: u32) -> u32 { return (p.base + b * T + t) * 3u * p.d + part * p.d + h * DH + e; }
fn rowAt(b: u32, t: u32) -> u32 { return (p.base + b * T + t) * p.d; }
`;

/** Shared prologue: locate (b, h, q0, nq), load the query block, scores → probabilities in sc. */
const scoresToProbs = /* wgsl */ `
  let g = wid.y * nw.x + wid.x;
  let bh = g / p.blocks;
  if (bh >= p.bh) { return; }
  let b = bh / p.heads;
  let h = bh % p.heads;
  let q0 = (g % p.blocks) * BQ;
  let nq = min(BQ, T - q0);
  for (var i = li; i < nq * DH; i = i + 64u) { qs[i] = qkv[qkvAt(b, q0 + i / DH, 0u, h, i % DH)]; }
  workgroupBarrier();
  for (var i = li; i < nq * T; i = i + 64u) {
    let q = i / T;
    let j = i % T;
    var acc = 0.0;
    for (var e = 0u; e < DH; e = e + 1u) { acc = acc + qs[q * DH + e] * qkv[qkvAt(b, j, 1u, h, e)]; }
    sc[i] = acc * p.scale;
  }
  workgroupBarrier();
  for (var q = li; q < nq; q = q + 64u) {
    var mx = -3.4e38;
    for (var j = 0u; j < T; j = j + 1u) { mx = max(mx, sc[q * T + j]); }
    var sum = 0.0;
    for (var j = 0u; j < T; j = j + 1u) { let e = exp(sc[q * T + j] - mx); sc[q * T + j] = e; sum = sum + e; }
    let inv = 1.0 / sum;
    for (var j = 0u; j < T; j = j + 1u) { sc[q * T + j] = sc[q * T + j] * inv; }
  }
  workgroupBarrier();
`;

export function attentionForwardWgsl(t: number, dh: number, bq: number): string {
  return /* wgsl */ `${common(t, dh, bq)}
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read_write> outp: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
var<workgroup> qs: array<f32, ${bq * dh}>;
var<workgroup> sc: array<f32, ${bq * t}>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32) {
${scoresToProbs}
  for (var i = li; i < nq * DH; i = i + 64u) {
    let q = i / DH;
    let e = i % DH;
    var acc = 0.0;
    for (var j = 0u; j < T; j = j + 1u) { acc = acc + sc[q * T + j] * qkv[qkvAt(b, j, 2u, h, e)]; }
    outp[rowAt(b, q0 + q) + h * DH + e] = acc;
  }
}
`;
}

/** Pass 1: P and dS rows to pds [2, BH, T, T] and dQ into dqkv. */
export function attentionBackwardRowsWgsl(t: number, dh: number, bq: number): string {
  return /* wgsl */ `${common(t, dh, bq)}
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> pds: array<f32>;
@group(0) @binding(3) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
var<workgroup> qs: array<f32, ${bq * dh}>;
var<workgroup> sc: array<f32, ${bq * t}>;
var<workgroup> ds: array<f32, ${bq * t}>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32) {
${scoresToProbs}
  for (var i = li; i < nq * DH; i = i + 64u) { qs[i] = dout[rowAt(b, q0 + i / DH) + h * DH + i % DH]; }
  workgroupBarrier();
  for (var i = li; i < nq * T; i = i + 64u) {
    let q = i / T;
    let j = i % T;
    var acc = 0.0;
    for (var e = 0u; e < DH; e = e + 1u) { acc = acc + qs[q * DH + e] * qkv[qkvAt(b, j, 2u, h, e)]; }
    ds[i] = acc;
  }
  workgroupBarrier();
  let plane = p.bh * T * T;
  for (var q = li; q < nq; q = q + 64u) {
    var dot = 0.0;
    for (var j = 0u; j < T; j = j + 1u) { dot = dot + sc[q * T + j] * ds[q * T + j]; }
    let row = (bh * T + q0 + q) * T;
    for (var j = 0u; j < T; j = j + 1u) {
      let v = sc[q * T + j] * (ds[q * T + j] - dot) * p.scale;
      ds[q * T + j] = v;
      pds[row + j] = sc[q * T + j];
      pds[plane + row + j] = v;
    }
  }
  workgroupBarrier();
  for (var i = li; i < nq * DH; i = i + 64u) {
    let q = i / DH;
    let e = i % DH;
    var acc = 0.0;
    for (var j = 0u; j < T; j = j + 1u) { acc = acc + ds[q * T + j] * qkv[qkvAt(b, j, 1u, h, e)]; }
    dqkv[qkvAt(b, q0 + q, 0u, h, e)] = acc;
  }
}
`;
}

/** Pass 2: one workgroup per (b, h, 4 keys): dK = dSᵀ·Q and dV = Pᵀ·dO into dqkv. */
export function attentionBackwardKeysWgsl(t: number, dh: number): string {
  return /* wgsl */ `${common(t, dh, 4)}
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> pds: array<f32>;
@group(0) @binding(3) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(4) var<uniform> p: P;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = wid.y * nw.x + wid.x;
  let bh = g / p.blocks;
  if (bh >= p.bh) { return; }
  let b = bh / p.heads;
  let h = bh % p.heads;
  let k0 = (g % p.blocks) * BQ;
  let nk = min(BQ, T - k0);
  let plane = p.bh * T * T;
  for (var i = li; i < nk * DH; i = i + 64u) {
    let j = k0 + i / DH;
    let e = i % DH;
    var dk = 0.0;
    var dv = 0.0;
    for (var q = 0u; q < T; q = q + 1u) {
      let at = (bh * T + q) * T + j;
      dk = dk + pds[plane + at] * qkv[qkvAt(b, q, 0u, h, e)];
      dv = dv + pds[at] * dout[rowAt(b, q) + h * DH + e];
    }
    dqkv[qkvAt(b, j, 1u, h, e)] = dk;
    dqkv[qkvAt(b, j, 2u, h, e)] = dv;
  }
}
`;
}

/** In place over one tensor: AdamW (torch 1.13 order) then, with a teacher binding, the EMA teacher update. */
export function adamwWgsl(withTeacher: boolean): string {
  return /* wgsl */ `
struct P {
  n: u32, gradScale: f32, decay: f32, beta1: f32, c1: f32, beta2: f32, c2: f32, stepSize: f32, bc2Sqrt: f32, eps: f32, ema: f32, ce: f32
}
@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
${withTeacher ? '@group(0) @binding(4) var<storage, read_write> teacher: array<f32>;' : ''}
@group(0) @binding(${withTeacher ? 5 : 4}) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wid.y * nw.x + wid.x) * 256u + li;
  if (i >= p.n) { return; }
  let g = grad[i] * p.gradScale;
  let pi = param[i] * p.decay;
  let mi = m[i] * p.beta1 + g * p.c1;
  let vi = v[i] * p.beta2 + g * g * p.c2;
  let pn = pi - (mi / (sqrt(vi) / p.bc2Sqrt + p.eps)) * p.stepSize;
  m[i] = mi;
  v[i] = vi;
  param[i] = pn;
  ${withTeacher ? 'teacher[i] = teacher[i] * p.ema + pn * p.ce;' : ''}
}
`;
}

export const EMA_WGSL = /* wgsl */ `
struct P { n: u32, ema: f32, ce: f32 }
@group(0) @binding(0) var<storage, read_write> teacher: array<f32>;
@group(0) @binding(1) var<storage, read> student: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wid.y * nw.x + wid.x) * 256u + li;
  if (i >= p.n) { return; }
  teacher[i] = teacher[i] * p.ema + student[i] * p.ce;
}
`;

/** Σx² of one tensor into out[slot] (one workgroup; the tensors are gradients, read once per step). */
export const SUM_SQUARES_WGSL = /* wgsl */ `
struct P { n: u32, slot: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> outp: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var i = li; i < p.n; i = i + 256u) { let v = x[i]; s = s + v * v; }
  red[li] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k = k >> 1u) {
    if (li < k) { red[li] = red[li] + red[li + k]; }
    workgroupBarrier();
  }
  if (li == 0u) { outp[p.slot] = red[0]; }
}
`;

/** In place s ← s + g (gradient accumulation over micro-batches). */
export const ACCUMULATE_WGSL = /* wgsl */ `
struct P { count: u32 }
@group(0) @binding(0) var<storage, read_write> s: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wid.y * nw.x + wid.x) * 256u + li;
  if (i >= p.count) { return; }
  s[i] = s[i] + g[i];
}
`;
