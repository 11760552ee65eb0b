// ToTensor + Normalize: interleaved uint8 RGB → planar CHW float32, (x / 255 − mean) / std with ImageNet statistics.

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
