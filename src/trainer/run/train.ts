/**
 * The training loop: one front door for the CLI (`dora train`) and the extension's child process.
 *   config → backend → frame cache (one decode pass, resumable) → clip sampler → official schedules → DoRA steps,
 * writing the run directory (docs/run-directory.md) as it goes and reporting through typed messages (src/core/messages).
 * A stop request finishes the current step, checkpoints and exits; a killed run resumes from its last checkpoint and
 * follows exactly the trajectory it would have followed (all randomness is a function of seed and iteration).
 */
import * as tf from '@tensorflow/tfjs';
import { hostname } from 'node:os';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { appendJsonLine, writeFileAtomic, writeJsonAtomic } from '../../core/atomicWrite';
import { loadConfigFile, peakLr, resolveConfig, type DoraConfig } from '../../core/config';
import { repairJsonlTail } from '../../core/jsonl';
import type { FinishReason, TrainerMessage } from '../../core/messages';
import {
  checkpointsToPrune,
  createRunDir,
  listCheckpoints,
  runPaths,
  RUN_DIR_FORMAT_VERSION,
  type MetricsRecord,
  type RunEvent,
  type RunInfo,
} from '../../core/runDir';
import { assertNoGpuErrors, initBackend, type BackendName, type BackendReport } from '../backend';
import { ClipSampler } from '../data/clips';
import { resolveFfmpeg } from '../data/ffmpeg';
import { detectBlankTail } from '../data/frameCache';
import { BatchPrefetcher, type FrameSource } from '../data/frameSource';
import { prepareTrainingFrames } from './trainFrames';
import { createDoraState, disposeDoraState, type DoraModelConfig, type DoraState } from '../dora/model';
import { doraTrainStep, NonFiniteLossError, type DoraStepHyper } from '../dora/trainStep';
import { cosineScheduler, teacherTempSchedule, type TrainingSchedules } from '../optim/schedules';
import { Rng } from '../../core/rng';
import { BatchBuilder, stepRng } from './batch';
import { deleteCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { writeSnapshot } from './snapshot';

export const DORA_STUDIO_VERSION = '0.1.0';

export interface TrainOptions {
  /** A *.dora.json file. Optional when resuming: the run's own config.json is used then. */
  configPath?: string;
  /** Write into this run folder (created if missing). Default: a new folder under config.runtime.runsDir. */
  runDir?: string;
  /** Resume from this checkpoint sidecar (checkpoints/step-NNNNNN.json), or 'latest' of runDir. */
  resume?: string;
  backend?: BackendName;
  ffmpegPath?: string;
  /** Frame-cache root folder (default: the user cache folder). */
  cacheRoot?: string;
  /** Stop (with a checkpoint) after this many optimisation steps in total — for tests and benchmarks. */
  maxSteps?: number;
  /** Overrides config.runtime.snapshotEvery (the extension's dora.snapshotInterval setting). */
  snapshotEvery?: number;
  /** Aborting finishes the current step, writes a checkpoint and returns with reason 'stopped'. */
  signal?: AbortSignal;
  emit?: (message: TrainerMessage) => void;
}

export interface TrainResult {
  runDir: string;
  step: number;
  reason: FinishReason;
  message?: string;
}

/** Thrown for problems the user must fix; `fix` says how. */
export class TrainingError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(message);
    this.name = 'TrainingError';
  }
}

export function modelConfigOf(config: DoraConfig): DoraModelConfig {
  const m = config.model;
  return {
    vit: {
      embedDim: m.embedDim,
      depth: m.depth,
      numHeads: m.numHeads,
      patchSize: m.patchSize,
      imgSize: config.data.globalSize,
      mlpRatio: m.mlpRatio,
      lnEps: 1e-6,
      qkvBias: m.qkvBias,
    },
    head: { ...m.head },
  };
}

