/**
 * One front door for `dora eval`: picks the data and default settings of a suite, and caches the result in the
 * checkpoint's eval sidecar (random-init models have no checkpoint: their results are only returned).
 *   knn        DINO weighted k-NN (knn.ts) on synthetic object crops, Fashion-MNIST or an image folder
 *   tracking   label-propagation J&F and DoRA-tracker IoU on the synthetic tour (tracking.ts)
 *   attention  [CLS]→patch attention maps of chosen frames, written beside the checkpoint (attention.ts)
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DINO_KNN_KS, DINO_KNN_TEMPERATURE, knnClassify } from './knn';
import { cachedEvaluation, evalSidecarPath, type EvalRecord } from './evalSidecar';
import { encodeImages, evalProgress, type EvalEncoder, type EvalProgressReport } from './encoder';
import type { EvalSuite, KnnResult, TrackingResult } from '../../core/evalResults';
import { resolveInside } from '../../core/node/runPathSafety';
import { attentionDirOf } from '../../core/node/runPaths';
import { cacheRootForRunVideo } from '../data/frameCache/runCacheRoot';
import type { KnnDataset } from './evalImages';
import { DEBIAN_FASHION_MNIST_DIR, hasFashionMnist, loadFashionMnist } from './fashionMnist';
import { loadImageFolder } from './imageFolder';
import { frameCacheSettings } from '../data/prepareFrames';
import { objectCropDataset, openTourFrames, type TourFrames } from './syntheticTour';
import { doraTrackerScores, labelPropagationScores, type PropagationSettings, type TrackerSettings } from './tracking';
import { writeAttentionMaps } from './attention';
import { DINO_PROPAGATION_DEFAULTS } from './labelPropagation';
import { resolveFfmpeg } from '../data/ffmpeg/tools';

export { EVAL_SUITES, type EvalSuite, type KnnResult, type TrackingResult } from '../../core/evalResults';

export interface EvalRequest {
  suite: EvalSuite;
  /** knn: 'synthetic' (default), 'fashion-mnist' or an image-folder path. tracking/attention: the video's frames. */
  dataset?: string;
  /** The synthetic tour (default: the run's training video). */
  video?: string;
  cacheRoot?: string;
  ffmpegPath?: string;
  /** Folder with the Fashion-MNIST .gz files (default .cache/datasets/fashion-mnist of the package). */
  fashionMnistDir?: string;
  /** attention: frame indices (default: 4 spread over the evaluation range). */
  frames?: number[];
  /** Overrides the suite's default image size. */
  imageSize?: number;
  force?: boolean;
  /** k-NN subset sizes for Fashion-MNIST. */
  trainCount?: number;
  testCount?: number;
  /**
   * k-NN on the raw normalised pixels of the same images instead of the network's features: a reference that shows
   * how much of a k-NN score low-level colour and texture already give (`npm run quality`).
   */
  rawPixels?: boolean;
  /** Cancels the evaluation (it then rejects with the signal's reason); nothing is stored. */
  signal?: AbortSignal;
  onProgress?: (report: EvalProgressReport) => void;
}

export interface EvalOutcome {
  record: EvalRecord;
  cached: boolean;
}

/** The folder that holds package.json (dist/ in the bundle, src/trainer/eval under tsx). */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'dora-studio') return dir;
      } catch {
        /* keep looking */
      }
    }
    dir = dirname(dir);
  }
  return process.cwd();
}

/** The package's .cache copy (scripts/fetch-fashion-mnist.sh), else the system-wide Debian package's, else the former. */
export function defaultFashionMnistDir(): string {
  const local = join(packageRoot(), '.cache', 'datasets', 'fashion-mnist');
  return !hasFashionMnist(local) && hasFashionMnist(DEBIAN_FASHION_MNIST_DIR) ? DEBIAN_FASHION_MNIST_DIR : local;
}

/**
 * Frames the model did not train on: after the run's frame window when the video continues past it (the demo trains
 * on frames 0..511 of 1200), otherwise the second half of the video.
 */
export function evaluationFrameRange(encoder: EvalEncoder, frameCount: number): [number, number] {
  const d = encoder.config.data;
  const trainEnd = d.maxFrames !== undefined ? d.startFrame + d.maxFrames : frameCount;
  const start = frameCount - trainEnd >= frameCount / 4 ? trainEnd : Math.floor(frameCount / 2);
  return [start, frameCount];
}

function identityOf(encoder: EvalEncoder) {
  if (!encoder.sidecar || !encoder.sidecarPath) return undefined;
  return {
    file: evalSidecarPath(encoder.sidecarPath),
    checkpoint: basename(encoder.sidecarPath),
    weightsSha256: encoder.sidecar.weightsSha256,
  };
}

