// Types of a DoRA run config and the official defaults they start from.
// Pure data: no I/O, so the webview, the host and the trainer can all import it.
// References "dora-method §x.y" point to /work/shared/notes/dora-method.md (official code read at 0508b2c).

import type { SlurmSettings } from './slurmScript';

export type ArchName = 'vit-tiny' | 'vit-small' | 'vit-base';
export type PresetName = 'paper' | 'cpu-small' | 'demo';
export type Backend = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type SinkhornVariant = 'official' | 'log-domain';
export type LossVariant = 'official' | 'clean';
export type LrScaling = 'linear' | 'none';
/** Which engine trains: the built-in TF.js engine, or the PyTorch engine (python/, GPUs and clusters). */
export type EngineName = 'tfjs' | 'pytorch';
/** PyTorch engine device; `auto`: CUDA, else MPS, else CPU. */
export type DeviceName = 'auto' | 'cuda' | 'cpu' | 'mps';
/** PyTorch engine precision; `auto`: bf16 on a CUDA GPU that supports it, else fp32. */
export type PrecisionName = 'auto' | 'fp32' | 'tf32' | 'bf16' | 'fp16';
/** How the PyTorch engine's processes are started: one process, torchrun (N per node), or a Slurm job (srun). */
export type LauncherName = 'local' | 'torchrun' | 'slurm';
/** [min, max] of a RandomResizedCrop area fraction or of a blur sigma. */
export type Range = [number, number];

