/**
 * The training loop: one front door for the CLI (`dora train`) and the extension's child process.
 *   config → backend → frame cache (one decode pass, resumable) → clip sampler → official schedules → DoRA steps,
 * writing the run directory (docs/run-directory.md) as it goes and reporting through typed messages (src/core/messages).
 * A stop request finishes the current step, checkpoints and exits; a killed run resumes from its last checkpoint and
 * follows exactly the trajectory it would have followed (all randomness is a function of seed and iteration).
 */
import * as tf from '@tensorflow/tfjs';
import { hostname } from 'node:os';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import { appendJsonLine, writeFileAtomic, writeJsonAtomic, type AtomicWriteFs } from '../../core/atomicWrite';
import { formatNumber, peakLr, type DoraConfig } from '../../core/config';
import { formatChange, type ConfigChange } from '../../core/configOverrides';
import { repairJsonlTail } from '../../core/jsonl';
import type { FinishReason, TrainerMessage } from '../../core/messages';
import { ownProcessStart } from '../../core/processIdentity';
import {
  checkpointsToPrune,
  createRunDir,
  listCheckpoints,
  parseStepLabel,
  runPaths,
  snapshotPaths,
  RUN_DIR_FORMAT_VERSION,
  type MetricsRecord,
  type RunEvent,
  type RunInfo,
} from '../../core/runDir';
import type { UnsafeRunPathError } from '../../core/runPathSafety';
import { assertNoGpuErrors, initBackend, type BackendName, type BackendReport } from '../backend';
import { ClipSampler } from '../data/clips';
import { resolveFfmpeg } from '../data/ffmpeg';
import { buildFrameCache, detectBlankTail, planFrameCache, type FrameCache } from '../data/frameCache';
import { createDoraState, disposeDoraState, type DoraModelConfig, type DoraState } from '../dora/model';
import { doraTrainStep, NonFiniteLossError, type DoraStepHyper } from '../dora/trainStep';
import { cosineScheduler, teacherTempSchedule, type TrainingSchedules } from '../optim/schedules';
import { Rng } from '../../core/rng';
import { BatchBuilder, stepRng } from './batch';
import { deleteCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { writeSnapshot } from './snapshot';
import {
  claimRunFolder,
  cleanLeftovers,
  diskCause,
  divergenceAdvice,
  diskFix,
  lowerLrSettings,
  preflightTraining,
  readConfigFile,
  readRunBaseline,
  removeHollowRunDir,
  resolveWithOverrides,
  type ResolvedTrainingConfig,
} from './runStart';
import { videoIntegrityWarnings } from '../data/videoIntegrity';

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
  /**
   * Config overrides `key=value` (`dora train --set training.lr=1e-4`, repeatable; the extension's resume with a
   * changed .dora.json). Applied to the .dora.json, or on resume to the run's config.json (which is then rewritten).
   */
  overrides?: readonly string[];
  /** File-system seam of the atomic writes (config.json, run.json, checkpoints, snapshot manifests): fault-injection tests. */
  writeFs?: AtomicWriteFs;
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
  const refused: UnsafeRunPathError[] = [];
  const list = await listCheckpoints(runDir, (e) => refused.push(e));
  if (list.length === 0 && refused.length > 0) throw refused[refused.length - 1];
  if (list.length === 0)
    throw new TrainingError(
      `${runDir}: no complete checkpoint to resume from`,
      'Start a new run instead, or pass --resume with the sidecar of a checkpoint.',
    );
  return list[list.length - 1].sidecarFile;
}

/** The resolved config a run was started with (its config.json): what resume, inspect and evaluation use. */
export async function loadRunConfig(runDir: string): Promise<DoraConfig> {
  return (await loadRunConfigWith(runDir, [])).config;
}

/** loadRunConfig with `--set` overrides applied (resume), and what they changed. */
export async function loadRunConfigWith(runDir: string, overrides: readonly string[]): Promise<ResolvedTrainingConfig> {
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
  return resolveWithOverrides(raw, file, overrides, { resume: true, configFile });
}

