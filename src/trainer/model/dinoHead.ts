/**
 * DINOHead (official vision_transformer.py): an MLP with GELU (no BN) → L2-normalise → weight-normed linear layer
 * W = g · v / ‖v‖_row (torch weight_norm, dim 0). `normLastLayer` only freezes g (the forward is the same).
 */
import * as tf from '@tensorflow/tfjs';
import { fusedLinear, fusedWeightNormLinear } from './fused';
import { l2Normalize, rowNorm, type ParamGetter } from './layers';

export interface DinoHeadConfig {
  inDim: number;
  outDim: number;
  hiddenDim: number;
  bottleneckDim: number;
  nlayers: number;
  normLastLayer: boolean;
}

/** Names of the Linear layers inside `mlp`: index 0, 2, 4 … (a GELU sits between), or `mlp` itself when nlayers = 1. */
function mlpLinearPrefixes(cfg: DinoHeadConfig): string[] {
  if (cfg.nlayers <= 1) return ['mlp.'];
  return Array.from({ length: cfg.nlayers }, (_, i) => `mlp.${2 * i}.`);
}

export function dinoHeadParamNames(cfg: DinoHeadConfig): string[] {
  return [...mlpLinearPrefixes(cfg).flatMap((p) => [`${p}weight`, `${p}bias`]), 'last_layer.weight_g', 'last_layer.weight_v'];
}

export function dinoHeadParamShapes(cfg: DinoHeadConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const prefixes = mlpLinearPrefixes(cfg);
  prefixes.forEach((p, i) => {
    const inDim = i === 0 ? cfg.inDim : cfg.hiddenDim;
    const outDim = i === prefixes.length - 1 ? cfg.bottleneckDim : cfg.hiddenDim;
    shapes.set(`${p}weight`, [outDim, inDim]);
    shapes.set(`${p}bias`, [outDim]);
  });
  shapes.set('last_layer.weight_g', [cfg.outDim, 1]);
  shapes.set('last_layer.weight_v', [cfg.outDim, cfg.bottleneckDim]);
  return shapes;
}

/** The effective last-layer weight g · v / ‖v‖ (rows), [out, bottleneck]. */
export function weightNormedLastLayer(get: ParamGetter): tf.Tensor2D {
  const v = get('last_layer.weight_v');
  return tf.mul(get('last_layer.weight_g'), tf.div(v, rowNorm(v))) as tf.Tensor2D;
}

export interface DinoHeadOutput {
  bottleneck: tf.Tensor2D;
  lastLayerWeight: tf.Tensor2D;
  out: tf.Tensor2D;
}

export function dinoHeadForward(x: tf.Tensor2D, get: ParamGetter, cfg: DinoHeadConfig): DinoHeadOutput {
  const prefixes = mlpLinearPrefixes(cfg);
  let h: tf.Tensor = x;
  prefixes.forEach((p, i) => {
    h = fusedLinear(h, get(`${p}weight`), get(`${p}bias`), { gelu: i < prefixes.length - 1 });
  });
  const bottleneck = l2Normalize(h) as tf.Tensor2D;
  const out = fusedWeightNormLinear(bottleneck, get('last_layer.weight_g'), get('last_layer.weight_v'));
  // The effective weight is only built when read (the golden cases compare it); training never needs it.
  let lastLayerWeight: tf.Tensor2D | undefined;
  return {
    bottleneck,
    out,
    get lastLayerWeight() {
      lastLayerWeight ??= weightNormedLastLayer(get);
      return lastLayerWeight;
    },
  };
}
