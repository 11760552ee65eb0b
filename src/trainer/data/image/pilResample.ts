// PIL Image.resize(BICUBIC) on interleaved RGB (Pillow libImaging/Resample.c): separable, support scaled by the
// downscale factor so it antialiases, a = -0.5, 22-bit fixed point, uint8 between passes. Bit-exact against Pillow 9.4
// (fixture in test/data/augment-ops.test.ts).

import type { CropBox } from './crop';
import { scratchI32, scratchU8 } from './scratch';

const PIL_PRECISION_BITS = 32 - 8 - 2;
const PIL_BICUBIC_SUPPORT = 2;

/** Pillow's bicubic kernel (Keys, a = -0.5). */
function pilBicubic(t: number): number {
  const a = -0.5;
  const x = t < 0 ? -t : t;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface PilAxisCoefficients {
  taps: number;
  /** Per output pixel: first source index and tap count. */
  first: Int32Array;
  count: Int32Array;
  /** taps × outSize fixed-point weights (22 fractional bits). */
  weights: Int32Array;
}

const pilAxisCache = new Map<string, PilAxisCoefficients>();

/**
 * Pillow precompute_coeffs + normalize_coeffs_8bpc for resizing inSize -> outSize: the kernel
 * is stretched by the downscale factor (antialiasing), each output's taps are normalised to sum
 * 1 and rounded to fixed point.
 */
function pilAxisCoefficients(inSize: number, outSize: number): PilAxisCoefficients {
  const key = `${inSize}>${outSize}`;
  const cached = pilAxisCache.get(key);
  if (cached) return cached;
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = PIL_BICUBIC_SUPPORT * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(taps * outSize);
  const raw = new Float64Array(taps);
  const one = 1 << PIL_PRECISION_BITS;
  for (let d = 0; d < outSize; d++) {
    const centre = (d + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const n = hi - lo;
    let sum = 0;
    for (let k = 0; k < n; k++) {
      raw[k] = pilBicubic((k + lo - centre + 0.5) / filterScale);
      sum += raw[k];
    }
    for (let k = 0; k < n; k++) {
      const w = sum !== 0 ? raw[k] / sum : raw[k];
      weights[d * taps + k] = w < 0 ? Math.trunc(-0.5 + w * one) : Math.trunc(0.5 + w * one);
    }
    first[d] = lo;
    count[d] = n;
  }
  const coefficients = { taps, first, count, weights };
  if (pilAxisCache.size > 256) pilAxisCache.clear();
  pilAxisCache.set(key, coefficients);
  return coefficients;
}

/** Pillow clip8: drop the fraction bits (arithmetic shift = floor) and clamp. */
function pilClip8(accumulator: number): number {
  const v = accumulator >> PIL_PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

const PIL_HALF = 1 << (PIL_PRECISION_BITS - 1);

/** Horizontal PIL pass: `rows` rows of the crop starting at crop row `rowFirst` -> `mid`. */
function pilHorizontalPass(
  src: Uint8Array,
  srcWidth: number,
  box: CropBox,
  rowFirst: number,
  rows: number,
  outWidth: number,
  mid: Uint8Array,
): void {
  const { taps, first, count, weights } = pilAxisCoefficients(box.width, outWidth);
  let o = 0;
  for (let r = 0; r < rows; r++) {
    const rowBase = ((box.top + rowFirst + r) * srcWidth + box.left) * 3;
    for (let dx = 0; dx < outWidth; dx++) {
      const n = count[dx];
      const wBase = dx * taps;
      let s = rowBase + first[dx] * 3;
      let acc0 = PIL_HALF;
      let acc1 = PIL_HALF;
      let acc2 = PIL_HALF;
      for (let k = 0; k < n; k++) {
        const w = weights[wBase + k];
        acc0 += src[s] * w;
        acc1 += src[s + 1] * w;
        acc2 += src[s + 2] * w;
        s += 3;
      }
      mid[o++] = pilClip8(acc0);
      mid[o++] = pilClip8(acc1);
      mid[o++] = pilClip8(acc2);
    }
  }
}

/** The crop rows PIL would hand to the vertical pass when the width does not change. */
function copyCropRows(src: Uint8Array, srcWidth: number, box: CropBox, rowFirst: number, rows: number, mid: Uint8Array): void {
  const rowLength = box.width * 3;
  for (let r = 0; r < rows; r++) {
    const rowBase = ((box.top + rowFirst + r) * srcWidth + box.left) * 3;
    mid.set(src.subarray(rowBase, rowBase + rowLength), r * rowLength);
  }
}

/** Vertical PIL pass, row by row (cache friendly): out row = Σ_k mid[row_k]·w_k. */
function pilVerticalPass(mid: Uint8Array, rowFirst: number, inHeight: number, outWidth: number, outHeight: number, dst: Uint8Array): void {
  const { taps, first, count, weights } = pilAxisCoefficients(inHeight, outHeight);
  const rowLength = outWidth * 3;
  const acc = scratchI32('bicubic-acc', rowLength);
  for (let dy = 0; dy < outHeight; dy++) {
    const n = count[dy];
    const wBase = dy * taps;
    acc.fill(PIL_HALF, 0, rowLength);
    for (let k = 0; k < n; k++) {
      const w = weights[wBase + k];
      const rowStart = (first[dy] - rowFirst + k) * rowLength;
      for (let i = 0; i < rowLength; i++) acc[i] += mid[rowStart + i] * w;
    }
    const o = dy * rowLength;
    for (let i = 0; i < rowLength; i++) dst[o + i] = pilClip8(acc[i]);
  }
}

/**
 * PIL `img.crop(box).resize((outW, outH), Image.BICUBIC)` on a uint8 RGB image, as torchvision
 * RandomResizedCrop(interpolation=BICUBIC) does on a PIL image (Resample.c ImagingResampleInner):
 * horizontal pass first over only the rows the vertical pass reads, uint8 in between; an axis
 * whose size does not change is not resampled.
 */
export function resizeBicubicPil(
  src: Uint8Array,
  srcWidth: number,
  box: CropBox,
  outWidth: number,
  outHeight: number,
  dst: Uint8Array,
): void {
  const needHorizontal = outWidth !== box.width;
  const needVertical = outHeight !== box.height;
  let rowFirst = 0;
  let rows = box.height;
  if (needVertical) {
    const ys = pilAxisCoefficients(box.height, outHeight);
    rowFirst = ys.first[0];
    rows = ys.first[outHeight - 1] + ys.count[outHeight - 1] - rowFirst;
  }
  const mid = needVertical ? scratchU8('bicubic-mid', rows * outWidth * 3) : dst;
  if (needHorizontal) pilHorizontalPass(src, srcWidth, box, rowFirst, rows, outWidth, mid);
  else copyCropRows(src, srcWidth, box, rowFirst, rows, mid);
  if (needVertical) pilVerticalPass(mid, rowFirst, box.height, outWidth, outHeight, dst);
}
