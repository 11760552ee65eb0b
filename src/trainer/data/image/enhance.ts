// torchvision ColorJitter / RandomGrayscale on PIL images (functional_pil.py → PIL ImageEnhance / HSV conversion), in
// place on interleaved RGB with uint8 results after every op. Where the C code computes in float32, Math.fround
// reproduces the rounding: bit-exact against Pillow 9.4 (fixture in test/data/augment-ops.test.ts).

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
