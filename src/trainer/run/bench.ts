/**
 * `dora bench`: times the DoRA optimisation step (teacher, tracker, student forward/backward, AdamW, EMA) of a preset or
 * config on one backend, on random inputs of the config's shapes (no data loading), and prints ONE JSON line:
 *   {"bench":"dora-step","backend":…,"config":…,"secPerStepMedian":…,"launchesPerStep":…,"peakMemoryMB":…,…}
 * - every run counts the kernel launches of one step (kernelProfile.ts) and its peak memory (backend/memory.ts);
 * - `profile` adds the top kernels by time;
 * - `anchor` times the OFFICIAL step on the same shapes in the same run (benchAnchor.ts), alternating rounds, and
 *   adds `ratio` = our median ÷ the official median;
 * - `shrink` keeps the step's structure (depth, heads, frames, clips, objects, local crops, micro-batches) but cuts
 *   images to 2×2 / 1×1 patches and widths to 4 per head, so a big preset's launch count is measurable on a CPU.
 */
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseConfigText, type DoraConfig } from '../../core/config';
import { resolveConfig } from '../../core/node/configFile';
import { isPresetName } from '../../core/presets';
import type { PresetName } from '../../core/config';
import { Rng } from '../../core/rng';
import { describeBackend, initBackend, memoryState, resetPeakMemory, webGpuDispatchCount, type BackendName } from '../backend';
import { createDoraState, disposeDoraState } from '../dora/model';
import { doraTrainStep, type DoraStepHyper } from '../dora/trainStep';
import { median, officialArgs, officialDir, timeOfficial, torchPython, type OfficialTiming } from './benchAnchor';
import { countKernels } from './kernelProfile';
import { MicroBatchPlanner, stepWithBackOff } from './microBatch';
import { modelConfigOf } from './runConfig';

export interface BenchOptions {
  /** A preset name or a *.dora.json path. */
  config: string;
  backend?: BackendName;
  steps?: number;
  warmup?: number;
  profile?: boolean;
  /** Exported official files, or the official repository's git directory: time the official step too. */
  anchor?: string;
  python?: string;
  /** Alternations of official and ours (with `anchor`). */
  rounds?: number;
  shrink?: boolean;
  /** Clips per pass; default: the config's training.microBatch (a number, or "auto": run/microBatch.ts). */
  microBatch?: number;
}

export interface BenchResult {
  bench: 'dora-step';
  backend: string;
  config: string;
  shrink: boolean;
  steps: number;
  secPerStepMedian: number;
  secPerStepMin: number;
  imgPerSec: number;
  microBatch: number;
  microBatchReason: string;
  launchesPerStep: number;
  viewsPerStep: number;
  gpuDispatchesPerStep?: number;
  /** Peak bytes of live tensors during one step (wasm heap allocations; webgpu buffers in use), and what the backend holds. */
  peakMemoryMB: number;
  reservedMemoryMB: number;
  peakRssMB: number;
  shapes: string;
  machine: string;
  official?: { secPerStepMedian: number; steps: number[]; torch: string; blas: string[]; threads: number; shapeMismatches: string[] };
  ratio?: number;
  profile?: { kernel: string; calls: number; seconds: number; share: number }[];
}

/** The structure-preserving shrink (see the header). */
export function shrinkOverrides(config: DoraConfig): Record<string, unknown> {
  const p = config.model.patchSize;
  return {
    model: { arch: 'custom', embedDim: 4 * config.model.numHeads, head: { outDim: 64, hiddenDim: 32, bottleneckDim: 16 } },
    data: { globalSize: 2 * p, localSize: p, precropSize: 2 * p, frameCache: { shortSide: 2 * p } },
  };
}

async function configFor(name: string, shrink: boolean): Promise<DoraConfig> {
  const file = isPresetName(name) ? `${name}.dora.json` : resolve(name);
  const raw = isPresetName(name)
    ? { preset: name as PresetName, data: { video: 'bench-has-no-video.mp4' } }
    : (parseConfigText(await readFile(file, 'utf8'), file) as Record<string, unknown>);
  const full = resolveConfig(raw, { file });
  if (!shrink) return full;
  const o = shrinkOverrides(full);
  const merged = {
    ...raw,
    model: { ...((raw as { model?: object }).model ?? {}), ...(o.model as object) },
    data: { ...((raw as { data?: object }).data ?? {}), ...(o.data as object) },
  };
  return resolveConfig(merged, { file });
}