async function remember<T>(
  encoder: EvalEncoder,
  request: EvalRequest,
  dataset: string,
  settings: unknown,
  compute: () => Promise<T>,
): Promise<EvalOutcome> {
  const identity = identityOf(encoder);
  if (!identity) {
    const started = performance.now();
    const result = await compute();
    return {
      record: {
        suite: request.suite,
        dataset,
        settings,
        result,
        time: new Date().toISOString(),
        seconds: (performance.now() - started) / 1000,
      },
      cached: false,
    };
  }
  return cachedEvaluation({ ...identity, force: request.force }, request.suite, dataset, settings, compute);
}

function tourVideo(encoder: EvalEncoder, request: EvalRequest): string {
  return resolve(request.video ?? encoder.config.data.video);
}

/** Eval frames need a cache at least as large as the largest eval image (the run's cache size when it suffices). */
async function openTour(encoder: EvalEncoder, request: EvalRequest, imageSize: number): Promise<TourFrames> {
  const settings = frameCacheSettings(encoder.config, request.cacheRoot); // the same cache selection as training
  const shortSide = Math.max(settings.shortSide, imageSize);
  const video = tourVideo(encoder, request);
  // A checkpoint's config.json comes from its run folder: its frameCache.dir is only read from, never written to.
  const { dir } = encoder.config.data.frameCache;
  const runCacheDir = encoder.sidecarPath ? cacheRootForRunVideo(video, shortSide, dir, undefined, settings.quality) : dir;
  const cacheRoot = request.cacheRoot ?? runCacheDir;
  return openTourFrames(video, { ...settings, shortSide, cacheRoot, ffmpegPath: request.ffmpegPath });
}

async function knnOn(encoder: EvalEncoder, dataset: KnnDataset, request: EvalRequest): Promise<KnnResult> {
  const progress = evalProgress(
    `k-NN · encoding ${dataset.train.count} + ${dataset.test.count} images`,
    dataset.train.count + dataset.test.count,
    request,
  );
  const pixels = (split: KnnDataset['train']) => ({
    cls: split.images,
    count: split.count,
    dim: split.images.length / Math.max(1, split.count),
  });
  const train = request.rawPixels
    ? pixels(dataset.train)
    : await encodeImages(encoder, dataset.train.images, dataset.train.count, dataset.train.size, { progress });
  const test = request.rawPixels
    ? pixels(dataset.test)
    : await encodeImages(encoder, dataset.test.images, dataset.test.count, dataset.test.size, { progress });
  const scores = knnClassify(
    { features: train.cls, labels: dataset.train.labels, count: train.count, dim: train.dim },
    { features: test.cls, labels: dataset.test.labels, count: test.count, dim: test.dim },
    { ks: DINO_KNN_KS, temperature: DINO_KNN_TEMPERATURE, numClasses: dataset.classNames.length },
  );
  return { numTrain: train.count, numTest: test.count, classes: dataset.classNames, scores };
}

async function knnSuite(encoder: EvalEncoder, request: EvalRequest): Promise<EvalOutcome> {
  const size = request.imageSize ?? encoder.config.data.globalSize;
  const features = request.rawPixels
    ? 'raw normalised pixels (no network), L2-normalised'
    : 'teacher backbone final-norm [CLS], L2-normalised';
  const base = { features, ks: DINO_KNN_KS, temperature: DINO_KNN_TEMPERATURE, imageSize: size };
  const dataset = request.dataset ?? 'synthetic';
  if (dataset === 'fashion-mnist') {
    const settings = { ...base, trainCount: request.trainCount ?? 2000, testCount: request.testCount ?? 500, seed: 0 };
    const dir = request.fashionMnistDir ?? defaultFashionMnistDir();
    return remember(encoder, request, dataset, settings, () =>
      knnOn(
        encoder,
        loadFashionMnist({ dir, trainCount: settings.trainCount, testCount: settings.testCount, seed: settings.seed, size }),
        request,
      ),
    );
  }
  if (dataset === 'synthetic') {
    const tour = await openTour(encoder, request, size);
    try {
      const [start, end] = evaluationFrameRange(encoder, tour.frameCount);
      const middle = Math.floor((start + end) / 2);
      const settings = {
        ...base,
        video: tour.video,
        trainFrames: [start, middle] as [number, number],
        testFrames: [middle, end] as [number, number],
        frameStep: 3,
        context: 1.5,
        minVisible: 0.6,
        seed: 0,
      };
      return await remember(encoder, request, dataset, settings, () =>
        knnOn(encoder, objectCropDataset(tour, { ...settings, size }), request),
      );
    } finally {
      tour.close();
    }
  }
  const root = resolve(dataset);
  if (!existsSync(root)) throw new Error(`--dataset ${dataset}: expected synthetic, fashion-mnist or an image folder with train/ and val/`);
  return remember(encoder, request, `folder:${root}`, { ...base, root }, async () =>
    knnOn(encoder, await loadImageFolder(root, size, resolveFfmpeg({ explicitPath: request.ffmpegPath })), request),
  );
}

