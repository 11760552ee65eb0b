/**
 * Training: one front door for the CLI (`dora train`) and the engine process (a `start` request).
 *   open the run (openRun.ts: config with `--set` overrides, checks, folder, run.lock) → its first writes
 *   → backend, frame cache, clip sampler (prepareData.ts) → model, fresh or from a checkpoint
 *   → the loop (trainingLoop.ts) → finished / stopped / failed (failure.ts) → run.lock released,
 * writing the run directory (docs/run-directory.md) as it goes and reporting through typed messages (src/core/messages).
 * A stop request finishes the current step, checkpoints and exits; a killed run resumes from its last checkpoint and
 * follows exactly the trajectory it would have followed (all randomness is a function of seed and iteration).
 */
import { readFile, rm } from 'node:fs/promises';
import { formatChange } from '../../core/configOverrides';
import type { FinishReason, TrainerMessage } from '../../core/messages';
import { writeFileAtomic, writeJsonAtomic } from '../../core/node/atomicWrite';
import { Rng } from '../../core/rng';
import type { CheckpointSidecar } from '../../core/runRecords';
import type { BackendName } from '../backend';
import type { FrameSource } from '../data/frameCache/reader';
import { createDoraState, disposeDoraState, type DoraState } from '../dora/model';
import { loadCheckpoint, pruneCheckpoints } from './checkpoint';
import { describeFailure } from './failure';
import { openRun, writeRunStart, type OpenedRun, type RunLocation } from './openRun';
import { clipRange, initRunBackend, openFrames } from './prepareData';
import { buildRunSchedules, modelConfigOf, TrainingError } from './runConfig';
import { refusedCheckpointReporter, TrainingLoop } from './trainingLoop';

