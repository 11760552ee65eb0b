/**
 * The training loop of an opened, prepared run: one DoRA step per iteration (batch → step → metrics → snapshot →
 * checkpoint → heartbeat) until the schedule ends, --max-steps is reached or a stop is requested, then a last
 * checkpoint. All randomness is a function of (seed, iteration), so a resumed loop follows the same trajectory.
 */
import * as tf from '@tensorflow/tfjs';
import { rm } from 'node:fs/promises';
import type { DoraConfig } from '../../core/config';
import type { TrainerMessage } from '../../core/messages';
import type { UnsafeRunPathError } from '../../core/node/runPathSafety';
import { snapshotPaths } from '../../core/node/runPaths';
import type { MetricsRecord } from '../../core/runRecords';
import { assertNoGpuErrors } from '../backend';
import type { ClipRef, ClipSampler } from '../data/clips';
import { BatchPrefetcher } from '../data/frameCache/prefetch';
import type { FrameSource } from '../data/frameCache/reader';
import type { DoraState } from '../dora/model';
import { doraTrainStep, type DoraStepHyper, type StepOutcome } from '../dora/trainStep';
import type { TrainingSchedules } from '../optim/schedules';
import { BatchBuilder, stepRng, type HostBatch } from './batch';
import { pruneCheckpoints, saveCheckpoint } from './checkpoint';
import { diskCause, diskFix } from './fixAdvice';
import type { RunWriter } from './openRun';
import { microBatchOf, stepHyper, TrainingError } from './runConfig';
import { writeSnapshot } from './snapshot';

export interface LoopContext {
  config: DoraConfig;
  runDir: string;
  configSha: string;
  writer: RunWriter;
  emit: (message: TrainerMessage) => void;
  state: DoraState;
  cache: FrameSource;
  sampler: ClipSampler;
  schedules: TrainingSchedules;
  /** The backend in use ('webgpu' checks for dropped command buffers after each step). */
  backend: string;
  /** The iteration to start at (0, or the checkpoint's when resuming: writer.lastCheckpointStep is that step then). */
  iteration: number;
  signal?: AbortSignal;
  /** Stop (with a checkpoint) after this many steps in total. */
  maxSteps?: number;
  /** Overrides config.runtime.snapshotEvery. */
  snapshotEvery?: number;
}

export class TrainingLoop {
  iteration: number;
  private readonly itersPerEpoch: number;
  private readonly totalIters: number;
  private readonly stopAt: number;
  private readonly builder: BatchBuilder;
  private readonly prefetcher: BatchPrefetcher;
  private readonly imagesPerStep: number;
  private readonly started = Date.now();
  private readonly firstIteration: number;

  constructor(private readonly c: LoopContext) {
    const { config } = c;
    this.iteration = c.iteration;
    this.firstIteration = c.iteration;
    this.itersPerEpoch = c.sampler.stepsPerEpoch;
    this.totalIters = this.itersPerEpoch * config.training.epochs;
    this.stopAt = Math.min(this.totalIters, c.maxSteps ?? Infinity);
    this.builder = new BatchBuilder(c.cache, config.data, config.training.seed);
    // A cache that decodes (compact JPEG) decodes the next two batches' frames in worker threads during each step.
    this.prefetcher = new BatchPrefetcher(c.cache, (k) => (k < this.stopAt ? this.clipsOf(k).flatMap((clip) => clip.frameIndices) : null));
    const k = config.dora.tracker ? config.dora.objects : 1;
    this.imagesPerStep = config.training.batchClips * config.data.framesPerClip * (1 + k + config.data.localCrops);
  }

  /** Trains until the end, the step limit or a stop; always ends with a checkpoint. True when the schedule is done. */
  async run(): Promise<boolean> {
    while (this.iteration < this.stopAt && !this.c.signal?.aborted) await this.step();
    await this.checkpoint();
    return this.iteration >= this.totalIters;
  }

