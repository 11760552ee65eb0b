/**
 * DINO's positional-embedding interpolation (vision_transformer.py interpolate_pos_encoding) as a fixed matrix,
 * so it is differentiable with a plain matMul on every backend.
 *
 * The official call is F.interpolate(grid, scale_factor=((n+0.1)/g, …), mode='bicubic', align_corners=False):
 * PyTorch then samples source coordinate src = (dst + 0.5)·g/(n + 0.1) − 0.5 (the +0.1 moves the taps, it is not
 * only a size fix), with the cubic convolution kernel A = −0.75 and border-clamped taps.
 */
const CUBIC_A = -0.75;

function cubicNear(x: number): number {
  // |x| ≤ 1
  return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
}
function cubicFar(x: number): number {
  // 1 < |x| < 2
  return ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;
}

/** [outSize × inSize] matrix of 1-D bicubic weights for PyTorch's bicubic upsampling with a given scale factor. */
export function bicubicWeights1d(inSize: number, outSize: number, scaleFactor: number): Float64Array {
  const w = new Float64Array(outSize * inSize);
  const inverseScale = 1 / scaleFactor;
  for (let dst = 0; dst < outSize; dst++) {
    const src = (dst + 0.5) * inverseScale - 0.5; // cubic=True: no clamping of src to 0
    const base = Math.floor(src);
    const t = src - base;
    const taps = [cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)];
    for (let j = 0; j < 4; j++) {
      const idx = Math.min(Math.max(base - 1 + j, 0), inSize - 1);
      w[dst * inSize + idx] += taps[j];
    }
  }
  return w;
}

/**
 * The [(nh·nw) × (g·g)] matrix M with interpolated_patch_pos = M · patch_pos (patch grids row-major).
 * `gridSide` g is the model's patch grid side; nh, nw the new grid (rows = image height / patch).
 */
export function posEmbedInterpolationMatrix(gridSide: number, newRows: number, newCols: number): Float32Array {
  const rows = bicubicWeights1d(gridSide, newRows, (newRows + 0.1) / gridSide);
  const cols = bicubicWeights1d(gridSide, newCols, (newCols + 0.1) / gridSide);
  const g2 = gridSide * gridSide;
  const m = new Float32Array(newRows * newCols * g2);
  for (let r = 0; r < newRows; r++) {
    for (let c = 0; c < newCols; c++) {
      const outIndex = (r * newCols + c) * g2;
      for (let i = 0; i < gridSide; i++) {
        const wr = rows[r * gridSide + i];
        if (wr === 0) continue;
        for (let j = 0; j < gridSide; j++) m[outIndex + i * gridSide + j] = wr * cols[c * gridSide + j];
      }
    }
  }
  return m;
}
