// Packed, register-blocked f32 GEMM with wasm SIMD: C (+)= A·B for a batch of products, with any element strides
// for A and B (so transposes are folded into the packing, never materialised). See kernels/wasm/README.md.
import { madd } from './math';

export const MR: i32 = 4;
export const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 120;
export const NC: i32 = 1024;
/** Floats of scratch one gemm call needs (packed A, packed B, one tile), 16-byte aligned by the caller. */
export const GEMM_SCRATCH_FLOATS: i32 = KC * MC + KC * NC + MR * NR;

/** Packs A (mc × kc block, element (i, k) at a + 4·(i·rs + k·cs)) into MR-row panels [panel][k][MR], zero-padded. */
function packA(a: usize, rs: i32, cs: i32, mc: i32, kc: i32, dst: usize): void {
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const rows = min(MR, mc - i0);
    if (rows == MR && cs == 1) {
      const r0 = a + ((<usize>(i0 * rs)) << 2);
      const r1 = r0 + ((<usize>rs) << 2);
      const r2 = r1 + ((<usize>rs) << 2);
      const r3 = r2 + ((<usize>rs) << 2);
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        // 4×4 transpose: rows r0..r3, columns k..k+3 → [k][MR].
        const off = (<usize>k) << 2;
        const x0 = v128.load(r0 + off);
        const x1 = v128.load(r1 + off);
        const x2 = v128.load(r2 + off);
        const x3 = v128.load(r3 + off);
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
        const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(dst, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
        v128.store(dst, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
        v128.store(dst, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
        dst += 64;
      }
      for (; k < kc; k++) {
        const off = (<usize>k) << 2;
        store<f32>(dst, load<f32>(r0 + off));
        store<f32>(dst, load<f32>(r1 + off), 4);
        store<f32>(dst, load<f32>(r2 + off), 8);
        store<f32>(dst, load<f32>(r3 + off), 12);
        dst += 16;
      }
      continue;
    }
    if (rows == MR && rs == 1) {
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(a + ((<usize>(i0 + k * cs)) << 2)));
        dst += 16;
      }
      continue;
    }
    for (let k = 0; k < kc; k++) {
      const src = a + ((<usize>(i0 * rs + k * cs)) << 2);
      for (let r = 0; r < MR; r++) {
        store<f32>(dst + ((<usize>r) << 2), r < rows ? load<f32>(src + ((<usize>(r * rs)) << 2)) : 0);
      }
      dst += MR << 2;
    }
  }
}

/** Packs B (kc × nc block, element (k, j) at b + 4·(k·rs + j·cs)) into NR-column panels [panel][k][NR], zero-padded. */
function packB(b: usize, rs: i32, cs: i32, kc: i32, nc: i32, dst: usize): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const cols = min(NR, nc - j0);
    if (cols == NR && cs == 1) {
      for (let k = 0; k < kc; k++) {
        const src = b + ((<usize>(k * rs + j0)) << 2);
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        dst += NR << 2;
      }
    } else if (cols == NR && rs == 1) {
      // B is a transposed row-major matrix: column j is contiguous in k. Transpose 8 columns × 4 k at a time.
      let k = 0;
      const c0 = b + ((<usize>(j0 * cs)) << 2);
      const step = (<usize>cs) << 2;
      for (; k + 4 <= kc; k += 4) {
        const off = (<usize>k) << 2;
        for (let half = 0; half < 2; half++) {
          const base = c0 + step * <usize>(half * 4) + off;
          const x0 = v128.load(base);
          const x1 = v128.load(base + step);
          const x2 = v128.load(base + 2 * step);
          const x3 = v128.load(base + 3 * step);
          const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
          const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          const d = dst + ((<usize>half) << 4);
          v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
          v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 32);
          v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 64);
          v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 96);
        }
        dst += 128;
      }
      for (; k < kc; k++) {
        for (let c = 0; c < NR; c++) store<f32>(dst + ((<usize>c) << 2), load<f32>(c0 + step * <usize>c + ((<usize>k) << 2)));
        dst += NR << 2;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const src = b + ((<usize>(k * rs + j0 * cs)) << 2);
        for (let c = 0; c < NR; c++) {
          store<f32>(dst + ((<usize>c) << 2), c < cols ? load<f32>(src + ((<usize>(c * cs)) << 2)) : 0);
        }
        dst += NR << 2;
      }
    }
  }
}