  private async step(): Promise<void> {
    const { config } = this.c;
    const iteration = this.iteration;
    const epoch = Math.floor(iteration / this.itersPerEpoch);
    const t0 = Date.now();
    await this.prefetcher.ready(iteration); // frames decoded off this thread while the previous steps trained
    if (this.c.signal?.aborted) return; // a stop asked for while the frames were decoded starts no further step
    const hostBatch = this.builder.build(this.clipsOf(iteration), iteration);
    const heads = config.dora.tracker
      ? stepRng(config.training.seed, 'heads', iteration).sample(config.dora.objects, config.model.numHeads)
      : [];
    const hyper = stepHyper(config, this.c.schedules, iteration, epoch);
    const every = this.c.snapshotEvery ?? config.runtime.snapshotEvery;
    const snapshotDue = config.dora.tracker && ((iteration + 1) % every === 0 || iteration === 0);
    const outcome = await this.trainOn(hostBatch, heads, hyper, snapshotDue);
    this.iteration++;
    this.c.writer.lastStep = this.iteration;
    await this.record(outcome, hyper, (Date.now() - t0) / 1000);
    if (snapshotDue && outcome.tracker) await this.snapshot(hostBatch, outcome, heads, epoch);
    if (this.iteration % config.runtime.checkpointEvery === 0) await this.checkpoint();
    await this.c.writer.writeInfo();
  }

  private clipsOf(iteration: number): ClipRef[] {
    return this.c.sampler.batch(Math.floor(iteration / this.itersPerEpoch), iteration % this.itersPerEpoch);
  }

  private async trainOn(hostBatch: HostBatch, heads: number[], hyper: DoraStepHyper, collect: boolean): Promise<StepOutcome> {
    const { batch, frames, globalSize, localCrops, localSize } = hostBatch;
    const global = tf.tensor(hostBatch.global, [batch, frames, 3, globalSize, globalSize]);
    const local = tf.tensor(hostBatch.local, [localCrops, batch, frames, 3, localSize, localSize]);
    let outcome: StepOutcome;
    try {
      const options = { collect, microBatch: microBatchOf(this.c.config.training) };
      outcome = await doraTrainStep(this.c.state, { global, local, heads }, hyper, options);
    } finally {
      tf.dispose([global, local]);
    }
    // tfjs ignores GPU validation errors; a dropped command buffer means wrong numbers
    if (this.c.backend === 'webgpu') assertNoGpuErrors();
    return outcome;
  }

  /** The metrics record of the step (written every runtime.logEvery steps, and the first and last) and progress. */
  private async record(outcome: StepOutcome, hyper: DoraStepHyper, secPerStep: number): Promise<void> {
    const iteration = this.iteration;
    const record: MetricsRecord = {
      step: iteration,
      epoch: hyper.epoch,
      time: new Date().toISOString(),
      loss: outcome.loss,
      lr: hyper.lr,
      wd: hyper.weightDecay,
      momentum: hyper.momentum,
      teacherTemp: hyper.teacherTemp,
      imgPerSec: this.imagesPerStep / secPerStep,
      secPerStep,
      gradNorm: Math.sqrt([...outcome.gradNorms.values()].reduce((s, x) => s + x * x, 0)),
      lossMasked: outcome.parts.lossMasked,
      lossLocal: outcome.parts.lossLocal,
      teacherEntropy: outcome.parts.teacherEntropy,
      teacherBatchEntropy: outcome.parts.teacherBatchEntropy,
    };
    if (iteration % this.c.config.runtime.logEvery === 0 || iteration === this.stopAt || iteration === 1) {
      await this.c.writer.metrics(record);
      this.c.emit({ type: 'metrics', record });
    }
    const rate = (iteration - this.firstIteration) / Math.max(1e-3, (Date.now() - this.started) / 1000);
    const eta = (this.stopAt - iteration) / Math.max(rate, 1e-9);
    this.c.emit({ type: 'progress', phase: 'training', done: iteration, total: this.totalIters, rate, eta });
  }

