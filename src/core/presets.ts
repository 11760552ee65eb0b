// Named starting points for a run config. Each preset overlays OFFICIAL_DEFAULTS (configDefaults.ts);
// a config file then overlays the preset. Deviations from the paper are listed in each description.

import {
  archOf,
  mergeLayers,
  OFFICIAL_DEFAULTS,
  PRESET_NAMES,
  type ConfigOverrides,
  type ConfigSections,
  type DoraConfigFile,
  type PresetName,
} from './configDefaults';

export interface PresetDefinition {
  name: PresetName;
  /** One line for pickers. */
  title: string;
  /** Markdown: intended hardware and every deviation from the paper. */
  description: string;
  overrides: ConfigOverrides;
}

export const PRESETS: Readonly<Record<PresetName, PresetDefinition>> = {
  paper: {
    name: 'paper',
    title: 'Paper: ViT-S/16, 224 px, 8 frames × 60 apart, 100 epochs (GPU)',
    description: [
      'The official DoRA recipe (README + main.py, see dora-method.md §1), on one device.',
      '- ViT-S/16 (384/12/6), head 2048/256 → 65536, global 224 px from a 300 px pre-crop, 6 local crops of 112 px.',
      '- Clips of 8 frames, 60 source frames apart; k = 3 objects; Sinkhorn 30 iterations, ε 0.05; official loss quirks kept.',
      '- lr 0.0005 × batchClips/256, cosine to min_lr 1e-5 (dora-method §1.9), 10 warmup epochs, wd 0.04 → 0.4, ' +
        'teacher momentum 0.996, τ_t 0.04.',
      '- Deviation: 16 clips per step on one device (the paper: 16 per GPU × 8 GPUs = 128), so the linearly scaled ' +
        'peak lr is 3.125e-5 instead of 2.5e-4.',
      '- Deviation: fp32 (the official code trains in fp16 autocast).',
      'Needs a GPU (backend `auto` picks webgpu); on wasm ViT-S at 224 px runs ~0.4 img/s.',
    ].join('\n'),
    overrides: {
      model: { arch: 'vit-small', embedDim: 384, depth: 12, numHeads: 6, patchSize: 16, head: { outDim: 65536 } },
      data: {
        framesPerClip: 8,
        stride: 60,
        precropSize: 300,
        globalSize: 224,
        localSize: 112,
        localCrops: 6,
        frameCache: { shortSide: 300 },
      },
      training: { epochs: 100, batchClips: 16, lr: 0.0005, lrScaling: 'linear', minLr: 1e-5, warmupEpochs: 10 },
      runtime: { backend: 'auto', logEvery: 10, snapshotEvery: 500, checkpointEvery: 2000 },
    },
  },
  'cpu-small': {
    name: 'cpu-small',
    title: 'CPU small: ViT-Ti/16, 96 px, 4 frames, 2 clips/step (wasm)',
    description: [
      'A scaled-down DoRA for a CPU (wasm backend) and a short video (minutes, not hours).',
      '- ViT-Ti/16 (192/12/3); head 2048/256 → 4096 prototypes (paper: 65536).',
      '- Global 96 px from a 128 px pre-crop (paper: 224 from 300); 6 local crops of 48 px (paper: 112).',
      '- Clips of 4 frames (paper: 8), 30 source frames apart (the official argparse default; README: 60).',
      '- 2 clips per step; lr 1e-4 used as the peak without batch scaling (linear scaling would give 3.9e-6), cosine to 1e-6.',
      '- 10 epochs, 1 warmup epoch. k = 3 uses all 3 heads of ViT-Ti, so the head draw is not random.',
      'Rough cost: a few seconds per step on 2 cores (estimated from tfjs-backends.md throughput, not measured with this trainer).',
    ].join('\n'),
    overrides: {
      model: { arch: 'vit-tiny', embedDim: 192, depth: 12, numHeads: 3, patchSize: 16, head: { outDim: 4096 } },
      data: {
        framesPerClip: 4,
        stride: 30,
        precropSize: 128,
        globalSize: 96,
        localSize: 48,
        localCrops: 6,
        frameCache: { shortSide: 128 },
      },
      training: { epochs: 10, batchClips: 2, lr: 1e-4, lrScaling: 'none', minLr: 1e-6, warmupEpochs: 1 },
      runtime: { backend: 'wasm', logEvery: 5, snapshotEvery: 100, checkpointEvery: 500 },
    },
  },
  demo: {
    name: 'demo',
    title: 'Demo: tiny ViT, 48 px, 240 steps, a few minutes on 2 CPU cores',
    description: [
      'Shows the whole loop (loss curve, Sinkhorn assignments, tracked masks) within minutes on a 2-core CPU. Not for real pretraining.',
      '- ViT 96/4/3 with patch 8 (a 6×6 patch grid, so the tracked masks are legible); head 512/128 → 256 (paper: ' +
        'ViT-S 384/12/6, head 2048/256 → 65536). No stochastic depth.',
      '- Global 48 px from a 72 px pre-crop; 4 local crops of 24 px (paper: 224 from 300; 6 × 112).',
      '- Clips of 4 frames, 8 source frames apart (≈ 0.27 s on the 30 fps synthetic video).',
      '- Uses the first 512 frames only: (512 − 4·8) / 2 clips = 240 steps in 1 epoch.',
      '- lr 5e-4 as the peak (no batch scaling), 0.1 warmup epochs (24 steps), no last-layer freeze, no ' +
        'teacher-temperature warmup (it is constant 0.04 anyway).',
      '- Centre momentum 0.995 instead of 0.9: the official centre averages ≈ 10 batches of 1024 images; with 8 ' +
        'teacher images per step, 0.9 averages only ≈ 80 images and the centre cancels the per-image signal, so the ' +
        'teacher collapses to uniform within ~100 steps (measured: teacher entropy → log K, loss rising). 0.995 ' +
        'averages ≈ 1600 images.',
    ].join('\n'),
    overrides: {
      model: {
        arch: 'custom',
        embedDim: 96,
        depth: 4,
        numHeads: 3,
        patchSize: 8,
        dropPathRate: 0,
        head: { outDim: 256, hiddenDim: 512, bottleneckDim: 128 },
      },
      data: {
        framesPerClip: 4,
        stride: 8,
        precropSize: 72,
        globalSize: 48,
        localSize: 24,
        localCrops: 4,
        maxFrames: 512,
        frameCache: { shortSide: 96 },
      },
      training: {
        epochs: 1,
        batchClips: 2,
        lr: 5e-4,
        lrScaling: 'none',
        minLr: 1e-5,
        warmupEpochs: 0.1,
        freezeLastLayer: 0,
        warmupTeacherTempEpochs: 0,
        centerMomentum: 0.995,
      },
      runtime: { backend: 'wasm', logEvery: 2, snapshotEvery: 20, checkpointEvery: 60, keepCheckpoints: 4 },
    },
  },
};

