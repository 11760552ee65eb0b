/**
 * The DoRA/DINO Vision Transformer (official vision_transformer.py): pre-norm blocks, qkv bias, LayerNorm eps 1e-6,
 * exact GELU, learned [CLS] and positional embeddings. The forward returns what DoRA's tracker needs: the final-norm
 * [CLS] and patch tokens, and the LAST block's post-softmax attention with its per-head queries and keys.
 */
import * as tf from '@tensorflow/tfjs';
import { gelu, layerNorm, linear, scoped, type ParamGetter } from './layers';
import { posEmbedInterpolationMatrix } from './posEmbed';

export interface VitConfig {
  embedDim: number;
  depth: number;
  numHeads: number;
  patchSize: number;
  /** Training image side the positional embedding was made for (grid side = imgSize / patchSize). */
  imgSize: number;
  mlpRatio: number;
  lnEps: number;
  qkvBias: boolean;
}

export const VIT_SMALL: VitConfig = {
  embedDim: 384,
  depth: 12,
  numHeads: 6,
  patchSize: 16,
  imgSize: 224,
  mlpRatio: 4,
  lnEps: 1e-6,
  qkvBias: true,
};
export const VIT_TINY: VitConfig = { ...VIT_SMALL, embedDim: 192, numHeads: 3 };

export interface VitOutput {
  /** [B, D] final-norm [CLS] token. */
  cls: tf.Tensor2D;
  /** [B, 1+N, D] final-norm tokens, [CLS] first. */
  tokens: tf.Tensor3D;
  /** [B, heads, 1+N, 1+N] last block attention after softmax. */
  attn: tf.Tensor4D;
  /** [B, heads, 1+N, head_dim] last block queries and keys (before the 1/√d scale). */
  q: tf.Tensor4D;
  k: tf.Tensor4D;
  /**
   * Only with `keepIntermediates`: patch embeddings [B,N,D], the positional embedding used [1,1+N,D], and each
   * block's residual output [B,1+N,D].
   */
  patchEmbed?: tf.Tensor3D;
  posEmbed?: tf.Tensor3D;
  blockOutputs?: tf.Tensor3D[];
}

/** Official parameter names, in PyTorch's named_parameters() order. */
export function vitParamNames(cfg: VitConfig): string[] {
  const names = ['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias'];
  for (let i = 0; i < cfg.depth; i++) {
    for (const p of [
      'norm1.weight',
      'norm1.bias',
      'attn.qkv.weight',
      'attn.qkv.bias',
      'attn.proj.weight',
      'attn.proj.bias',
      'norm2.weight',
      'norm2.bias',
      'mlp.fc1.weight',
      'mlp.fc1.bias',
      'mlp.fc2.weight',
      'mlp.fc2.bias',
    ]) {
      if (!cfg.qkvBias && p === 'attn.qkv.bias') continue;
      names.push(`blocks.${i}.${p}`);
    }
  }
  names.push('norm.weight', 'norm.bias');
  return names;
}

export function vitParamShapes(cfg: VitConfig): Map<string, number[]> {
  const d = cfg.embedDim;
  const grid = cfg.imgSize / cfg.patchSize;
  const hidden = Math.floor(d * cfg.mlpRatio);
  const shapes = new Map<string, number[]>();
  for (const name of vitParamNames(cfg)) {
    const leaf = name.replace(/^blocks\.\d+\./, '');
    const shape: Record<string, number[]> = {
      cls_token: [1, 1, d],
      pos_embed: [1, 1 + grid * grid, d],
      'patch_embed.proj.weight': [d, 3, cfg.patchSize, cfg.patchSize],
      'patch_embed.proj.bias': [d],
      'attn.qkv.weight': [3 * d, d],
      'attn.qkv.bias': [3 * d],
      'attn.proj.weight': [d, d],
      'attn.proj.bias': [d],
      'mlp.fc1.weight': [hidden, d],
      'mlp.fc1.bias': [hidden],
      'mlp.fc2.weight': [d, hidden],
      'mlp.fc2.bias': [d],
    };
    shapes.set(name, shape[leaf] ?? [d]); // norm weights and biases are [D]
  }
  return shapes;
}

/**
 * PatchEmbed (a stride-p Conv2d) as reshape + transpose + matMul: the conv filter gradient is missing on wasm.
 * x: [B, 3, H, W] NCHW → [B, N, D] with patches row-major.
 */
export function patchEmbed(x: tf.Tensor4D, weight: tf.Tensor, bias: tf.Tensor, patchSize: number): tf.Tensor3D {
  const d = weight.shape[0];
  const { patches, rows, cols } = patchify(x, patchSize);
  const [b, c] = [x.shape[0], x.shape[1]];
  return linear(patches, weight.reshape([d, c * patchSize * patchSize]), bias).reshape([b, rows * cols, d]);
}

/**
 * Cuts NCHW images into flattened patches [B·N, 3·p·p] (channel, then row, then column inside a patch, like the
 * Conv2d weight). Written with two rank-4 transposes: tfjs-wasm's rank-5/6 transposes take a slow generic path.
 */
