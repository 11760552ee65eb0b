/**
 * The official optimisation pieces: AdamW over DINO's two parameter groups (torch 1.13 _single_tensor_adamw),
 * per-tensor gradient clipping (utils.clip_gradients), freezing the last layer (utils.cancel_gradients_last_layer)
 * and the EMA teacher update.
 */
import * as tf from '@tensorflow/tfjs';
import { DORA_ACCUMULATE, DORA_ADAMW_EMA, DORA_EMA, DORA_SUM_SQUARES, fusedOpsActive } from '../backend';

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPS = 1e-8;

/**
 * utils.get_params_groups: group 0 (decayed) = every tensor with ndim > 1 that is not a bias — this includes
 * cls_token, pos_embed and last_layer.weight_g; group 1 (weight decay 0) = biases and 1-D tensors (LayerNorm).
 */
export function paramGroupOf(name: string, shape: number[]): 0 | 1 {
  return name.endsWith('.bias') || shape.length === 1 ? 1 : 0;
}

export interface AdamWState {
  /** Per-tensor step counts (torch keeps state['step'] per parameter; skipped tensors do not advance). */
  step: Map<string, number>;
  expAvg: Map<string, tf.Variable>;
  expAvgSq: Map<string, tf.Variable>;
}

export function createAdamWState(): AdamWState {
  return { step: new Map(), expAvg: new Map(), expAvgSq: new Map() };
}

export function disposeAdamWState(state: AdamWState): void {
  for (const v of state.expAvg.values()) v.dispose();
  for (const v of state.expAvgSq.values()) v.dispose();
  state.step.clear();
  state.expAvg.clear();
  state.expAvgSq.clear();
}

/** Zero moments for a tensor's first step: two separate buffers (the fused update writes them in place). */
function ensureAdamState(state: AdamWState, name: string, param: tf.Variable): void {
  if (state.expAvg.has(name)) return;
  for (const moments of [state.expAvg, state.expAvgSq]) {
    const zeros = tf.zerosLike(param);
    moments.set(name, tf.variable(zeros, false));
    zeros.dispose();
  }
  state.step.set(name, 0);
}

/**
 * utils.clip_gradients: each tensor's gradient is scaled by clip/(‖g‖ + 1e-6) when that is < 1.
 * Returns the clipped gradients and the raw norms (in the given order, which callers keep as named_parameters order).
 */
export async function clipGradientsPerTensor(
  grads: Map<string, tf.Tensor>,
  clip: number,
): Promise<{ clipped: Map<string, tf.Tensor>; norms: Map<string, number> }> {
  const names = [...grads.keys()];
  const stacked = tf.tidy(() => tf.stack(names.map((n) => tf.sqrt(tf.sum(tf.square(grads.get(n)!))))));
  const normValues = await stacked.data(); // async: the webgpu backend cannot read synchronously in Node
  stacked.dispose();
  const clipped = new Map<string, tf.Tensor>();
  const norms = new Map<string, number>();
  names.forEach((name, i) => {
    const norm = normValues[i];
    norms.set(name, norm);
    const coef = clip / (norm + 1e-6);
    clipped.set(name, clip > 0 && coef < 1 ? tf.mul(grads.get(name)!, coef) : tf.clone(grads.get(name)!));
  });
  return { clipped, norms };
}

/** utils.cancel_gradients_last_layer: during the first `freezeLastLayer` epochs the last layer gets no gradient at all. */
export function cancelLastLayerGradients(grads: Map<string, tf.Tensor>, epoch: number, freezeLastLayer: number): Map<string, tf.Tensor> {
  if (epoch >= freezeLastLayer) return grads;
  const kept = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) {
    if (name.includes('last_layer')) g.dispose();
    else kept.set(name, g);
  }
  return kept;
}

/**
 * One torch.optim.AdamW step (torch 1.13): p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε). Tensors without a gradient are skipped entirely (no decay, no state).
 */
