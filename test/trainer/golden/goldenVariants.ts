// Golden cases of the shipped schema on OTHER shapes and hyper-parameters (never seen by either engine's code):
// inputs drawn here, expected values computed by the TF.js engine (itself golden-exact against the official code),
// so the PyTorch engine can be checked on shapes it has never been tuned on. Masks are redrawn until every patch is
// decided well beyond margin_tol, as the shipped cases were generated.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../../src/core/rng';
import { initBackend } from '../../../src/trainer/backend';
import { CASE_RUNNERS, type GoldenCase } from '../../../src/trainer/golden/cases';
import type { ToleranceSpec } from '../../../src/trainer/golden/tolerance';
import { serializeSafetensors, type NamedArray, type TensorToWrite } from '../../../src/trainer/io/safetensors';
import { dinoHeadParamShapes } from '../../../src/trainer/model/dinoHead';
import { vitParamShapes } from '../../../src/trainer/model/vit';

type Inputs = Map<string, NamedArray>;

function randn(rng: Rng, shape: number[], std = 1, mean = 0): NamedArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'F32', shape, data: Float32Array.from({ length: n }, () => rng.normal(mean, std)) };
}

function ints(values: number[]): NamedArray {
  return { dtype: 'I64', shape: [values.length], data: Int32Array.from(values) };
}

function scalarInt(value: number): NamedArray {
  return { dtype: 'I64', shape: [], data: Int32Array.from([value]) };
}

function params(rng: Rng, prefix: string, shapes: Map<string, number[]>, into: Inputs): void {
  for (const [name, shape] of shapes) {
    const isNormWeight = /norm\d?\.weight$/.test(name);
    into.set(
      `${prefix}${name}`,
      isNormWeight
        ? randn(rng, shape, 0.1, 1)
        : randn(rng, shape, name.endsWith('weight_g') ? 0.1 : 0.3, name.endsWith('weight_g') ? 1 : 0),
    );
  }
}

const BASE_TOL: ToleranceSpec = { rtol: 1e-4, atol: 0 };

async function write(
  dir: string,
  name: string,
  kind: string,
  config: Record<string, unknown>,
  tolerance: ToleranceSpec,
  inputs: Inputs,
): Promise<{ file: string; minMargin: number }> {
  const c: GoldenCase = { file: name, kind, name, config, tolerance, tensors: inputs };
  const outputs = await CASE_RUNNERS[kind](c);
  const tensors = new Map<string, TensorToWrite>();
  for (const [n, t] of inputs)
    tensors.set(n, { shape: t.shape, data: t.data as Float32Array | Int32Array, dtype: t.dtype === 'I64' ? 'I64' : undefined });
  for (const [n, t] of outputs) tensors.set(`expected.${n}`, { shape: t.shape, data: Float32Array.from(t.data) });
  const file = join(dir, `${name}.safetensors`);
  writeFileSync(
    file,
    serializeSafetensors(tensors, { kind, case: name, config: JSON.stringify(config), tolerance: JSON.stringify(tolerance) }),
  );
  const margin = outputs.get('margin');
  return { file, minMargin: margin ? Math.min(...Array.from(margin.data, Math.abs)) : Infinity };
}

/** Writes the variant cases into `dir`; returns their paths. */
export async function writeGoldenVariants(dir: string): Promise<string[]> {
  await initBackend('cpu');
  const rng = new Rng('golden-variants');
  const files: string[] = [];
  // ViT: another width/depth/head count/patch, native size with B 3, and an interpolated rectangular input.
  const vit = { embed_dim: 32, depth: 3, num_heads: 4, patch_size: 4, img_size: 16, mlp_ratio: 4, ln_eps: 1e-6, qkv_bias: true };
  const vitShapes = vitParamShapes({
    embedDim: 32,
    depth: 3,
    numHeads: 4,
    patchSize: 4,
    imgSize: 16,
    mlpRatio: 4,
    lnEps: 1e-6,
    qkvBias: true,
  });
  for (const [name, hw, b] of [
    ['v_vit_native', [16, 16], 3],
    ['v_vit_rect', [20, 12], 2],
  ] as const) {
    const inputs: Inputs = new Map([['input.x', randn(rng, [b, 3, ...hw])]]);
    params(rng, 'param.', vitShapes, inputs);
    files.push((await write(dir, name, 'vit_forward', vit, BASE_TOL, inputs)).file);
  }
  // DINO head with 2 layers and 1 layer.
  for (const nlayers of [2, 1]) {
    const head = {
      embed_dim: 20,
      out_dim: 36,
      head_hidden_dim: 24,
      head_bottleneck_dim: 10,
      head_nlayers: nlayers,
      norm_last_layer: nlayers === 1,
    };
    const inputs: Inputs = new Map([['input.x', randn(rng, [5, 20])]]);
    params(
      rng,
      'param.',
      dinoHeadParamShapes({ inDim: 20, outDim: 36, hiddenDim: 24, bottleneckDim: 10, nlayers, normLastLayer: false }),
      inputs,
    );
    files.push((await write(dir, `v_head_${nlayers}`, 'head_forward', head, BASE_TOL, inputs)).file);
  }
  files.push(
    (
      await write(
        dir,
        'v_sinkhorn',
        'sinkhorn',
        { num_iters_sk: 10, epsilon_sk: 0.1 },
        BASE_TOL,
        new Map([['input.logits', randn(rng, [3, 9, 4], 0.4)]]),
      )
    ).file,
  );
  files.push(await motVariant(dir, rng));
  const loss = {
    warmup_teacher_temp: 0.03,
    teacher_temp: 0.06,
    warmup_teacher_temp_epochs: 5,
    nepochs: 10,
    epoch: 2,
    student_temp: 0.1,
    center_momentum: 0.8,
  };
  const lossInputs: Inputs = new Map([
    ['input.student_local', randn(rng, [2, 9, 40])],
    ['input.student_masked', randn(rng, [2, 2, 3, 40])],
    ['input.teacher', randn(rng, [2, 3, 40])],
    ['input.center', randn(rng, [1, 40], 0.1)],
  ]);
  files.push((await write(dir, 'v_dino_loss', 'dino_loss', loss, BASE_TOL, lossInputs)).file);
  const sched = {
    lr: 0.001,
    batch_size_total: 48,
    min_lr: 2e-6,
    epochs: 5,
    niter_per_ep: 7,
    warmup_epochs: 1,
    weight_decay: 0.05,
    weight_decay_end: 0.3,
    momentum_teacher: 0.99,
    warmup_teacher_temp: 0.02,
    teacher_temp: 0.05,
    warmup_teacher_temp_epochs: 2,
  };
  files.push((await write(dir, 'v_schedules', 'schedules', sched, { rtol: 1e-6, atol: 0 }, new Map())).file);
  files.push(await trainStepVariant(dir, rng));
  return files;
}

