/**
 * DoRA's multi-object tracker (official utils.MOT), in the paper's notation:
 *   anchor frame t = 0; A = its [CLS]→patch attention, Q̃ its patch queries (heads concatenated), Z̃ its L2-normalised
 *   final patch tokens;
 *   P  = A_I · Q̃               k prototypes from k random heads I               (objectPrototypes)
 *   M* = SinkhornKnopp(Z̃ Pᵀ)   distinct, balanced patch→object assignment        (sinkhorn.ts)
 *   P′ = M*ᵀ · Z̃               refined prototypes (a sum, not a mean)             (refinePrototypes)
 *   T_t = softmax(P′ K̃_tᵀ / √D) over patches, for every frame t (tracking)        (trackAcrossFrames)
 *   mask = T_t/‖T_t‖ > mean over the WHOLE batch [B, N] (official quirk)          (binariseMaps)
 *   masked views X_t ⊙ nearest-upsampled mask                                     (maskImages)
 * Nothing here is differentiated: the teacher's outputs are constants for the student's loss.
 */
import * as tf from '@tensorflow/tfjs';
import { rowNorm } from '../model/layers';
import { sinkhornKnopp, type SinkhornOptions } from './sinkhorn';

export interface TrackerInputs {
  /** [B, heads, T, T] teacher last-block attention of the anchor frame. */
  anchorAttn: tf.Tensor4D;
  /** [B, heads, T, head_dim] teacher last-block queries of the anchor frame. */
  anchorQuery: tf.Tensor4D;
  /** [F, B, heads, T, head_dim] teacher last-block keys of every frame. */
  keys: tf.Tensor;
  /** [B, N, D] teacher final-norm patch tokens of the anchor frame (no [CLS]). */
  anchorPatches: tf.Tensor3D;
  /** k distinct head indices (official: random.sample(range(heads), 3), shared by the whole batch). */
  heads: number[];
  sinkhorn: SinkhornOptions;
}

/** Everything the tracker computes, as plain arrays (shapes in the comments; object axis first as in the golden cases). */
export interface TrackerResult {
  batch: number;
  frames: number;
  objects: number;
  patches: number;
  dim: number;
  prototypes: Float32Array; // [B, k, D]  P
  skLogits: Float32Array; // [B, N, k]  Z̃ Pᵀ
  assignment: Float32Array; // [B, N, k]  M*
  refinedPrototypes: Float32Array; // [B, k, D]  P′
  attnMaps: Float32Array; // [k, B, F, N]  T before binarisation
  attnMapsL2: Float32Array; // [k, B, F, N]  T/‖T‖ (the thresholded value)
  threshold: Float32Array; // [k, F]     mean over [B, N]
  margin: Float32Array; // [k, B, F, N]  attnMapsL2 − threshold
  maskPatch: Uint8Array; // [k, B, F, N]  1 = kept (margin > 0; NaN ⇒ 0 as in the official code)
}

/** Concatenate heads: [B, heads, T, dh] → [B, T−1, heads·dh] without the [CLS] token ('b h n d -> b n (h d)'). */
function patchTokensHeadsConcatenated(x: tf.Tensor4D): tf.Tensor3D {
  const [b, h, t, dh] = x.shape;
  return tf
    .slice(x, [0, 0, 1, 0], [b, h, t - 1, dh])
    .transpose([0, 2, 1, 3])
    .reshape([b, t - 1, h * dh]);
}

/** P = A_I · Q̃: the [CLS]→patch attention rows of the chosen heads weight the anchor's patch queries. [B, k, D] */
export function objectPrototypes(anchorAttn: tf.Tensor4D, anchorQuery: tf.Tensor4D, heads: number[]): tf.Tensor3D {
  const [b, h, t] = anchorAttn.shape;
  for (const head of heads) if (!(head >= 0 && head < h)) throw new Error(`tracker: head index ${head} out of range 0..${h - 1}`);
  const clsToPatch = heads.map((head) => tf.slice(anchorAttn, [0, head, 0, 1], [b, 1, 1, t - 1]).reshape([b, 1, t - 1]));
  return tf.matMul(tf.concat(clsToPatch, 1), patchTokensHeadsConcatenated(anchorQuery)) as tf.Tensor3D;
}

/** P′ = M*ᵀ · Z̃. [B, k, D] */
export function refinePrototypes(assignment: tf.Tensor3D, normalisedPatches: tf.Tensor3D): tf.Tensor3D {
  return tf.matMul(assignment, normalisedPatches, true, false) as tf.Tensor3D;
}

/** T_t^o = softmax over patches of P′_o · K̃_tᵀ · D^−½ for every frame t. keys [F,B,h,T,dh] → [k, B, F, N]. */
export function trackAcrossFrames(refined: tf.Tensor3D, keys: tf.Tensor): tf.Tensor4D {
  const [f, b, h, t, dh] = keys.shape as [number, number, number, number, number];
  const d = h * dh;
  const k = refined.shape[1];
  const patchKeys = patchTokensHeadsConcatenated(keys.reshape([f * b, h, t, dh]) as tf.Tensor4D).reshape([f, b, t - 1, d]);
  const prototypes = tf.broadcastTo(refined.reshape([1, b, k, d]), [f, b, k, d]);
  const logits = tf.mul(tf.matMul(prototypes, patchKeys, false, true), d ** -0.5); // [F, B, k, N]
  return tf.softmax(logits).transpose([2, 1, 0, 3]) as tf.Tensor4D;
}