  private async snapshot(hostBatch: HostBatch, outcome: StepOutcome, heads: number[], epoch: number): Promise<void> {
    let dir: string;
    try {
      dir = await writeSnapshot({
        runDir: this.c.runDir,
        step: this.iteration,
        epoch,
        batch: hostBatch,
        tracker: outcome.tracker!,
        heads,
        patchSize: this.c.config.model.patchSize,
        writeOptions: this.c.writer.writeOptions,
      });
    } catch (e) {
      await rm(snapshotPaths(this.c.runDir, this.iteration).tempDir, { recursive: true, force: true }).catch(() => undefined);
      throw this.snapshotError(e);
    }
    await this.c.writer.event({ type: 'snapshot', dir });
    this.c.emit({ type: 'snapshot-ready', step: this.iteration, path: dir });
  }

  /** A checkpoint of the current iteration (once per iteration), then pruning to runtime.keepCheckpoints. */
  async checkpoint(): Promise<void> {
    const { iteration, itersPerEpoch, totalIters } = this;
    const { config, runDir, emit, writer } = this.c;
    if (writer.lastCheckpointStep === iteration) return;
    emit({ type: 'progress', phase: 'checkpoint', done: iteration, total: totalIters });
    const epoch = Math.floor(Math.max(0, iteration - 1) / itersPerEpoch);
    let sidecar: string;
    try {
      const meta = {
        step: iteration,
        epoch,
        configSha256: this.c.configSha,
        rng: { algorithm: 'dora-studio per-iteration streams (seed, iteration)', state: { seed: config.training.seed, iteration } },
        schedule: { iteration, itersPerEpoch, totalIters },
      };
      sidecar = await saveCheckpoint(runDir, this.c.state, meta, writer.writeOptions);
    } catch (e) {
      throw this.checkpointError(e);
    }
    writer.lastCheckpointStep = iteration;
    await writer.event({ type: 'checkpoint', file: sidecar });
    emit({ type: 'checkpoint-saved', step: iteration, path: sidecar });
    await pruneCheckpoints(runDir, config.runtime.keepCheckpoints, { onRefused: refusedCheckpointReporter(this.c) });
  }

  private lastCheckpointText(): string {
    const last = this.c.writer.lastCheckpointStep;
    return `last complete checkpoint: ${last > 0 ? `step ${last}` : 'none yet'}`;
  }

  /** A failed checkpoint write: its cause, and a fix that writes less (a lower runtime.keepCheckpoints, via --set). */
  private checkpointError(e: unknown): TrainingError {
    const { config, runDir, writer } = this.c;
    const keep = Math.max(1, Math.min(2, config.runtime.keepCheckpoints - 1));
    return new TrainingError(
      `could not write the checkpoint of step ${this.iteration} in ${writer.paths.checkpointsDir}: ${causeOf(e)}; ` +
        `nothing partial was left behind (${this.lastCheckpointText()})`,
      diskFix(runDir, writer.lastCheckpointStep, e, [`runtime.keepCheckpoints=${keep}`]),
    );
  }

  /** A failed snapshot write (its partial folder is already removed); the fix writes fewer (runtime.snapshotEvery). */
  private snapshotError(e: unknown): TrainingError {
    const { config, runDir, writer } = this.c;
    const every = (this.c.snapshotEvery ?? config.runtime.snapshotEvery) * 10;
    return new TrainingError(
      `could not write the snapshot of step ${this.iteration} in ${writer.paths.snapshotsDir}: ${causeOf(e)}; ` +
        `its partial folder was removed (${this.lastCheckpointText()})`,
      diskFix(runDir, writer.lastCheckpointStep, e, [`runtime.snapshotEvery=${every}`]),
    );
  }
}

/** A write error in words: the disk's state when it is one, else the error's own message. */
function causeOf(e: unknown): string {
  return diskCause(e) ?? (e as Error).message;
}

/** A sidecar whose file names lead outside the run folder: left alone, and said so (message and trainer.log). */
export function refusedCheckpointReporter(c: Pick<LoopContext, 'emit' | 'writer'>): (e: UnsafeRunPathError) => void {
  return (e) => {
    c.emit({ type: 'warning', message: e.message });
    void c.writer.log(`refused a checkpoint: ${e.message}`);
  };
}
