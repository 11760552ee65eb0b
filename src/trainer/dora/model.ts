/**
 * The DoRA networks: student and EMA teacher, each a ViT backbone + DINO head (MultiCropWrapper names:
 * `backbone.*`, `head.*`), held as TF.js variables keyed by the official PyTorch state_dict names and layouts.
 */
import * as tf from '@tensorflow/tfjs';
import { dinoHeadForward, dinoHeadParamNames, dinoHeadParamShapes, type DinoHeadConfig } from '../model/dinoHead';
import { scoped, type ParamGetter } from '../model/layers';
import { vitClsTokens, vitForward, vitParamNames, vitParamShapes, type VitConfig, type VitOutput } from '../model/vit';
import { createAdamWState, disposeAdamWState, type AdamWState } from '../optim/adamw';

export interface DoraModelConfig {
  vit: VitConfig;
  head: Omit<DinoHeadConfig, 'inDim'>;
}

export type ParamMap = Map<string, tf.Variable>;

export interface DoraState {
  cfg: DoraModelConfig;
  student: ParamMap;
  teacher: ParamMap;
  /** [1, outDim] DINOLoss centre. */
  center: tf.Variable;
  optimizer: AdamWState;
}

export function headConfig(cfg: DoraModelConfig): DinoHeadConfig {
  return { ...cfg.head, inDim: cfg.vit.embedDim };
}

/** Student/teacher parameter names in PyTorch named_parameters() order (backbone first, then head). */
export function doraParamNames(cfg: DoraModelConfig): string[] {
  return [...vitParamNames(cfg.vit).map((n) => `backbone.${n}`), ...dinoHeadParamNames(headConfig(cfg)).map((n) => `head.${n}`)];
}

export function doraParamShapes(cfg: DoraModelConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const [n, s] of vitParamShapes(cfg.vit)) shapes.set(`backbone.${n}`, s);
  for (const [n, s] of dinoHeadParamShapes(headConfig(cfg))) shapes.set(`head.${n}`, s);
  return shapes;
}

/** Names the optimiser updates: everything, except weight_g when norm_last_layer freezes it. */
export function trainableParamNames(cfg: DoraModelConfig): string[] {
  return doraParamNames(cfg).filter((n) => !(cfg.head.normLastLayer && n === 'head.last_layer.weight_g'));
}

let variableSerial = 0;

/** Wraps arrays as variables with engine-unique names (several states may coexist, e.g. in the golden runner). */
export function makeParamMap(values: Map<string, { data: Float32Array; shape: number[] }>, role: string): ParamMap {
  const id = variableSerial++;
  const map: ParamMap = new Map();
  for (const [name, v] of values) {
    const initial = tf.tensor(v.data, v.shape);
    map.set(name, tf.variable(initial, role === 'student', `${role}${id}/${name}`));
    initial.dispose();
  }
  return map;
}

export function getter(params: ParamMap, prefix = ''): ParamGetter {
  return (name) => {
    const p = params.get(`${prefix}${name}`);
    if (!p) throw new Error(`missing parameter ${prefix}${name}`);
    return p;
  };
}

/** Backbone + head on a batch of NCHW images. */
export function networkForward(params: ParamMap, cfg: DoraModelConfig, images: tf.Tensor4D): { backbone: VitOutput; out: tf.Tensor2D } {
  const get = getter(params);
  const backbone = vitForward(images, scoped(get, 'backbone.'), cfg.vit);
  const out = dinoHeadForward(backbone.cls, scoped(get, 'head.'), headConfig(cfg)).out;
  return { backbone, out };
}

/**
 * The student on the masked views and the local crops of one pass: one backbone pass over both (vitClsTokens), then
 * ONE head forward on their concatenated [CLS] rows (the head is row-wise, so this is the same computation, with the
 * weight-normed last layer built once). Returns [masked rows, local rows] of head outputs.
 */
export function studentForward(
  params: ParamMap,
  cfg: DoraModelConfig,
  masked: tf.Tensor4D,
  local: tf.Tensor4D,
): [tf.Tensor2D, tf.Tensor2D] {
  const get = getter(params);
  const backbone = scoped(get, 'backbone.');
  const cls = tf.concat(vitClsTokens([masked, local], backbone, cfg.vit), 0) as tf.Tensor2D;
  const out = dinoHeadForward(cls, scoped(get, 'head.'), headConfig(cfg)).out;
  const rows = masked.shape[0];
  return [tf.slice(out, [0, 0], [rows, -1]), tf.slice(out, [rows, 0], [local.shape[0], -1])];
}

/**
 * A fresh model with the official initialisation: trunc_normal(0.02) for Linear weights, cls_token and pos_embed,
 * zero biases, LayerNorm (1, 0); the patch-embedding Conv2d and the head's last layer keep PyTorch's default
 * kaiming-uniform init (bound 1/√fan_in); weight_g = 1. The teacher starts as a copy of the student.
 */
export function createDoraState(cfg: DoraModelConfig, random: () => number): DoraState {
  const normal = () => {
    const u = 1 - random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const truncNormal = (n: number, std: number) => Float32Array.from({ length: n }, () => Math.min(2, Math.max(-2, normal() * std)));
  const uniform = (n: number, bound: number) => Float32Array.from({ length: n }, () => (2 * random() - 1) * bound);
  const values = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [name, shape] of doraParamShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name === 'backbone.patch_embed.proj.weight' || name === 'backbone.patch_embed.proj.bias')
      data = uniform(n, 1 / Math.sqrt(3 * cfg.vit.patchSize ** 2));
    else if (name === 'head.last_layer.weight_v') data = uniform(n, 1 / Math.sqrt(cfg.head.bottleneckDim));
    else if (name === 'head.last_layer.weight_g') data = new Float32Array(n).fill(1);
    else if (/norm\d?\.weight$/.test(name)) data = new Float32Array(n).fill(1);
    else if (name.endsWith('.bias')) data = new Float32Array(n);
    else data = truncNormal(n, 0.02);
    values.set(name, { data, shape });
  }
  return {
    cfg,
    student: makeParamMap(values, 'student'),
    teacher: makeParamMap(values, 'teacher'),
    center: tf.variable(tf.zeros([1, cfg.head.outDim]), false),
    optimizer: createAdamWState(),
  };
}

export function disposeDoraState(state: DoraState): void {
  for (const v of state.student.values()) v.dispose();
  for (const v of state.teacher.values()) v.dispose();
  state.center.dispose();
  disposeAdamWState(state.optimizer);
}