export const presetNames: readonly PresetName[] = PRESET_NAMES;

export function isPresetName(value: unknown): value is PresetName {
  return typeof value === 'string' && (PRESET_NAMES as readonly string[]).includes(value);
}

/** Official defaults with the preset applied (no video, no path resolution). */
export function presetValues(name: PresetName): Omit<ConfigSections, 'data'> & { data: Omit<ConfigSections['data'], 'video'> } {
  const merged = mergeLayers(OFFICIAL_DEFAULTS, PRESETS[name].overrides);
  merged.model.arch = archOf(merged.model);
  return merged;
}

export interface ConfigFromPresetOptions {
  /** Write every value out instead of only the preset name and the overrides. Default false. */
  expand?: boolean;
  /** Added as `$schema` when given. */
  schemaUrl?: string;
  name?: string;
}

/**
 * The content of a new *.dora.json file based on a preset. By default it holds only `preset` and the
 * overrides (the editor's schema completion shows the rest); with `expand` every value is spelled out.
 * Pass `data.video` in the overrides, otherwise the file will not validate until the user adds it.
 */
export function configFromPreset(name: PresetName, overrides: ConfigOverrides = {}, options: ConfigFromPresetOptions = {}): DoraConfigFile {
  const head: DoraConfigFile = {};
  if (options.schemaUrl !== undefined) head.$schema = options.schemaUrl;
  if (options.name !== undefined) head.name = options.name;
  head.preset = name;
  if (!options.expand) return { ...head, ...structuredClone(overrides) };
  const full = mergeLayers(presetValues(name), overrides) as ConfigSections;
  full.model.arch = archOf(full.model);
  // Put the video first in `data`, where users look for it.
  const { video, ...restOfData } = full.data;
  return {
    ...head,
    model: full.model,
    data: { ...(video !== undefined ? { video } : {}), ...restOfData },
    training: full.training,
    dora: full.dora,
    runtime: full.runtime,
  };
}

export function serializeConfigFile(content: DoraConfigFile): string {
  return JSON.stringify(content, null, 2) + '\n';
}