/** The MR×NR micro-kernel: C tile (ldc floats per row) += or = packed A panel · packed B panel over kc. */
function microKernel(pa: usize, pb: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32, add: bool, tmp: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  const ld = (<usize>ldc) << 2;
  if (rows == MR && cols == NR) {
    if (add) {
      v128.store(c, f32x4.add(v128.load(c), c00));
      v128.store(c, f32x4.add(v128.load(c, 16), c01), 16);
      c += ld;
      v128.store(c, f32x4.add(v128.load(c), c10));
      v128.store(c, f32x4.add(v128.load(c, 16), c11), 16);
      c += ld;
      v128.store(c, f32x4.add(v128.load(c), c20));
      v128.store(c, f32x4.add(v128.load(c, 16), c21), 16);
      c += ld;
      v128.store(c, f32x4.add(v128.load(c), c30));
      v128.store(c, f32x4.add(v128.load(c, 16), c31), 16);
    } else {
      v128.store(c, c00);
      v128.store(c, c01, 16);
      c += ld;
      v128.store(c, c10);
      v128.store(c, c11, 16);
      c += ld;
      v128.store(c, c20);
      v128.store(c, c21, 16);
      c += ld;
      v128.store(c, c30);
      v128.store(c, c31, 16);
    }
    return;
  }
  v128.store(tmp, c00);
  v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32);
  v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64);
  v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96);
  v128.store(tmp, c31, 112);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const p = c + ((<usize>(r * ldc + j)) << 2);
      const v = load<f32>(tmp + ((<usize>(r * NR + j)) << 2));
      store<f32>(p, add ? load<f32>(p) + v : v);
    }
  }
}

/**
 * One product C[m×n] (+)= A[m×k]·B[k×n]. Element (i, p) of A is at a + 4·(i·ars + p·acs), element (p, j) of B at
 * b + 4·(p·brs + j·bcs), element (i, j) of C at c + 4·(i·ldc + j). `accumulate` = 0 overwrites C.
 */
export function gemm1(
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  ars: i32,
  acs: i32,
  b: usize,
  brs: i32,
  bcs: i32,
  c: usize,
  ldc: i32,
  accumulate: bool,
  scratch: usize,
): void {
  const packedA = scratch;
  const packedB = scratch + ((<usize>(KC * MC)) << 2);
  const tmp = packedB + ((<usize>(KC * NC)) << 2);
  if (k == 0) {
    if (!accumulate) for (let i = 0; i < m; i++) memory.fill(c + ((<usize>(i * ldc)) << 2), 0, (<usize>n) << 2);
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const add = accumulate || pc > 0;
      packB(b + ((<usize>(pc * brs + jc * bcs)) << 2), brs, bcs, kc, nc, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(a + ((<usize>(ic * ars + pc * acs)) << 2), ars, acs, mc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const pb = packedB + ((<usize>(jr * kc)) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const pa = packedA + ((<usize>(ir * kc)) << 2);
            const cp = c + ((<usize>((ic + ir) * ldc + jc + jr)) << 2);
            microKernel(pa, pb, kc, cp, ldc, rows, cols, add, tmp);
          }
        }
      }
    }
  }
}

/** `batch` products; the operands of product t start aBatch, bBatch, cBatch floats after those of product t − 1. */
export function gemm(
  batch: i32,
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  aBatch: i32,
  ars: i32,
  acs: i32,
  b: usize,
  bBatch: i32,
  brs: i32,
  bcs: i32,
  c: usize,
  cBatch: i32,
  ldc: i32,
  accumulate: i32,
  scratch: usize,
): void {
  for (let t = 0; t < batch; t++) {
    gemm1(
      m,
      n,
      k,
      a + ((<usize>(t * aBatch)) << 2),
      ars,
      acs,
      b + ((<usize>(t * bBatch)) << 2),
      brs,
      bcs,
      c + ((<usize>(t * cBatch)) << 2),
      ldc,
      accumulate != 0,
      scratch,
    );
  }
}
