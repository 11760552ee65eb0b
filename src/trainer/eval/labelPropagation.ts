/**
 * Semi-supervised video object segmentation by label propagation, as in DINO's eval_video_segmentation.py:
 *  - the first frame's ground-truth labels are resized to the patch grid with NEAREST sampling and one-hot encoded;
 *  - every later frame t is labelled from a context of the first frame plus the previous `contextFrames` predictions
 *    (DINO's `--n_last_frames 7`), each a pair (L2-normalised final-norm patch tokens, soft patch labels);
 *  - affinity target↔source = exp(cos / temperature); per target patch only the `topK` largest affinities over the
 *    whole context are kept (DINO's `--topk 5`), normalised to sum 1, and the sources' soft labels are averaged
 *    with those weights; the soft prediction (not its argmax) enters the context of later frames;
 *  - for scoring, the soft patch labels are upsampled bilinearly by the patch size (align_corners=False), each class
 *    map is min-max normalised (`norm_mask`) and the arg-max gives the pixel labels.
 * Deviation: DINO also restricts sources to a 12-patch neighbourhood of the target (`--size_mask_neighborhood`); on
 * the small grids used here (≤ 12×12) that window covers (nearly) the whole frame, so it is left out.
 * On temperature: 0.7 is DINO's `--temperature` default; DINO's label_propagation appears to divide by a fixed 0.1
 * instead (from memory, not re-checked against the source), so the value is an option and is stored with every result.
 */

export interface PropagationOptions {
  topK?: number;
  temperature?: number;
  contextFrames?: number;
}

export const DINO_PROPAGATION_DEFAULTS: Required<PropagationOptions> = { topK: 5, temperature: 0.7, contextFrames: 7 };

/** PIL `resize((w/p, h/p), NEAREST)` of a label image: the pixel at the centre-left of each patch, floor((i+0.5)·p). */
export function patchLabelsFromPixels(labels: ArrayLike<number>, width: number, height: number, patchSize: number): Uint8Array {
  const cols = Math.floor(width / patchSize);
  const rows = Math.floor(height / patchSize);
  const out = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const y = Math.floor((r + 0.5) * patchSize);
    for (let c = 0; c < cols; c++) out[r * cols + c] = labels[y * width + Math.floor((c + 0.5) * patchSize)];
  }
  return out;
}

/** [numClasses, N] one-hot of patch labels. */
export function oneHotLabels(patchLabels: ArrayLike<number>, numClasses: number): Float32Array {
  const n = patchLabels.length;
  const out = new Float32Array(numClasses * n);
  for (let i = 0; i < n; i++) out[patchLabels[i] * n + i] = 1;
  return out;
}

interface ContextEntry {
  features: Float32Array;
  labels: Float32Array;
}

/**
 * Propagates the first frame's labels through `frameFeatures` (each [N, D], any norm: rows are L2-normalised here).
 * Returns one soft label map [numClasses, N] per frame; frame 0 is the one-hot ground truth.
 */
export function propagateLabels(
  frameFeatures: readonly Float32Array[],
  dim: number,
  firstLabels: ArrayLike<number>,
  numClasses: number,
  options: PropagationOptions = {},
): Float32Array[] {
  const { topK, temperature, contextFrames } = { ...DINO_PROPAGATION_DEFAULTS, ...options };
  const n = firstLabels.length;
  const normalised = frameFeatures.map((f) => {
    if (f.length !== n * dim) throw new Error(`label propagation: a frame has ${f.length / dim} patches, the first frame ${n}`);
    return normaliseRows(f, dim);
  });
  const first: ContextEntry = { features: normalised[0], labels: oneHotLabels(firstLabels, numClasses) };
  const recent: ContextEntry[] = [];
  const outputs: Float32Array[] = [first.labels];
  for (let t = 1; t < normalised.length; t++) {
    const context = [first, ...recent];
    const sources = context.length * n;
    const prediction = new Float32Array(numClasses * n);
    const affinity = new Float64Array(sources);
    const target = normalised[t];
    for (let q = 0; q < n; q++) {
      context.forEach((entry, c) => {
        for (let s = 0; s < n; s++) {
          let dot = 0;
          for (let i = 0; i < dim; i++) dot += target[q * dim + i] * entry.features[s * dim + i];
          affinity[c * n + s] = Math.exp(dot / temperature);
        }
      });
      // Keep the values ≥ the k-th largest (DINO: aff[aff < tk_val_min] = 0, so ties with it are kept too).
      const kth = affinity.slice().sort()[sources - Math.min(topK, sources)]; // native ascending sort
      let total = 0;
      for (let j = 0; j < sources; j++) if (affinity[j] >= kth) total += affinity[j];
      for (let j = 0; j < sources; j++) {
        if (affinity[j] < kth) continue;
        const weight = affinity[j] / total;
        const entry = context[Math.floor(j / n)];
        const s = j % n;
        for (let cls = 0; cls < numClasses; cls++) prediction[cls * n + q] += weight * entry.labels[cls * n + s];
      }
    }
    outputs.push(prediction);
    recent.push({ features: target, labels: prediction });
    if (recent.length > contextFrames) recent.shift();
  }
  return outputs;
}

function normaliseRows(features: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(features.length);
  for (let r = 0; r < features.length / dim; r++) {
    let sumSq = 0;
    for (let i = 0; i < dim; i++) sumSq += features[r * dim + i] ** 2;
    const scale = 1 / Math.max(Math.sqrt(sumSq), 1e-12);
    for (let i = 0; i < dim; i++) out[r * dim + i] = features[r * dim + i] * scale;
  }
  return out;
}

/**
 * Soft patch labels [C, rows·cols] → pixel labels (rows·p) × (cols·p): bilinear upsampling (align_corners=False),
 * DINO's norm_mask (per class: subtract the min, divide by the max, when the max is > 0), then the arg-max
 * (ties: the lower class).
 */
export function upsampleToPixelLabels(soft: Float32Array, numClasses: number, rows: number, cols: number, patchSize: number): Uint8Array {
  const height = rows * patchSize;
  const width = cols * patchSize;
  const pixels = width * height;
  const up = new Float32Array(numClasses * pixels);
  const axis = (i: number, size: number) => {
    const src = Math.max(0, (i + 0.5) / patchSize - 0.5);
    const low = Math.min(Math.floor(src), size - 1);
    return { low, high: Math.min(low + 1, size - 1), w: src - low };
  };
  for (let y = 0; y < height; y++) {
    const ay = axis(y, rows);
    for (let x = 0; x < width; x++) {
      const ax = axis(x, cols);
      for (let c = 0; c < numClasses; c++) {
        const at = (r: number, cc: number) => soft[c * rows * cols + r * cols + cc];
        const top = at(ay.low, ax.low) * (1 - ax.w) + at(ay.low, ax.high) * ax.w;
        const bottom = at(ay.high, ax.low) * (1 - ax.w) + at(ay.high, ax.high) * ax.w;
        up[c * pixels + y * width + x] = top * (1 - ay.w) + bottom * ay.w;
      }
    }
  }
  for (let c = 0; c < numClasses; c++) {
    const channel = up.subarray(c * pixels, (c + 1) * pixels);
    let max = -Infinity;
    for (const v of channel) max = Math.max(max, v);
    if (!(max > 0)) continue;
    let min = Infinity;
    for (const v of channel) min = Math.min(min, v);
    const range = max - min;
    for (let i = 0; i < pixels; i++) channel[i] = range > 0 ? (channel[i] - min) / range : 0;
  }
  const labels = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (up[c * pixels + i] > up[best * pixels + i]) best = c;
    labels[i] = best;
  }
  return labels;
}