export function patchify(x: tf.Tensor4D, patchSize: number): { patches: tf.Tensor2D; rows: number; cols: number } {
  const [b, c, h, w] = x.shape;
  const p = patchSize;
  const rows = Math.floor(h / p);
  const cols = Math.floor(w / p);
  const cropped = rows * p === h && cols * p === w ? x : tf.slice(x, [0, 0, 0, 0], [b, c, rows * p, cols * p]);
  const patches = cropped
    .reshape([b * c * rows, p, cols, p])
    .transpose([0, 2, 1, 3]) // [B·C·rows, cols, p, p]
    .reshape([b, c, rows * cols, p * p])
    .transpose([0, 2, 1, 3]) // [B, N, C, p·p]
    .reshape([b * rows * cols, c * p * p]) as tf.Tensor2D;
  return { patches, rows, cols };
}

const interpolationCache = new Map<string, Float32Array>();

/** interpolate_pos_encoding: the stored embedding at the native size, otherwise DINO's bicubic resize (+0.1 trick). */
export function interpolatePosEmbed(posEmbed: tf.Tensor, numPatches: number, imgH: number, imgW: number, patchSize: number): tf.Tensor3D {
  const stored = posEmbed.shape[1]! - 1;
  if (numPatches === stored && imgH === imgW) return posEmbed as tf.Tensor3D;
  const grid = Math.round(Math.sqrt(stored));
  const rows = Math.floor(imgH / patchSize);
  const cols = Math.floor(imgW / patchSize);
  const key = `${grid}:${rows}:${cols}`;
  let matrix = interpolationCache.get(key);
  if (!matrix) {
    matrix = posEmbedInterpolationMatrix(grid, rows, cols);
    interpolationCache.set(key, matrix);
  }
  const d = posEmbed.shape[2]!;
  const classPos = tf.slice(posEmbed, [0, 0, 0], [1, 1, d]);
  const patchPos = tf.slice(posEmbed, [0, 1, 0], [1, stored, d]).reshape([stored, d]);
  const resized = tf.matMul(tf.tensor2d(matrix, [rows * cols, stored]), patchPos).reshape([1, rows * cols, d]);
  return tf.concat([classPos, resized], 1) as tf.Tensor3D;
}

/** One pre-norm transformer block; returns the residual stream and the block's attention, q and k. */
export function transformerBlock(
  x: tf.Tensor3D,
  get: ParamGetter,
  cfg: VitConfig,
): { out: tf.Tensor3D; attn: tf.Tensor4D; q: tf.Tensor4D; k: tf.Tensor4D } {
  const [b, t, d] = x.shape;
  const heads = cfg.numHeads;
  const headDim = d / heads;
  const h = layerNorm(x, get('norm1.weight'), get('norm1.bias'), cfg.lnEps);
  const qkv = linear(h, get('attn.qkv.weight'), cfg.qkvBias ? get('attn.qkv.bias') : undefined); // [B, T, 3D]: q | k | v
  // Split first, then a rank-4 transpose per tensor: [B, T, D] → [B, heads, T, head_dim].
  const [q, k, v] = tf.split(qkv, 3, 2).map((part) => part.reshape([b, t, heads, headDim]).transpose([0, 2, 1, 3]) as tf.Tensor4D);
  const attn = tf.softmax(tf.mul(tf.matMul(q, k, false, true), headDim ** -0.5)) as tf.Tensor4D;
  const mixed = tf.matMul(attn, v).transpose([0, 2, 1, 3]).reshape([b, t, d]);
  const y = tf.add(x, linear(mixed, get('attn.proj.weight'), get('attn.proj.bias'))) as tf.Tensor3D;
  const mlpIn = layerNorm(y, get('norm2.weight'), get('norm2.bias'), cfg.lnEps);
  const mlpOut = linear(gelu(linear(mlpIn, get('mlp.fc1.weight'), get('mlp.fc1.bias'))), get('mlp.fc2.weight'), get('mlp.fc2.bias'));
  return { out: tf.add(y, mlpOut) as tf.Tensor3D, attn, q, k };
}

/** VisionTransformer.forward on NCHW images [B, 3, H, W]. */
export function vitForward(x: tf.Tensor4D, get: ParamGetter, cfg: VitConfig, keepIntermediates = false): VitOutput {
  const [b, , h, w] = x.shape;
  const embedded = patchEmbed(x, get('patch_embed.proj.weight'), get('patch_embed.proj.bias'), cfg.patchSize);
  const numPatches = embedded.shape[1];
  const d = cfg.embedDim;
  const cls = tf.broadcastTo(get('cls_token'), [b, 1, d]);
  const pos = interpolatePosEmbed(get('pos_embed'), numPatches, h, w, cfg.patchSize);
  let tokens = tf.add(tf.concat([cls, embedded], 1), pos) as tf.Tensor3D;
  const blockOutputs: tf.Tensor3D[] = [];
  let last: ReturnType<typeof transformerBlock> | undefined;
  for (let i = 0; i < cfg.depth; i++) {
    last = transformerBlock(tokens, scoped(get, `blocks.${i}.`), cfg);
    tokens = last.out;
    if (keepIntermediates) blockOutputs.push(tokens);
  }
  if (!last) throw new Error('vitForward: depth must be ≥ 1');
  const normed = layerNorm(tokens, get('norm.weight'), get('norm.bias'), cfg.lnEps) as tf.Tensor3D;
  const out: VitOutput = {
    cls: tf.slice(normed, [0, 0, 0], [b, 1, d]).reshape([b, d]),
    tokens: normed,
    attn: last.attn,
    q: last.q,
    k: last.k,
  };
  if (keepIntermediates) Object.assign(out, { patchEmbed: embedded, posEmbed: pos, blockOutputs });
  return out;
}