export const ARCH_NAMES: readonly ArchName[] = ['vit-tiny', 'vit-small', 'vit-base'];
export const PRESET_NAMES: readonly PresetName[] = ['paper', 'cpu-small', 'demo'];
export const BACKENDS: readonly Backend[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'];
export const ENGINES: readonly EngineName[] = ['tfjs', 'pytorch'];
export const DEVICES: readonly DeviceName[] = ['auto', 'cuda', 'cpu', 'mps'];
export const PRECISIONS: readonly PrecisionName[] = ['auto', 'fp32', 'tf32', 'bf16', 'fp16'];
export const LAUNCHERS: readonly LauncherName[] = ['local', 'torchrun', 'slurm'];

/** Standard ViT widths (DeiT/DINO naming); patch size is chosen separately. */
export const ARCH_DIMS: Readonly<Record<ArchName, { embedDim: number; depth: number; numHeads: number }>> = {
  'vit-tiny': { embedDim: 192, depth: 12, numHeads: 3 },
  'vit-small': { embedDim: 384, depth: 12, numHeads: 6 },
  'vit-base': { embedDim: 768, depth: 12, numHeads: 12 },
};

export interface HeadConfig {
  outDim: number;
  hiddenDim: number;
  bottleneckDim: number;
  nlayers: number;
  normLastLayer: boolean;
}

export interface ModelConfig {
  /** Named width preset; 'custom' when the dims match no named arch. */
  arch: ArchName | 'custom';
  embedDim: number;
  depth: number;
  numHeads: number;
  patchSize: number;
  mlpRatio: number;
  qkvBias: boolean;
  dropPathRate: number;
  head: HeadConfig;
}

export interface FrameCacheConfig {
  /** Short side in pixels of the decoded frames kept on disk. */
  shortSide: number;
  /** Cache folder; absolute after resolution. Unset: the trainer's default cache folder. */
  dir?: string;
  /** 'jpeg' (compact), 'rgb24' (raw) or 'auto' (src/trainer/data/prepareFrames.ts). */
  format: 'auto' | 'jpeg' | 'rgb24';
  /** ffmpeg mjpeg quantiser of the compact cache, 2 (best) … 31. */
  quality: number;
}

export interface AugmentConfig {
  hflipProb: number;
  colorJitterProb: number;
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
  grayscaleProb: number;
  globalBlurProb: number;
  localBlurProb: number;
  blurSigma: Range;
}

export interface DataConfig {
  /** Video file; absolute after resolution (relative paths are relative to the config file). */
  video: string;
  frameCache: FrameCacheConfig;
  framesPerClip: number;
  /** Source-video frames between two consecutive frames of a clip (official "step_between_clips"). */
  stride: number;
  precropSize: number;
  precropScale: Range;
  globalSize: number;
  globalScale: Range;
  localSize: number;
  localCrops: number;
  localScale: Range;
  augment: AugmentConfig;
  trimBlankTail: boolean;
  startFrame: number;
  maxFrames?: number;
}

export interface TrainingConfig {
  epochs: number;
  batchClips: number;
  microBatch: number | 'auto';
  lr: number;
  lrScaling: LrScaling;
  minLr: number;
  warmupEpochs: number;
  weightDecay: number;
  weightDecayEnd: number;
  momentumTeacher: number;
  warmupTeacherTemp: number;
  teacherTemp: number;
  warmupTeacherTempEpochs: number;
  studentTemp: number;
  centerMomentum: number;
  clipGrad: number;
  freezeLastLayer: number;
  seed: number;
}

export interface SinkhornConfig {
  iterations: number;
  epsilon: number;
  variant: SinkhornVariant;
}

export interface DoraSettings {
  tracker: boolean;
  objects: number;
  sinkhorn: SinkhornConfig;
  loss: LossVariant;
}

/** `runtime.distributed`: the processes of a torchrun or Slurm run (one per GPU). */
export interface DistributedConfig {
  /** Processes per node. */
  nproc: number;
  nodes: number;
}

export interface RuntimeConfig {
  engine: EngineName;
  launcher: LauncherName;
  distributed: DistributedConfig;
  slurm: SlurmSettings;
  backend: Backend;
  device: DeviceName;
  precision: PrecisionName;
  logEvery: number;
  snapshotEvery: number;
  checkpointEvery: number;
  keepCheckpoints: number;
  /** Folder that holds one sub-folder per run; absolute after resolution. */
  runsDir: string;
}

/** The five sections shared by config files, presets and resolved configs. */
export interface ConfigSections {
  model: ModelConfig;
  data: DataConfig;
  training: TrainingConfig;
  dora: DoraSettings;
  runtime: RuntimeConfig;
}

/** A fully resolved config: every value set, every path absolute. */
export interface DoraConfig extends ConfigSections {
  name: string;
  /** The preset the file named, or null when it named none (official defaults only). */
  preset: PresetName | null;
  /** Absolute path of the *.dora.json file. */
  configFile: string;
}

/** The shape of a *.dora.json file: every key optional except data.video. */
export interface DoraConfigFileShape extends ConfigSections {
  $schema: string;
  preset: PresetName;
  name: string;
}

export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
export type ConfigOverrides = DeepPartial<ConfigSections>;
/** What a config file may contain (validated at run time, so this is the post-validation view). */
export type DoraConfigFile = DeepPartial<DoraConfigFileShape>;

/**
 * The official DoRA recipe (README command line + main.py argparse, dora-method §1.1–1.9).
 * A config file that names no preset gets exactly these values; presets overlay them.
 */
export const OFFICIAL_DEFAULTS: Readonly<Omit<ConfigSections, 'data'> & { data: Omit<DataConfig, 'video'> }> = {
  model: {
    arch: 'vit-small', // vit_small: dim 384, depth 12, 6 heads (§1.3)
    ...ARCH_DIMS['vit-small'],
    patchSize: 16,
    mlpRatio: 4,
    qkvBias: true,
    dropPathRate: 0.1, // student only (§1.3)
    head: { outDim: 65536, hiddenDim: 2048, bottleneckDim: 256, nlayers: 3, normLastLayer: false }, // §1.4
  },
  data: {
    frameCache: { shortSide: 300, format: 'auto', quality: 3 }, // keep short side >= the 300 px pre-crop (dora-method §7)
    framesPerClip: 8, // README --frame_per_clip 8
    stride: 60, // README --step_between_clips 60 (argparse default is 30)
    precropSize: 300, // RandomResizedCropVideo(300, scale=(0.2,1)) (§1.2)
    precropScale: [0.2, 1],
    globalSize: 224,
    globalScale: [0.4, 1], // hard-coded in the official code; --global_crops_scale is unused
    localSize: 112, // 224 // 2, not DINO's 96
    localCrops: 6, // README --local_crops_number 6
    localScale: [0.05, 0.4],
    augment: {
      hflipProb: 0.5, // shared by all frames of a clip
      colorJitterProb: 0.8,
      brightness: 0.4,
      contrast: 0.4,
      saturation: 0.2,
      hue: 0.1,
      grayscaleProb: 0.2,
      globalBlurProb: 0.1, // global_transfo1
      localBlurProb: 0.5,
      blurSigma: [0.1, 2.0],
    },
    // Not in the official code; the figshare Venice file is half blank frames (dora-method §5, issue #4).
    trimBlankTail: true,
    startFrame: 0,
  },
  training: {
    epochs: 100,
    batchClips: 16, // clips per step on one device (README: 16 per GPU on A100)
    microBatch: 'auto',
    lr: 0.0005, // base lr, multiplied by batchClips / 256 (§1.9)
    lrScaling: 'linear',
    minLr: 1e-5, // dora-method §1.9 says min_lr = 1e-5 (DINO argparse default is 1e-6)
    warmupEpochs: 10,
    weightDecay: 0.04,
    weightDecayEnd: 0.4,
    momentumTeacher: 0.996,
    // README passes only --warmup_teacher_temp_epochs 30; both temps default to 0.04, so tau is constant (§1.8).
    warmupTeacherTemp: 0.04,
    teacherTemp: 0.04,
    warmupTeacherTempEpochs: 30,
    studentTemp: 0.1,
    centerMomentum: 0.9,
    clipGrad: 3, // per parameter tensor, not a global norm (§1.9)
    freezeLastLayer: 1,
    seed: 0,
  },
  dora: {
    tracker: true,
    objects: 3, // k = 3 random heads of the teacher's last block (§1.6)
    sinkhorn: { iterations: 30, epsilon: 0.05, variant: 'official' },
    loss: 'official',
  },
  runtime: {
    engine: 'tfjs', // runs everywhere without Python; 'pytorch' for GPUs and clusters
    launcher: 'local',
    distributed: { nproc: 1, nodes: 1 },
    slurm: { partition: null, time: null, account: null, gpusPerNode: null, extraSbatch: [], setup: null },
    backend: 'wasm', // the one backend that runs everywhere offline (tfjs-backends notes)
    device: 'auto',
    precision: 'auto',
    logEvery: 10,
    snapshotEvery: 500,
    checkpointEvery: 2000,
    keepCheckpoints: 3,
    runsDir: 'runs',
  },
};

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge of plain objects; arrays and scalars in later layers replace earlier ones. Inputs are not mutated. */
export function mergeLayers<T>(base: T, ...layers: readonly unknown[]): T {
  let result: unknown = structuredClone(base);
  for (const layer of layers) result = mergeTwo(result, layer);
  return result as T;
}

function mergeTwo(base: unknown, layer: unknown): unknown {
  if (layer === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(layer)) return structuredClone(layer);
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(layer)) out[key] = mergeTwo(base[key], value);
  return out;
}

/** The named arch whose dims equal these, or 'custom'. */
export function archOf(dims: { embedDim: number; depth: number; numHeads: number }): ArchName | 'custom' {
  for (const name of ARCH_NAMES) {
    const d = ARCH_DIMS[name];
    if (d.embedDim === dims.embedDim && d.depth === dims.depth && d.numHeads === dims.numHeads) return name;
  }
  return 'custom';
}
