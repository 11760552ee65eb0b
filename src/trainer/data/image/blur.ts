// PIL ImageFilter.GaussianBlur (libImaging/BoxBlur.c: three fractional box-blur passes per axis, edge-clamped, uint8
// after every pass), which DINO/DoRA utils.GaussianBlur calls. Bit-exact against Pillow 9.4.

import { scratchI32, scratchU8 } from './scratch';

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
