/**
 * `dora bench`: times the DoRA optimisation step (teacher, tracker, student forward/backward, AdamW, EMA) of a preset or
 * config on one backend, on random inputs of the config's shapes (no data loading), and prints ONE JSON line:
 *   {"bench":"dora-step","backend":…,"config":…,"steps":…,"secPerStepMedian":…,"imgPerSec":…,"peakRssMB":…}
 * With `profile`, it also aggregates TF.js kernel times over one step (where the time goes).
 */
import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import type { DoraConfig } from '../../core/config';
import { loadConfigFile, resolveConfig } from '../../core/node/configFile';
import { isPresetName } from '../../core/presets';
import type { PresetName } from '../../core/config';
import { Rng } from '../../core/rng';
import { describeBackend, initBackend, type BackendName } from '../backend';
import { createDoraState, disposeDoraState } from '../dora/model';
import { doraTrainStep, type DoraStepHyper } from '../dora/trainStep';
import { modelConfigOf } from './runConfig';

export interface BenchOptions {
  /** A preset name or a *.dora.json path. */
  config: string;
  backend?: BackendName;
  steps?: number;
  warmup?: number;
  profile?: boolean;
}

export interface BenchResult {
  bench: 'dora-step';
  backend: string;
  config: string;
  steps: number;
  secPerStepMedian: number;
  secPerStepMin: number;
  imgPerSec: number;
  peakRssMB: number;
  shapes: string;
  profile?: { kernel: string; seconds: number; calls: number; share: number }[];
}

async function configFor(name: string): Promise<DoraConfig> {
  if (isPresetName(name))
    return resolveConfig({ preset: name as PresetName, data: { video: 'bench-has-no-video.mp4' } }, { file: `${name}.dora.json` });
  return loadConfigFile(resolve(name));
}

export async function benchStep(options: BenchOptions): Promise<BenchResult> {
  const config = await configFor(options.config);
  const report = await initBackend(options.backend ?? config.runtime.backend);
  const d = config.data;
  const b = config.training.batchClips;
  const f = d.framesPerClip;
  const rng = new Rng('bench');
  const random = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const global = tf.tensor(random(b * f * 3 * d.globalSize ** 2), [b, f, 3, d.globalSize, d.globalSize]);
  const local = tf.tensor(random(d.localCrops * b * f * 3 * d.localSize ** 2), [d.localCrops, b, f, 3, d.localSize, d.localSize]);
  const state = createDoraState(modelConfigOf(config), () => rng.next());
  const hyper: DoraStepHyper = {
    epoch: 1,
    lr: 1e-4,
    weightDecay: 0.04,
    momentum: 0.996,
    teacherTemp: config.training.teacherTemp,
    freezeLastLayer: config.training.freezeLastLayer,
    clipGrad: config.training.clipGrad,
    studentTemp: config.training.studentTemp,
    centerMomentum: config.training.centerMomentum,
    lossVariant: config.dora.loss,
    sinkhorn: config.dora.sinkhorn,
    tracker: config.dora.tracker,
  };
  const heads = () => rng.sample(config.dora.objects, config.model.numHeads);
  const microBatch = config.training.microBatch === 'auto' ? undefined : config.training.microBatch;
  const step = () => doraTrainStep(state, { global, local, heads: heads() }, hyper, { microBatch });
  const times: number[] = [];
  try {
    for (let i = 0; i < (options.warmup ?? 1); i++) await step();
    for (let i = 0; i < (options.steps ?? 5); i++) {
      const t0 = process.hrtime.bigint();
      await step();
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    let profile: BenchResult['profile'];
    if (options.profile) {
      const info = await tf.profile(async () => {
        await step();
      });
      const byKernel = new Map<string, { ms: number; calls: number }>();
      for (const k of info.kernels) {
        const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
        e.ms += Number(await (k.kernelTimeMs as unknown as Promise<number> | number));
        e.calls++;
        byKernel.set(k.name, e);
      }
      const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
      profile = [...byKernel]
        .sort((x, y) => y[1].ms - x[1].ms)
        .slice(0, 15)
        .map(([kernel, e]) => ({ kernel, seconds: +(e.ms / 1000).toFixed(3), calls: e.calls, share: +(e.ms / total).toFixed(3) }));
    }
    const sorted = [...times].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)];
    const k = config.dora.tracker ? config.dora.objects : 1;
    const images = b * f * (1 + k + d.localCrops);
    return {
      bench: 'dora-step',
      backend: report.active,
      config: options.config,
      steps: times.length,
      secPerStepMedian: +median.toFixed(3),
      secPerStepMin: +sorted[0].toFixed(3),
      imgPerSec: +(images / median).toFixed(2),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      shapes:
        `${config.model.embedDim}/${config.model.depth}/${config.model.numHeads} p${config.model.patchSize}, ` +
        `B${b} F${f} k${k}, global ${d.globalSize}, ${d.localCrops}×${d.localSize}, ` +
        `out ${config.model.head.outDim}; ${describeBackend().kernelPatches.length} patched kernels`,
      ...(profile ? { profile } : {}),
    };
  } finally {
    disposeDoraState(state);
    tf.dispose([global, local]);
  }
}