export function adamwStep(
  params: Map<string, tf.Variable>,
  grads: Map<string, tf.Tensor>,
  state: AdamWState,
  lr: number,
  weightDecay: number,
): void {
  for (const [name, grad] of grads) {
    const param = params.get(name);
    if (!param) throw new Error(`adamwStep: gradient for unknown parameter ${name}`);
    const wd = paramGroupOf(name, param.shape) === 0 ? weightDecay : 0;
    ensureAdamState(state, name, param);
    const step = state.step.get(name)! + 1;
    state.step.set(name, step);
    const m = state.expAvg.get(name)!;
    const v = state.expAvgSq.get(name)!;
    const biasCorrection1 = 1 - ADAM_BETA1 ** step;
    const biasCorrection2Sqrt = Math.sqrt(1 - ADAM_BETA2 ** step);
    const stepSize = lr / biasCorrection1;
    tf.tidy(() => {
      const decayed = wd !== 0 ? tf.mul(param, 1 - lr * wd) : param;
      const newM = tf.add(tf.mul(m, ADAM_BETA1), tf.mul(grad, 1 - ADAM_BETA1));
      const newV = tf.add(tf.mul(v, ADAM_BETA2), tf.mul(tf.square(grad), 1 - ADAM_BETA2));
      const denom = tf.add(tf.div(tf.sqrt(newV), biasCorrection2Sqrt), ADAM_EPS);
      m.assign(newM);
      v.assign(newV);
      param.assign(tf.sub(decayed, tf.mul(tf.div(newM, denom), stepSize)));
    });
  }
}

/** EMA teacher: θ_t ← m·θ_t + (1 − m)·θ_s over every parameter (also the teacher's frozen weight_g). */
export function emaUpdateTeacher(teacher: Map<string, tf.Variable>, student: Map<string, tf.Variable>, momentum: number): void {
  for (const [name, t] of teacher) {
    const s = student.get(name);
    if (!s) throw new Error(`emaUpdateTeacher: student has no parameter ${name}`);
    tf.tidy(() => t.assign(tf.add(tf.mul(t, momentum), tf.mul(s, 1 - momentum))));
  }
}

// ---- The fused optimiser: one launch for the norms, one for AdamW + EMA over every tensor ----------------------

/** ‖g‖ of each tensor (utils.clip_gradients' norms), in the map's order; one kernel launch where fused. */
export async function gradientNorms(grads: Map<string, tf.Tensor>): Promise<Map<string, number>> {
  const names = [...grads.keys()];
  const sums = fusedOpsActive()
    ? (
        tf.engine().runKernel(DORA_SUM_SQUARES, Object.fromEntries(names.map((n, i) => [`t${i}`, grads.get(n)!]))) as unknown as tf.Tensor[]
      )[0]
    : tf.tidy(() => tf.stack(names.map((n) => tf.sum(tf.square(grads.get(n)!)))));
  const values = await sums.data(); // async: the webgpu backend cannot read synchronously in Node
  sums.dispose();
  return new Map(names.map((n, i) => [n, Math.sqrt(values[i])]));
}

/** utils.clip_gradients' factor for one tensor: clip/(‖g‖ + 1e-6) when that is < 1, else 1 (no clipping). */
export function clipFactor(norm: number, clip: number): number {
  const coef = clip / (norm + 1e-6);
  return clip > 0 && coef < 1 ? coef : 1;
}

export interface OptimizerUpdate {
  student: Map<string, tf.Variable>;
  teacher: Map<string, tf.Variable>;
  /** Unclipped gradients of the tensors AdamW updates (after the last-layer freeze), named_parameters order. */
  grads: Map<string, tf.Tensor>;
  /** clipFactor per gradient. */
  factors: Map<string, number>;
  state: AdamWState;
  lr: number;
  weightDecay: number;
  /** Teacher EMA momentum. */
  momentum: number;
}

/** A variable's buffer must be its own before an in-place update; a shared one is replaced by a private copy. */
function ownBuffer(v: tf.Variable): tf.Variable {
  if (tf.backend().refCount(v.dataId) > 1) tf.tidy(() => v.assign(tf.mul(v, tf.scalar(1))));
  return v;
}

/**
 * Clipping (by the given factors), AdamW and the EMA teacher update in the official order. Where fused kernels run,
 * it is one in-place launch for all tensors (plus one for teacher tensors without a gradient); elsewhere the
 * separate-op adamwStep and emaUpdateTeacher on explicitly clipped gradients.
 */
