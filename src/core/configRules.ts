// Cross-field rules of a run config: checks that need several (already well-typed) values at once, e.g. a crop size
// that must be a multiple of the patch size. Each problem names the field, the cause and a fix.

import type { ConfigSections } from './configDefaults';
import { formatNumber, type ConfigProblem } from './configProblem';
import { slurmSettingsProblems } from './slurmScript';

/** Peak learning rate after the official linear batch scaling. */
export function peakLr(training: { lr: number; batchClips: number; lrScaling: 'linear' | 'none' }): number {
  return training.lrScaling === 'linear' ? (training.lr * training.batchClips) / 256 : training.lr;
}

function nearestMultiples(value: number, factor: number): string {
  const below = Math.floor(value / factor) * factor;
  const above = below + factor;
  return below > 0 ? `${below} or ${above}` : `${above}`;
}

function divisorsOf(n: number): number[] {
  const result: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) result.push(d);
  return result;
}

type Report = (path: string, message: string, fix: string) => void;
type Rule = (c: ConfigSections, report: Report) => void;

/** Heads split the embedding; crops are cut into patches; the global crop comes out of the pre-crop. */
const modelAndCropRules: Rule = ({ model, data }, report) => {
  if (model.embedDim % model.numHeads !== 0) {
    report(
      '$.model.embedDim',
      `model.embedDim ${model.embedDim} is not divisible by model.numHeads ${model.numHeads}`,
      `set model.embedDim to a multiple of ${model.numHeads}, e.g. ${nearestMultiples(model.embedDim, model.numHeads)}`,
    );
  }
  for (const key of ['globalSize', 'localSize'] as const) {
    if (data[key] % model.patchSize !== 0) {
      report(
        `$.data.${key}`,
        `data.${key} ${data[key]} is not a multiple of model.patchSize ${model.patchSize}`,
        `set data.${key} to ${nearestMultiples(data[key], model.patchSize)}`,
      );
    }
  }
  if (data.precropSize < data.globalSize) {
    report(
      '$.data.precropSize',
      `data.precropSize ${data.precropSize} is smaller than data.globalSize ${data.globalSize}; the global crop is cut from the pre-crop`,
      `set data.precropSize to at least ${data.globalSize} (official: 300 for 224)`,
    );
  }
};

/** One teacher head per object; the official loss needs a local crop besides crop 0. */
const trackerAndLossRules: Rule = ({ model, data, dora }, report) => {
  if (dora.tracker && dora.objects > model.numHeads) {
    report(
      '$.dora.objects',
      `dora.objects ${dora.objects} exceeds model.numHeads ${model.numHeads}; the tracker needs one distinct teacher head per object`,
      `set dora.objects to at most ${model.numHeads}, or use a model with more heads`,
    );
  }
  if (dora.loss === 'official' && data.localCrops < 2) {
    report(
      '$.data.localCrops',
      `data.localCrops ${data.localCrops} leaves the official loss no local crop (it skips crop 0) and divides by zero`,
      'set data.localCrops to 2 or more, or set dora.loss to "clean"',
    );
  }
};

/** Micro-batches divide the batch; warm-up and the last-layer freeze fit in the run. */
const scheduleRules: Rule = ({ training }, report) => {
  if (typeof training.microBatch === 'number' && training.batchClips % training.microBatch !== 0) {
    report(
      '$.training.microBatch',
      `training.batchClips ${training.batchClips} is not divisible by training.microBatch ${training.microBatch}`,
      `set training.microBatch to a divisor of ${training.batchClips} (${divisorsOf(training.batchClips).join(', ')}) or "auto"`,
    );
  }
  if (training.warmupEpochs > training.epochs) {
    report(
      '$.training.warmupEpochs',
      `training.warmupEpochs ${training.warmupEpochs} is longer than training.epochs ${training.epochs}`,
      `set training.warmupEpochs to at most ${training.epochs}`,
    );
  }
  if (training.freezeLastLayer >= training.epochs) {
    report(
      '$.training.freezeLastLayer',
      `training.freezeLastLayer ${training.freezeLastLayer} freezes the head's last layer for all ${training.epochs} epochs`,
      `set training.freezeLastLayer below ${training.epochs}, e.g. 0`,
    );
  }
};

/** The cosine schedule ends at or below its peak; a frame limit leaves at least one clip. */
const rateAndFrameRules: Rule = ({ data, training }, report) => {
  const peak = peakLr(training);
  if (training.minLr > peak) {
    const scaled = training.lrScaling === 'linear' ? ` (lr ${training.lr} × batchClips ${training.batchClips} / 256)` : '';
    const [minLr, peakText] = [formatNumber(training.minLr), formatNumber(peak)];
    report(
      '$.training.minLr',
      `training.minLr ${minLr} is above the peak learning rate ${peakText}${scaled}`,
      `set training.minLr to at most ${peakText}, or raise training.lr (or set training.lrScaling to "none")`,
    );
  }
  const clipSpan = data.framesPerClip * data.stride;
  if (data.maxFrames !== undefined && data.maxFrames <= clipSpan) {
    report(
      '$.data.maxFrames',
      `data.maxFrames ${data.maxFrames} leaves no clip: one clip spans framesPerClip × stride = ${data.framesPerClip} ` +
        `× ${data.stride} = ${clipSpan} frames`,
      `set data.maxFrames above ${clipSpan}, or lower data.stride`,
    );
  }
};

const launcherRules: Rule = ({ runtime }, report) => {
  if (runtime.launcher !== 'local' && runtime.engine !== 'pytorch')
    report(
      '$.runtime.launcher',
      `runtime.launcher "${runtime.launcher}" starts processes of the PyTorch engine, but runtime.engine is "${runtime.engine}"`,
      'set runtime.engine to "pytorch" (or runtime.launcher to "local")',
    );
  for (const { field, message } of slurmSettingsProblems(runtime.slurm))
    report(`$.${field}`, `${field}: ${message}`, `fix ${field} (docs/launchers.md)`);
};

const CROSS_FIELD_RULES: readonly Rule[] = [modelAndCropRules, trackerAndLossRules, scheduleRules, rateAndFrameRules, launcherRules];

/** Every cross-field problem of a merged, well-typed config, in the order the rules are listed. */
export function crossFieldProblems(c: ConfigSections, file: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const rule of CROSS_FIELD_RULES) rule(c, (path, message, fix) => out.push({ file, path, message, fix }));
  return out;
}