export function buildRunSchedules(config: DoraConfig, itersPerEpoch: number): TrainingSchedules {
  const t = config.training;
  return {
    lr: cosineScheduler(peakLr(t), t.minLr, t.epochs, itersPerEpoch, t.warmupEpochs),
    wd: cosineScheduler(t.weightDecay, t.weightDecayEnd, t.epochs, itersPerEpoch),
    momentum: cosineScheduler(t.momentumTeacher, 1, t.epochs, itersPerEpoch),
    teacherTemp: teacherTempSchedule(t.warmupTeacherTemp, t.teacherTemp, Math.min(t.warmupTeacherTempEpochs, t.epochs), t.epochs),
  };
}

/**
 * Recognises the wasm heap running out (4 GiB cap). Emscripten reports it in several ways: an abort, "memory access out
 * of bounds", or — when a kernel's allocation silently fails — a trap such as "remainder by zero" inside a kernel.
 */
export function isWasmOutOfMemory(error: unknown, backend: string): boolean {
  if (backend !== 'wasm') return false;
  const text = `${(error as Error)?.name ?? ''}: ${(error as Error)?.message ?? error}`;
  return /memory access out of bounds|Aborted\(\)|Out of memory|Cannot enlarge memory|RangeError: (WebAssembly\.Memory|Array buffer allocation)|RuntimeError: (remainder by zero|divide by zero|unreachable)/i.test(
    text,
  );
}

/** Bytes of the wasm backend's heap now (0 elsewhere): part of the out-of-memory message. */
function wasmHeapBytes(): number {
  const backend = tf.engine().backendNames().includes('wasm')
    ? (tf.engine().findBackend('wasm') as unknown as { wasm?: { HEAPU8?: Uint8Array } })
    : undefined;
  return backend?.wasm?.HEAPU8?.buffer.byteLength ?? 0;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Keeps only the metrics records of steps ≤ `step` (atomic rewrite), so a resumed run never logs a step twice. */
async function dropMetricsAfter(file: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return;
  }
  const lines = text.split('\n').filter((line) => {
    if (!line.trim()) return false;
    try {
      return (JSON.parse(line) as { step?: number }).step! <= step;
    } catch {
      return false;
    }
  });
  await writeFileAtomic(file, lines.length ? `${lines.join('\n')}\n` : '');
}

async function latestCheckpoint(runDir: string): Promise<string> {
  const list = await listCheckpoints(runDir);
  if (list.length === 0)
    throw new TrainingError(
      `${runDir}: no complete checkpoint to resume from`,
      'Start a new run instead, or pass --resume with the sidecar of a checkpoint.',
    );
  return list[list.length - 1].sidecarFile;
}

/** The resolved config a run was started with (its config.json): what resume, inspect and evaluation use. */
export async function loadRunConfig(runDir: string): Promise<DoraConfig> {
  const file = runPaths(runDir).config;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new TrainingError(
      `${file}: cannot read the run's resolved config (${(e as Error).message})`,
      'Use a checkpoint inside its run folder (runs/<id>/checkpoints/step-NNNNNN.json): the folder holds config.json.',
    );
  }
  const configFile = (raw as { configFile?: string }).configFile ?? file;
  return resolveConfig(stripResolvedFields(raw), { file: configFile });
}

/** The run folder of a checkpoint sidecar (runs/<id>/checkpoints/step-NNNNNN.json → runs/<id>). */
export function runDirOfCheckpoint(sidecarPath: string): string {
  return dirname(dirname(resolve(sidecarPath)));
}

/** config.json holds a resolved DoraConfig; its bookkeeping fields are not config-file keys. */
function stripResolvedFields(raw: unknown): unknown {
  const { configFile: _c, ...rest } = raw as Record<string, unknown>;
  return rest;
}

