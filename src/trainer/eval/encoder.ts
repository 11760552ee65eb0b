/**
 * The frozen network an evaluation looks at: the TEACHER of a checkpoint (DINO's evaluations use the teacher
 * backbone, `--checkpoint_key teacher`), or a freshly initialised model for the random-init baseline. Images go in
 * as normalised NCHW float32; what comes out is read with `await t.data()` (the webgpu backend cannot read
 * synchronously in Node).
 */
import * as tf from '@tensorflow/tfjs';
import { basename, resolve } from 'node:path';
import type { DoraConfig, PresetName } from '../../core/config';
import { loadConfigFile, resolveConfig } from '../../core/node/configFile';
import { isPresetName } from '../../core/presets';
import type { CheckpointSidecar } from '../../core/runRecords';
import { Rng } from '../../core/rng';
import { createDoraState, disposeDoraState, getter, type DoraState } from '../dora/model';
import { vitForward } from '../model/vit';
import { loadCheckpoint } from '../run/checkpoint';
import { loadRunConfig, modelConfigOf } from '../run/runConfig';
import { runDirOfCheckpoint } from '../../core/node/runPaths';

export interface EvalEncoder {
  config: DoraConfig;
  /** Student + teacher + centre; evaluations read the teacher only. */
  state: DoraState;
  /** The checkpoint sidecar, or undefined for a random-init model. */
  sidecar?: CheckpointSidecar;
  sidecarPath?: string;
  /** A short name for tables: `<run id>@step-N` or `random-init(seed N)`. */
  label: string;
  dispose(): void;
}

/** The resolved config of the run a checkpoint belongs to (runs/<id>/config.json), as `dora inspect` reads it. */
export function runConfigOfCheckpoint(sidecarPath: string): Promise<DoraConfig> {
  return loadRunConfig(runDirOfCheckpoint(sidecarPath));
}

/** A preset name or a *.dora.json file; presets get a placeholder video (the evaluation names its own data). */
export async function configFromPresetOrFile(nameOrFile: string, video = 'no-video.mp4'): Promise<DoraConfig> {
  if (isPresetName(nameOrFile))
    return resolveConfig({ preset: nameOrFile as PresetName, data: { video } }, { file: resolve(`${nameOrFile}.dora.json`) });
  return loadConfigFile(resolve(nameOrFile));
}

export async function loadCheckpointEncoder(sidecarPath: string): Promise<EvalEncoder> {
  const config = await runConfigOfCheckpoint(sidecarPath);
  const state = createDoraState(modelConfigOf(config), () => 0.5);
  try {
    const sidecar = await loadCheckpoint(resolve(sidecarPath), state);
    const runId = basename(runDirOfCheckpoint(sidecarPath));
    return {
      config,
      state,
      sidecar,
      sidecarPath: resolve(sidecarPath),
      label: `${runId}@step-${sidecar.step}`,
      dispose: () => disposeDoraState(state),
    };
  } catch (e) {
    disposeDoraState(state);
    throw e;
  }
}

/** The initialisation `runTraining` would start from with this config's seed (same RNG stream: `init/seed=N`). */
export function randomInitEncoder(config: DoraConfig, seed = config.training.seed): EvalEncoder {
  const rng = new Rng(`init/seed=${seed}`);
  const state = createDoraState(modelConfigOf(config), () => rng.next());
  return { config, state, label: `random-init(seed ${seed})`, dispose: () => disposeDoraState(state) };
}

/** Progress and cancellation of one evaluation, counted in images through the network. */
export interface EvalProgress {
  /**
   * Lets the event loop run (so a `stop` message or SIGTERM is seen: TF.js reads resolve as microtasks, which alone
   * never let IPC in), then throws the signal's reason (an AbortError) once the evaluation is cancelled.
   */
  throwIfCancelled(): Promise<void>;
  /** `n` more images are done. */
  advance(n: number): void;
}

export interface EvalProgressReport {
  stage: string;
  done: number;
  total: number;
}

/** Counts `total` images for `stage`, reporting at most every 250 ms (and always the last one). */
export function evalProgress(
  stage: string,
  total: number,
  options: { signal?: AbortSignal; onProgress?: (report: EvalProgressReport) => void } = {},
): EvalProgress {
  let done = 0;
  let lastReport = 0;
  options.onProgress?.({ stage, done, total });
  return {
    throwIfCancelled: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      options.signal?.throwIfAborted();
    },
    advance: (n) => {
      done = Math.min(total, done + n);
      const now = performance.now();
      if (done === total || now - lastReport >= 250) {
        lastReport = now;
        options.onProgress?.({ stage, done, total });
      }
    },
  };
}

export interface EncodedBatch {
  /** [count, D] final-norm [CLS]. */
  cls: Float32Array;
  /** [count, N, D] final-norm patch tokens (only when asked for). */
  patches?: Float32Array;
  /** [count, heads, N] last-block [CLS]→patch attention (only when asked for). */
  clsAttention?: Float32Array;
  count: number;
  dim: number;
  patchesPerImage: number;
  heads: number;
}

/**
 * Runs the teacher backbone on `count` normalised NCHW images of `size`×`size` in chunks of `batchSize`.
 * `images` is [count, 3, size, size]; the ViT interpolates its positional embedding for other sizes (DINO does the
 * same when it evaluates at another resolution).
 */
export async function encodeImages(
  encoder: EvalEncoder,
  images: Float32Array,
  count: number,
  size: number,
  options: { patches?: boolean; attention?: boolean; batchSize?: number; progress?: EvalProgress } = {},
): Promise<EncodedBatch> {
  const vit = encoder.state.cfg.vit;
  const grid = Math.floor(size / vit.patchSize);
  const n = grid * grid;
  const d = vit.embedDim;
  const heads = vit.numHeads;
  const batchSize = options.batchSize ?? 64;
  const perImage = 3 * size * size;
  if (images.length !== count * perImage) {
    throw new Error(`encodeImages: expected ${count}×3×${size}×${size} values, got ${images.length}`);
  }
  const cls = new Float32Array(count * d);
  const patches = options.patches ? new Float32Array(count * n * d) : undefined;
  const clsAttention = options.attention ? new Float32Array(count * heads * n) : undefined;
  const get = getter(encoder.state.teacher, 'backbone.');
  for (let start = 0; start < count; start += batchSize) {
    await options.progress?.throwIfCancelled();
    const b = Math.min(batchSize, count - start);
    const outputs = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(start * perImage, (start + b) * perImage), [b, 3, size, size]);
      const out = vitForward(x, get, vit);
      const result: tf.Tensor[] = [out.cls];
      if (patches) result.push(tf.slice(out.tokens, [0, 1, 0], [b, n, d]));
      if (clsAttention) result.push(tf.slice(out.attn, [0, 0, 0, 1], [b, heads, 1, n]));
      return result;
    });
    const values = (await Promise.all(outputs.map((t) => t.data()))) as Float32Array[];
    tf.dispose(outputs);
    cls.set(values[0], start * d);
    let next = 1;
    if (patches) patches.set(values[next++], start * n * d);
    if (clsAttention) clsAttention.set(values[next++], start * heads * n);
    options.progress?.advance(b);
  }
  return { cls, patches, clsAttention, count, dim: d, patchesPerImage: n, heads };
}