export function adamwEmaUpdate(u: OptimizerUpdate): void {
  if (!fusedOpsActive()) {
    const clipped = new Map([...u.grads].map(([n, g]) => [n, u.factors.get(n)! === 1 ? g : tf.mul(g, u.factors.get(n)!)]));
    adamwStep(u.student, clipped, u.state, u.lr, u.weightDecay);
    for (const [n, g] of clipped) if (g !== u.grads.get(n)) g.dispose();
    emaUpdateTeacher(u.teacher, u.student, u.momentum);
    return;
  }
  const inputs: tf.NamedTensorMap = {};
  const attrs = {
    count: 0,
    teacher: [] as boolean[],
    gradScale: [] as number[],
    decay: [] as number[],
    stepSize: [] as number[],
    bc2Sqrt: [] as number[],
  };
  for (const [name, grad] of u.grads) {
    const param = u.student.get(name);
    if (!param) throw new Error(`adamwEmaUpdate: gradient for unknown parameter ${name}`);
    ensureAdamState(u.state, name, param);
    const step = u.state.step.get(name)! + 1;
    u.state.step.set(name, step);
    const i = attrs.count++;
    const teacher = u.teacher.get(name);
    Object.assign(inputs, { [`p${i}`]: ownBuffer(param), [`g${i}`]: grad, [`m${i}`]: ownBuffer(u.state.expAvg.get(name)!) });
    inputs[`v${i}`] = ownBuffer(u.state.expAvgSq.get(name)!);
    if (teacher) inputs[`t${i}`] = ownBuffer(teacher);
    attrs.teacher.push(teacher !== undefined);
    attrs.gradScale.push(u.factors.get(name) ?? 1);
    attrs.decay.push(1 - u.lr * (paramGroupOf(name, param.shape) === 0 ? u.weightDecay : 0));
    attrs.stepSize.push(u.lr / (1 - ADAM_BETA1 ** step));
    attrs.bc2Sqrt.push(Math.sqrt(1 - ADAM_BETA2 ** step));
  }
  if (attrs.count > 0) {
    const all = { ...attrs, beta1: ADAM_BETA1, beta2: ADAM_BETA2, eps: ADAM_EPS, ema: u.momentum };
    tf.engine().runKernel(DORA_ADAMW_EMA, inputs, all as unknown as tf.NamedAttrMap);
  }
  // Teacher tensors the optimiser did not touch (a frozen weight_g, the last layer while frozen) still follow the EMA.
  const rest = [...u.teacher].filter(([name]) => !u.grads.has(name));
  if (rest.length > 0) {
    const emaInputs: tf.NamedTensorMap = {};
    rest.forEach(([name, t], i) => {
      const s = u.student.get(name);
      if (!s) throw new Error(`emaUpdateTeacher: student has no parameter ${name}`);
      emaInputs[`t${i}`] = ownBuffer(t);
      emaInputs[`s${i}`] = s;
    });
    tf.engine().runKernel(DORA_EMA, emaInputs, { count: rest.length, ema: u.momentum });
  }
}

/**
 * Gradient accumulation over micro-batches: sums[name] += grads[name] (the grads are consumed). The first pass's
 * gradients become the sums; later ones are added in place by one kernel launch where fused.
 */
export function sumGradientsInto(sums: Map<string, tf.Tensor>, grads: Record<string, tf.Tensor>): void {
  const fused = fusedOpsActive();
  const inputs: tf.NamedTensorMap = {};
  let count = 0;
  for (const [name, g] of Object.entries(grads)) {
    const sum = sums.get(name);
    if (!sum) {
      sums.set(name, g);
      continue;
    }
    if (!fused) {
      sums.set(name, tf.add(sum, g));
      sum.dispose();
      g.dispose();
      continue;
    }
    let own = sum;
    if (tf.backend().refCount(sum.dataId) > 1) {
      own = tf.tidy(() => tf.mul(sum, tf.scalar(1)));
      sum.dispose();
      sums.set(name, own);
    }
    inputs[`s${count}`] = own;
    inputs[`g${count}`] = g;
    count++;
  }
  if (count === 0) return;
  tf.engine().runKernel(DORA_ACCUMULATE, inputs, { count });
  for (let i = 0; i < count; i++) inputs[`g${i}`].dispose();
}