export interface TrainOptions extends RunLocation {
  backend?: BackendName;
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

type Emit = (message: TrainerMessage) => void;

export async function runTraining(options: TrainOptions): Promise<TrainResult> {
  const emit = options.emit ?? (() => undefined);
  const run = await openRun(options); // refuses a run another trainer holds; from here on this process holds run.lock
  let state: DoraState | undefined;
  let cache: FrameSource | undefined;
  try {
    const leftovers = await writeRunStart(run);
    if (run.lock.tookOver) await run.writer.log(`took over the stale run lock (${run.lock.tookOver.reason})`);
    if (leftovers.length) await run.writer.log(`removed what an interrupted writer left: ${leftovers.join(', ')}`);
    const backend = await initRunBackend(run.config, { ...options, emit }, run.writer);
    cache = await openFrames(run.config, { ...options, emit }, run.writer);
    if (!cache || options.signal?.aborted) return await finish(run, emit, 'stopped', 'stopped while building the frame cache');
    const { sampler, startFrame, endFrame } = await clipRange(run.config, cache, run.writer, emit);
    const itersPerEpoch = sampler.stepsPerEpoch;
    Object.assign(run.writer.info, {
      totalSteps: itersPerEpoch * run.config.training.epochs,
      stepsPerEpoch: itersPerEpoch,
      statusHint: 'running',
    });
    await run.writer.writeInfo();
    emit({ type: 'progress', phase: 'model-init', done: 0, total: null });
    const initRng = new Rng(`init/seed=${run.config.training.seed}`);
    state = createDoraState(modelConfigOf(run.config), () => initRng.next());
    const iteration = await startOrResume(run, state, itersPerEpoch, emit, `frames [${startFrame}, ${endFrame})`);
    const loop = new TrainingLoop({
      config: run.config,
      runDir: run.runDir,
      configSha: run.configSha,
      writer: run.writer,
      emit,
      state,
      cache,
      sampler,
      schedules: buildRunSchedules(run.config, itersPerEpoch),
      backend: backend.active,
      iteration,
      signal: options.signal,
      maxSteps: options.maxSteps,
      snapshotEvery: options.snapshotEvery,
    });
    if (await loop.run()) return await finish(run, emit, 'completed');
    const why = options.signal?.aborted ? 'stop requested' : `stopped after ${loop.iteration} steps (--max-steps)`;
    return await finish(run, emit, 'stopped', why);
  } catch (error) {
    return await fail(run, emit, error);
  } finally {
    if (state) disposeDoraState(state);
    cache?.close();
    await run.lock.release();
  }
}

/** Loads the checkpoint to resume from (checking it fits this run), or records a fresh start. Returns the first iteration. */
async function startOrResume(run: OpenedRun, state: DoraState, itersPerEpoch: number, emit: Emit, frames: string): Promise<number> {
  const { config, writer, resumeSidecar } = run;
  if (!resumeSidecar) {
    await writer.event({ type: 'started', pid: process.pid });
    run.recorded = true;
    const total = itersPerEpoch * config.training.epochs;
    await writer.log(
      `started ${config.name}: ${total} steps (${config.training.epochs} epochs × ${itersPerEpoch}), ${frames} of ${config.data.video}`,
    );
    return 0;
  }
  const sidecar = await loadCheckpoint(resumeSidecar, state);
  if (run.configChanges.length > 0) {
    const message = `resuming with a changed config (config.json updated): ${run.configChanges.map(formatChange).join('; ')}`;
    emit({ type: 'warning', message });
    await writer.log(message);
  } else if (sidecar.configSha256 !== run.configSha)
    emit({
      type: 'warning',
      message: `${run.runDir}/config.json changed since ${resumeSidecar} was written; resuming with the current file.`,
    });
  const iteration = resumeIteration(sidecar, itersPerEpoch, config.training.epochs, resumeSidecar);
  writer.lastStep = iteration;
  writer.lastCheckpointStep = iteration;
  await dropMetricsAfter(writer.paths.metrics, iteration); // steps after the checkpoint are recomputed and logged again
  const changes = run.configChanges.map(({ key, from, to }) => ({ key, from, to }));
  await writer.event({
    type: 'resumed',
    pid: process.pid,
    checkpoint: resumeSidecar,
    ...(changes.length ? { configChanges: changes } : {}),
  });
  run.recorded = true;
  await writer.log(`resumed from ${resumeSidecar} at step ${iteration}`);
  // A lowered runtime.keepCheckpoints frees its space before the next write (the checkpoint resumed from is kept).
  const onRefused = refusedCheckpointReporter({ emit, writer });
  await pruneCheckpoints(run.runDir, config.runtime.keepCheckpoints, { keep: resumeSidecar, onRefused });
  return iteration;
}

/**
 * The first iteration after a checkpoint. Imported weights (`dora import`: the sidecar has `imported`, and 0 steps per
 * epoch because those depend on the video) restart at the beginning of their saved epoch, the official semantics.
 */
function resumeIteration(sidecar: CheckpointSidecar, itersPerEpoch: number, epochs: number, file: string): number {
  const imported = (sidecar as { imported?: unknown }).imported;
  if (typeof imported === 'object' && imported !== null) {
    const epoch = Number((imported as { epoch?: unknown }).epoch);
    return Math.min(Number.isInteger(epoch) && epoch > 0 ? epoch * itersPerEpoch : 0, itersPerEpoch * epochs);
  }
  if (sidecar.schedule.itersPerEpoch !== itersPerEpoch)
    throw new TrainingError(
      `${file}: the run had ${sidecar.schedule.itersPerEpoch} steps per epoch, the video now gives ${itersPerEpoch}`,
      'The video or its frame cache changed; start a new run.',
    );
  return sidecar.schedule.iteration;
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

async function finish(run: OpenedRun, emit: Emit, reason: 'completed' | 'stopped', why?: string): Promise<TrainResult> {
  const { writer } = run;
  if (reason === 'completed') await writer.event({ type: 'finished' });
  else await writer.event({ type: 'stopped', reason: why ?? 'stopped' });
  writer.info.statusHint = reason === 'completed' ? 'finished' : 'stopped';
  await writer.writeInfo();
  await writer.log(reason === 'completed' ? `finished at step ${writer.lastStep}` : `stopped at step ${writer.lastStep}: ${why}`);
  emit({ type: 'finished', reason, step: writer.lastStep, message: why });
  return { runDir: run.runDir, step: writer.lastStep, reason, message: why };
}

/**
 * Records a failure everywhere it is looked for (message, events.jsonl, trainer.log, run.json) and returns it. A resume
 * that fails before it started leaves the run as it was (a clean stop stays a clean stop), with a warning event.
 */
async function fail(run: OpenedRun, emit: Emit, error: unknown): Promise<TrainResult> {
  const { writer } = run;
  const context = { config: run.config, runDir: run.runDir, backend: writer.info.backend ?? '' };
  const { message, fix } = await describeFailure(error, {
    ...context,
    lastStep: writer.lastStep,
    lastCheckpointStep: writer.lastCheckpointStep,
  });
  emit({ type: 'error', message, fix, fatal: true });
  if (run.resumeSidecar && !run.recorded) {
    const warning = `resuming from ${run.resumeSidecar} failed before training started: ${message}${fix ? ` Fix: ${fix}` : ''}`;
    await writer.event({ type: 'warning', message: warning }).catch(() => undefined);
    await writer.log(warning).catch(() => undefined);
    if (run.baseline.info) await writeJsonAtomic(writer.paths.info, run.baseline.info).catch(() => undefined);
  } else {
    const saved = await writer.event({ type: 'failed', reason: message, ...(fix ? { fix } : {}) }).then(
      () => true,
      () => false,
    );
    await writer.log(`failed: ${(error as Error).stack ?? message}`).catch(() => undefined);
    writer.info.statusHint = 'failed';
    await writer.writeInfo().catch(() => undefined);
    // A start that could not even record its failure leaves no half-made run folder behind.
    if (!saved && !run.recorded && run.createdHere) await rm(run.runDir, { recursive: true, force: true }).catch(() => undefined);
  }
  emit({ type: 'finished', reason: 'failed', step: writer.lastStep, message });
  return { runDir: run.runDir, step: writer.lastStep, reason: 'failed', message: fix ? `${message}\nFix: ${fix}` : message };
}
