/**
 * Step stages 5 and 6, the loss and its gradients, accumulated over micro-batches of clips. The loss is a fixed linear
 * combination of batch-mean cross-entropies, so Σ (clips in chunk / B) · loss(chunk) is exactly the full-batch loss, and
 * so are its gradients. The tracker threshold and the centre already used the whole batch. The micro-batch size is the
 * one parameter of this stage (training.microBatch; "auto" is resolved by the caller).
 */
import * as tf from '@tensorflow/tfjs';
import type { LossVariant } from '../../../core/configDefaults';
import { doraLoss } from '../loss';
import { trainableParamNames, type DoraState } from '../model';
import type { DiagnosticsCollector } from './diagnostics';
import { studentPass, type StudentInputs } from './studentPass';

export interface LossHyper {
  teacherTemp: number;
  studentTemp: number;
  lossVariant: LossVariant;
}

export interface AccumulatedGradients {
  loss: number;
  /** Mean CE of the masked-view and of the local-crop terms. */
  lossMasked: number;
  lossLocal: number;
  /** Summed gradients by parameter name, in named_parameters order (the order utils.clip_gradients iterates). */
  grads: Map<string, tf.Tensor>;
}

interface ChunkResult {
  loss: number;
  lossMasked: number;
  lossLocal: number;
  grads: tf.NamedTensorMap;
}

export async function accumulateGradients(
  state: DoraState,
  inputs: StudentInputs,
  teacherOut: tf.Tensor3D,
  hyper: LossHyper,
  options: { microBatch?: number; collector?: DiagnosticsCollector } = {},
): Promise<AccumulatedGradients> {
  const b = inputs.views.shape[2] as number;
  const chunkSize = options.microBatch && options.microBatch > 0 ? Math.min(options.microBatch, b) : b;
  const summed = new Map<string, tf.Tensor>();
  const total = { loss: 0, lossMasked: 0, lossLocal: 0 };
  for (let b0 = 0; b0 < b; b0 += chunkSize) {
    const bc = Math.min(chunkSize, b - b0);
    const weight = bc / b;
    const chunk = await chunkGradients(state, inputs, teacherOut, hyper, b0, bc, options.collector);
    total.loss += chunk.loss;
    total.lossMasked += weight * chunk.lossMasked;
    total.lossLocal += weight * chunk.lossLocal;
    addInto(summed, chunk.grads);
  }
  return { ...total, grads: byParameterName(state, summed) };
}

/** Loss × (bc / B) of the clips [b0, b0 + bc) and its gradients with respect to the student's trainable variables. */
async function chunkGradients(
  state: DoraState,
  inputs: StudentInputs,
  teacherOut: tf.Tensor3D,
  hyper: LossHyper,
  b0: number,
  bc: number,
  collector: DiagnosticsCollector | undefined,
): Promise<ChunkResult> {
  const [, f, b] = inputs.views.shape;
  const weight = bc / b;
  const varList = trainableParamNames(state.cfg).map((n) => state.student.get(n)!);
  // Reads inside the gradient closure must be synchronous, which webgpu cannot do in Node: keep the tensors instead.
  const kept: tf.Tensor[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const { studentMasked, studentLocal } = studentPass(state, inputs, b0, bc);
    if (collector) kept.push(tf.keep(studentMasked), tf.keep(studentLocal));
    const teacher = bc === b ? teacherOut : tf.slice(teacherOut, [0, b0, 0], [f, bc, teacherOut.shape[2]]);
    const parts = doraLoss({
      teacherOut: teacher,
      studentMasked,
      studentLocal,
      center: state.center as tf.Tensor2D,
      teacherTemp: hyper.teacherTemp,
      studentTemp: hyper.studentTemp,
      variant: hyper.lossVariant,
    });
    kept.push(tf.keep(tf.mean(parts.ceMasked)), tf.keep(tf.mean(parts.ceLocal)));
    return weight === 1 ? parts.loss : (tf.mul(parts.loss, weight) as tf.Scalar);
  }, varList);
  const loss = (await value.data())[0];
  value.dispose();
  const data = (await Promise.all(kept.map((t) => t.data()))) as Float32Array[];
  tf.dispose(kept);
  if (collector) collector.addStudentChunk(data[0], data[1], b0, bc);
  const [lossMasked, lossLocal] = collector ? [data[2][0], data[3][0]] : [data[0][0], data[1][0]];
  return { loss, lossMasked, lossLocal, grads };
}

/** summed[name] += grads[name], disposing what is replaced. */
function addInto(summed: Map<string, tf.Tensor>, grads: tf.NamedTensorMap): void {
  for (const [varName, g] of Object.entries(grads)) {
    const prev = summed.get(varName);
    if (prev) {
      summed.set(varName, tf.add(prev, g));
      prev.dispose();
      g.dispose();
    } else summed.set(varName, g);
  }
}

/** Gradients keyed by the TF.js variable name → by parameter name, in named_parameters order. */
function byParameterName(state: DoraState, byVariable: Map<string, tf.Tensor>): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const name of trainableParamNames(state.cfg)) {
    const g = byVariable.get(state.student.get(name)!.name);
    if (g) out.set(name, g);
  }
  return out;
}
