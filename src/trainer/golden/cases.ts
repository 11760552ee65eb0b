/**
 * Runs one golden case through the project's real modules. Each `kind` maps the case's inputs and `config`
 * (shapes and hyper-parameters are read from the file, never assumed) onto the same functions training uses.
 */
import * as tf from '@tensorflow/tfjs';
import { readSafetensors, type NamedArray } from '../io/safetensors';
import { dinoHeadForward, type DinoHeadConfig } from '../model/dinoHead';
import { vitForward, type VitConfig } from '../model/vit';
import { doraLoss, updatedCenter } from '../dora/loss';
import { createAdamWState } from '../optim/adamw';
import { doraParamNames, getter, makeParamMap, disposeDoraState, type DoraModelConfig, type DoraState } from '../dora/model';
import { sinkhornKnopp, OFFICIAL_SINKHORN } from '../dora/sinkhorn';
import { maskImages, runTracker } from '../dora/tracker';
import { doraTrainStep, type DoraStepHyper, type StepOutcome } from '../dora/trainStep';
import { cosineScheduler, teacherTempSchedule } from '../optim/schedules';
import type { Array32, ToleranceSpec } from './tolerance';

export interface GoldenCase {
  file: string;
  kind: string;
  name: string;
  config: Record<string, unknown>;
  tolerance: ToleranceSpec;
  tensors: Map<string, NamedArray>;
}

