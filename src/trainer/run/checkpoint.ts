/**
 * Checkpoints: the student, teacher and DINO centre in one safetensors file (official MultiCropWrapper names,
 * prefixed `student.` / `teacher.`, so `student.backbone.*` is a DINO/DoRA ViT state_dict), AdamW moments in a
 * second file, and the sidecar JSON written LAST (its presence marks the checkpoint complete; it holds both sha256
 * checksums, the RNG state and the schedule position). Every file is written atomically (temp + fsync + rename),
 * so a crash or a full disk never leaves a corrupt checkpoint that looks complete.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, unlink } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { writeFileAtomic, writeJsonAtomic, type AtomicWriteOptions } from '../../core/node/atomicWrite';
import { checkpointDataFiles, checkpointsToPrune, listCheckpoints } from '../../core/node/runDir';
import type { UnsafeRunPathError } from '../../core/node/runPathSafety';
import { isCheckpointSidecar, RUN_DIR_FORMAT_VERSION, type CheckpointSidecar } from '../../core/runRecords';
import { checkpointPaths, attentionDirOf, evalSidecarPath } from '../../core/node/runPaths';
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from '../io/safetensors';
import { doraParamNames, type DoraState } from '../dora/model';

export const CENTER_TENSOR = 'loss.center';

export interface CheckpointMeta {
  step: number;
  epoch: number;
  rng: CheckpointSidecar['rng'];
  schedule: CheckpointSidecar['schedule'];
  configSha256: string;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function tensorEntry(t: tf.Tensor): Promise<TensorToWrite> {
  return { shape: t.shape, data: (await t.data()) as Float32Array };
}

/** Serialises the model state (weights + optimiser) to two safetensors buffers. */
export async function serializeState(state: DoraState): Promise<{ weights: Buffer; optimizer: Buffer }> {
  const weights = new Map<string, TensorToWrite>();
  for (const name of doraParamNames(state.cfg)) {
    weights.set(`student.${name}`, await tensorEntry(state.student.get(name)!));
    weights.set(`teacher.${name}`, await tensorEntry(state.teacher.get(name)!));
  }
  weights.set(CENTER_TENSOR, await tensorEntry(state.center));
  const optimizer = new Map<string, TensorToWrite>();
  for (const [name, m] of state.optimizer.expAvg) {
    optimizer.set(`exp_avg.${name}`, await tensorEntry(m));
    optimizer.set(`exp_avg_sq.${name}`, await tensorEntry(state.optimizer.expAvgSq.get(name)!));
    optimizer.set(`step.${name}`, { shape: [], data: Int32Array.from([state.optimizer.step.get(name)!]), dtype: 'I64' });
  }
  return {
    weights: serializeSafetensors(weights, {
      format: 'dora-studio checkpoint',
      student: 'student.<state_dict name>',
      teacher: 'teacher.<state_dict name>',
    }),
    optimizer: serializeSafetensors(optimizer, { format: 'dora-studio AdamW state (torch 1.13 names: exp_avg, exp_avg_sq, step)' }),
  };
}

/** Writes a complete checkpoint; returns the sidecar path. Data files first, the sidecar last. */
export async function saveCheckpoint(
  runDir: string,
  state: DoraState,
  meta: CheckpointMeta,
  writeOptions: AtomicWriteOptions = {},
): Promise<string> {
  const paths = checkpointPaths(runDir, meta.step);
  await mkdir(dirname(paths.sidecar), { recursive: true });
  const { weights, optimizer } = await serializeState(state);
  try {
    await writeFileAtomic(paths.weights, weights, writeOptions);
    await writeFileAtomic(paths.optimizer, optimizer, writeOptions);
  } catch (e) {
    // No sidecar means "incomplete" to every reader; also remove the data files so a full disk gets its space back.
    await unlink(paths.weights).catch(() => undefined);
    await unlink(paths.optimizer).catch(() => undefined);
    throw e;
  }
  const sidecar: CheckpointSidecar = {
    formatVersion: RUN_DIR_FORMAT_VERSION,
    step: meta.step,
    epoch: meta.epoch,
    time: new Date().toISOString(),
    weightsFile: basename(paths.weights),
    weightsSha256: sha256(weights),
    optimizerFile: basename(paths.optimizer),
    optimizerSha256: sha256(optimizer),
    centerTensor: CENTER_TENSOR,
    rng: meta.rng,
    schedule: meta.schedule,
    configSha256: meta.configSha256,
  };
  await writeJsonAtomic(paths.sidecar, sidecar, writeOptions);
  return paths.sidecar;
}

export class CheckpointError extends Error {
  constructor(file: string, cause: string, fix: string) {
    super(`${file}: ${cause}. ${fix}`);
    this.name = 'CheckpointError';
  }
}