/** The run folder of a checkpoint sidecar (runs/<id>/checkpoints/step-NNNNNN.json → runs/<id>). */
export function runDirOfCheckpoint(sidecarPath: string): string {
  return dirname(dirname(resolve(sidecarPath)));
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
  // Nothing is written before the config, the video and ffmpeg are known to be good: a bad start creates no run folder.
  let config: DoraConfig;
  let configChanges: ConfigChange[];
  try {
    if (resumeSidecar) {
      ({ config, changes: configChanges } = await loadRunConfigWith(runDir!, options.overrides ?? []));
    } else {
      if (!options.configPath)
        throw new TrainingError('no config file given', 'Pass a *.dora.json file (create one with `dora init <preset>`).');
      const file = resolve(options.configPath);
      ({ config, changes: configChanges } = resolveWithOverrides(await readConfigFile(file), file, options.overrides ?? [], {
        resume: false,
      }));
    }
    preflightTraining(config, options);
  } catch (error) {
    if (runDir && !resumeSidecar) await removeHollowRunDir(runDir); // a folder the extension made for this start
    throw error;
  }
  const createdHere = !runDir;
  if (!runDir) runDir = (await createRunDir(config.runtime.runsDir, config.name)).dir;
  else await mkdir(runDir, { recursive: true });
  const lock = await claimRunFolder(runDir, resumeSidecar ? 'resume' : 'train'); // refuses a run another trainer holds
  const baseline = resumeSidecar ? await readRunBaseline(runDir) : { step: 0, info: undefined };
  const paths = runPaths(runDir);
  const writeOptions = options.writeFs ? { fs: options.writeFs } : {};
  let configSha = '';
  const log = async (line: string) => {
    await appendFile(paths.log, `${new Date().toISOString()} ${line}\n`);
  };
  let lastStep = baseline.step;
  /** True once `started`/`resumed` is recorded: from then on a failure is the run's, before it the run is left as it was. */
  let recorded = false;
  let lastCheckpointStep = resumeSidecar ? (parseStepLabel(basename(resumeSidecar)) ?? -1) : -1;
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
    processStart: ownProcessStart(),
    hostname: hostname(),
    heartbeat: new Date().toISOString(),
    versions: { doraStudio: DORA_STUDIO_VERSION, node: process.version, tfjs: tf.version.tfjs },
  };
  if (baseline.info) info.created = baseline.info.created;
  const writeInfo = () => writeJsonAtomic(paths.info, { ...info, heartbeat: new Date().toISOString() }, writeOptions);
  /** A write of the start-up: a disk error becomes a message that names the file, the cause and the fix. */
  const startupWrite = async <T>(file: string, write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (e) {
      const cause = diskCause(e);
      if (!cause) throw e;
      throw new TrainingError(
        `could not write ${file} while ${resumeSidecar ? 'resuming' : 'starting'} the run: ${cause} (${(e as Error).message}); nothing partial was left behind`,
        diskFix(runDir!, lastCheckpointStep, e),
      );
    }
  };
  const refusedCheckpoint = (e: UnsafeRunPathError) => {
    emit({ type: 'warning', message: e.message });
    void log(`refused a checkpoint: ${e.message}`);
  };
  /** Deletes the oldest checkpoints beyond runtime.keepCheckpoints (never `keep`, the one being resumed from). */
  const prune = async (keep?: string) => {
    if (config.runtime.keepCheckpoints <= 0) return; // 0 keeps all
    const list = (await listCheckpoints(runDir!, refusedCheckpoint)).filter((c) => c.sidecarFile !== keep);
    const others = keep ? config.runtime.keepCheckpoints - 1 : config.runtime.keepCheckpoints;
    for (const old of others === 0 ? list : checkpointsToPrune(list, others)) await deleteCheckpoint(old.sidecarFile, old.sidecar);
  };

  let state: DoraState | undefined;
  let cache: FrameCache | undefined;
  let activeBackend = '';
  try {
    // ---- start-up writes -----------------------------------------------------------------------
    const leftovers = await cleanLeftovers(runDir); // we hold the lock: whatever a writer left is from a dead one
    await startupWrite(paths.checkpointsDir, () => mkdir(paths.checkpointsDir, { recursive: true }));
    await startupWrite(paths.snapshotsDir, () => mkdir(paths.snapshotsDir, { recursive: true }));
    if (resumeSidecar) {
      await startupWrite(paths.events, () => repairJsonlTail(paths.events));
      await startupWrite(paths.metrics, () => repairJsonlTail(paths.metrics));
    }
    // On resume with overrides config.json is rewritten, so the run's record says what it trains with.
    if (!resumeSidecar || configChanges.length > 0)
      await startupWrite(paths.config, () => writeJsonAtomic(paths.config, config, writeOptions));
    configSha = sha256(await readFile(paths.config, 'utf8'));
    await startupWrite(paths.info, writeInfo);
    emit({ type: 'ready', protocol: 1, pid: process.pid, versions: { node: process.version, tfjs: tf.version.tfjs } });
    if (lock.tookOver) await log(`took over the stale run lock (${lock.tookOver.reason})`);
    if (leftovers.length) await log(`removed what an interrupted writer left: ${leftovers.join(', ')}`);
    // ---- backend -----------------------------------------------------------------------------
    const report: BackendReport = await initBackend(options.backend ?? config.runtime.backend, { log: (m) => void log(m) });
    info.backend = report.active;
    activeBackend = report.active;
    await log(`backend ${report.active}: ${report.reason}`);
    for (const a of report.attempts) if (a.outcome !== 'active') await log(`  ${a.backend} ${a.outcome}: ${a.reason}`);

    // ---- frames ------------------------------------------------------------------------------
    emit({ type: 'progress', phase: 'frame-cache', done: 0, total: null, message: `Preparing ${config.data.video}` });
    const tools = resolveFfmpeg({ explicitPath: options.ffmpegPath });
    const plan = await planFrameCache(config.data.video, {
      shortSide: config.data.frameCache.shortSide,
      cacheRoot: config.data.frameCache.dir ?? options.cacheRoot,
      tools,
    });
    await log(plan.summary);
    if (!plan.alreadyComplete && plan.freeBytes !== null && plan.freeBytes < plan.estimatedBytes - plan.completedFrames * plan.frameBytes) {
      throw new TrainingError(
        `${plan.summary}: not enough free disk space`,
        'Free disk space, lower data.frameCache.shortSide, or point data.frameCache.dir at a larger disk.',
      );
    }
    cache = await buildFrameCache(plan, {
      tools,
      signal: options.signal,
      onProgress: (p) =>
        emit({
          type: 'progress',
          phase: 'frame-cache',
          done: p.framesDone,
          total: p.totalFrames,
          rate: p.framesPerSecond,
          eta: Number.isFinite(p.etaSeconds) ? p.etaSeconds : undefined,
        }),
    });
    for (const warning of videoIntegrityWarnings(cache.index)) {
      emit({ type: 'warning', message: warning });
      await event({ type: 'warning', message: warning });
      await log(`warning: ${warning}`);
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
      if (configChanges.length > 0) {
        const message = `resuming with a changed config (config.json updated): ${configChanges.map(formatChange).join('; ')}`;
        emit({ type: 'warning', message });
        await log(message);
      } else if (sidecar.configSha256 !== configSha)
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
      await event({
        type: 'resumed',
        pid: process.pid,
        checkpoint: resumeSidecar,
        ...(configChanges.length ? { configChanges: configChanges.map(({ key, from, to }) => ({ key, from, to })) } : {}),
      });
      recorded = true;
      await log(`resumed from ${resumeSidecar} at step ${iteration}`);
      await prune(resolve(resumeSidecar)); // a lowered runtime.keepCheckpoints frees its space before the next write
    } else {
      await event({ type: 'started', pid: process.pid });
      recorded = true;
      await log(
        `started ${config.name}: ${totalIters} steps (${config.training.epochs} epochs × ${itersPerEpoch}), frames [${startFrame}, ${endFrame}) of ${config.data.video}`,
      );
    }

    // ---- loop ----------------------------------------------------------------------------------
    const builder = new BatchBuilder(cache, config.data, config.training.seed);
    const k = config.dora.tracker ? config.dora.objects : 1;
    const imagesPerStep = config.training.batchClips * config.data.framesPerClip * (1 + k + config.data.localCrops);
    const stopAt = Math.min(totalIters, options.maxSteps ?? Infinity);
    const started = Date.now();
    const firstIteration = iteration;
    lastCheckpointStep = resumeSidecar ? iteration : -1;
    const checkpoint = async () => {
      if (!state || lastCheckpointStep === iteration) return;
      emit({ type: 'progress', phase: 'checkpoint', done: iteration, total: totalIters });
      const epoch = Math.floor(Math.max(0, iteration - 1) / itersPerEpoch);
      let sidecar: string;
      try {
        sidecar = await saveCheckpoint(
          runDir!,
          state,
          {
            step: iteration,
            epoch,
            configSha256: configSha,
            rng: { algorithm: 'dora-studio per-iteration streams (seed, iteration)', state: { seed: config.training.seed, iteration } },
            schedule: { iteration, itersPerEpoch, totalIters },
          },
          writeOptions,
        );
      } catch (e) {
        const last = lastCheckpointStep > 0 ? `step ${lastCheckpointStep}` : 'none yet';
        throw new TrainingError(
          `could not write the checkpoint of step ${iteration} in ${paths.checkpointsDir}: ${diskCause(e) ?? (e as Error).message}; nothing partial was left behind (last complete checkpoint: ${last})`,
          diskFix(runDir!, lastCheckpointStep, e, [
            `runtime.keepCheckpoints=${Math.max(1, Math.min(2, config.runtime.keepCheckpoints - 1))}`,
          ]),
        );
      }
      lastCheckpointStep = iteration;
      await event({ type: 'checkpoint', file: sidecar });
      emit({ type: 'checkpoint-saved', step: iteration, path: sidecar });
      await prune();
    };

    while (iteration < stopAt) {
      if (options.signal?.aborted) break;
      const epoch = Math.floor(iteration / itersPerEpoch);
      const clips = sampler.batch(epoch, iteration % itersPerEpoch);
      const t0 = Date.now();
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
        let dir: string;
        try {
          dir = await writeSnapshot({
            runDir,
            step: iteration,
            epoch,
            batch: hostBatch,
            tracker: outcome.tracker,
            heads,
            patchSize: config.model.patchSize,
            writeOptions,
          });
        } catch (e) {
          await rm(snapshotPaths(runDir, iteration).tempDir, { recursive: true, force: true }).catch(() => undefined);
          const last = lastCheckpointStep > 0 ? `step ${lastCheckpointStep}` : 'none yet';
          const every = (options.snapshotEvery ?? config.runtime.snapshotEvery) * 10;
          throw new TrainingError(
            `could not write the snapshot of step ${iteration} in ${paths.snapshotsDir}: ${diskCause(e) ?? (e as Error).message}; its partial folder was removed (last complete checkpoint: ${last})`,
            diskFix(runDir, lastCheckpointStep, e, [`runtime.snapshotEvery=${every}`]),
          );
        }
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
      const checkpoints = await listCheckpoints(runDir).catch(() => []);
      fix = `Lower training.lr (now ${formatNumber(config.training.lr)}), keep training.clipGrad at 3, or try dora.sinkhorn.variant "log-domain"; then ${divergenceAdvice(runDir, checkpoints, lastStep, lowerLrSettings(config))}.`;
    } else if (!(error instanceof TrainingError) && diskCause(error)) {
      const where = typeof (error as { path?: unknown }).path === 'string' ? (error as { path: string }).path : `a file in ${runDir}`;
      message = `could not write ${where}: ${diskCause(error)} (${e.message})`;
      fix = diskFix(runDir, lastCheckpointStep, error);
    } else if (isWasmOutOfMemory(error, activeBackend)) {
      message = `the wasm backend ran out of memory (heap ${(wasmHeapBytes() / 2 ** 30).toFixed(2)} GiB; its cap is 4 GiB) during a step of ${config.training.batchClips} clips × ${config.data.framesPerClip} frames at ${config.data.globalSize} px (${e.message})`;
      fix = `Set training.microBatch to a smaller number of clips (e.g. ${Math.max(1, Math.floor(config.training.batchClips / 4))}), lower data.globalSize or data.localCrops, or use a GPU backend.`;
    }
    emit({ type: 'error', message, fix, fatal: true });
    if (resumeSidecar && !recorded) {
      // The resume never started: the run keeps its state (a clean stop stays a clean stop), with a warning.
      const warning = `resuming from ${resumeSidecar} failed before training started: ${message}${fix ? ` Fix: ${fix}` : ''}`;
      await event({ type: 'warning', message: warning }).catch(() => undefined);
      await log(warning).catch(() => undefined);
      if (baseline.info) await writeJsonAtomic(paths.info, baseline.info).catch(() => undefined);
    } else {
      const saved = await event({ type: 'failed', reason: message, ...(fix ? { fix } : {}) }).then(
        () => true,
        () => false,
      );
      await log(`failed: ${e.stack ?? message}`).catch(() => undefined);
      info.statusHint = 'failed';
      await writeInfo().catch(() => undefined);
      // A start that could not even record its failure leaves no half-made run folder behind.
      if (!saved && !recorded && createdHere) await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
    }
    emit({ type: 'finished', reason: 'failed', step: lastStep, message });
    return { runDir, step: lastStep, reason: 'failed', message: fix ? `${message}\nFix: ${fix}` : message };
  } finally {
    if (state) disposeDoraState(state);
    cache?.close();
    await lock.release();
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
