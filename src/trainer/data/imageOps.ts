// Image operations behind the DoRA augmentation (augment.ts), on interleaved RGB typed arrays
// (H×W×3, row-major). Each one reproduces the library routine the official code calls:
//   - torch.nn.functional.interpolate(mode='bilinear', align_corners=False), no antialias
//     (torchvision transforms/_functional_video.py resize, used by RandomResizedCropVideo);
//   - PIL Image.resize(BICUBIC) (Pillow libImaging/Resample.c: separable, support scaled by the
//     downscale factor so it antialiases, a = -0.5, 22-bit fixed-point, uint8 between passes);
//   - torchvision ColorJitter / RandomGrayscale on PIL images (functional_pil.py ->
//     PIL ImageEnhance / HSV conversion, uint8 results after every op);
//   - PIL ImageFilter.GaussianBlur (libImaging/BoxBlur.c: three fractional box-blur passes per
//     axis, edge-clamped, uint8 after every pass), which DINO/DoRA utils.GaussianBlur calls;
//   - torchvision RandomResizedCrop.get_params.
// Where the C code computes in float32, Math.fround reproduces the rounding: the PIL-side ops
// (bicubic, blur, brightness/contrast/saturation/hue, grayscale) were checked bit-exact against
// Pillow 9.4 (fixture in test/data/augment-ops.test.ts). The bilinear taps follow ATen in float32
// but the 4-tap sum runs in float64 and is stored as float32, so a value sitting on a uint8
// boundary of ToPILImage's truncation can rarely land one level off torch.

import type { Rng } from '../../core/rng';

/** A crop rectangle in pixel units of the image it was drawn on (torchvision's i, j, h, w). */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Python's round(): halves go to the even neighbour (used by get_params). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * torchvision RandomResizedCrop.get_params: 10 tries of (area ~ U(scale)·H·W,
 * log-aspect ~ U(log ratio)); accept the first that fits, with a uniform top-left; otherwise a
 * centre crop clamped to the ratio range.
 */
export function sampleResizedCropBox(
  rng: Rng,
  height: number,
  width: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
): CropBox {
  const area = height * width;
  const logRatioLow = Math.log(ratio[0]);
  const logRatioHigh = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatioLow, logRatioHigh));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(0, height - h + 1);
      const left = rng.int(0, width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  return centreCropBoxForRatio(height, width, ratio);
}