export function trackingSettings(
  encoder: EvalEncoder,
  frames: [number, number],
  imageSize?: number,
): { propagation: PropagationSettings; tracker: TrackerSettings } {
  const c = encoder.config;
  const length = frames[1] - frames[0];
  const frameStep = 2;
  // 4 clips of 24 frames, 2 apart (≈ 1.6 s at 30 fps); shorter clips when the evaluation range is short.
  const clipFrames = Math.max(2, Math.min(24, Math.floor((length - 2) / frameStep) + 1));
  return {
    // Twice the training crop (DINO also evaluates segmentation above its training resolution) for a finer grid.
    propagation: { imageSize: imageSize ?? 2 * c.data.globalSize, clips: 4, clipFrames, frameStep, ...DINO_PROPAGATION_DEFAULTS, frames },
    // The tracker as it runs in training: the training crop size, clip length and stride, k objects.
    tracker: {
      imageSize: c.data.globalSize,
      clips: 8,
      framesPerClip: c.data.framesPerClip,
      stride: c.data.stride,
      objects: c.dora.objects,
      frames,
    },
  };
}

async function trackingSuite(encoder: EvalEncoder, request: EvalRequest): Promise<EvalOutcome> {
  const probe = trackingSettings(encoder, [0, 1], request.imageSize);
  const tour = await openTour(encoder, request, Math.max(probe.propagation.imageSize, probe.tracker.imageSize));
  try {
    if (!tour.synthetic)
      throw new Error(`${tour.video}: tracking needs a synthetic walking tour (ground truth from its .json); pass --video <synthetic.mp4>`);
    const settings = { video: tour.video, ...trackingSettings(encoder, evaluationFrameRange(encoder, tour.frameCount), request.imageSize) };
    const { propagation, tracker } = settings;
    const images = propagation.clips * propagation.clipFrames + tracker.clips * tracker.framesPerClip;
    return await remember(encoder, request, 'synthetic', settings, async (): Promise<TrackingResult> => {
      const progress = evalProgress(
        `tracking · label propagation and the DoRA tracker on ${propagation.clips + tracker.clips} clips`,
        images,
        request,
      );
      return {
        propagation: await labelPropagationScores(encoder, tour, propagation, progress),
        tracker: await doraTrackerScores(encoder, tour, tracker, progress),
      };
    });
  } finally {
    tour.close();
  }
}

async function attentionSuite(encoder: EvalEncoder, request: EvalRequest): Promise<EvalOutcome> {
  const size = request.imageSize ?? encoder.config.data.globalSize;
  const tour = await openTour(encoder, request, size);
  try {
    const [start, end] = evaluationFrameRange(encoder, tour.frameCount);
    const frames = request.frames ?? Array.from({ length: 4 }, (_, i) => start + Math.floor(((end - start - 1) * i) / 3));
    const outDir = encoder.sidecarPath ? attentionDirOf(encoder.sidecarPath) : resolve('attention-random-init');
    // Written beside the checkpoint: refused when step-NNNNNN.attention/ is a link that leads out of the run folder.
    if (encoder.sidecarPath)
      await resolveInside(dirname(dirname(resolve(encoder.sidecarPath))), outDir, { file: encoder.sidecarPath, field: 'attention folder' });
    const settings = { video: tour.video, frames, imageSize: size };
    // A cached record is only good while its files exist (someone may have deleted the folder).
    const force = request.force || !existsSync(join(outDir, 'manifest.json'));
    return await remember(encoder, { ...request, force }, 'video', settings, async () => ({
      dir: outDir,
      manifest: await writeAttentionMaps(
        encoder,
        tour,
        frames,
        size,
        outDir,
        evalProgress(`attention maps · ${frames.length} frames`, frames.length, request),
      ),
    }));
  } finally {
    tour.close();
  }
}

export function runEvaluation(encoder: EvalEncoder, request: EvalRequest): Promise<EvalOutcome> {
  switch (request.suite) {
    case 'knn':
      return knnSuite(encoder, request);
    case 'tracking':
      return trackingSuite(encoder, request);
    case 'attention':
      return attentionSuite(encoder, request);
  }
}
