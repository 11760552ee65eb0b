// torch.nn.functional.interpolate(mode='bilinear', align_corners=False), no antialias, on interleaved RGB (H×W×3):
// torchvision transforms/_functional_video.py resize, used by RandomResizedCropVideo. The taps follow ATen in float32
// but the 4-tap sum runs in float64 and is stored as float32, so a value sitting on a uint8 boundary of ToPILImage's
// truncation can rarely land one level off torch.

import type { CropBox } from './crop';

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