async function motVariant(dir: string, rng: Rng): Promise<string> {
  const [f, b, h, t, dh] = [2, 3, 4, 10, 6];
  const config = { patch_size: 4, sk_iters: 30, sk_epsilon: 0.05 };
  for (let attempt = 0; attempt < 50; attempt++) {
    const attn = randn(rng, [f, b, h, t, t]);
    const data = attn.data as Float32Array;
    for (let r = 0; r < data.length / t; r++) {
      const row = data.subarray(r * t, (r + 1) * t);
      const m = Math.max(...row);
      let s = 0;
      for (let i = 0; i < t; i++) s += row[i] = Math.exp(row[i] - m);
      for (let i = 0; i < t; i++) row[i] /= s;
    }
    const inputs: Inputs = new Map([
      ['input.attn', attn],
      ['input.query', randn(rng, [f, b, h, t, dh], 0.5)],
      ['input.key', randn(rng, [f, b, h, t, dh], 0.5)],
      ['input.teacher_patches', randn(rng, [f, b, t - 1, h * dh])],
      ['input.images', randn(rng, [b, f, 3, 12, 12])],
      ['input.heads', ints([3, 1])],
    ]);
    const tolerance = { ...BASE_TOL, margin_tol: 1e-5 };
    const { file, minMargin } = await write(dir, 'v_mot', 'mot', config, tolerance, inputs);
    if (minMargin > 3e-5) return file;
  }
  throw new Error('goldenVariants: no MOT draw with every mask decided');
}

async function trainStepVariant(dir: string, rng: Rng): Promise<string> {
  const vitCfg = { embedDim: 24, depth: 2, numHeads: 4, patchSize: 4, imgSize: 16, mlpRatio: 4, lnEps: 1e-6, qkvBias: true };
  const headCfg = { inDim: 24, outDim: 30, hiddenDim: 20, bottleneckDim: 10, nlayers: 3, normLastLayer: false };
  const config = {
    depth: 2,
    mlp_ratio: 4,
    ln_eps: 1e-6,
    img_size: 16,
    patch_size: 4,
    embed_dim: 24,
    num_heads: 4,
    out_dim: 30,
    head_hidden_dim: 20,
    head_bottleneck_dim: 10,
    head_nlayers: 3,
    epoch: 2,
    freeze_last_layer: 1,
    clip_grad: 2,
    lr: 0.004,
    weight_decay: 0.2,
    momentum: 0.97,
    warmup_teacher_temp: 0.04,
    teacher_temp: 0.07,
    warmup_teacher_temp_epochs: 3,
    nepochs: 10,
    student_norm_last_layer: false,
    student_temp: 0.1,
    center_momentum: 0.9,
  };
  const names = [
    ...[...vitParamShapes(vitCfg)].map(([n, s]) => [`backbone.${n}`, s] as const),
    ...[...dinoHeadParamShapes(headCfg)].map(([n, s]) => [`head.${n}`, s] as const),
  ];
  const shapes = new Map(names.map(([n, s]) => [n, [...s]]));
  const tolerance: ToleranceSpec = {
    rtol: 1e-3,
    atol: 0,
    margin_tol: 1e-5,
    update_rtol: 2e-2,
    per_tensor: { 'expected.assignment': { rtol: 5e-3, atol: 0 } },
  };
  for (let attempt = 0; attempt < 50; attempt++) {
    const inputs: Inputs = new Map([
      ['input.global', randn(rng, [3, 2, 3, 16, 16])],
      ['input.local', randn(rng, [3, 3, 2, 3, 8, 8])],
      ['input.center', randn(rng, [1, 30], 0.1)],
      ['input.heads', ints([1, 3])],
      ['input.adam_step', scalarInt(4)],
    ]);
    params(rng, 'param.student.', shapes, inputs);
    params(rng, 'param.teacher.', shapes, inputs);
    for (const [n, s] of shapes) {
      inputs.set(`input.adam.exp_avg.${n}`, randn(rng, s, 0.01));
      const v = randn(rng, s, 0.01);
      (v.data as Float32Array).forEach((x, i, a) => (a[i] = x * x + 1e-4));
      inputs.set(`input.adam.exp_avg_sq.${n}`, v);
    }
    const { file, minMargin } = await write(
      dir,
      'v_train_step',
      'train_step',
      { ...config, param_names_student: names.map(([n]) => n) },
      tolerance,
      inputs,
    );
    if (minMargin > 3e-5) return file;
  }
  throw new Error('goldenVariants: no train-step draw with every mask decided');
}