/** The fallback of get_params: the whole image, narrowed to the nearest allowed aspect ratio. */
export function centreCropBoxForRatio(height: number, width: number, ratio: readonly [number, number]): CropBox {
  const inRatio = width / height;
  let w: number;
  let h: number;
  if (inRatio < Math.min(ratio[0], ratio[1])) {
    w = width;
    h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
  } else if (inRatio > Math.max(ratio[0], ratio[1])) {
    h = height;
    w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
  } else {
    w = width;
    h = height;
  }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

// ---------------------------------------------------------------------------------------------
// Reusable scratch memory: the pipeline runs single-threaded, so per-size buffers can be shared
// instead of allocated per call.

const u8Scratch = new Map<string, Uint8Array>();

function scratchU8(slot: string, length: number): Uint8Array {
  let buf = u8Scratch.get(slot);
  if (!buf || buf.length < length) {
    buf = new Uint8Array(length);
    u8Scratch.set(slot, buf);
  }
  return buf;
}

const i32Scratch = new Map<string, Int32Array>();

function scratchI32(slot: string, length: number): Int32Array {
  let buf = i32Scratch.get(slot);
  if (!buf || buf.length < length) {
    buf = new Int32Array(length);
    i32Scratch.set(slot, buf);
  }
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Bilinear, torch interpolate(mode='bilinear', align_corners=False, antialias=False).

interface LinearAxis {
  lowIndex: Int32Array;
  highIndex: Int32Array;
  highWeight: Float32Array;
}

const linearAxisCache = new Map<string, LinearAxis>();

/**
 * Source taps for one axis (ATen UpSample.h area_pixel_compute_source_index + linear weights):
 * src = (dst + 0.5)·in/out − 0.5 clamped at 0 ("half-pixel centres"), low = floor(src), high =
 * low + 1 clamped to in − 1, weight of high = src − low. Computed in float32 like ATen.
 */
function linearAxis(inSize: number, outSize: number): LinearAxis {
  const key = `${inSize}>${outSize}`;
  let axis = linearAxisCache.get(key);
  if (axis) return axis;
  const scale = Math.fround(inSize / outSize);
  axis = { lowIndex: new Int32Array(outSize), highIndex: new Int32Array(outSize), highWeight: new Float32Array(outSize) };
  for (let d = 0; d < outSize; d++) {
    let src = Math.fround(Math.fround(scale * (d + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const low = Math.min(Math.floor(src), inSize - 1);
    axis.lowIndex[d] = low;
    axis.highIndex[d] = low < inSize - 1 ? low + 1 : low;
    axis.highWeight[d] = Math.min(Math.max(Math.fround(src - low), 0), 1);
  }
  if (linearAxisCache.size > 256) linearAxisCache.clear();
  linearAxisCache.set(key, axis);
  return axis;
}

/**
 * Bilinear resize of the `box` region of a float RGB image (values in [0,1]) to outW×outH, into
 * `dst` (interleaved float32). Pixels outside the box are never read, as after torch's crop
 * slicing. Used with a 1-channel image too when `channels` = 1.
 */
export function resizeBilinearF32(
  src: Float32Array,
  srcWidth: number,
  box: CropBox,
  outWidth: number,
  outHeight: number,
  dst: Float32Array,
  channels = 3,
): void {
  const xs = linearAxis(box.width, outWidth);
  const ys = linearAxis(box.height, outHeight);
  const rowStride = srcWidth * channels;
  const low = xs.lowIndex;
  const high = xs.highIndex;
  const highWeight = xs.highWeight;
  let o = 0;
  for (let dy = 0; dy < outHeight; dy++) {
    const wy1 = ys.highWeight[dy];
    const wy0 = 1 - wy1;
    const row0 = (box.top + ys.lowIndex[dy]) * rowStride + box.left * channels;
    const row1 = (box.top + ys.highIndex[dy]) * rowStride + box.left * channels;
    for (let dx = 0; dx < outWidth; dx++) {
      const wx1 = highWeight[dx];
      const wx0 = 1 - wx1;
      const a = row0 + low[dx] * channels;
      const b = row0 + high[dx] * channels;
      const c = row1 + low[dx] * channels;
      const d = row1 + high[dx] * channels;
      if (channels === 3) {
        dst[o] = wy0 * (wx0 * src[a] + wx1 * src[b]) + wy1 * (wx0 * src[c] + wx1 * src[d]);
        dst[o + 1] = wy0 * (wx0 * src[a + 1] + wx1 * src[b + 1]) + wy1 * (wx0 * src[c + 1] + wx1 * src[d + 1]);
        dst[o + 2] = wy0 * (wx0 * src[a + 2] + wx1 * src[b + 2]) + wy1 * (wx0 * src[c + 2] + wx1 * src[d + 2]);
        o += 3;
      } else {
        for (let k = 0; k < channels; k++) {
          dst[o++] = wy0 * (wx0 * src[a + k] + wx1 * src[b + k]) + wy1 * (wx0 * src[c + k] + wx1 * src[d + k]);
        }
      }
    }
  }
}

/** uint8 -> float32 value/255, exactly as torch `x.float() / 255` (ToTensorVideo). */
const UNIT_FROM_U8 = (() => {
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = v / 255;
  return lut;
})();

/**
 * ToTensorVideo + bilinear crop-resize of a uint8 RGB frame: the same taps as resizeBilinearF32,
 * reading value/255 through a table (exactly torch's float32 `x / 255`). Output is float RGB in
 * [0,1], interleaved.
 */
export function resizeBilinearFromU8(
  src: Uint8Array,
  srcWidth: number,
  box: CropBox,
  outWidth: number,
  outHeight: number,
  dst: Float32Array,
): void {
  const xs = linearAxis(box.width, outWidth);
  const ys = linearAxis(box.height, outHeight);
  const unit = UNIT_FROM_U8;
  const rowStride = srcWidth * 3;
  const low = xs.lowIndex;
  const high = xs.highIndex;
  const highWeight = xs.highWeight;
  let o = 0;
  for (let dy = 0; dy < outHeight; dy++) {
    const wy1 = ys.highWeight[dy];
    const wy0 = 1 - wy1;
    const row0 = (box.top + ys.lowIndex[dy]) * rowStride + box.left * 3;
    const row1 = (box.top + ys.highIndex[dy]) * rowStride + box.left * 3;
    for (let dx = 0; dx < outWidth; dx++) {
      const wx1 = highWeight[dx];
      const wx0 = 1 - wx1;
      const a = row0 + low[dx] * 3;
      const b = row0 + high[dx] * 3;
      const c = row1 + low[dx] * 3;
      const d = row1 + high[dx] * 3;
      for (let k = 0; k < 3; k++) {
        dst[o++] = wy0 * (wx0 * unit[src[a + k]] + wx1 * unit[src[b + k]]) + wy1 * (wx0 * unit[src[c + k]] + wx1 * unit[src[d + k]]);
      }
    }
  }
}

/**
 * torchvision ToPILImage on a float tensor: `pic.mul(255).byte()` — multiply in float32 and
 * TRUNCATE (not round). Optionally mirrors each row (RandomHorizontalFlipVideo happens on the
 * float clip just before, and commutes with this per-pixel map).
 */
export function floatToPilU8(src: Float32Array, width: number, height: number, dst: Uint8Array, flip = false): void {
  for (let y = 0; y < height; y++) {
    const rowStart = y * width * 3;
    for (let x = 0; x < width; x++) {
      const s = rowStart + (flip ? width - 1 - x : x) * 3;
      const d = rowStart + x * 3;
      dst[d] = Math.fround(src[s] * 255);
      dst[d + 1] = Math.fround(src[s + 1] * 255);
      dst[d + 2] = Math.fround(src[s + 2] * 255);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// PIL bicubic resampling (Pillow libImaging/Resample.c).

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

// ---------------------------------------------------------------------------------------------
// Colour operations with PIL uint8 semantics (in place on interleaved RGB).

/** PIL RGB -> L (libImaging/Convert.c L24): ITU-R 601-2 weights in 16-bit fixed point, rounded. */
export function pilLuma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/**
 * PIL Image.blend(degenerate, image, alpha) for uint8 (libImaging/Blend.c): float32
 * `in1 + alpha·(in2 − in1)`, clamped, truncated toward zero.
 */
function pilBlend(degenerate: number, value: number, alpha32: number): number {
  const t = Math.fround(degenerate + Math.fround(alpha32 * (value - degenerate)));
  return t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
}

const blendTable = new Uint8Array(256);

function applyTable(image: Uint8Array, length: number): void {
  for (let i = 0; i < length; i++) image[i] = blendTable[image[i]];
}

/** ImageEnhance.Brightness(factor): blend with a black image. */
export function adjustBrightness(image: Uint8Array, pixels: number, factor: number): void {
  const alpha = Math.fround(factor);
  for (let v = 0; v < 256; v++) blendTable[v] = pilBlend(0, v, alpha);
  applyTable(image, pixels * 3);
}

/**
 * ImageEnhance.Contrast(factor): blend with a constant grey image whose level is the mean of
 * the L (luma) image, rounded: int(mean + 0.5).
 */
export function adjustContrast(image: Uint8Array, pixels: number, factor: number): void {
  let sum = 0;
  for (let i = 0, p = 0; p < pixels; p++, i += 3) sum += pilLuma(image[i], image[i + 1], image[i + 2]);
  const mean = Math.trunc(sum / pixels + 0.5);
  const alpha = Math.fround(factor);
  for (let v = 0; v < 256; v++) blendTable[v] = pilBlend(mean, v, alpha);
  applyTable(image, pixels * 3);
}

/** ImageEnhance.Color(factor): blend every pixel with its own luma (convert('L').convert('RGB')). */
export function adjustSaturation(image: Uint8Array, pixels: number, factor: number): void {
  const alpha = Math.fround(factor);
  for (let i = 0, p = 0; p < pixels; p++, i += 3) {
    const grey = pilLuma(image[i], image[i + 1], image[i + 2]);
    image[i] = pilBlend(grey, image[i], alpha);
    image[i + 1] = pilBlend(grey, image[i + 1], alpha);
    image[i + 2] = pilBlend(grey, image[i + 2], alpha);
  }
}

function clip8(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : v;
}

/** Tables for adjustHue, built on first use (fround(n / d) and the HSV -> RGB coefficients). */
interface HueTables {
  /** fround(n / d) at n·256 + d. */
  quotient: Float32Array;
  /** sector (0..5) of each uint8 hue. */
  sector: Uint8Array;
  /** 1 − fs, 1 − fround(fs·f), 1 − fs·(1 − f) at hue·256 + sat (double, as the C expression). */
  p: Float64Array;
  q: Float64Array;
  t: Float64Array;
}

let hueTables: HueTables | null = null;

function getHueTables(): HueTables {
  if (hueTables) return hueTables;
  const quotient = new Float32Array(256 * 256);
  for (let n = 0; n < 256; n++) for (let d = 1; d < 256; d++) quotient[n * 256 + d] = n / d;
  const sector = new Uint8Array(256);
  const p = new Float64Array(256 * 256);
  const q = new Float64Array(256 * 256);
  const t = new Float64Array(256 * 256);
  for (let h = 0; h < 256; h++) {
    const i = Math.floor((h * 6.0) / 255.0);
    sector[h] = i % 6;
    const f = Math.fround((h * 6.0) / 255.0 - i);
    for (let sat = 0; sat < 256; sat++) {
      const fs = Math.fround(sat / 255.0);
      p[h * 256 + sat] = 1.0 - fs;
      q[h * 256 + sat] = 1.0 - Math.fround(fs * f);
      t[h * 256 + sat] = 1.0 - fs * (1.0 - f);
    }
  }
  hueTables = { quotient, sector, p, q, t };
  return hueTables;
}

/**
 * torchvision functional_pil.adjust_hue: RGB -> HSV (PIL, uint8 channels), hue += uint8(factor·255)
 * with wrap-around, HSV -> RGB. Mirrors Convert.c rgb2hsv_row / hsv2rgb, float32 where the C code
 * stores into floats. Note: even factor 0 is a lossy round trip in PIL, and we keep that.
 */
export function adjustHue(image: Uint8Array, pixels: number, factor: number): void {
  // np.uint8(f·255): truncate toward zero, then wrap modulo 256 (x86 behaviour for negatives).
  const shift = ((Math.trunc(factor * 255) % 256) + 256) % 256;
  const { quotient, sector, p, q, t } = getHueTables();
  for (let i = 0, px = 0; px < pixels; px++, i += 3) {
    const r = image[i];
    const g = image[i + 1];
    const b = image[i + 2];
    const maxc = r > g ? (r > b ? r : b) : g > b ? g : b;
    const minc = r < g ? (r < b ? r : b) : g < b ? g : b;
    if (maxc === minc) continue; // grey: s = 0, so hsv2rgb returns v for all channels.
    const cr = maxc - minc;
    const s = quotient[cr * 256 + maxc];
    let h: number;
    if (r === maxc) h = Math.fround(quotient[(maxc - b) * 256 + cr] - quotient[(maxc - g) * 256 + cr]);
    else if (g === maxc) h = Math.fround(2.0 + quotient[(maxc - r) * 256 + cr] - quotient[(maxc - b) * 256 + cr]);
    else h = Math.fround(4.0 + quotient[(maxc - g) * 256 + cr] - quotient[(maxc - r) * 256 + cr]);
    h = Math.fround((h / 6.0 + 1.0) % 1.0);
    const hue8 = (clip8(Math.trunc(h * 255.0)) + shift) & 255;
    const sat8 = clip8(Math.trunc(s * 255.0));
    const v = maxc;
    if (sat8 === 0) {
      image[i] = v;
      image[i + 1] = v;
      image[i + 2] = v;
      continue;
    }
    const k = hue8 * 256 + sat8;
    const up = clip8(Math.round(v * p[k]));
    const uq = clip8(Math.round(v * q[k]));
    const ut = clip8(Math.round(v * t[k]));
    switch (sector[hue8]) {
      case 0:
        image[i] = v;
        image[i + 1] = ut;
        image[i + 2] = up;
        break;
      case 1:
        image[i] = uq;
        image[i + 1] = v;
        image[i + 2] = up;
        break;
      case 2:
        image[i] = up;
        image[i + 1] = v;
        image[i + 2] = ut;
        break;
      case 3:
        image[i] = up;
        image[i + 1] = uq;
        image[i + 2] = v;
        break;
      case 4:
        image[i] = ut;
        image[i + 1] = up;
        image[i + 2] = v;
        break;
      default:
        image[i] = v;
        image[i + 1] = up;
        image[i + 2] = uq;
        break;
    }
  }
}

/** RandomGrayscale (num_output_channels=3 on PIL): L = luma, replicated to R, G, B. */
export function toGrayscale(image: Uint8Array, pixels: number): void {
  for (let i = 0, p = 0; p < pixels; p++, i += 3) {
    const grey = pilLuma(image[i], image[i + 1], image[i + 2]);
    image[i] = grey;
    image[i + 1] = grey;
    image[i + 2] = grey;
  }
}

// ---------------------------------------------------------------------------------------------
// PIL GaussianBlur (libImaging/BoxBlur.c).

/**
 * Fractional box radius whose 3 passes approximate a Gaussian of standard deviation `radius`
 * (Gwosdek et al. 2011, as _gaussian_blur_radius / ImagingGaussianBlur; float32 like the C).
 */
export function pilBoxRadiusForGaussian(sigma: number, passes = 3): number {
  const radius = Math.fround(sigma);
  const sigma2 = Math.fround(Math.fround(radius * radius) / passes);
  const boxLength = Math.fround(Math.sqrt(12.0 * sigma2 + 1.0));
  const whole = Math.fround(Math.floor((boxLength - 1.0) / 2.0));
  let frac = Math.fround(Math.fround(2 * whole + 1) * Math.fround(Math.fround(whole * Math.fround(whole + 1)) - Math.fround(3 * sigma2)));
  frac = Math.fround(frac / Math.fround(6 * Math.fround(sigma2 - Math.fround(Math.fround(whole + 1) * Math.fround(whole + 1)))));
  return Math.fround(whole + frac);
}

/**
 * One box-blur pass of every row (BoxBlur.c ImagingLineBoxBlur8 semantics, per channel):
 * out[x] = (ww·Σ_{|k−x|≤r} in[k] + fw·(in[x−r−1] + in[x+r+1]) + 2^23) >> 24, indices clamped
 * to the row. In place, via a copy of the row.
 */
function boxBlurRows(image: Uint8Array, width: number, height: number, radius: number, ww: number, fw: number, line: Uint8Array): void {
  const last = width - 1;
  const rowLength = width * 3;
  for (let y = 0; y < height; y++) {
    const rowStart = y * rowLength;
    line.set(image.subarray(rowStart, rowStart + rowLength));
    let acc0 = 0;
    let acc1 = 0;
    let acc2 = 0;
    for (let k = -radius; k <= radius; k++) {
      const i = (k < 0 ? 0 : k > last ? last : k) * 3;
      acc0 += line[i];
      acc1 += line[i + 1];
      acc2 += line[i + 2];
    }
    for (let x = 0, d = rowStart; x < width; x++, d += 3) {
      const left = x - radius - 1;
      const right = x + radius + 1;
      const drop = x - radius;
      const l = (left < 0 ? 0 : left) * 3;
      const r = (right > last ? last : right) * 3;
      const q = (drop < 0 ? 0 : drop > last ? last : drop) * 3;
      image[d] = (acc0 * ww + (line[l] + line[r]) * fw + 0x800000) >>> 24;
      image[d + 1] = (acc1 * ww + (line[l + 1] + line[r + 1]) * fw + 0x800000) >>> 24;
      image[d + 2] = (acc2 * ww + (line[l + 2] + line[r + 2]) * fw + 0x800000) >>> 24;
      // Slide the window: add x + r + 1, drop x − r.
      acc0 += line[r] - line[q];
      acc1 += line[r + 1] - line[q + 1];
      acc2 += line[r + 2] - line[q + 2];
    }
  }
}

/**
 * The same pass along columns (PIL transposes and blurs rows; identical arithmetic). Runs row
 * by row over all columns at once for cache locality; `copy` holds the input image.
 */
function boxBlurColumns(
  image: Uint8Array,
  width: number,
  height: number,
  radius: number,
  ww: number,
  fw: number,
  copy: Uint8Array,
  acc: Int32Array,
): void {
  const last = height - 1;
  const rowLength = width * 3;
  copy.set(image.subarray(0, rowLength * height));
  acc.fill(0, 0, rowLength);
  for (let k = -radius; k <= radius; k++) {
    const rowStart = (k < 0 ? 0 : k > last ? last : k) * rowLength;
    for (let i = 0; i < rowLength; i++) acc[i] += copy[rowStart + i];
  }
  for (let y = 0; y < height; y++) {
    const left = y - radius - 1;
    const right = y + radius + 1;
    const drop = y - radius;
    const l = (left < 0 ? 0 : left) * rowLength;
    const r = (right > last ? last : right) * rowLength;
    const q = (drop < 0 ? 0 : drop > last ? last : drop) * rowLength;
    const o = y * rowLength;
    for (let i = 0; i < rowLength; i++) {
      image[o + i] = (acc[i] * ww + (copy[l + i] + copy[r + i]) * fw + 0x800000) >>> 24;
      acc[i] += copy[r + i] - copy[q + i];
    }
  }
}

/**
 * PIL `img.filter(ImageFilter.GaussianBlur(radius=sigma))` on uint8 RGB (in place): 3 passes
 * of a fractional box blur along x, then 3 along y, each rounded to uint8.
 */
export function gaussianBlurPil(image: Uint8Array, width: number, height: number, sigma: number): void {
  const passes = 3;
  const floatRadius = pilBoxRadiusForGaussian(sigma, passes);
  if (floatRadius === 0) return;
  const radius = Math.trunc(floatRadius);
  const ww = Math.trunc(Math.fround(16777216 / Math.fround(Math.fround(floatRadius * 2) + 1)));
  const fw = Math.trunc((16777216 - (radius * 2 + 1) * ww) / 2);
  const line = scratchU8('blur-line', width * 3);
  for (let pass = 0; pass < passes; pass++) boxBlurRows(image, width, height, radius, ww, fw, line);
  const copy = scratchU8('blur-copy', width * height * 3);
  const acc = scratchI32('blur-acc', width * 3);
  for (let pass = 0; pass < passes; pass++) boxBlurColumns(image, width, height, radius, ww, fw, copy, acc);
}

// ---------------------------------------------------------------------------------------------
// ToTensor + Normalize.

export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/**
 * Per-channel lookup table of ToTensor + Normalize for every uint8 level:
 * ((v / 255) − mean) / std, each step rounded to float32 as torch does. Index c·256 + v.
 */
export function normalizationTable(mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): Float32Array {
  const table = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]);
    const s = Math.fround(std[c]);
    for (let v = 0; v < 256; v++) table[c * 256 + v] = Math.fround(Math.fround(Math.fround(v / 255) - m) / s);
  }
  return table;
}

/** Writes interleaved uint8 RGB as normalised planar CHW float32 at `dst[offset..]`. */
export function normalizeToPlanar(image: Uint8Array, pixels: number, table: Float32Array, dst: Float32Array, offset: number): void {
  const g = offset + pixels;
  const b = offset + 2 * pixels;
  for (let p = 0, i = 0; p < pixels; p++, i += 3) {
    dst[offset + p] = table[image[i]];
    dst[g + p] = table[256 + image[i + 1]];
    dst[b + p] = table[512 + image[i + 2]];
  }
}
