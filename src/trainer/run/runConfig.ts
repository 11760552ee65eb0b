/**
 * A run's resolved config and what the engine derives from it: the model config, the official schedules, the
 * hyper-parameters of one step, the micro-batch size. Shared by training, inspection and evaluation (none of which
 * imports the training loop).
 */
import { readFile } from 'node:fs/promises';
import { parseConfigText, type DoraConfig } from '../../core/config';
import { applyOverrides, diffConfigs, parseOverride, type ConfigChange } from '../../core/configOverrides';
import { ConfigError } from '../../core/configProblem';
import { peakLr } from '../../core/configRules';
import { resolveConfig } from '../../core/node/configFile';
import { runPaths } from '../../core/node/runPaths';
import type { DoraModelConfig } from '../dora/model';
import type { DoraStepHyper } from '../dora/trainStep';
import { cosineScheduler, teacherTempSchedule, type TrainingSchedules } from '../optim/schedules';

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

/** The hyper-parameters of one step: the schedules at `iteration` (the teacher temperature per epoch) and the config. */
export function stepHyper(config: DoraConfig, schedules: TrainingSchedules, iteration: number, epoch: number): DoraStepHyper {
  return {
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
}

/**
 * Clips per forward/backward pass (the gradient-accumulation stage's one parameter); undefined = the whole batch.
 * "auto" means the whole batch for now: an engine that can measure memory chooses a size here.
 */
export function microBatchOf(training: DoraConfig['training']): number | undefined {
  return training.microBatch === 'auto' ? undefined : training.microBatch;
}

/** A config read from a *.dora.json or a run's config.json, with the `--set` overrides applied and validated. */
export interface ResolvedTrainingConfig {
  config: DoraConfig;
  /** What the overrides changed (empty without overrides). */
  changes: ConfigChange[];
}

/** The resolved config a run was started with (its config.json): what resume, inspect and evaluation use. */
export async function loadRunConfig(runDir: string): Promise<DoraConfig> {
  return (await loadRunConfigWith(runDir, [])).config;
}

/** loadRunConfig with `--set` overrides applied (a resume), and what they changed. */
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

/** A *.dora.json, parsed (not yet validated). */
export async function readConfigFile(file: string): Promise<unknown> {
  return parseConfigText(await readFile(file, 'utf8'), file);
}

/**
 * Resolves a config file's raw JSON with `--set` overrides (core/configOverrides.ts). On resume (`resume: true`) `raw`
 * is the run's config.json, and keys that cannot change on resume are refused. Problems name the file, the JSON path
 * and the `--set` that caused them.
 */
export function resolveWithOverrides(
  raw: unknown,
  file: string,
  overrides: readonly string[],
  options: { resume: boolean; configFile?: string },
): ResolvedTrainingConfig {
  const base = options.resume ? stripResolvedFields(raw) : (raw as Record<string, unknown>);
  const configFile = options.configFile ?? file;
  const before = resolveConfig(base, { file: configFile });
  if (overrides.length === 0) return { config: before, changes: [] };
  const parsed = overrides.map(parseOverride);
  const label = `${file} with ${parsed.map((o) => `--set ${o.text}`).join(' ')}`;
  let after: DoraConfig;
  try {
    after = resolveConfig(applyOverrides(base, parsed, options), { file: configFile });
  } catch (error) {
    // The same JSON-path problems, attributed to the overrides rather than to the file.
    if (error instanceof ConfigError)
      throw new ConfigError(
        label,
        error.problems.map((p) => ({ ...p, file: label })),
      );
    throw error;
  }
  return { config: after, changes: diffConfigs(before, after) };
}

/**
 * config.json holds a resolved DoraConfig; its bookkeeping fields are not config-file keys, and the `"preset": null`
 * that resolveConfig writes for a config without a preset means "no preset" (the file key takes a name only).
 */
function stripResolvedFields(raw: unknown): Record<string, unknown> {
  const { configFile: _c, ...rest } = raw as Record<string, unknown>;
  if (rest.preset === null) delete rest.preset;
  return rest;
}
