/**
 * DAVIS-style video segmentation scores on binary masks (row-major, height × width, non-zero = object):
 *  - J, region similarity: intersection over union; two empty masks score 1 (davis2017 `db_eval_iou`);
 *  - F, boundary F-measure: precision and recall of boundary pixels, a boundary pixel counting as matched when the
 *    other mask has a boundary pixel within `tolerance` pixels (Euclidean disc, like DAVIS's dilation by a disk of
 *    radius ceil(0.008 · image diagonal)); two empty boundaries score 1, one empty boundary scores 0.
 * The boundary is the set of object pixels with a 4-neighbour outside the object; the image border does not count as
 * outside (DAVIS's seg2bmap does not mark the border either).
 */

export function regionIoU(prediction: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (prediction.length !== truth.length) throw new Error(`J: mask sizes differ (${prediction.length} vs ${truth.length})`);
  let intersection = 0;
  let union = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = prediction[i] !== 0;
    const t = truth[i] !== 0;
    if (p && t) intersection++;
    if (p || t) union++;
  }
  return union === 0 ? 1 : intersection / union;
}

/** DAVIS's default tolerance for an image of this size: ceil(0.008 · diagonal) pixels. */
export function davisBoundaryTolerance(width: number, height: number): number {
  return Math.ceil(0.008 * Math.hypot(width, height));
}

/** Object pixels with at least one 4-neighbour (inside the image) that is background. */
export function maskBoundary(mask: ArrayLike<number>, width: number, height: number): Uint8Array {
  const boundary = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (mask[i] === 0) continue;
      const outside =
        (x > 0 && mask[i - 1] === 0) ||
        (x < width - 1 && mask[i + 1] === 0) ||
        (y > 0 && mask[i - width] === 0) ||
        (y < height - 1 && mask[i + width] === 0);
      if (outside) boundary[i] = 1;
    }
  }
  return boundary;
}

/** Pixels within Euclidean distance `radius` of a set pixel (a binary dilation by a disc). */
function dilateByDisc(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  if (radius <= 0) return mask.slice();
  const out = new Uint8Array(mask.length);
  const r = Math.floor(radius);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      for (let dy = -r; dy <= r; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -r; dx <= r; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < width && dx * dx + dy * dy <= radius * radius) out[yy * width + xx] = 1;
        }
      }
    }
  }
  return out;
}

export interface BoundaryScore {
  precision: number;
  recall: number;
  f: number;
}

export function boundaryFMeasure(
  prediction: ArrayLike<number>,
  truth: ArrayLike<number>,
  width: number,
  height: number,
  tolerance = davisBoundaryTolerance(width, height),
): BoundaryScore {
  if (prediction.length !== width * height || truth.length !== width * height)
    throw new Error(`F: masks must have ${width}×${height} pixels`);
  const predBoundary = maskBoundary(prediction, width, height);
  const truthBoundary = maskBoundary(truth, width, height);
  const predCount = predBoundary.reduce((s, v) => s + v, 0);
  const truthCount = truthBoundary.reduce((s, v) => s + v, 0);
  if (predCount === 0 && truthCount === 0) return { precision: 1, recall: 1, f: 1 };
  if (predCount === 0 || truthCount === 0) return { precision: predCount === 0 ? 1 : 0, recall: truthCount === 0 ? 1 : 0, f: 0 };
  const truthNear = dilateByDisc(truthBoundary, width, height, tolerance);
  const predNear = dilateByDisc(predBoundary, width, height, tolerance);
  let predMatched = 0;
  let truthMatched = 0;
  for (let i = 0; i < predBoundary.length; i++) {
    if (predBoundary[i] && truthNear[i]) predMatched++;
    if (truthBoundary[i] && predNear[i]) truthMatched++;
  }
  const precision = predMatched / predCount;
  const recall = truthMatched / truthCount;
  const f = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f };
}

/** Binary mask of one object id in a label map. */
export function objectMask(labels: ArrayLike<number>, id: number): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] === id ? 1 : 0;
  return out;
}
