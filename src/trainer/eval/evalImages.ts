/** Shared shapes and pixel helpers of the evaluation datasets. */
import { IMAGENET_MEAN, IMAGENET_STD } from '../data/image/normalize';

/** Normalised NCHW images with integer class labels. */
export interface LabelledImages {
  /** [count, 3, size, size], ImageNet-normalised. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
  size: number;
}

export interface KnnDataset {
  /** For the results key and tables, e.g. `fashion-mnist`, `synthetic`, `folder:/data/pets`. */
  name: string;
  classNames: string[];
  train: LabelledImages;
  test: LabelledImages;
}

/** Interleaved float RGB in [0, 1] → ImageNet-normalised planar CHW at `dst[offset..]` (ToTensor + Normalize). */
export function normaliseUnitRgbToPlanar(rgb: Float32Array, pixels: number, dst: Float32Array, offset: number): void {
  for (let c = 0; c < 3; c++) {
    const base = offset + c * pixels;
    for (let p = 0; p < pixels; p++) dst[base + p] = (rgb[p * 3 + c] - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
  }
}

/** Interleaved uint8 RGB → ImageNet-normalised planar CHW at `dst[offset..]`. */
export function normaliseU8RgbToPlanar(rgb: Uint8Array, pixels: number, dst: Float32Array, offset: number): void {
  for (let c = 0; c < 3; c++) {
    const base = offset + c * pixels;
    for (let p = 0; p < pixels; p++) dst[base + p] = (rgb[p * 3 + c] / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
  }
}

/** Stacks per-image arrays into one LabelledImages. */
export function stackImages(items: { image: Float32Array; label: number }[], size: number): LabelledImages {
  const per = 3 * size * size;
  const images = new Float32Array(items.length * per);
  items.forEach((item, i) => images.set(item.image, i * per));
  return { images, labels: Int32Array.from(items.map((i) => i.label)), count: items.length, size };
}