function hyperOf(config: DoraConfig): DoraStepHyper {
  return {
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
}

async function timeSteps(step: () => Promise<unknown>, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await step();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return times;
}

/** Random inputs of the config's shapes and a fresh model: what one benchmarked step trains on. */
function benchSetup(config: DoraConfig) {
  const d = config.data;
  const [b, f] = [config.training.batchClips, d.framesPerClip];
  const rng = new Rng('bench');
  const random = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const global = tf.tensor(random(b * f * 3 * d.globalSize ** 2), [b, f, 3, d.globalSize, d.globalSize]);
  const local = tf.tensor(random(d.localCrops * b * f * 3 * d.localSize ** 2), [d.localCrops, b, f, 3, d.localSize, d.localSize]);
  const state = createDoraState(modelConfigOf(config), () => rng.next());
  const heads = () => rng.sample(config.dora.objects, config.model.numHeads);
  return { global, local, state, heads, dispose: () => (disposeDoraState(state), tf.dispose([global, local])) };
}

/** Our timed steps, alternating with the official step's when anchored (rounds of `steps` each). */
async function timeRounds(options: BenchOptions, config: DoraConfig, step: () => Promise<unknown>) {
  const steps = options.steps ?? 5;
  const anchor = options.anchor !== undefined ? officialDir(options.anchor) : undefined;
  try {
    const python = anchor ? torchPython(options.python) : undefined;
    const ours: number[] = [];
    const official: OfficialTiming[] = [];
    for (let round = 0; round < (anchor ? (options.rounds ?? 2) : 1); round++) {
      if (anchor && python) official.push(timeOfficial(python, anchor.dir, officialArgs(config).args, steps, 1));
      ours.push(...(await timeSteps(step, steps)));
    }
    return { ours, official };
  } finally {
    anchor?.cleanup();
  }
}

function officialPart(official: OfficialTiming[], config: DoraConfig): BenchResult['official'] {
  const all = official.flatMap((o) => o.stepSeconds);
  const { torch, blas, threads } = official[0];
  return { secPerStepMedian: +median(all).toFixed(3), steps: all, torch, blas, threads, shapeMismatches: officialArgs(config).mismatches };
}

function shapesNote(config: DoraConfig, backend: string): string {
  const { model: m, data: d } = config;
  const k = config.dora.tracker ? config.dora.objects : 1;
  const dims = `${m.embedDim}/${m.depth}/${m.numHeads} p${m.patchSize}, B${config.training.batchClips} F${d.framesPerClip} k${k}`;
  const kernels = describeBackend().wasm?.kernels ?? backend;
  return `${dims}, global ${d.globalSize}, ${d.localCrops}×${d.localSize}, out ${m.head.outDim}; kernels ${kernels}`;
}

export async function benchStep(options: BenchOptions): Promise<BenchResult> {
  const shrink = options.shrink ?? false;
  const config = await configFor(options.config, shrink);
  const report = await initBackend(options.backend ?? config.runtime.backend);
  const setup = benchSetup(config);
  const hyper = hyperOf(config);
  const planned = options.microBatch ? { ...config, training: { ...config.training, microBatch: options.microBatch } } : config;
  const planner = new MicroBatchPlanner(planned);
  const batch = () => ({ global: setup.global, local: setup.local, heads: setup.heads() });
  const step = () => stepWithBackOff(planner, (microBatch) => doraTrainStep(setup.state, batch(), hyper, { microBatch }));
  try {
    for (let i = 0; i < (options.warmup ?? 1); i++) await step();
    const { ours, official } = await timeRounds(options, config, step);
    resetPeakMemory();
    const dispatchesBefore = webGpuDispatchCount();
    const counted = await countKernels(step);
    const memory = memoryState();
    const med = median(ours);
    const k = config.dora.tracker ? config.dora.objects : 1;
    const images = config.training.batchClips * config.data.framesPerClip * (1 + k + config.data.localCrops);
    const result: BenchResult = {
      bench: 'dora-step',
      backend: report.active,
      config: options.config,
      shrink,
      steps: ours.length,
      secPerStepMedian: +med.toFixed(3),
      secPerStepMin: +Math.min(...ours).toFixed(3),
      imgPerSec: +(images / med).toFixed(2),
      microBatch: planner.current.clips,
      microBatchReason: planner.current.reason,
      launchesPerStep: counted.launches,
      viewsPerStep: counted.views,
      ...(report.active === 'webgpu' ? { gpuDispatchesPerStep: webGpuDispatchCount() - dispatchesBefore } : {}),
      peakMemoryMB: Math.round(memory.peakBytes / 2 ** 20),
      reservedMemoryMB: Math.round(memory.reservedBytes / 2 ** 20),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      shapes: shapesNote(config, report.active),
      machine: machineNote(),
    };
    if (official.length > 0) {
      result.official = officialPart(official, config);
      result.ratio = +(med / median(official.flatMap((o) => o.stepSeconds))).toFixed(3);
    }
    if (options.profile) {
      const total = counted.byKernel.reduce((s, c) => s + c.ms, 0);
      result.profile = counted.byKernel
        .slice(0, 15)
        .map((s) => ({ kernel: s.kernel, calls: s.calls, seconds: +(s.ms / 1000).toFixed(3), share: +(s.ms / total).toFixed(3) }));
    }
    return result;
  } finally {
    setup.dispose();
  }
}

/** Load averages at the end: timings on a busy machine are noisy, ratios less so. */
function machineNote(): string {
  return `${cpus().length} cpus, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;
}