export async function runTraining(options: TrainOptions): Promise<TrainResult> {
  const emit = options.emit ?? (() => undefined);
  // ---- config and run folder ---------------------------------------------------------------
  let resumeSidecar = options.resume;
  let runDir = options.runDir ? resolve(options.runDir) : undefined;
  if (resumeSidecar && resumeSidecar !== 'latest' && !runDir) runDir = dirname(dirname(resolve(resumeSidecar)));
  if (resumeSidecar === 'latest') {
    if (!runDir)
      throw new TrainingError(
        '--resume latest needs --run-dir',
        'Pass the run folder to resume, e.g. --run-dir runs/20250101-120000-demo.',
      );
    resumeSidecar = await latestCheckpoint(runDir);
  }
  let config: DoraConfig;
  if (resumeSidecar) {
    config = await loadRunConfig(runDir!);
  } else {
    if (!options.configPath)
      throw new TrainingError('no config file given', 'Pass a *.dora.json file (create one with `dora init <preset>`).');
    config = await loadConfigFile(resolve(options.configPath));
  }
  if (!runDir) runDir = (await createRunDir(config.runtime.runsDir, config.name)).dir;
  const paths = runPaths(runDir);
  await mkdir(paths.checkpointsDir, { recursive: true });
  await mkdir(paths.snapshotsDir, { recursive: true });
  if (resumeSidecar) {
    await repairJsonlTail(paths.events);
    await repairJsonlTail(paths.metrics);
  } else {
    await writeJsonAtomic(paths.config, config);
  }
  const configSha = sha256(await readFile(paths.config, 'utf8'));
  const log = async (line: string) => {
    await appendFile(paths.log, `${new Date().toISOString()} ${line}\n`);
  };
  let lastStep = 0;
  const event = async (e: Record<string, unknown> & { type: RunEvent['type'] }) => {
    await appendJsonLine(paths.events, { ...e, time: new Date().toISOString(), step: lastStep });
  };
  const info: RunInfo = {
    formatVersion: RUN_DIR_FORMAT_VERSION,
    id: runDir.split(/[\\/]/).pop()!,
    name: config.name,
    created: new Date().toISOString(),
    configFile: config.configFile,
    preset: config.preset,
    statusHint: 'starting',
    totalSteps: null,
    stepsPerEpoch: null,
    backend: null,
    pid: process.pid,
    hostname: hostname(),
    heartbeat: new Date().toISOString(),
    versions: { doraStudio: DORA_STUDIO_VERSION, node: process.version, tfjs: tf.version.tfjs },
  };
  if (resumeSidecar) {
    try {
      Object.assign(info, { created: (JSON.parse(await readFile(paths.info, 'utf8')) as RunInfo).created });
    } catch {
      /* keep now */
    }
  }
  const writeInfo = () => writeJsonAtomic(paths.info, { ...info, heartbeat: new Date().toISOString() });
  await writeInfo();
  emit({ type: 'ready', protocol: 1, pid: process.pid, versions: { node: process.version, tfjs: tf.version.tfjs } });

  let state: DoraState | undefined;
  let cache: FrameSource | undefined;
  let activeBackend = '';
  try {
    // ---- backend -----------------------------------------------------------------------------
    const report: BackendReport = await initBackend(options.backend ?? config.runtime.backend, { log: (m) => void log(m) });
    info.backend = report.active;
    activeBackend = report.active;
    await log(`backend ${report.active}: ${report.reason}`);
    for (const a of report.attempts) if (a.outcome !== 'active') await log(`  ${a.backend} ${a.outcome}: ${a.reason}`);

    // ---- frames ------------------------------------------------------------------------------
    emit({ type: 'progress', phase: 'frame-cache', done: 0, total: null, message: `Preparing ${config.data.video}` });
    const tools = resolveFfmpeg({ explicitPath: options.ffmpegPath });
    try {
      cache = (await prepareTrainingFrames(config, tools, options, emit, log)).source;
    } catch (e) {
      if (options.signal?.aborted) return await finish('stopped', 'stopped while building the frame cache');
      throw e;
    }
    if (options.signal?.aborted) return await finish('stopped', 'stopped while building the frame cache');
    let endFrame = cache.frameCount;
    if (config.data.trimBlankTail) {
      const tail = detectBlankTail(cache);
      if (tail) {
        endFrame = tail.firstBlankFrame;
        emit({ type: 'warning', message: tail.message });
        await event({ type: 'warning', message: tail.message });
      }
    }
    const startFrame = Math.min(config.data.startFrame, endFrame);
    if (config.data.maxFrames !== undefined) endFrame = Math.min(endFrame, startFrame + config.data.maxFrames);
    let sampler: ClipSampler;
    try {
      sampler = new ClipSampler({
        totalFrames: cache.frameCount,
        framesPerClip: config.data.framesPerClip,
        stride: config.data.stride,
        batchClips: config.training.batchClips,
        seed: config.training.seed,
        startFrame,
        endFrame,
      });
    } catch (e) {
      throw new TrainingError(
        `${config.data.video}: ${(e as Error).message}`,
        'Use a longer video, or lower data.stride / data.framesPerClip / training.batchClips in the config.',
      );
    }
    const itersPerEpoch = sampler.stepsPerEpoch;
    const totalIters = itersPerEpoch * config.training.epochs;
    const schedules = buildRunSchedules(config, itersPerEpoch);
    info.totalSteps = totalIters;
    info.stepsPerEpoch = itersPerEpoch;
    info.statusHint = 'running';
    await writeInfo();

    // ---- model ---------------------------------------------------------------------------------
    emit({ type: 'progress', phase: 'model-init', done: 0, total: null });
    const modelCfg = modelConfigOf(config);
    const initRng = new Rng(`init/seed=${config.training.seed}`);
    state = createDoraState(modelCfg, () => initRng.next());
    let iteration = 0;
    if (resumeSidecar) {
      const sidecar = await loadCheckpoint(resumeSidecar, state);
      if (sidecar.configSha256 !== configSha)
        emit({
          type: 'warning',
          message: `${runDir}/config.json changed since ${resumeSidecar} was written; resuming with the current file.`,
        });
      if (sidecar.schedule.itersPerEpoch !== itersPerEpoch) {
        throw new TrainingError(
          `${resumeSidecar}: the run had ${sidecar.schedule.itersPerEpoch} steps per epoch, the video now gives ${itersPerEpoch}`,
          'The video or its frame cache changed; start a new run.',
        );
      }
      iteration = sidecar.schedule.iteration;
      lastStep = iteration;
      await dropMetricsAfter(paths.metrics, iteration); // steps after the checkpoint are recomputed and logged again
      await event({ type: 'resumed', pid: process.pid, checkpoint: resumeSidecar });
      await log(`resumed from ${resumeSidecar} at step ${iteration}`);
    } else {
      await event({ type: 'started', pid: process.pid });
      await log(
        `started ${config.name}: ${totalIters} steps (${config.training.epochs} epochs × ${itersPerEpoch}), frames [${startFrame}, ${endFrame}) of ${config.data.video}`,
      );
    }

    // ---- loop ----------------------------------------------------------------------------------
    const builder = new BatchBuilder(cache, config.data, config.training.seed);
    const prefetcher = new BatchPrefetcher(cache, (k) =>
      k < totalIters ? sampler.batch(Math.floor(k / itersPerEpoch), k % itersPerEpoch).flatMap((c) => c.frameIndices) : null,
    );
    const k = config.dora.tracker ? config.dora.objects : 1;
    const imagesPerStep = config.training.batchClips * config.data.framesPerClip * (1 + k + config.data.localCrops);
    const stopAt = Math.min(totalIters, options.maxSteps ?? Infinity);
    const started = Date.now();
    const firstIteration = iteration;
    let lastCheckpointStep = resumeSidecar ? iteration : -1;
    const checkpoint = async () => {
      if (!state || lastCheckpointStep === iteration) return;
      emit({ type: 'progress', phase: 'checkpoint', done: iteration, total: totalIters });
      const epoch = Math.floor(Math.max(0, iteration - 1) / itersPerEpoch);
      let sidecar: string;
      try {
        sidecar = await saveCheckpoint(runDir!, state, {
          step: iteration,
          epoch,
          configSha256: configSha,
          rng: { algorithm: 'dora-studio per-iteration streams (seed, iteration)', state: { seed: config.training.seed, iteration } },
          schedule: { iteration, itersPerEpoch, totalIters },
        });
      } catch (e) {
        const code = (e as { code?: string }).code;
        const last = lastCheckpointStep > 0 ? `step ${lastCheckpointStep}` : 'none yet';
        throw new TrainingError(
          `could not write the checkpoint of step ${iteration} in ${paths.checkpointsDir}: ${code === 'ENOSPC' ? 'the disk is full' : (e as Error).message}; nothing partial was left behind (last complete checkpoint: ${last})`,
          'Free disk space (or lower runtime.keepCheckpoints), then resume with --resume latest.',
        );
      }
      lastCheckpointStep = iteration;
      await event({ type: 'checkpoint', file: sidecar });
      emit({ type: 'checkpoint-saved', step: iteration, path: sidecar });
      for (const old of checkpointsToPrune(await listCheckpoints(runDir!), config.runtime.keepCheckpoints))
        await deleteCheckpoint(old.sidecarFile, old.sidecar);
    };

    while (iteration < stopAt) {
      if (options.signal?.aborted) break;
      const epoch = Math.floor(iteration / itersPerEpoch);
      const clips = sampler.batch(epoch, iteration % itersPerEpoch);
      const t0 = Date.now();
      await prefetcher.ready(iteration); // frames decoded off this thread while the previous steps trained
      const hostBatch = builder.build(clips, iteration);
      const heads = config.dora.tracker
        ? stepRng(config.training.seed, 'heads', iteration).sample(config.dora.objects, config.model.numHeads)
        : [];
      const hyper: DoraStepHyper = {
        epoch,
        lr: schedules.lr[iteration],
        weightDecay: schedules.wd[iteration],
        momentum: schedules.momentum[iteration],
        teacherTemp: schedules.teacherTemp[epoch],
        freezeLastLayer: config.training.freezeLastLayer,
        clipGrad: config.training.clipGrad,
        studentTemp: config.training.studentTemp,
        centerMomentum: config.training.centerMomentum,
        lossVariant: config.dora.loss,
        sinkhorn: config.dora.sinkhorn,
        tracker: config.dora.tracker,
      };
      const snapshotDue =
        config.dora.tracker && ((iteration + 1) % (options.snapshotEvery ?? config.runtime.snapshotEvery) === 0 || iteration === 0);
      const global = tf.tensor(hostBatch.global, [hostBatch.batch, hostBatch.frames, 3, hostBatch.globalSize, hostBatch.globalSize]);
      const local = tf.tensor(hostBatch.local, [
        hostBatch.localCrops,
        hostBatch.batch,
        hostBatch.frames,
        3,
        hostBatch.localSize,
        hostBatch.localSize,
      ]);
      let outcome;
      try {
        outcome = await doraTrainStep(state, { global, local, heads }, hyper, {
          collect: snapshotDue,
          microBatch: config.training.microBatch === 'auto' ? undefined : config.training.microBatch,
        });
      } finally {
        tf.dispose([global, local]);
      }
      if (report.active === 'webgpu') assertNoGpuErrors(); // tfjs ignores GPU validation errors; a dropped command buffer means wrong numbers
      iteration++;
      lastStep = iteration;
      const secPerStep = (Date.now() - t0) / 1000;
      const gradNorm = Math.sqrt([...outcome.gradNorms.values()].reduce((s, x) => s + x * x, 0));
      const record: MetricsRecord = {
        step: iteration,
        epoch,
        time: new Date().toISOString(),
        loss: outcome.loss,
        lr: hyper.lr,
        wd: hyper.weightDecay,
        momentum: hyper.momentum,
        teacherTemp: hyper.teacherTemp,
        imgPerSec: imagesPerStep / secPerStep,
        secPerStep,
        gradNorm,
        lossMasked: outcome.parts.lossMasked,
        lossLocal: outcome.parts.lossLocal,
        teacherEntropy: outcome.parts.teacherEntropy,
        teacherBatchEntropy: outcome.parts.teacherBatchEntropy,
      };
      if (iteration % config.runtime.logEvery === 0 || iteration === stopAt || iteration === 1) {
        await appendJsonLine(paths.metrics, record);
        emit({ type: 'metrics', record });
      }
      const rate = (iteration - firstIteration) / Math.max(1e-3, (Date.now() - started) / 1000);
      emit({
        type: 'progress',
        phase: 'training',
        done: iteration,
        total: totalIters,
        rate,
        eta: (stopAt - iteration) / Math.max(rate, 1e-9),
      });
      if (snapshotDue && outcome.tracker) {
        const dir = await writeSnapshot({
          runDir,
          step: iteration,
          epoch,
          batch: hostBatch,
          tracker: outcome.tracker,
          heads,
          patchSize: config.model.patchSize,
        });
        await event({ type: 'snapshot', dir });
        emit({ type: 'snapshot-ready', step: iteration, path: dir });
      }
      if (iteration % config.runtime.checkpointEvery === 0) await checkpoint();
      await writeInfo();
    }
    await checkpoint();
    if (iteration >= totalIters) return await finish('completed');
    return await finish('stopped', options.signal?.aborted ? 'stop requested' : `stopped after ${iteration} steps (--max-steps)`);
  } catch (error) {
    const e = error as Error;
    let message = e.message;
    let fix = (error as TrainingError).fix;
    if (error instanceof NonFiniteLossError) {
      fix =
        'Lower training.lr, keep training.clipGrad at 3, or try dora.sinkhorn.variant "log-domain"; the last good checkpoint is kept and can be resumed.';
    } else if (isWasmOutOfMemory(error, activeBackend)) {
      message = `the wasm backend ran out of memory (heap ${(wasmHeapBytes() / 2 ** 30).toFixed(2)} GiB; its cap is 4 GiB) during a step of ${config.training.batchClips} clips × ${config.data.framesPerClip} frames at ${config.data.globalSize} px (${e.message})`;
      fix = `Set training.microBatch to a smaller number of clips (e.g. ${Math.max(1, Math.floor(config.training.batchClips / 4))}), lower data.globalSize or data.localCrops, or use a GPU backend.`;
    }
    emit({ type: 'error', message, fix, fatal: true });
    await event({ type: 'failed', reason: message, ...(fix ? { fix } : {}) }).catch(() => undefined);
    await log(`failed: ${e.stack ?? message}`).catch(() => undefined);
    info.statusHint = 'failed';
    await writeInfo().catch(() => undefined);
    emit({ type: 'finished', reason: 'failed', step: lastStep, message });
    return { runDir, step: lastStep, reason: 'failed', message: fix ? `${message}\nFix: ${fix}` : message };
  } finally {
    if (state) disposeDoraState(state);
    cache?.close();
  }

  async function finish(reason: 'completed' | 'stopped', why?: string): Promise<TrainResult> {
    if (reason === 'completed') await event({ type: 'finished' });
    else await event({ type: 'stopped', reason: why ?? 'stopped' });
    info.statusHint = reason === 'completed' ? 'finished' : 'stopped';
    await writeInfo();
    await log(reason === 'completed' ? `finished at step ${lastStep}` : `stopped at step ${lastStep}: ${why}`);
    emit({ type: 'finished', reason, step: lastStep, message: why });
    return { runDir: runDir!, step: lastStep, reason, message: why };
  }
}
