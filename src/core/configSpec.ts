// The one description of every config key: the validator (config.ts) checks against it and the
// shipped JSON Schema (configSchema.ts → schemas/dora-config.schema.json) is generated from it,
// so the two cannot drift. The mapped types make tsc fail when a key of the TypeScript types has no spec.

import type { ConfigSections, DoraConfigFileShape } from './configDefaults';
import { ARCH_NAMES, BACKENDS, DEVICES, ENGINES, PRECISIONS, PRESET_NAMES } from './configDefaults';
import { LAUNCH_SPEC } from './launchSpec';
import type { NumberSpec, ObjectSpec, RangeSpec } from './specTypes';

export type * from './specTypes';

const positiveInt = (doc: string): NumberSpec => ({ kind: 'number', integer: true, minimum: 1, doc });
const probability = (doc: string): NumberSpec => ({ kind: 'number', minimum: 0, maximum: 1, doc });
const cropScale = (doc: string): RangeSpec => ({ kind: 'range', minimum: 0, maximum: 1, exclusiveMinimum: true, doc });

const SECTIONS_SPEC: ObjectSpec<ConfigSections> = {
  kind: 'object',
  doc: '',
  fields: {
    model: {
      kind: 'object',
      doc: 'The Vision Transformer that student and teacher share, and its DINO projection head.',
      fields: {
        arch: {
          kind: 'enum',
          values: [...ARCH_NAMES, 'custom'],
          doc:
            'Named ViT width: `vit-tiny` (192/12/3), `vit-small` (384/12/6, the paper), `vit-base` (768/12/12). ' +
            'Sets `embedDim`, `depth` and `numHeads` unless you set those too. `custom`: use the dims given.',
        },
        embedDim: positiveInt('Token width. Must be divisible by `numHeads`. ViT-S: 384.'),
        depth: positiveInt('Number of transformer blocks. ViT-S: 12.'),
        numHeads: positiveInt(
          "Attention heads per block. The tracker picks `dora.objects` distinct heads of the teacher's last block, so it " +
            'must be ≥ `dora.objects`. ViT-S: 6.',
        ),
        patchSize: positiveInt('Patch side in pixels. `data.globalSize` and `data.localSize` must be multiples of it. Official: 16.'),
        mlpRatio: { kind: 'number', exclusiveMinimum: 0, doc: 'MLP hidden width as a multiple of `embedDim`. Official: 4.' },
        qkvBias: { kind: 'boolean', doc: 'Bias in the query/key/value projection. Official: true.' },
        dropPathRate: {
          kind: 'number',
          minimum: 0,
          maximum: 0.9,
          doc: 'Stochastic depth rate of the student (linear over blocks); the teacher has none. Official: 0.1.',
        },
        head: {
          kind: 'object',
          doc: 'DINO projection head: MLP → L2-normalise → weight-normalised linear layer to `outDim` prototypes.',
          fields: {
            outDim: positiveInt(
              'Output dimension (number of prototypes). Official: 65536 (a 256×65536 last layer, 16.8 M weights); ' +
                'smaller values are a documented deviation for CPU budgets.',
            ),
            hiddenDim: positiveInt('Hidden width of the head MLP. Official: 2048.'),
            bottleneckDim: positiveInt('Width before the weight-normalised last layer. Official: 256.'),
            nlayers: positiveInt('Linear layers in the head MLP. Official: 3.'),
            normLastLayer: {
              kind: 'boolean',
              doc: 'Freeze the weight-norm gain `g` of the last layer at 1. The official README uses `false` (g trainable).',
            },
          },
        },
      },
    },
    data: {
      kind: 'object',
      doc: 'The training video, how clips are sampled from it, and the multi-crop augmentation.',
      required: ['video'],
      fields: {
        video: {
          kind: 'string',
          example: 'videos/walk.mp4',
          doc: 'The training video (any format ffmpeg reads). Relative paths are relative to this config file.',
        },
        frameCache: {
          kind: 'object',
          doc: 'Frames are decoded once at reduced resolution and cached on disk.',
          fields: {
            shortSide: positiveInt(
              'Short side in pixels of cached frames. Keep it ≥ `precropSize` (300 officially) to lose no detail before the pre-crop.',
            ),
            dir: {
              kind: 'string',
              example: '.dora-cache',
              doc:
                'Cache folder (relative to this config file or absolute). Default: the `dora.cacheFolder` setting / ' +
                "`--cache-dir`, else the trainer's cache folder.",
            },
            format: {
              kind: 'enum',
              values: ['auto', 'jpeg', 'rgb24'],
              doc:
                '`jpeg`: compact cache, JPEG frames encoded by ffmpeg in the decoding pass (≥ 10× smaller than RGB24; ' +
                'what hour-long 4K videos need). `rgb24`: raw frames, exact but 3 bytes per pixel. `auto`: an existing ' +
                'complete RGB24 cache keeps being used; otherwise RGB24 up to 2 GB, JPEG above.',
            },
            quality: {
              kind: 'number',
              integer: true,
              minimum: 2,
              maximum: 31,
              doc:
                "JPEG quantiser of the compact cache (ffmpeg's `-q:v`): 2 = best … 31. Default 3 (PSNR and sizes in " +
                'docs/frame-cache.md).',
            },
          },
        },
        framesPerClip: positiveInt("Frames per clip (F). Frame 0 is the tracker's anchor. Official: 8."),
        stride: positiveInt(
          'Source-video frames between consecutive frames of a clip (the official `--step_between_clips`). Official: 60 (1 s at 60 fps).',
        ),
        precropSize: positiveInt(
          'Side of the shared "aggressive" pre-crop taken from each clip before the global and local crops. Official: ' +
            '300 for 224-px training. Must be ≥ `globalSize`.',
        ),
        precropScale: cropScale('Area range `[min, max]` of the pre-crop (RandomResizedCrop scale). Official: `[0.2, 1]`.'),
        globalSize: positiveInt(
          'Side of the global crop the teacher sees (and the student, masked). Multiple of `model.patchSize`. Official: 224.',
        ),
        globalScale: cropScale('Area range of the global crop within the pre-crop. Official: `[0.4, 1]`.'),
        localSize: positiveInt('Side of each local crop. Multiple of `model.patchSize`. Official: 112.'),
        localCrops: positiveInt('Local crops per frame. The official loss skips local crop 0, so it needs ≥ 2. Official: 6.'),
        localScale: cropScale('Area range of each local crop within the pre-crop. Official: `[0.05, 0.4]`.'),
        augment: {
          kind: 'object',
          doc: 'Photometric augmentation; colour jitter, grayscale and blur are drawn per frame and per view.',
          fields: {
            hflipProb: probability('Horizontal flip of the global crop, shared by all frames of a clip. Official: 0.5.'),
            colorJitterProb: probability('Probability of colour jitter. Official: 0.8.'),
            brightness: { kind: 'number', minimum: 0, doc: 'Colour-jitter brightness strength. Official: 0.4.' },
            contrast: { kind: 'number', minimum: 0, doc: 'Colour-jitter contrast strength. Official: 0.4.' },
            saturation: { kind: 'number', minimum: 0, doc: 'Colour-jitter saturation strength. Official: 0.2.' },
            hue: { kind: 'number', minimum: 0, maximum: 0.5, doc: 'Colour-jitter hue strength. Official: 0.1.' },
            grayscaleProb: probability('Probability of converting a view to grayscale. Official: 0.2.'),
            globalBlurProb: probability('Gaussian blur probability for global views. Official: 0.1.'),
            localBlurProb: probability('Gaussian blur probability for local views. Official: 0.5.'),
            blurSigma: {
              kind: 'range',
              minimum: 0,
              maximum: 100,
              exclusiveMinimum: true,
              doc: 'Range `[min, max]` of the Gaussian blur sigma. Official: `[0.1, 2]`.',
            },
          },
        },
        trimBlankTail: {
          kind: 'boolean',
          doc:
            'Drop trailing blank (near-constant) frames. The figshare copy of WT-Venice is half blank (official ' +
            'repo issue #4). Not in the official code.',
        },
        startFrame: { kind: 'number', integer: true, minimum: 0, doc: 'First source frame to use.' },
        maxFrames: positiveInt(
          'Use at most this many source frames from `startFrame`. Must exceed `framesPerClip × stride` so that one ' +
            'clip fits. Default: the whole video.',
        ),
      },
    },
    training: {
      kind: 'object',
      doc: 'Optimisation schedule (AdamW, cosine schedules, EMA teacher) as in the official main.py.',
      fields: {
        epochs: positiveInt('Passes over all clip starts; one epoch has about (frames − F·stride) / batchClips steps. Official: 100.'),
        batchClips: positiveInt('Clips per optimisation step (all devices together). Official: 16 per GPU × 8 GPUs = 128.'),
        microBatch: {
          kind: 'integerOrAuto',
          minimum: 1,
          doc:
            'Clips per forward/backward pass; gradients are accumulated over `batchClips / microBatch` passes. ' +
            '`"auto"` picks the largest that fits the backend\'s memory.',
        },
        lr: {
          kind: 'number',
          exclusiveMinimum: 0,
          doc: 'Base learning rate. With `lrScaling: "linear"` the peak is `lr × batchClips / 256`. Official: 0.0005.',
        },
        lrScaling: {
          kind: 'enum',
          values: ['linear', 'none'],
          doc: '`linear`: peak lr = `lr × batchClips / 256` (official). `none`: `lr` is the peak.',
        },
        minLr: { kind: 'number', minimum: 0, doc: 'Final learning rate of the cosine schedule. Official: 1e-5.' },
        warmupEpochs: { kind: 'number', minimum: 0, doc: 'Linear lr warmup from 0, in epochs (fractions allowed). Official: 10.' },
        weightDecay: {
          kind: 'number',
          minimum: 0,
          doc: 'Start of the cosine weight-decay schedule (weights only, not biases/norms). Official: 0.04.',
        },
        weightDecayEnd: { kind: 'number', minimum: 0, doc: 'End of the cosine weight-decay schedule. Official: 0.4.' },
        momentumTeacher: {
          kind: 'number',
          minimum: 0,
          maximum: 1,
          doc: 'Start of the teacher EMA momentum; cosine to 1 over training. Official: 0.996.',
        },
        warmupTeacherTemp: { kind: 'number', exclusiveMinimum: 0, doc: 'Teacher temperature at the start of its warmup. Official: 0.04.' },
        teacherTemp: {
          kind: 'number',
          exclusiveMinimum: 0,
          doc: 'Teacher temperature after warmup. Official: 0.04 (so the effective temperature is a constant 0.04).',
        },
        warmupTeacherTempEpochs: {
          kind: 'number',
          integer: true,
          minimum: 0,
          doc: 'Epochs of linear teacher-temperature warmup. Official README: 30.',
        },
        studentTemp: { kind: 'number', exclusiveMinimum: 0, doc: 'Student softmax temperature. Official: 0.1.' },
        centerMomentum: { kind: 'number', minimum: 0, maximum: 1, doc: 'EMA momentum of the teacher-output centre. Official: 0.9.' },
        clipGrad: {
          kind: 'number',
          minimum: 0,
          doc: "Clip each parameter tensor's gradient L2 norm to this (per tensor, as the official code does). 0 disables. Official: 3.",
        },
        freezeLastLayer: {
          kind: 'number',
          integer: true,
          minimum: 0,
          doc: "Epochs during which the head's last layer gets no updates. Official: 1.",
        },
        seed: {
          kind: 'number',
          integer: true,
          minimum: 0,
          doc: 'Random seed for sampling, augmentation, head choice and initialisation. Official: 0.',
        },
      },
    },
    dora: {
      kind: 'object',
      doc: "The DoRA tracker that turns the teacher's attention into object masks for the student.",
      fields: {
        tracker: {
          kind: 'boolean',
          doc:
            '`true`: DoRA (the student sees tracked-object masked views). `false`: the DINO baseline on the same ' +
            'clips (the student sees the unmasked global crop).',
        },
        objects: positiveInt(
          "Objects tracked per clip (k): k distinct heads of the teacher's last block, redrawn every step. " +
            'Must be ≤ `model.numHeads`. Official: 3.',
        ),
        sinkhorn: {
          kind: 'object',
          doc: 'Sinkhorn-Knopp assignment of anchor-frame patches to the k object prototypes.',
          fields: {
            iterations: positiveInt('Sinkhorn-Knopp iterations. Official: 30.'),
            epsilon: { kind: 'number', exclusiveMinimum: 0, doc: 'Entropic regularisation (logits are divided by it). Official: 0.05.' },
            variant: {
              kind: 'enum',
              values: ['official', 'log-domain'],
              doc: '`official`: exp-domain with max subtraction, as the official code. `log-domain`: numerically safer, same fixed point.',
            },
          },
        },
        loss: {
          kind: 'enum',
          values: ['official', 'clean'],
          doc:
            '`official`: reproduces the official loss with its two quirks (local crop 0 skipped; the per-object ' +
            'sum is not reset). `clean`: per-frame mean over all objects and all local crops.',
        },
      },
    },
    runtime: {
      kind: 'object',
      doc: 'Where and how the trainer runs and what it writes.',
      fields: {
        engine: {
          kind: 'enum',
          values: ENGINES,
          doc:
            '`tfjs`: the built-in TensorFlow.js engine (no Python needed; `runtime.backend` picks its backend). `pytorch`: ' +
            'the PyTorch engine for GPUs and clusters (needs a Python with PyTorch ≥ 1.13: the `dora.pythonPath` setting, or ' +
            "`--python` on the command line). Both write the same run folder and read each other's checkpoints.",
        },
        ...LAUNCH_SPEC,
        device: {
          kind: 'enum',
          values: DEVICES,
          doc:
            'PyTorch engine only. `auto`: CUDA when PyTorch sees a GPU, else Apple MPS, else CPU. `cuda` fails with a message ' +
            'when there is no GPU.',
        },
        precision: {
          kind: 'enum',
          values: PRECISIONS,
          doc:
            'PyTorch engine only. `auto`: bf16 autocast on a CUDA GPU that supports it, else fp32. `fp32`: exact (golden) ' +
            'mode. `tf32`: TF32 matmuls (CUDA). `fp16`: the official float16 autocast + GradScaler (CUDA).',
        },
        backend: {
          kind: 'enum',
          values: BACKENDS,
          doc:
            'TF.js engine only: the TensorFlow.js backend. `wasm`: CPU, works everywhere. `webgpu`: GPU via Dawn. `auto`: the ' +
            'fastest one that initialises. `cpu`: slow reference. `tensorflow`/`tensorflow-gpu`: tfjs-node, when installed.',
        },
        logEvery: positiveInt('Write a metrics record every N steps.'),
        snapshotEvery: {
          kind: 'number',
          integer: true,
          minimum: 0,
          doc: 'Write a tracker snapshot (frames, Sinkhorn assignments, masks) every N steps. 0 disables.',
        },
        checkpointEvery: {
          kind: 'number',
          integer: true,
          minimum: 0,
          doc: 'Save a checkpoint every N steps (and always at the end). 0: only at the end.',
        },
        keepCheckpoints: { kind: 'number', integer: true, minimum: 0, doc: 'Keep the newest N checkpoints. 0 keeps all.' },
        runsDir: {
          kind: 'string',
          example: 'runs',
          doc: 'Folder that receives one sub-folder per run (relative to this config file or absolute).',
        },
      },
    },
  },
};

/** Spec of a whole *.dora.json file. */
export const CONFIG_FILE_SPEC: ObjectSpec<DoraConfigFileShape> = {
  kind: 'object',
  doc: 'A DoRA Studio run config: the official DoRA defaults, then the named `preset`, then the values in this file.',
  required: ['data'],
  fields: {
    $schema: {
      kind: 'string',
      example: './node_modules/dora-studio/schemas/dora-config.schema.json',
      doc: 'JSON Schema reference for editors; ignored by the trainer.',
    },
    preset: {
      kind: 'enum',
      values: PRESET_NAMES,
      doc:
        'Start from a preset: `paper` (ViT-S/16, 224 px, GPU), `cpu-small` (ViT-Ti/16, 96 px, CPU), `demo` (tiny, ' +
        'a few minutes on 2 CPU cores). Omitted: the official defaults only.',
    },
    name: {
      kind: 'string',
      example: 'venice-dora',
      doc: 'Display name of runs started from this file. Default: the file name without `.dora.json`.',
    },
    ...SECTIONS_SPEC.fields,
  },
};

/** Plain-text form of a markdown doc string (for `description`, which editors show unformatted). */
export function plainText(markdown: string): string {
  return markdown.replace(/`/g, '');
}