/** Reads and verifies a checkpoint; overwrites the state's variables in place. */
export async function loadCheckpoint(sidecarPath: string, state: DoraState): Promise<CheckpointSidecar> {
  let sidecar: unknown;
  try {
    sidecar = JSON.parse(await readFile(sidecarPath, 'utf8'));
  } catch (e) {
    throw new CheckpointError(
      sidecarPath,
      `cannot read the checkpoint sidecar (${(e as Error).message})`,
      'Pass the .json sidecar of a complete checkpoint (checkpoints/step-NNNNNN.json).',
    );
  }
  if (!isCheckpointSidecar(sidecar))
    throw new CheckpointError(
      sidecarPath,
      'is not a checkpoint sidecar',
      'Pass the .json sidecar of a complete checkpoint (checkpoints/step-NNNNNN.json).',
    );
  const files = await checkpointDataFiles(sidecarPath, sidecar); // refuses names that lead outside the run folder
  const weightsBytes = await readFile(files.weightsFile);
  const optimBytes = await readFile(files.optimizerFile);
  if (sha256(weightsBytes) !== sidecar.weightsSha256 || sha256(optimBytes) !== sidecar.optimizerSha256) {
    throw new CheckpointError(
      sidecarPath,
      'checksum mismatch: the weights or optimiser file changed or is damaged',
      'Resume from an earlier checkpoint of this run.',
    );
  }
  const weights = parseSafetensors(weightsBytes, files.weightsFile).tensors;
  const optim = parseSafetensors(optimBytes, files.optimizerFile).tensors;
  const assign = (v: tf.Variable, name: string, data: ArrayLike<number> | undefined, shape: number[] | undefined) => {
    if (!data || !shape || shape.join(',') !== v.shape.join(',')) {
      throw new CheckpointError(
        sidecarPath,
        `tensor ${name} is missing or has shape [${shape ?? '?'}] instead of [${v.shape}]`,
        'The checkpoint was made with another model config; resume it with the config of its run (config.json in the run folder).',
      );
    }
    tf.tidy(() => v.assign(tf.tensor(Float32Array.from(data), shape)));
  };
  for (const name of doraParamNames(state.cfg)) {
    for (const role of ['student', 'teacher'] as const) {
      const t = weights.get(`${role}.${name}`);
      assign(state[role].get(name)!, `${role}.${name}`, t?.data, t?.shape);
    }
  }
  const center = weights.get(sidecar.centerTensor);
  assign(state.center, sidecar.centerTensor, center?.data, center?.shape);
  for (const v of state.optimizer.expAvg.values()) v.dispose();
  for (const v of state.optimizer.expAvgSq.values()) v.dispose();
  state.optimizer.expAvg.clear();
  state.optimizer.expAvgSq.clear();
  state.optimizer.step.clear();
  for (const [key, t] of optim) {
    const m = /^(exp_avg|exp_avg_sq|step)\.(.+)$/.exec(key);
    if (!m) continue;
    const [, kind, name] = m;
    if (kind === 'step') {
      state.optimizer.step.set(name, Number(t.data[0]));
      continue;
    }
    const value = tf.tensor(Float32Array.from(t.data as ArrayLike<number>), t.shape);
    (kind === 'exp_avg' ? state.optimizer.expAvg : state.optimizer.expAvgSq).set(name, tf.variable(value, false));
    value.dispose();
  }
  return sidecar;
}

/**
 * Deletes a checkpoint: the sidecar first (so it stops looking complete), then the data files. The file names come
 * from the sidecar, so they are checked first: a name leading outside the run folder deletes nothing and throws.
 */
export async function deleteCheckpoint(sidecarPath: string, sidecar: CheckpointSidecar): Promise<void> {
  const files = await checkpointDataFiles(sidecarPath, sidecar);
  await unlink(sidecarPath).catch(() => undefined);
  await unlink(files.weightsFile).catch(() => undefined);
  await unlink(files.optimizerFile).catch(() => undefined);
  // Its evaluation results describe weights that are gone.
  await rm(evalSidecarPath(sidecarPath), { force: true });
  await rm(attentionDirOf(sidecarPath), { recursive: true, force: true });
}

/**
 * Deletes the oldest checkpoints beyond `keepCount` (0 keeps all). `keep` (the sidecar a run resumes from) is never
 * deleted and counts as one of the kept. A sidecar naming files outside the run folder is not a checkpoint: it is
 * reported to `onRefused` and nothing is deleted through it.
 */
export async function pruneCheckpoints(
  runDir: string,
  keepCount: number,
  options: { keep?: string; onRefused?: (error: UnsafeRunPathError) => void } = {},
): Promise<void> {
  if (keepCount <= 0) return;
  const keep = options.keep === undefined ? undefined : resolve(options.keep);
  const list = (await listCheckpoints(runDir, options.onRefused)).filter((c) => resolve(c.sidecarFile) !== keep);
  const others = keep ? keepCount - 1 : keepCount;
  for (const old of others === 0 ? list : checkpointsToPrune(list, others)) await deleteCheckpoint(old.sidecarFile, old.sidecar);
}