/** Binarisation with the official batch-wide threshold: mean of T/‖T‖ over all clips and patches, per object and frame. */
export function binariseMaps(maps: tf.Tensor4D): { l2: tf.Tensor4D; threshold: tf.Tensor2D; margin: tf.Tensor4D } {
  const l2 = tf.div(maps, rowNorm(maps)) as tf.Tensor4D;
  const threshold = tf.mean(l2, [1, 3]) as tf.Tensor2D; // [k, F]
  const [k, , f] = l2.shape;
  const margin = tf.sub(l2, threshold.reshape([k, 1, f, 1])) as tf.Tensor4D;
  return { l2, threshold, margin };
}

export async function runTracker(inp: TrackerInputs): Promise<TrackerResult> {
  const [b, , t] = inp.anchorAttn.shape;
  const n = t - 1;
  const k = inp.heads.length;
  const f = inp.keys.shape[0];
  const d = inp.anchorPatches.shape[2];
  const { prototypes, skLogits, normalised } = tf.tidy(() => {
    const p = objectPrototypes(inp.anchorAttn, inp.anchorQuery, inp.heads);
    const z = tf.div(inp.anchorPatches, rowNorm(inp.anchorPatches)) as tf.Tensor3D; // official: no epsilon
    return { prototypes: p, skLogits: tf.matMul(z, p, false, true), normalised: z };
  });
  const logitsData = (await skLogits.data()) as Float32Array;
  const assignment = sinkhornKnopp(logitsData, b, n, k, inp.sinkhorn);
  const rest = tf.tidy(() => {
    const refined = refinePrototypes(tf.tensor3d(assignment, [b, n, k]), normalised);
    const maps = trackAcrossFrames(refined, inp.keys);
    const { l2, threshold, margin } = binariseMaps(maps);
    return { refined, maps, l2, threshold, margin };
  });
  const [margin, prototypesData, refinedData, mapsData, l2Data, thresholdData] = (await Promise.all(
    [rest.margin, prototypes, rest.refined, rest.maps, rest.l2, rest.threshold].map((t) => t.data()),
  )) as Float32Array[];
  const maskPatch = new Uint8Array(margin.length);
  for (let i = 0; i < margin.length; i++) maskPatch[i] = margin[i] > 0 ? 1 : 0;
  const result: TrackerResult = {
    batch: b,
    frames: f,
    objects: k,
    patches: n,
    dim: d,
    prototypes: prototypesData,
    skLogits: logitsData,
    assignment,
    refinedPrototypes: refinedData,
    attnMaps: mapsData,
    attnMapsL2: l2Data,
    threshold: thresholdData,
    margin,
    maskPatch,
  };
  tf.dispose([prototypes, skLogits, normalised, rest.refined, rest.maps, rest.l2, rest.threshold, rest.margin]);
  return result;
}

/**
 * Nearest-upsampled (×patch) binary masks as a pixel array, in the order `order` asks for: 'clip-major' gives
 * [k, B, F, 1, H, W] (the official layout), 'frame-major' gives [k, F, B, 1, H, W] (the trainer's batched layout).
 * maskPatch is [k, B, F, rows·cols]; pixels beyond rows·patch or cols·patch stay 0.
 */
export function upsampleMasks(
  maskPatch: Uint8Array,
  objects: number,
  batch: number,
  frames: number,
  h: number,
  w: number,
  patchSize: number,
  order: 'clip-major' | 'frame-major',
): Float32Array {
  const rows = Math.floor(h / patchSize);
  const cols = Math.floor(w / patchSize);
  const pixelMask = new Float32Array(objects * batch * frames * h * w);
  for (let o = 0; o < objects; o++) {
    for (let b = 0; b < batch; b++) {
      for (let f = 0; f < frames; f++) {
        const src = ((o * batch + b) * frames + f) * rows * cols;
        const view = order === 'clip-major' ? (o * batch + b) * frames + f : (o * frames + f) * batch + b;
        const dst = view * h * w;
        for (let y = 0; y < rows * patchSize; y++) {
          const rowBase = src + Math.floor(y / patchSize) * cols;
          for (let x = 0; x < cols * patchSize; x++) pixelMask[dst + y * w + x] = maskPatch[rowBase + Math.floor(x / patchSize)];
        }
      }
    }
  }
  return pixelMask;
}

/**
 * Masked views (utils.MOT's return value): images [B, F, 3, H, W] × each object's mask → [k, B, F, 3, H, W].
 * Pixels outside the object become 0, i.e. the ImageNet mean, since the crops are already normalised.
 */
export function maskImages(images: tf.Tensor, maskPatch: Uint8Array, objects: number, patchSize: number): tf.Tensor {
  const [b, f, , h, w] = images.shape as [number, number, number, number, number];
  const pixelMask = upsampleMasks(maskPatch, objects, b, f, h, w, patchSize, 'clip-major');
  return tf.tidy(() => tf.mul(images.reshape([1, b, f, 3, h, w]), tf.tensor(pixelMask, [objects, b, f, 1, h, w])));
}

/** The same masked views for frame-major images [F, B, 3, H, W] → [k, F, B, 3, H, W] (no rank-6 transpose needed). */
export function maskFrameMajorImages(framesFirst: tf.Tensor, maskPatch: Uint8Array, objects: number, patchSize: number): tf.Tensor {
  const [f, b, , h, w] = framesFirst.shape as [number, number, number, number, number];
  const pixelMask = upsampleMasks(maskPatch, objects, b, f, h, w, patchSize, 'frame-major');
  return tf.tidy(() => tf.mul(framesFirst.reshape([1, f, b, 3, h, w]), tf.tensor(pixelMask, [objects, f, b, 1, h, w])));
}