export function loadGoldenCase(file: string): GoldenCase {
  const { metadata, tensors } = readSafetensors(file);
  const parse = (key: string): Record<string, unknown> => {
    if (metadata[key] === undefined) throw new Error(`${file}: metadata has no "${key}" entry (is this a golden case?)`);
    try {
      return JSON.parse(metadata[key]) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${file}: metadata "${key}" is not JSON: ${(e as Error).message}`);
    }
  };
  if (!metadata.kind) throw new Error(`${file}: metadata has no "kind" (is this a golden case?)`);
  return {
    file,
    kind: metadata.kind,
    name: metadata.case ?? file,
    config: parse('config'),
    tolerance: parse('tolerance') as ToleranceSpec,
    tensors,
  };
}

type Outputs = Map<string, Array32>;

function num(cfg: Record<string, unknown>, key: string, fallback?: number): number {
  const v = cfg[key];
  if (typeof v === 'number') return v;
  if (fallback !== undefined) return fallback;
  throw new Error(`golden config has no numeric "${key}"`);
}

function input(c: GoldenCase, name: string): NamedArray {
  const t = c.tensors.get(name);
  if (!t) throw new Error(`${c.file}: missing tensor ${name}`);
  return t;
}

function toTensor(a: NamedArray): tf.Tensor {
  return tf.tensor(Float32Array.from(a.data as ArrayLike<number>), a.shape);
}

/** Parameters stored as `<prefix><name>` become a name → tensor map without the prefix. */
function paramsWithPrefix(c: GoldenCase, prefix: string): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  for (const [name, t] of c.tensors) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), t);
  return out;
}

function vitConfigFrom(cfg: Record<string, unknown>): VitConfig {
  return {
    embedDim: num(cfg, 'embed_dim'),
    depth: num(cfg, 'depth'),
    numHeads: num(cfg, 'num_heads'),
    patchSize: num(cfg, 'patch_size'),
    imgSize: num(cfg, 'img_size'),
    mlpRatio: num(cfg, 'mlp_ratio', 4),
    lnEps: num(cfg, 'ln_eps', 1e-6),
    qkvBias: cfg.qkv_bias !== false,
  };
}

function headConfigFrom(cfg: Record<string, unknown>, normLastLayer: boolean): Omit<DinoHeadConfig, 'inDim'> {
  return {
    outDim: num(cfg, 'out_dim'),
    hiddenDim: num(cfg, 'head_hidden_dim'),
    bottleneckDim: num(cfg, 'head_bottleneck_dim'),
    nlayers: num(cfg, 'head_nlayers', 3),
    normLastLayer,
  };
}

/** tf.tidy for (async) functions that return plain arrays: every tensor made inside is released afterwards. */
async function scoped<T>(fn: () => Promise<T>): Promise<T> {
  tf.engine().startScope();
  try {
    return await fn();
  } finally {
    tf.engine().endScope();
  }
}

/** Reads a tensor asynchronously (the webgpu backend cannot read synchronously in Node). */
async function read(t: tf.Tensor): Promise<Array32> {
  return { data: (await t.data()) as Float32Array, shape: t.shape };
}

/** Reads named tensors into Outputs. */
async function readAll(entries: [string, tf.Tensor][]): Promise<Outputs> {
  return new Map(await Promise.all(entries.map(async ([n, t]) => [n, await read(t)] as [string, Array32])));
}

function runVitForward(c: GoldenCase): Promise<Outputs> {
  const cfg = vitConfigFrom(c.config);
  const params = paramsWithPrefix(c, 'param.');
  return scoped(async () => {
    const tensors = new Map([...params].map(([n, a]) => [n, toTensor(a)]));
    const get = (n: string) => {
      const t = tensors.get(n);
      if (!t) throw new Error(`${c.file}: missing param.${n}`);
      return t;
    };
    const out = vitForward(toTensor(input(c, 'input.x')) as tf.Tensor4D, get, cfg, true);
    return readAll([
      ['patch_embed', out.patchEmbed!],
      ['pos_embed_interp', out.posEmbed!],
      ['cls', out.cls],
      ['tokens', out.tokens],
      ['attn', out.attn],
      ['q', out.q],
      ['k', out.k],
      ...out.blockOutputs!.map((b, i) => [`blocks.${i}.out`, b] as [string, tf.Tensor]),
    ]);
  });
}

function runHeadForward(c: GoldenCase): Promise<Outputs> {
  const x = input(c, 'input.x');
  const head: DinoHeadConfig = { inDim: x.shape[1], ...headConfigFrom(c.config, c.config.norm_last_layer === true) };
  return scoped(async () => {
    const tensors = new Map([...paramsWithPrefix(c, 'param.')].map(([n, a]) => [n, toTensor(a)]));
    const out = dinoHeadForward(toTensor(x) as tf.Tensor2D, (n) => tensors.get(n)!, head);
    return readAll([
      ['bottleneck', out.bottleneck],
      ['last_layer_weight', out.lastLayerWeight],
      ['out', out.out],
    ]);
  });
}

async function runSinkhorn(c: GoldenCase): Promise<Outputs> {
  const logits = input(c, 'input.logits');
  const [b, n, k] = logits.shape;
  const options = {
    variant: 'official' as const,
    iterations: num(c.config, 'num_iters_sk', 30),
    epsilon: num(c.config, 'epsilon_sk', 0.05),
  };
  return new Map([['assignment', { data: sinkhornKnopp(logits.data as ArrayLike<number>, b, n, k, options), shape: [b, n, k] }]]);
}

async function runMot(c: GoldenCase): Promise<Outputs> {
  const patchSize = num(c.config, 'patch_size');
  const heads = Array.from(input(c, 'input.heads').data as ArrayLike<number>);
  const sinkhorn = { variant: 'official' as const, iterations: num(c.config, 'sk_iters', 30), epsilon: num(c.config, 'sk_epsilon', 0.05) };
  const attn = toTensor(input(c, 'input.attn'));
  const query = toTensor(input(c, 'input.query'));
  const key = toTensor(input(c, 'input.key'));
  const patches = toTensor(input(c, 'input.teacher_patches'));
  const images = toTensor(input(c, 'input.images'));
  const [, b, h, t] = attn.shape;
  const dh = query.shape[4]!;
  const [, , n, d] = patches.shape;
  const anchor = (x: tf.Tensor, shape: number[]) => tf.slice(x, new Array(x.rank).fill(0), [1, ...x.shape.slice(1)]).reshape(shape);
  const anchorAttn = anchor(attn, [b, h, t, t]) as tf.Tensor4D;
  const anchorQuery = anchor(query, [b, h, t, dh]) as tf.Tensor4D;
  const anchorPatches = anchor(patches, [b, n, d]) as tf.Tensor3D;
  const r = await runTracker({ anchorAttn, anchorQuery, keys: key, anchorPatches, heads, sinkhorn });
  const masked = maskImages(images, r.maskPatch, heads.length, patchSize);
  const k = heads.length;
  const f = r.frames;
  const out: Outputs = new Map([
    ['prototypes', { data: r.prototypes, shape: [b, k, d] }],
    ['sk_logits', { data: r.skLogits, shape: [b, n, k] }],
    ['assignment', { data: r.assignment, shape: [b, n, k] }],
    ['refined_prototypes', { data: r.refinedPrototypes, shape: [b, k, d] }],
    ['attn_maps', { data: r.attnMaps, shape: [k, b, f, n] }],
    ['attn_maps_l2', { data: r.attnMapsL2, shape: [k, b, f, n] }],
    ['threshold', { data: r.threshold, shape: [k, f] }],
    ['margin', { data: r.margin, shape: [k, b, f, n] }],
    ['mask_patch', { data: r.maskPatch, shape: [k, b, f, n] }],
    ['masked_images', await read(masked)],
  ]);
  tf.dispose([attn, query, key, patches, images, anchorAttn, anchorQuery, anchorPatches, masked]);
  return out;
}

function runDinoLoss(c: GoldenCase): Promise<Outputs> {
  const cfg = c.config;
  const temps = teacherTempSchedule(
    num(cfg, 'warmup_teacher_temp'),
    num(cfg, 'teacher_temp'),
    num(cfg, 'warmup_teacher_temp_epochs'),
    num(cfg, 'nepochs'),
  );
  const teacherTemp = temps[num(cfg, 'epoch')];
  return scoped(async () => {
    const common = {
      teacherOut: toTensor(input(c, 'input.teacher')) as tf.Tensor3D,
      studentMasked: toTensor(input(c, 'input.student_masked')) as tf.Tensor4D,
      studentLocal: toTensor(input(c, 'input.student_local')) as tf.Tensor3D,
      center: toTensor(input(c, 'input.center')) as tf.Tensor2D,
      teacherTemp,
      studentTemp: num(cfg, 'student_temp', 0.1),
    };
    const official = doraLoss({ ...common, variant: 'official' });
    const clean = doraLoss({ ...common, variant: 'clean' });
    return readAll([
      ['loss', official.loss],
      ['loss_clean', clean.loss],
      ['center', updatedCenter(common.center, common.teacherOut, num(cfg, 'center_momentum', 0.9))],
      ['ce_masked', official.ceMasked],
      ['ce_local', official.ceLocal],
    ]);
  });
}

async function runSchedules(c: GoldenCase): Promise<Outputs> {
  const cfg = c.config;
  const epochs = num(cfg, 'epochs');
  const niter = num(cfg, 'niter_per_ep');
  const series = (data: Float64Array): Array32 => ({ data, shape: [data.length] });
  return new Map([
    [
      'lr',
      series(
        cosineScheduler(
          (num(cfg, 'lr') * num(cfg, 'batch_size_total')) / 256,
          num(cfg, 'min_lr'),
          epochs,
          niter,
          num(cfg, 'warmup_epochs'),
        ),
      ),
    ],
    ['wd', series(cosineScheduler(num(cfg, 'weight_decay'), num(cfg, 'weight_decay_end'), epochs, niter))],
    ['momentum', series(cosineScheduler(num(cfg, 'momentum_teacher'), 1, epochs, niter))],
    [
      'teacher_temp',
      series(
        teacherTempSchedule(num(cfg, 'warmup_teacher_temp'), num(cfg, 'teacher_temp'), num(cfg, 'warmup_teacher_temp_epochs'), epochs),
      ),
    ],
  ]);
}

/** The student, teacher, centre and (when the case has one) the AdamW state of a train_step case. */
function stateFromCase(c: GoldenCase, model: DoraModelConfig): DoraState {
  const names = doraParamNames(model);
  const toValues = (prefix: string) =>
    new Map(
      names.map((n) => {
        const a = input(c, `${prefix}${n}`);
        return [n, { data: Float32Array.from(a.data as ArrayLike<number>), shape: a.shape }];
      }),
    );
  const state: DoraState = {
    cfg: model,
    student: makeParamMap(toValues('param.student.'), 'student'),
    teacher: makeParamMap(toValues('param.teacher.'), 'teacher'),
    center: tf.variable(toTensor(input(c, 'input.center')), false),
    optimizer: createAdamWState(),
  };
  const adamStep = c.tensors.get('input.adam_step');
  if (!adamStep) return state;
  // an optimiser that has already taken `adam_step` steps
  for (const n of names) {
    const m = c.tensors.get(`input.adam.exp_avg.${n}`);
    const v = c.tensors.get(`input.adam.exp_avg_sq.${n}`);
    if (!m || !v) continue;
    state.optimizer.expAvg.set(n, tf.variable(toTensor(m), false));
    state.optimizer.expAvgSq.set(n, tf.variable(toTensor(v), false));
    state.optimizer.step.set(n, Number(adamStep.data[0]));
  }
  return state;
}

function hyperFromCase(cfg: GoldenCase['config']): DoraStepHyper {
  const epoch = num(cfg, 'epoch');
  const temps = teacherTempSchedule(
    num(cfg, 'warmup_teacher_temp'),
    num(cfg, 'teacher_temp'),
    num(cfg, 'warmup_teacher_temp_epochs'),
    num(cfg, 'nepochs'),
  );
  return {
    epoch,
    lr: num(cfg, 'lr'),
    weightDecay: num(cfg, 'weight_decay'),
    momentum: num(cfg, 'momentum'),
    teacherTemp: temps[epoch],
    freezeLastLayer: num(cfg, 'freeze_last_layer'),
    clipGrad: num(cfg, 'clip_grad'),
    studentTemp: num(cfg, 'student_temp', 0.1),
    centerMomentum: num(cfg, 'center_momentum', 0.9),
    lossVariant: 'official',
    sinkhorn: OFFICIAL_SINKHORN,
    tracker: true,
  };
}

async function runTrainStep(c: GoldenCase): Promise<Outputs> {
  const cfg = c.config;
  const model: DoraModelConfig = { vit: vitConfigFrom(cfg), head: headConfigFrom(cfg, cfg.student_norm_last_layer === true) };
  const state = stateFromCase(c, model);
  const global = toTensor(input(c, 'input.global'));
  const local = toTensor(input(c, 'input.local'));
  const heads = Array.from(input(c, 'input.heads').data as ArrayLike<number>);
  const step = await doraTrainStep(state, { global, local, heads }, hyperFromCase(cfg), { collect: true });
  const [b, f] = global.shape as number[];
  const out = stepOutputs(step, { b, f, nl: local.shape[0] as number, k: heads.length, outDim: model.head.outDim });
  out.set('center', await read(state.center));
  const order = (cfg.param_names_student as string[] | undefined) ?? [...step.gradNorms.keys()];
  out.set('grad_norm', { data: order.map((n) => step.gradNorms.get(n) ?? NaN), shape: [order.length] });
  for (const [n, g] of step.diagnostics!.clippedGrads) out.set(`grad.${n}`, { data: g, shape: state.student.get(n)!.shape });
  const get = getter(state.student);
  const getT = getter(state.teacher);
  for (const n of doraParamNames(model)) {
    out.set(`student.${n}`, await read(get(n)));
    out.set(`teacher.${n}`, await read(getT(n)));
  }
  tf.dispose([global, local]);
  disposeDoraState(state);
  return out;
}

/** The loss, the collected outputs and the tracker's intermediate results of a step, with their official shapes. */
function stepOutputs(step: StepOutcome, d: { b: number; f: number; nl: number; k: number; outDim: number }): Outputs {
  const r = step.tracker!;
  const { b, f, nl, k, outDim } = d;
  return new Map([
    ['loss', { data: [step.loss], shape: [] }],
    ['teacher_output', { data: step.diagnostics!.teacherOut, shape: [f, b, outDim] }],
    ['student_masked', { data: step.diagnostics!.studentMasked, shape: [k, f, b, outDim] }],
    ['student_local', { data: step.diagnostics!.studentLocal, shape: [f, nl * b, outDim] }],
    ['sk_logits', { data: r.skLogits, shape: [b, r.patches, k] }],
    ['assignment', { data: r.assignment, shape: [b, r.patches, k] }],
    ['mask_patch', { data: r.maskPatch, shape: [k, b, f, r.patches] }],
    ['margin', { data: r.margin, shape: [k, b, f, r.patches] }],
  ]);
}

export const CASE_RUNNERS: Record<string, (c: GoldenCase) => Promise<Outputs>> = {
  vit_forward: runVitForward,
  head_forward: runHeadForward,
  sinkhorn: runSinkhorn,
  mot: runMot,
  dino_loss: runDinoLoss,
  schedules: runSchedules,
  train_step: runTrainStep,
};
